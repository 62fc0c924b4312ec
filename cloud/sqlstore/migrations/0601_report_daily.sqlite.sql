-- The dashboard's rollup (see 0601_report_daily.postgres.sql): applied
-- events per brand, store and local day, kept exact by a trigger. The day
-- comes from mp_local_day, which the cloud registers on its connections.
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

create trigger events_report_daily after insert on events when new.outcome = 'applied'
begin
	insert into report_daily (brand_id, store_id, day, visits, purchases, member_sales_fen, top_ups, top_up_fen,
		points_burned, stored_value_spent_fen, vouchers_redeemed)
	values (new.brand_id, new.store_id,
		mp_local_day(new.occurred_at, coalesce((select nullif(time_zone, '') from brands where brand_id = new.brand_id), 'Asia/Shanghai')),
		case when new.kind = 'visit' then 1 else 0 end,
		case when new.kind = 'purchase' then 1 else 0 end,
		case when new.kind = 'purchase' then coalesce(new.net_fen, 0) else 0 end,
		case when new.kind = 'top_up' then 1 else 0 end,
		case when new.kind = 'top_up' then coalesce(new.amount_fen, 0) else 0 end,
		case when new.kind = 'purchase' then coalesce(new.points_burned, 0) else 0 end,
		case when new.kind = 'purchase' then coalesce(new.stored_value_fen, 0) else 0 end,
		case when new.kind = 'voucher_redemption' then 1 else 0 end)
	on conflict (brand_id, store_id, day) do update set
		visits = visits + excluded.visits,
		purchases = purchases + excluded.purchases,
		member_sales_fen = member_sales_fen + excluded.member_sales_fen,
		top_ups = top_ups + excluded.top_ups,
		top_up_fen = top_up_fen + excluded.top_up_fen,
		points_burned = points_burned + excluded.points_burned,
		stored_value_spent_fen = stored_value_spent_fen + excluded.stored_value_spent_fen,
		vouchers_redeemed = vouchers_redeemed + excluded.vouchers_redeemed;
end;

insert into report_daily (brand_id, store_id, day, visits, purchases, member_sales_fen, top_ups, top_up_fen,
	points_burned, stored_value_spent_fen, vouchers_redeemed)
select e.brand_id, e.store_id, mp_local_day(e.occurred_at, coalesce(nullif(b.time_zone, ''), 'Asia/Shanghai')),
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
