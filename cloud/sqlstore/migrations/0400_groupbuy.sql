-- Group-buy vouchers verified with the platform that sold them
-- (cloud/groupbuy): each store's shop on each platform, every consumption
-- keyed by platform, code and the counter's idempotency key, and the
-- vouchers counters accepted offline, waiting to be consumed. A conflict
-- may carry the money at risk; a member keeps the platform deal that
-- brought them.

alter table conflicts add column amount_fen bigint not null default 0;
alter table members add column source_platform text;
alter table members add column source_deal_id text;

create table voucher_shop_bindings (
	brand_id text not null,
	store_id text not null,
	platform text not null check (platform in ('meituan', 'douyin')),
	-- Meituan/Dianping open_shop_uuid or Douyin poi_id.
	shop_id  text not null,
	bound_at timestamptz not null,
	primary key (brand_id, store_id, platform),
	foreign key (brand_id, store_id) references stores (brand_id, store_id)
);

create table voucher_consumptions (
	brand_id      text not null,
	platform      text not null,
	code          text not null,
	idem_key      text not null,
	store_id      text not null,
	shop_id       text not null,
	device_id     text,
	staff_id      text,
	state         text not null check (state in ('pending', 'consumed', 'refused', 'reversed')),
	uses          integer not null check (uses between 1 and 100),
	deal_id       text,
	title         text,
	price_fen     bigint not null default 0 check (price_fen >= 0),
	platform_refs jsonb,
	refusal       text,
	detail        text,
	event_id      text,
	provisional   boolean not null default false,
	created_at    timestamptz not null,
	consumed_at   timestamptz,
	updated_at    timestamptz not null,
	primary key (brand_id, platform, code, idem_key)
);

-- Reconciliation reads a store's day on a platform.
create index voucher_consumptions_by_day on voucher_consumptions (brand_id, platform, store_id, consumed_at);

create table voucher_claims (
	brand_id    text not null,
	event_id    text not null,
	store_id    text not null,
	device_id   text not null,
	staff_id    text,
	platform    text not null,
	code        text not null,
	deal_id     text,
	uses        integer not null check (uses between 1 and 100),
	price_fen   bigint not null check (price_fen >= 0),
	occurred_at timestamptz not null,
	received_at timestamptz not null,
	attempts    integer not null default 0,
	last_error  text,
	primary key (brand_id, event_id)
);

create index voucher_claims_by_code on voucher_claims (brand_id, code);
