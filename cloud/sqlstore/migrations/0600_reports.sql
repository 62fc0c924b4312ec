-- Segments and reports (cloud/segment, cloud/report). Saved segments and
-- each brand's lifecycle thresholds; the read-only views HQ's analysts and
-- the reports share (docs/sql.md); indexes the reports' period scans use.

create table segments (
	brand_id   text not null references brands (brand_id),
	name       text not null,
	rules      jsonb not null,
	created_at timestamptz not null,
	updated_at timestamptz not null,
	primary key (brand_id, name)
);

-- A brand's lifecycle thresholds in days; a brand without a row uses the
-- defaults (segment.Defaults).
create table segment_settings (
	brand_id    text primary key references brands (brand_id),
	new_days    integer not null check (new_days > 0),
	active_days integer not null check (active_days > 0),
	lapsed_days integer not null check (lapsed_days > active_days)
);

create index events_time on events (brand_id, occurred_at);
create index members_created on members (brand_id, created_at);
create index member_activity_day on member_activity (brand_id, day);
create index conflicts_time on conflicts (brand_id, at);
-- The few merged members, so reports map their activity to the member
-- kept without reading every member.
create index members_merged on members (brand_id, member_id) where merged_into is not null;

-- Applied events with their member resolved: a counter's local reference
-- (local:<ref>) to the member it enrolled, then a merged member to the one
-- kept. Rejected events are left out.
create view v_events as
select e.brand_id, e.event_id, e.log_seq, e.store_id, e.device_id, e.staff_id, e.kind,
	e.occurred_at, e.received_at,
	coalesce(m.merged_into, m.member_id) as member_id,
	e.bill_fen, e.net_fen, e.stored_value_fen, e.points_burned, e.amount_fen, e.bonus_fen
from events e
left join local_refs lr on lr.brand_id = e.brand_id and substr(e.member_id, 1, 6) = 'local:' and lr.ref = substr(e.member_id, 7)
left join members m on m.brand_id = e.brand_id and m.member_id = coalesce(lr.member_id, e.member_id)
where e.outcome = 'applied';

-- Each line of the points ledger with the store of the event that made it
-- (NULL for lines no store made: expiry, merges, HQ's adjustments).
create view v_points_ledger as
select l.brand_id, l.seq, l.member_id, l.at, l.delta, l.reason, l.event_id, l.expires_at, e.store_id
from points_ledger l
left join events e on e.brand_id = l.brand_id and e.event_id = l.event_id;

-- Each line of the stored-value ledger, principal and bonus apart, with
-- the store of the event that made it.
create view v_stored_value_ledger as
select l.brand_id, l.seq, l.member_id, l.at, l.principal_delta_fen, l.bonus_delta_fen, l.reason, l.event_id, e.store_id
from stored_value_ledger l
left join events e on e.brand_id = l.brand_id and e.event_id = l.event_id;

-- Members as they stand, merged members left out.
create view v_members as
select brand_id, member_id, name, phone, birthday, created_at, last_visit_at, visits, total_spend_fen,
	source_channel, source_store_id, source_staff_id, source_campaign_id, consent, tier_id,
	points, sv_principal_fen, sv_bonus_fen
from members
where merged_into is null;
