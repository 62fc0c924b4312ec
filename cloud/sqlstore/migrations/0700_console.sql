-- The HQ console (issue 16): people's sign-in accounts (argon2id password
-- hashes, lockout, a session generation that signs an account out
-- everywhere), service notes on members, and HQ's resolutions of offline
-- conflicts. What the console changes is written to the trust work's
-- hq_audit_log (0100).
create table console_accounts (
	brand_id      text not null references brands (brand_id),
	login         text not null,
	name          text not null,
	role          text not null check (role in ('platform', 'owner', 'marketing', 'finance', 'store_manager', 'auditor')),
	store_ids     jsonb,
	password_hash text not null,
	failures      integer not null default 0 check (failures >= 0),
	locked_until  timestamptz,
	session_gen   bigint not null default 0,
	disabled      boolean not null default false,
	created_at    timestamptz not null,
	primary key (brand_id, login)
);

create table member_notes (
	brand_id  text not null,
	member_id text not null,
	seq       bigint not null,
	at        timestamptz not null,
	account   text not null,
	kind      text not null check (kind in ('note', 'complaint')),
	body      text not null,
	tags      jsonb,
	primary key (brand_id, member_id, seq),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);

create table conflict_resolutions (
	brand_id     text not null,
	conflict_seq bigint not null,
	action       text not null check (action in ('write_off', 'recover', 'note')),
	note         text not null,
	account      text not null,
	at           timestamptz not null,
	primary key (brand_id, conflict_seq)
);

-- The dashboard's time ranges.
create index events_brand_time on events (brand_id, occurred_at);
create index members_brand_created on members (brand_id, created_at);
