-- The cloud's schema, written in PostgreSQL's dialect; on SQLite the types
-- bytea, timestamptz and jsonb are read as blob, timestamp and text (see
-- dialect.go). Every table's key starts with brand_id, so each can be
-- distributed by tenant (docs/scale.md); pairing codes are the one global
-- lookup (a code is typed before its brand is known).
--
-- Times are UTC. Money is integer fen. Empty optional values are NULL.

create table brands (
	brand_id          text primary key,
	name              text not null,
	currency          text not null check (length(currency) = 3),
	time_zone         text not null default 'Asia/Shanghai',
	member_code_key   bytea not null,
	programme         jsonb not null,
	programme_version bigint not null default 1 check (programme_version >= 1),
	created_at        timestamptz not null
);

-- Every programme a brand has had, so HQ can see what rule applied when.
create table programme_versions (
	brand_id   text not null references brands (brand_id),
	version    bigint not null,
	programme  jsonb not null,
	created_at timestamptz not null,
	primary key (brand_id, version)
);

create table stores (
	brand_id   text not null references brands (brand_id),
	store_id   text not null,
	name       text not null,
	created_at timestamptz not null,
	primary key (brand_id, store_id)
);

create table devices (
	brand_id     text not null,
	device_id    text not null,
	store_id     text not null,
	name         text not null,
	secret_hash  bytea not null,
	-- acked_seq: the highest seq of this device held without gaps.
	acked_seq    bigint not null default 0 check (acked_seq >= 0),
	paired_at    timestamptz not null,
	last_seen_at timestamptz,
	revoked      boolean not null default false,
	primary key (brand_id, device_id),
	foreign key (brand_id, store_id) references stores (brand_id, store_id)
);

create table pairings (
	code       text primary key,
	brand_id   text not null,
	store_id   text not null,
	expires_at timestamptz not null,
	foreign key (brand_id, store_id) references stores (brand_id, store_id)
);

create table members (
	brand_id           text not null references brands (brand_id),
	member_id          text not null,
	phone              text,
	name               text not null,
	birthday           text,
	visits             bigint not null default 0 check (visits >= 0),
	created_at         timestamptz not null,
	last_visit_at      timestamptz,
	source_channel     text not null,
	source_store_id    text,
	source_staff_id    text,
	source_campaign_id text,
	source_referrer_id text,
	consent            boolean not null default false,
	tags               jsonb,
	tier_id            text not null,
	tier_since         timestamptz,
	points             bigint not null default 0 check (points >= 0),
	sv_principal_fen   bigint not null default 0 check (sv_principal_fen >= 0),
	sv_bonus_fen       bigint not null default 0 check (sv_bonus_fen >= 0),
	total_spend_fen    bigint not null default 0,
	merged_into        text,
	primary key (brand_id, member_id)
);
create unique index members_phone on members (brand_id, phone);

create table cards (
	brand_id  text not null,
	number    text not null,
	member_id text not null,
	revoked   boolean not null default false,
	bound_at  timestamptz not null,
	primary key (brand_id, number),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);
create index cards_member on cards (brand_id, member_id);

-- Member codes seen at counters, kept until expires_at to catch a code
-- replayed at two stores.
create table member_code_uses (
	brand_id   text not null,
	ref        text not null,
	event_id   text not null,
	store_id   text not null,
	device_id  text not null,
	member_id  text not null,
	expires_at timestamptz not null,
	primary key (brand_id, ref)
);
create index member_code_uses_expiry on member_code_uses (brand_id, expires_at);

-- Events as stores recorded them, append-only. log_seq is the receive
-- order; (device_id, seq) the device's own numbering. The money columns
-- are copies of the detail for queries; detail is the kind's full record.
create table events (
	brand_id           text not null,
	event_id           text not null,
	log_seq            bigint not null,
	device_id          text not null,
	seq                bigint not null check (seq >= 1),
	store_id           text not null,
	member_id          text,
	staff_id           text,
	kind               text not null,
	outcome            text not null check (outcome in ('applied', 'rejected')),
	reason             text,
	occurred_at        timestamptz not null,
	received_at        timestamptz not null,
	content_hash       bytea,
	bill_fen           bigint,
	net_fen            bigint,
	stored_value_fen   bigint,
	points_burned      bigint,
	amount_fen         bigint,
	bonus_fen          bigint,
	detail             jsonb,
	primary key (brand_id, event_id)
);
create unique index events_log on events (brand_id, log_seq);
create index events_device_seq on events (brand_id, device_id, seq);
create index events_member_time on events (brand_id, member_id, occurred_at);

create table points_ledger (
	brand_id   text not null,
	seq        bigint not null,
	member_id  text not null,
	at         timestamptz not null,
	delta      bigint not null,
	reason     text not null,
	event_id   text,
	expires_at timestamptz,
	note       text,
	primary key (brand_id, seq),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);
