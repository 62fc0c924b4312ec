-- Campaigns and member care (cloud/campaign). Each table's key starts with
-- the brand. campaign_grants' key (brand, campaign, member, occurrence) is
-- the once-only key: a grant row is written in the transaction that gives
-- the rewards, so each firing acts once across restarts and processes.

alter table members add column birthday_lunar boolean not null default false;

create table campaigns (
	brand_id     text not null,
	campaign_id  text not null,
	name         text not null,
	trigger_kind text not null,
	status       text not null,
	start_at     timestamptz,
	end_at       timestamptz,
	holdout_bp   integer not null,
	body         jsonb not null,
	primary key (brand_id, campaign_id)
);

create table campaign_grants (
	brand_id         text not null,
	campaign_id      text not null,
	member_id        text not null,
	occurrence       text not null,
	granted_at       timestamptz not null,
	holdout          boolean not null,
	skipped          text,
	messages_pending boolean not null default false,
	body             jsonb not null,
	primary key (brand_id, campaign_id, member_id, occurrence)
);
create index campaign_grants_pending on campaign_grants (brand_id, messages_pending);

create table campaign_runs (
	brand_id text not null,
	run_id   text not null,
	done     boolean not null,
	body     jsonb not null,
	primary key (brand_id, run_id)
);

create table lotteries (
	brand_id   text not null,
	lottery_id text not null,
	body       jsonb not null,
	primary key (brand_id, lottery_id)
);

create table lottery_draws (
	brand_id   text not null,
	lottery_id text not null,
	draw_id    text not null,
	member_id  text not null,
	drawn_at   timestamptz not null,
	won        text,
	given      boolean not null,
	body       jsonb not null,
	primary key (brand_id, lottery_id, draw_id)
);

create table lottery_chances (
	brand_id    text not null,
	member_id   text not null,
	lottery_id  text not null,
	chance_key  text not null,
	campaign_id text not null,
	granted_at  timestamptz not null,
	primary key (brand_id, member_id, lottery_id, chance_key)
);

create table points_boosts (
	brand_id      text not null,
	member_id     text not null,
	multiplier_bp integer not null,
	until_at      timestamptz not null,
	reason        text not null,
	primary key (brand_id, member_id)
);
