-- The cloud's records and per-brand sequences. Every primary key begins
-- with the brand, so each table can be distributed by tenant (Citus:
-- select create_distributed_table('records', 'brand_id')). Keys are bytea:
-- compared bytewise, with no collation, the order bbolt keeps. Brand and
-- kind use the "C" collation so equality never depends on the locale.
create table records (
	brand_id text collate "C" not null,
	kind     text collate "C" not null,
	key      bytea not null,
	value    bytea not null,
	primary key (brand_id, kind, key)
);

create table sequences (
	brand_id text collate "C" not null,
	name     text collate "C" not null,
	value    bigint not null,
	primary key (brand_id, name)
);