create index points_ledger_member on points_ledger (brand_id, member_id, seq);

-- What remains of each earning, for expiry and burning oldest first.
create table points_lots (
	brand_id   text not null,
	member_id  text not null,
	seq        bigint not null,
	expires_at timestamptz,
	remaining  bigint not null check (remaining > 0),
	primary key (brand_id, member_id, seq),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);

-- Principal (money paid in) and bonus (granted by rules) kept apart.
create table stored_value_ledger (
	brand_id            text not null,
	seq                 bigint not null,
	member_id           text not null,
	at                  timestamptz not null,
	principal_delta_fen bigint not null,
	bonus_delta_fen     bigint not null,
	reason              text not null,
	event_id            text,
	note                text,
	primary key (brand_id, seq),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);
create index stored_value_ledger_member on stored_value_ledger (brand_id, member_id, seq);

create table tier_changes (
	brand_id  text not null,
	seq       bigint not null,
	member_id text not null,
	at        timestamptz not null,
	from_tier text,
	to_tier   text not null,
	reason    text not null,
	primary key (brand_id, seq),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);
create index tier_changes_member on tier_changes (brand_id, member_id, seq);

-- A member's visits and spend per calendar day, for the tier window.
create table member_activity (
	brand_id  text not null,
	member_id text not null,
	day       date not null,
	visits    bigint not null default 0,
	spend_fen bigint not null default 0,
	primary key (brand_id, member_id, day)
);

create table coupon_templates (
	brand_id         text not null references brands (brand_id),
	template_id      text not null,
	name             text not null,
	kind             text not null check (kind in ('amount_off', 'percent_off', 'free_item')),
	amount_off_fen   bigint not null default 0,
	percent_off_bp   integer not null default 0,
	free_item        text,
	min_spend_fen    bigint not null default 0,
	valid_from       timestamptz,
	valid_until      timestamptz,
	valid_days       integer not null default 0,
	store_ids        jsonb,
	per_member_limit integer not null default 0,
	created_at       timestamptz not null,
	primary key (brand_id, template_id)
);

create table coupons (
	brand_id    text not null,
	code        text not null,
	template_id text not null,
	member_id   text not null,
	state       text not null check (state in ('issued', 'redeemed', 'expired', 'void')),
	issued_at   timestamptz not null,
	valid_from  timestamptz,
	expires_at  timestamptz,
	primary key (brand_id, code),
	foreign key (brand_id, template_id) references coupon_templates (brand_id, template_id),
	foreign key (brand_id, member_id) references members (brand_id, member_id)
);
create index coupons_member on coupons (brand_id, member_id);

-- Each state change of a coupon, in order (pos 0 is its issue).
create table coupon_history (
	brand_id   text not null,
	code       text not null,
	pos        integer not null,
	at         timestamptz not null,
	from_state text,
	to_state   text not null,
	event_id   text,
	store_id   text,
	reason     text,
	primary key (brand_id, code, pos),
	foreign key (brand_id, code) references coupons (brand_id, code)
);

-- Group-buy platform vouchers, redeemable once.
create table vouchers (
	brand_id       text not null references brands (brand_id),
	code           text not null,
	platform       text not null,
	campaign_id    text not null,
	title          text,
	face_value_fen bigint not null default 0,
	expires_at     timestamptz,
	imported_at    timestamptz not null,
	redeemed       boolean not null default false,
	redeemed_at    timestamptz,
	store_id       text,
	event_id       text,
	member_id      text,
	primary key (brand_id, code)
);

-- What stores did offline that the books could not take as it was.
create table conflicts (
	brand_id   text not null,
	seq        bigint not null,
	at         timestamptz not null,
	kind       text not null,
	event_id   text,
	device_id  text,
	store_id   text,
	member_id  text,
	detail     text not null,
	resolution text not null,
	primary key (brand_id, seq)
);

-- A counter's reference for a member it enrolled offline.
create table local_refs (
	brand_id  text not null,
	ref       text not null,
	member_id text not null,
	primary key (brand_id, ref)
);

-- What applying a purchase did, so a refund reverses exactly that.
create table purchase_effects (
	brand_id            text not null,
	event_id            text not null,
	member_id           text not null,
	points_earned       bigint not null,
	points_burned       bigint not null,
	principal_spent_fen bigint not null,
	bonus_spent_fen     bigint not null,
	net_fen             bigint not null,
	refunded            boolean not null default false,
	refunded_event_id   text,
	primary key (brand_id, event_id)
);

-- Agents pull this log and read each record's state as of the pull.
create table changes (
	brand_id text not null,
	seq      bigint not null,
	kind     text not null,
	key      text not null,
	primary key (brand_id, seq)
);

create table sequences (
	brand_id text not null,
	name     text not null,
	value    bigint not null,
	primary key (brand_id, name)
);
