-- The dashboard's rollup: applied events counted per brand, store and
-- calendar day in the brand's zone, kept by a trigger in the transaction
-- that adds the event, so it is exact (events are append-only and their
-- outcome never changes). The dashboard reads a few hundred rows instead
-- of a day's events. A brand that changes its zone keeps its past days as
-- they were counted.
create table report_daily (
	brand_id               text not null,
	store_id               text not null,
	day                    date not null,
	visits                 bigint not null default 0,
	purchases              bigint not null default 0,
	member_sales_fen       bigint not null default 0,
	top_ups                bigint not null default 0,
	top_up_fen             bigint not null default 0,
	points_burned          bigint not null default 0,
	stored_value_spent_fen bigint not null default 0,
	vouchers_redeemed      bigint not null default 0,
	primary key (brand_id, store_id, day)
);

create function report_daily_add() returns trigger language plpgsql as $$
declare
	tz text;
begin
	if new.outcome <> 'applied' then
		return null;
	end if;
	select coalesce(nullif(time_zone, ''), 'Asia/Shanghai') into tz from brands where brand_id = new.brand_id;
	insert into report_daily (brand_id, store_id, day, visits, purchases, member_sales_fen, top_ups, top_up_fen,
		points_burned, stored_value_spent_fen, vouchers_redeemed)
	values (new.brand_id, new.store_id, cast(new.occurred_at at time zone coalesce(tz, 'Asia/Shanghai') as date),
		case when new.kind = 'visit' then 1 else 0 end,
		case when new.kind = 'purchase' then 1 else 0 end,
		case when new.kind = 'purchase' then coalesce(new.net_fen, 0) else 0 end,
		case when new.kind = 'top_up' then 1 else 0 end,
		case when new.kind = 'top_up' then coalesce(new.amount_fen, 0) else 0 end,
		case when new.kind = 'purchase' then coalesce(new.points_burned, 0) else 0 end,
		case when new.kind = 'purchase' then coalesce(new.stored_value_fen, 0) else 0 end,
		case when new.kind = 'voucher_redemption' then 1 else 0 end)
	on conflict (brand_id, store_id, day) do update set
		visits = report_daily.visits + excluded.visits,
		purchases = report_daily.purchases + excluded.purchases,
		member_sales_fen = report_daily.member_sales_fen + excluded.member_sales_fen,
		top_ups = report_daily.top_ups + excluded.top_ups,
		top_up_fen = report_daily.top_up_fen + excluded.top_up_fen,
		points_burned = report_daily.points_burned + excluded.points_burned,
		stored_value_spent_fen = report_daily.stored_value_spent_fen + excluded.stored_value_spent_fen,
		vouchers_redeemed = report_daily.vouchers_redeemed + excluded.vouchers_redeemed;
	return null;
end
$$;

create trigger events_report_daily after insert on events for each row execute function report_daily_add();

-- The events held before this migration.
insert into report_daily (brand_id, store_id, day, visits, purchases, member_sales_fen, top_ups, top_up_fen,
	points_burned, stored_value_spent_fen, vouchers_redeemed)
select e.brand_id, e.store_id, cast(e.occurred_at at time zone coalesce(nullif(b.time_zone, ''), 'Asia/Shanghai') as date),
	sum(case when e.kind = 'visit' then 1 else 0 end),
	sum(case when e.kind = 'purchase' then 1 else 0 end),
	sum(case when e.kind = 'purchase' then coalesce(e.net_fen, 0) else 0 end),
	sum(case when e.kind = 'top_up' then 1 else 0 end),
	sum(case when e.kind = 'top_up' then coalesce(e.amount_fen, 0) else 0 end),
	sum(case when e.kind = 'purchase' then coalesce(e.points_burned, 0) else 0 end),
	sum(case when e.kind = 'purchase' then coalesce(e.stored_value_fen, 0) else 0 end),
	sum(case when e.kind = 'voucher_redemption' then 1 else 0 end)
from events e join brands b on b.brand_id = e.brand_id
where e.outcome = 'applied'
group by 1, 2, 3;

create index coupon_history_time on coupon_history (brand_id, at);
