package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/memberpass/memberpass/cloud/report"
)

// Reports is the report.Source on this database: every figure is one SQL
// aggregate over the brand's rows (brand first, values as parameters),
// counted in the brand's time zone.
func (d *DB) Reports() report.Source { return reportStore{d} }

type reportStore struct{ d *DB }

// period is a query's brand zone and bounds as instants: [start, end) are
// the first instant of From and the first instant after To, in the zone.
type period struct {
	q          report.Query
	tz         string
	loc        *time.Location
	start, end time.Time
}

func (r reportStore) period(ctx context.Context, q report.Query) (period, error) {
	if err := q.Validate(); err != nil {
		return period{}, err
	}
	clock, tz, err := r.d.brandClock(ctx, q.BrandID, time.Now())
	if err != nil {
		return period{}, err
	}
	p := period{q: q, tz: tz, loc: clock.Loc}
	p.start = p.dayStart(q.From)
	p.end = p.dayStart(report.AddDays(q.To, 1))
	return p, nil
}

// dayStart is the first instant (UTC) of a date in the brand's zone.
func (p period) dayStart(date string) time.Time {
	t, _ := time.Parse(time.DateOnly, date)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, p.loc).UTC()
}

// reportWorkMem is the memory each sort or hash of a report's query may
// use on PostgreSQL before spilling to disk (the server's default, 4 MB,
// sends a brand-wide cohort to disk several times over).
const reportWorkMem = "64MB"

// rows runs a query in a read-only transaction and calls scan for each row.
func (r reportStore) rows(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	tx, err := r.d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: r.d.engine == Postgres})
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	defer tx.Rollback()
	if r.d.engine == Postgres {
		if _, err := tx.ExecContext(ctx, "set local work_mem = '"+reportWorkMem+"'"); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return nil
}

// storeCond is " and <col> = $n" when the query names a store.
func storeCond(p *params, q report.Query, col string) string {
	if q.StoreID == "" {
		return ""
	}
	return " and " + col + " = " + p.add(q.StoreID)
}

// sum is a bigint sum that is 0 over no rows, on both engines.
func sum(expr string) string { return "cast(coalesce(sum(" + expr + "), 0) as bigint)" }

func (r reportStore) Dashboard(ctx context.Context, q report.Query) (report.Dashboard, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.Dashboard{}, err
	}
	e := r.d.engine
	from := report.AddDays(q.From, -7)
	start := pd.dayStart(from)
	days := map[string]*report.Metrics{}
	day := func(d string) *report.Metrics {
		if days[d] == nil {
			days[d] = &report.Metrics{}
		}
		return days[d]
	}
	// Events per store and day come from report_daily, the rollup a
	// trigger keeps as events are added (migration 0601).
	p := newParams(q.BrandID)
	qs := `select ` + e.dayText("day") + `, ` + sum("visits") + `, ` + sum("purchases") + `, ` + sum("member_sales_fen") + `, ` + sum("top_ups") + `,
		` + sum("top_up_fen") + `, ` + sum("points_burned") + `, ` + sum("stored_value_spent_fen") + `, ` + sum("vouchers_redeemed") + `
		from report_daily where brand_id = $1 and day >= ` + e.asDate(p.add(from)) + ` and day <= ` + e.asDate(p.add(q.To)) +
		storeCond(p, q, "store_id") + ` group by day`
	err = r.rows(ctx, "dashboard events", qs, p.args, func(rs *sql.Rows) error {
		var d string
		var m report.Metrics
		if err := rs.Scan(&d, &m.Visits, &m.Purchases, &m.MemberSalesFen, &m.TopUps, &m.TopUpFen, &m.PointsBurned, &m.StoredValueSpentFen, &m.VouchersRedeemed); err != nil {
			return err
		}
		day(d).Add(m)
		return nil
	})
	if err != nil {
		return report.Dashboard{}, err
	}
	p = newParams(q.BrandID)
	tz := p.add(pd.tz)
	qs = `select ` + e.localDay("created_at", tz) + `, count(*) from members where brand_id = $1 and merged_into is null
		and created_at >= ` + p.add(start) + ` and created_at < ` + p.add(pd.end) + storeCond(p, q, "source_store_id") + ` group by 1`
	err = r.rows(ctx, "dashboard new members", qs, p.args, func(rs *sql.Rows) error {
		var d string
		var n int64
		if err := rs.Scan(&d, &n); err != nil {
			return err
		}
		day(d).NewMembers += n
		return nil
	})
	if err != nil {
		return report.Dashboard{}, err
	}
	p = newParams(q.BrandID)
	tz = p.add(pd.tz)
	qs = `select ` + e.localDay("at", tz) + `, count(*) from coupon_history where brand_id = $1 and to_state = 'redeemed'
		and at >= ` + p.add(start) + ` and at < ` + p.add(pd.end) + storeCond(p, q, "store_id") + ` group by 1`
	err = r.rows(ctx, "dashboard coupons", qs, p.args, func(rs *sql.Rows) error {
		var d string
		var n int64
		if err := rs.Scan(&d, &n); err != nil {
			return err
		}
		day(d).CouponsRedeemed += n
		return nil
	})
	if err != nil {
		return report.Dashboard{}, err
	}
	var out report.Dashboard
	for _, d := range report.Dates(q.From, q.To) {
		m := day(d)
		out.Current.Add(*m)
		out.Days = append(out.Days, report.Day{Date: d, Metrics: *m})
	}
	for _, d := range report.Dates(from, report.AddDays(q.To, -7)) {
		m := day(d)
		out.WeekAgo.Add(*m)
		out.WeekAgoDays = append(out.WeekAgoDays, report.Day{Date: d, Metrics: *m})
	}
	return out, nil
}

// visitDays is a common table expression "vd (member_id, day)": the
// distinct local days ('YYYY-MM-DD') each member visited, from the date
// since ("" for all) to the period's end, at the query's store. For every
// store it reads member_activity, the per member and day rollup applying
// events maintains (in the brand's zone, one row per member and day, far
// fewer than events), with merged members mapped to the member kept; for
// one store it reads the events there.
func visitDays(e Engine, p *params, pd period, since string) string {
	if pd.q.StoreID == "" {
		cond := ""
		if since != "" {
			cond = " and a.day >= " + e.asDate(p.add(since))
		}
		// A member's rows are one per day already; only the few merged
		// members' days are mapped, and kept only where the member kept
		// has no row that day, so no sort of every row is needed.
		to := e.asDate(p.add(pd.q.To))
		return `vd as (select a.member_id, ` + e.dayText("a.day") + ` as day from member_activity a
				where a.brand_id = $1 and a.visits > 0 and a.day <= ` + to + cond + `
				and not exists (select 1 from members mm where mm.brand_id = a.brand_id and mm.member_id = a.member_id and mm.merged_into is not null)
			union all
			select distinct mm.merged_into, ` + e.dayText("a.day") + ` from members mm
				join member_activity a on a.brand_id = mm.brand_id and a.member_id = mm.member_id
				where mm.brand_id = $1 and mm.merged_into is not null and a.visits > 0 and a.day <= ` + to + cond + `
				and not exists (select 1 from member_activity k where k.brand_id = a.brand_id and k.member_id = mm.merged_into and k.day = a.day and k.visits > 0))`
	}
	tz := p.add(pd.tz)
	cond := ""
	if since != "" {
		cond = " and occurred_at >= " + p.add(pd.dayStart(since))
	}
	return `vd as (select distinct member_id, ` + e.localDay("occurred_at", tz) + ` as day from v_events
		where brand_id = $1 and kind = 'visit' and member_id is not null and occurred_at < ` + p.add(pd.end) + cond + storeCond(p, pd.q, "store_id") + `)`
}

func (r reportStore) Retention(ctx context.Context, q report.Query) (report.Retention, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.Retention{}, err
	}
	e := r.d.engine
	var out report.Retention

	p := newParams(q.BrandID)
	qs := `with ` + visitDays(e, p, pd, q.From) + `
		select count(*), ` + sum("case when n >= 2 then 1 else 0 end") + ` from
		(select member_id, count(*) as n from vd where day >= ` + p.add(q.From) + ` and day <= ` + p.add(q.To) + ` group by member_id) x`
	err = r.rows(ctx, "repeat rate", qs, p.args, func(rs *sql.Rows) error { return rs.Scan(&out.Visitors, &out.Repeaters) })
	if err != nil {
		return out, err
	}
	out.RepeatRateBP = report.Rate(out.Repeaters, out.Visitors)

	p = newParams(q.BrandID)
	// Months each member visited (one row per member and month), then
	// each member's first day: the cohorts count rows, with no distinct.
	qs = `with ` + visitDays(e, p, pd, "") + `,
		vm as (select member_id, substr(day, 1, 7) as month, min(day) as first_in_month from vd group by member_id, substr(day, 1, 7)),
		fv as (select member_id, min(first_in_month) as first_day from vm group by member_id)
		select substr(fv.first_day, 1, 7), vm.month, count(*)
		from fv join vm on vm.member_id = fv.member_id
		where fv.first_day >= ` + p.add(q.From) + ` and fv.first_day <= ` + p.add(q.To) + `
		group by 1, 2`
	cohorts := map[string]map[string]int64{}
	err = r.rows(ctx, "cohorts", qs, p.args, func(rs *sql.Rows) error {
		var c, m string
		var n int64
		if err := rs.Scan(&c, &m, &n); err != nil {
			return err
		}
		if cohorts[c] == nil {
			cohorts[c] = map[string]int64{}
		}
		cohorts[c][m] = n
		return nil
	})
	if err != nil {
		return out, err
	}
	last := q.To[:7]
	for _, c := range report.Months(q.From[:7], last) {
		got, ok := cohorts[c]
		if !ok {
			continue
		}
		co := report.Cohort{Month: c, Size: got[c]}
		for _, m := range report.Months(c, last) {
			co.Active = append(co.Active, got[m])
		}
		out.Cohorts = append(out.Cohorts, co)
	}

	p = newParams(q.BrandID)
	qs = `with ` + visitDays(e, p, pd, "") + `,
		ranked as (select member_id, day, row_number() over (partition by member_id order by day) as rn,
			lead(day) over (partition by member_id order by day) as next_day from vd)
		select ` + e.daysBetween("day", "next_day") + `, count(*) from ranked
		where rn = 1 and day >= ` + p.add(q.From) + ` and day <= ` + p.add(q.To) + `
		group by 1`
	type bucket struct {
		days  sql.NullInt64
		count int64
	}
	var hist []bucket
	err = r.rows(ctx, "time to second visit", qs, p.args, func(rs *sql.Rows) error {
		var b bucket
		err := rs.Scan(&b.days, &b.count)
		hist = append(hist, b)
		return err
	})
	if err != nil {
		return out, err
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].days.Int64 < hist[j].days.Int64 })
	sv := &out.SecondVisit
	for _, b := range hist {
		sv.FirstVisitors += b.count
		switch d := b.days.Int64; {
		case !b.days.Valid:
			sv.Never += b.count
			continue
		case d <= 7:
			sv.Within7 += b.count
		case d <= 30:
			sv.Within30 += b.count
		case d <= 90:
			sv.Within90 += b.count
		default:
			sv.Later += b.count
		}
		sv.Returned += b.count
	}
	if sv.Returned > 0 {
		mid, seen := (sv.Returned-1)/2, int64(0)
		for _, b := range hist {
			if !b.days.Valid {
				continue
			}
			if seen+b.count > mid {
				sv.MedianDays = b.days.Int64
				break
			}
			seen += b.count
		}
	}

	p = newParams(q.BrandID)
	qs = `with ` + visitDays(e, p, pd, "") + `
		select m.source_channel, count(*), ` + sum("case when x.n >= 1 then 1 else 0 end") + `, ` + sum("case when x.n >= 2 then 1 else 0 end") + `
		from members m left join (select member_id, count(*) as n from vd group by member_id) x on x.member_id = m.member_id
		where m.brand_id = $1 and m.merged_into is null and m.created_at >= ` + p.add(pd.start) + ` and m.created_at < ` + p.add(pd.end) +
		storeCond(p, q, "m.source_store_id") + ` group by m.source_channel order by m.source_channel`
	err = r.rows(ctx, "retention by source", qs, p.args, func(rs *sql.Rows) error {
		var s report.SourceCohort
		err := rs.Scan(&s.Channel, &s.Joined, &s.Visited, &s.Repeated)
		out.BySource = append(out.BySource, s)
		return err
	})
	return out, err
}

func (r reportStore) GroupBuy(ctx context.Context, q report.Query) (report.GroupBuy, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.GroupBuy{}, err
	}
	e := r.d.engine
	byBatch := map[string]*report.Batch{}
	var order []string
	p := newParams(q.BrandID)
	err = r.rows(ctx, "voucher batches", `select batch, min(platform) from (
			select campaign_id as batch, platform from vouchers where brand_id = $1
			union all
			select deal_id, platform from voucher_consumptions where brand_id = $1 and deal_id is not null) b
		group by batch order by 2, 1`, p.args,
		func(rs *sql.Rows) error {
			var b report.Batch
			if err := rs.Scan(&b.Batch, &b.Platform); err != nil {
				return err
			}
			byBatch[b.Batch] = &b
			order = append(order, b.Batch)
			return nil
		})
	if err != nil {
		return report.GroupBuy{}, err
	}
	p = newParams(q.BrandID)
	from, to := p.add(pd.start), p.add(pd.end)
	st := storeCond(p, q, "store_id")
	qs := `select batch, count(*) from (
			select campaign_id as batch from vouchers where brand_id = $1 and redeemed and redeemed_at >= ` + from + ` and redeemed_at < ` + to + st + `
			union all
			select deal_id from voucher_consumptions where brand_id = $1 and state = 'consumed' and deal_id is not null
				and consumed_at >= ` + from + ` and consumed_at < ` + to + st + `) r group by batch`
	err = r.rows(ctx, "vouchers redeemed", qs, p.args, func(rs *sql.Rows) error {
		var batch string
		var n int64
		if err := rs.Scan(&batch, &n); err != nil {
			return err
		}
		if b := byBatch[batch]; b != nil {
			b.Redeemed = n
		}
		return nil
	})
	if err != nil {
		return report.GroupBuy{}, err
	}
	p = newParams(q.BrandID)
	qs = `select coalesce(source_deal_id, source_campaign_id), count(*) from members where brand_id = $1 and merged_into is null
		and coalesce(source_deal_id, source_campaign_id) is not null
		and created_at >= ` + p.add(pd.start) + ` and created_at < ` + p.add(pd.end) + storeCond(p, q, "source_store_id") + ` group by 1`
	err = r.rows(ctx, "joined with vouchers", qs, p.args, func(rs *sql.Rows) error {
		var batch string
		var n int64
		if err := rs.Scan(&batch, &n); err != nil {
			return err
		}
		if b := byBatch[batch]; b != nil {
			b.Joined = n
		}
		return nil
	})
	if err != nil {
		return report.GroupBuy{}, err
	}
	p = newParams(q.BrandID)
	tz := p.add(pd.tz)
	joinStore, redeemStore := "", ""
	if q.StoreID != "" {
		s := p.add(q.StoreID)
		joinStore, redeemStore = " and m.source_store_id = "+s, " and v.store_id = "+s
	}
	qs = `with batches as (select batch, max(face) as face from (
				select campaign_id as batch, face_value_fen as face from vouchers where brand_id = $1
				union all
				select deal_id, price_fen from voucher_consumptions where brand_id = $1 and deal_id is not null) b group by batch),
		contact as (
			select coalesce(m.source_deal_id, m.source_campaign_id) as batch, m.member_id, m.created_at as at from members m
			where m.brand_id = $1 and m.merged_into is null and coalesce(m.source_deal_id, m.source_campaign_id) in (select batch from batches)` + joinStore + `
			union all
			select v.campaign_id, coalesce(vm.merged_into, vm.member_id), v.redeemed_at from vouchers v
			join members vm on vm.brand_id = v.brand_id and vm.member_id = v.member_id
			where v.brand_id = $1 and v.redeemed and v.redeemed_at is not null` + redeemStore + `),
		cust as (select batch, member_id, min(at) as at from contact group by batch, member_id),
		custd as (select batch, member_id, ` + e.localDay("at", tz) + ` as day from cust where at >= ` + p.add(pd.start) + ` and at < ` + p.add(pd.end) + `),
		after as (select c.batch, c.member_id,
				` + sum("case when ev.event_id is not null then 1 else 0 end") + ` as back,
				` + sum("case when ev.kind = 'purchase' then 1 else 0 end") + ` as buys,
				` + sum("case when ev.kind = 'purchase' then ev.net_fen else 0 end") + ` as spent
			from custd c left join v_events ev on ev.brand_id = $1 and ev.member_id = c.member_id and ev.kind in ('visit', 'purchase')
				and ev.occurred_at < ` + p.add(pd.end) + ` and ` + e.localDay("ev.occurred_at", tz) + ` > c.day
			group by c.batch, c.member_id)
		select a.batch, count(*), ` + sum("case when a.back > 0 then 1 else 0 end") + `, ` + sum("case when a.buys > 0 then 1 else 0 end") + `,
			` + sum("case when a.spent > b.face then 1 else 0 end") + `, ` + sum("case when a.back = 0 then 1 else 0 end") + `, ` + sum("a.spent") + `
		from after a join batches b on b.batch = a.batch group by a.batch`
	err = r.rows(ctx, "group-buy customers", qs, p.args, func(rs *sql.Rows) error {
		var batch string
		var x report.Batch
		if err := rs.Scan(&batch, &x.Customers, &x.CameBack, &x.FullPrice, &x.SpentMore, &x.NeverReturned, &x.RevenueAfterFen); err != nil {
			return err
		}
		if b := byBatch[batch]; b != nil {
			b.Customers, b.CameBack, b.FullPrice, b.SpentMore, b.NeverReturned, b.RevenueAfterFen = x.Customers, x.CameBack, x.FullPrice, x.SpentMore, x.NeverReturned, x.RevenueAfterFen
		}
		return nil
	})
	if err != nil {
		return report.GroupBuy{}, err
	}
	var out report.GroupBuy
	for _, id := range order {
		out.Batches = append(out.Batches, *byBatch[id])
	}
	return out, nil
}

func (r reportStore) Conversion(ctx context.Context, q report.Query) (report.Conversion, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.Conversion{}, err
	}
	e := r.d.engine
	type key struct{ store, staff string }
	rows := map[key]*report.ConversionRow{}
	row := func(k key) *report.ConversionRow {
		if rows[k] == nil {
			rows[k] = &report.ConversionRow{StoreID: k.store, StaffID: k.staff}
		}
		return rows[k]
	}
	p := newParams(q.BrandID)
	qs := `select store_id, coalesce(staff_id, ''), count(*) from events where brand_id = $1 and outcome = 'applied' and kind = 'voucher_redemption'
		and occurred_at >= ` + p.add(pd.start) + ` and occurred_at < ` + p.add(pd.end) + storeCond(p, q, "store_id") + ` group by 1, 2`
	err = r.rows(ctx, "walk-ins", qs, p.args, func(rs *sql.Rows) error {
		var k key
		var n int64
		if err := rs.Scan(&k.store, &k.staff, &n); err != nil {
			return err
		}
		row(k).WalkIns += n
		return nil
	})
	if err != nil {
		return report.Conversion{}, err
	}
	p = newParams(q.BrandID)
	tz := p.add(pd.tz)
	qs = `select m.source_store_id, coalesce(m.source_staff_id, ''), count(*), ` + sum("x.value") + `
		from members m left join (
			select ev.member_id, sum(ev.net_fen) as value from v_events ev
			join members j on j.brand_id = ev.brand_id and j.member_id = ev.member_id
			where ev.brand_id = $1 and ev.kind = 'purchase' and ev.occurred_at >= ` + p.add(pd.start) + `
			and ` + e.daysBetween(e.localDay("j.created_at", tz), e.localDay("ev.occurred_at", tz)) + ` between 0 and ` + p.add(int64(report.ValueDays-1)) + `
			group by ev.member_id) x on x.member_id = m.member_id
		where m.brand_id = $1 and m.merged_into is null and m.source_store_id is not null
		and m.created_at >= ` + p.add(pd.start) + ` and m.created_at < ` + p.add(pd.end) + storeCond(p, q, "m.source_store_id") + ` group by 1, 2`
	err = r.rows(ctx, "members enrolled", qs, p.args, func(rs *sql.Rows) error {
		var k key
		var n, v int64
		if err := rs.Scan(&k.store, &k.staff, &n, &v); err != nil {
			return err
		}
		x := row(k)
		x.Enrolled += n
		x.Value90DaysFen += v
		return nil
	})
	if err != nil {
		return report.Conversion{}, err
	}
	stores := map[string]*report.ConversionRow{}
	var out report.Conversion
	for _, x := range rows {
		x.ConversionBP = report.Rate(x.Enrolled, x.WalkIns)
		out.Staff = append(out.Staff, *x)
		s := stores[x.StoreID]
		if s == nil {
			s = &report.ConversionRow{StoreID: x.StoreID}
			stores[x.StoreID] = s
		}
		s.WalkIns += x.WalkIns
		s.Enrolled += x.Enrolled
		s.Value90DaysFen += x.Value90DaysFen
	}
	for _, s := range stores {
		s.ConversionBP = report.Rate(s.Enrolled, s.WalkIns)
		out.Stores = append(out.Stores, *s)
	}
	sort.Slice(out.Stores, func(i, j int) bool { return out.Stores[i].StoreID < out.Stores[j].StoreID })
	sort.Slice(out.Staff, func(i, j int) bool {
		a, b := out.Staff[i], out.Staff[j]
		return a.StoreID < b.StoreID || a.StoreID == b.StoreID && a.StaffID < b.StaffID
	})
	return out, nil
}

// rfmCells is a subquery "(member_id, cell)" of each member's cell as of
// the local date asOf, from vd (visit days) and purchases in the window.
func rfmCells(e Engine, p *params, asOf string) string {
	x := p.add(asOf)
	recency := "case"
	for _, b := range report.RecencyBuckets {
		recency += " when " + e.daysBetween("max(day)", x) + " <= " + p.add(b.MaxDays) + " then " + p.add(b.Key)
	}
	recency += " end"
	freq := "case"
	for _, b := range report.FrequencyBuckets {
		freq += " when count(*) <= " + p.add(b.MaxDays) + " then " + p.add(b.Key)
	}
	freq += " end"
	return `(select member_id, ` + recency + ` as r, ` + freq + ` as f from vd
		where day > ` + p.add(report.AddDays(asOf, -report.RFMWindowDays)) + ` and day <= ` + p.add(asOf) + ` group by member_id)`
}

func (r reportStore) RFM(ctx context.Context, q report.Query) (report.RFM, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.RFM{}, err
	}
	e := r.d.engine
	asOf := q.To
	before := report.AddDays(asOf[:7]+"-01", -1)
	out := report.RFM{AsOf: asOf, Before: before}
	since := report.AddDays(before, -report.RFMWindowDays+1)

	p := newParams(q.BrandID)
	cells := rfmCells(e, p, asOf)
	winStart := report.AddDays(asOf, -report.RFMWindowDays+1)
	var spend string
	if q.StoreID == "" {
		spend = `spend as (select coalesce(mm.merged_into, a.member_id) as member_id, sum(a.spend_fen) as spent from member_activity a
			left join members mm on mm.brand_id = a.brand_id and mm.member_id = a.member_id and mm.merged_into is not null
			where a.brand_id = $1 and a.day >= ` + e.asDate(p.add(winStart)) + ` and a.day <= ` + e.asDate(p.add(asOf)) + ` group by 1)`
	} else {
		spend = `spend as (select member_id, sum(net_fen) as spent from v_events where brand_id = $1 and kind = 'purchase' and member_id is not null
			and occurred_at >= ` + p.add(pd.dayStart(winStart)) + ` and occurred_at < ` + p.add(pd.end) + storeCond(p, q, "store_id") + ` group by member_id)`
	}
	qs := `with ` + visitDays(e, p, pd, since) + `,
		` + spend + `
		select c.r, c.f, count(*), ` + sum("s.spent") + ` from ` + cells + ` c left join spend s on s.member_id = c.member_id group by c.r, c.f`
	got := map[string]report.RFMCell{}
	err = r.rows(ctx, "rfm grid", qs, p.args, func(rs *sql.Rows) error {
		var c report.RFMCell
		err := rs.Scan(&c.Recency, &c.Frequency, &c.Members, &c.SpendFen)
		got[report.Cell(c.Recency, c.Frequency)] = c
		return err
	})
	if err != nil {
		return out, err
	}
	for _, rb := range report.RecencyBuckets {
		for _, fb := range report.FrequencyBuckets {
			c, ok := got[report.Cell(rb.Key, fb.Key)]
			if !ok {
				c = report.RFMCell{Recency: rb.Key, Frequency: fb.Key}
			}
			out.Cells = append(out.Cells, c)
		}
	}

	p = newParams(q.BrandID)
	now := rfmCells(e, p, asOf)
	then := rfmCells(e, p, before)
	none := p.add(report.NoCell)
	qs = `with ` + visitDays(e, p, pd, since) + `,
		cells as (select member_id, 'a' as w, r, f from ` + now + ` x union all select member_id, 'b' as w, r, f from ` + then + ` y),
		pairs as (select member_id, max(case when w = 'b' then r || '/' || f end) as b, max(case when w = 'a' then r || '/' || f end) as a from cells group by member_id)
		select coalesce(b, ` + none + `), coalesce(a, ` + none + `), count(*) from pairs group by 1, 2 order by 1, 2`
	err = r.rows(ctx, "rfm movement", qs, p.args, func(rs *sql.Rows) error {
		var m report.Move
		err := rs.Scan(&m.From, &m.To, &m.Members)
		out.Movement = append(out.Movement, m)
		return err
	})
	sort.Slice(out.Movement, func(i, j int) bool {
		a, b := out.Movement[i], out.Movement[j]
		return a.From < b.From || a.From == b.From && a.To < b.To
	})
	return out, err
}

func (r reportStore) Liabilities(ctx context.Context, q report.Query) (report.Liabilities, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.Liabilities{}, err
	}
	e := r.d.engine
	var out report.Liabilities
	for _, b := range []struct {
		at  time.Time
		bal *report.Balance
	}{{pd.start, &out.Opening}, {pd.end, &out.Closing}} {
		p := newParams(q.BrandID)
		at := p.add(b.at)
		st := storeCond(p, q, "store_id")
		qs := `select (select ` + sum("principal_delta_fen") + ` from v_stored_value_ledger where brand_id = $1 and at < ` + at + st + `),
			(select ` + sum("bonus_delta_fen") + ` from v_stored_value_ledger where brand_id = $1 and at < ` + at + st + `),
			(select ` + sum("delta") + ` from v_points_ledger where brand_id = $1 and at < ` + at + st + `)`
		if err := r.rows(ctx, "outstanding balances", qs, p.args, func(rs *sql.Rows) error {
			return rs.Scan(&b.bal.PrincipalFen, &b.bal.BonusFen, &b.bal.Points)
		}); err != nil {
			return out, err
		}
	}
	type key struct{ month, store string }
	months := map[key]*report.LiabilityMonth{}
	month := func(k key) *report.LiabilityMonth {
		if months[k] == nil {
			months[k] = &report.LiabilityMonth{Month: k.month, StoreID: k.store}
		}
		return months[k]
	}
	p := newParams(q.BrandID)
	tz := p.add(pd.tz)
	rng := ` and at >= ` + p.add(pd.start) + ` and at < ` + p.add(pd.end) + storeCond(p, q, "store_id")
	qs := `select ` + e.localMonth("at", tz) + `, coalesce(store_id, ''), reason, ` + sum("principal_delta_fen") + `, ` + sum("bonus_delta_fen") + `
		from v_stored_value_ledger where brand_id = $1` + rng + ` group by 1, 2, 3`
	err = r.rows(ctx, "stored value movements", qs, p.args, func(rs *sql.Rows) error {
		var k key
		var reason string
		var pr, bo int64
		if err := rs.Scan(&k.month, &k.store, &reason, &pr, &bo); err != nil {
			return err
		}
		m := month(k)
		switch reason {
		case "top_up":
			m.PrincipalIssuedFen += pr
			m.BonusIssuedFen += bo
		case "spend":
			m.PrincipalUsedFen -= pr
			m.BonusUsedFen -= bo
		case "cash_out":
			m.PrincipalCashedFen -= pr
			m.BonusForfeitedFen -= bo
			out.BonusForfeitedFen -= bo
		case "refund":
			m.PrincipalRefundFen += pr
			m.BonusRefundFen += bo
		default:
			m.PrincipalOtherFen += pr
			m.BonusOtherFen += bo
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	qs = `select ` + e.localMonth("at", tz) + `, coalesce(store_id, ''), reason, ` + sum("delta") + `
		from v_points_ledger where brand_id = $1` + rng + ` group by 1, 2, 3`
	err = r.rows(ctx, "points movements", qs, p.args, func(rs *sql.Rows) error {
		var k key
		var reason string
		var n int64
		if err := rs.Scan(&k.month, &k.store, &reason, &n); err != nil {
			return err
		}
		m := month(k)
		switch reason {
		case "earn":
			m.PointsIssued += n
		case "burn":
			m.PointsUsed -= n
		case "expire":
			m.PointsExpired -= n
			out.PointsExpired -= n
		case "refund":
			m.PointsRefund += n
		default:
			m.PointsOther += n
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	for _, m := range months {
		out.Months = append(out.Months, *m)
	}
	sort.Slice(out.Months, func(i, j int) bool {
		a, b := out.Months[i], out.Months[j]
		return a.Month < b.Month || a.Month == b.Month && a.StoreID < b.StoreID
	})
	return out, nil
}

func (r reportStore) Conflicts(ctx context.Context, q report.Query) (report.Conflicts, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.Conflicts{}, err
	}
	e := r.d.engine
	type key struct{ kind, store string }
	rows := map[key]*report.ConflictRow{}
	before := pd.dayStart(report.AddDays(q.From, -q.Days()))
	for _, span := range []struct {
		from, to time.Time
		prev     bool
	}{{pd.start, pd.end, false}, {before, pd.start, true}} {
		p := newParams(q.BrandID)
		qs := `select c.kind, coalesce(c.store_id, ''), count(*), ` + sum("case when c.amount_fen > 0 then c.amount_fen else e.net_fen end") + ` from conflicts c
			left join events e on e.brand_id = c.brand_id and e.event_id = c.event_id
			where c.brand_id = $1 and c.at >= ` + p.add(span.from) + ` and c.at < ` + p.add(span.to) + storeCond(p, q, "c.store_id") + ` group by 1, 2`
		err := r.rows(ctx, "conflicts", qs, p.args, func(rs *sql.Rows) error {
			var k key
			var n, amount int64
			if err := rs.Scan(&k.kind, &k.store, &n, &amount); err != nil {
				return err
			}
			if rows[k] == nil {
				rows[k] = &report.ConflictRow{Kind: k.kind, StoreID: k.store}
			}
			if span.prev {
				rows[k].Before += n
			} else {
				rows[k].Count += n
				rows[k].AmountFen += amount
			}
			return nil
		})
		if err != nil {
			return report.Conflicts{}, err
		}
	}
	var out report.Conflicts
	for _, x := range rows {
		out.Rows = append(out.Rows, *x)
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		return a.Kind < b.Kind || a.Kind == b.Kind && a.StoreID < b.StoreID
	})
	p := newParams(q.BrandID)
	tz := p.add(pd.tz)
	perDay := map[string]int64{}
	qs := `select ` + e.localDay("at", tz) + `, count(*) from conflicts where brand_id = $1 and at >= ` + p.add(pd.start) + ` and at < ` + p.add(pd.end) +
		storeCond(p, q, "store_id") + ` group by 1`
	err = r.rows(ctx, "conflicts per day", qs, p.args, func(rs *sql.Rows) error {
		var d string
		var n int64
		err := rs.Scan(&d, &n)
		perDay[d] = n
		return err
	})
	for _, d := range report.Dates(q.From, q.To) {
		out.Days = append(out.Days, report.Point{X: d, Y: perDay[d]})
	}
	return out, err
}

func (r reportStore) Campaigns(ctx context.Context, q report.Query) (report.Campaigns, error) {
	pd, err := r.period(ctx, q)
	if err != nil {
		return report.Campaigns{}, err
	}
	e := r.d.engine
	type key struct {
		id      string
		holdout bool
	}
	groups := map[key]*report.Group{}
	rows := map[string]*report.CampaignRow{}
	noProof := map[string]bool{}
	var order []string
	p := newParams(q.BrandID)
	rng := ` and g.granted_at >= ` + p.add(pd.start) + ` and g.granted_at < ` + p.add(pd.end)
	qs := `select c.campaign_id, c.name, c.holdout_bp, count(*),
			` + sum("case when g.holdout then 0 else 1 end") + `, ` + sum("case when g.holdout then 1 else 0 end") + `,
			` + sum(e.jsonInt("g.body", "Cost", "MoneyFen")) + `, ` + sum(e.jsonInt("g.body", "Cost", "Points")) + `
		from campaigns c join campaign_grants g on g.brand_id = c.brand_id and g.campaign_id = c.campaign_id
		where c.brand_id = $1 and g.skipped is null` + rng + ` group by c.campaign_id, c.name, c.holdout_bp order by c.campaign_id`
	err = r.rows(ctx, "campaigns", qs, p.args, func(rs *sql.Rows) error {
		var row report.CampaignRow
		var bp, n int64
		if err := rs.Scan(&row.CampaignID, &row.Name, &bp, &n, &row.Reached, &row.Holdout, &row.CostFen, &row.CostPoints); err != nil {
			return err
		}
		rows[row.CampaignID] = &row
		noProof[row.CampaignID] = bp == 0
		order = append(order, row.CampaignID)
		return nil
	})
	if err != nil {
		return report.Campaigns{}, err
	}
	p = newParams(q.BrandID)
	tz := p.add(pd.tz)
	rng = ` and g.granted_at >= ` + p.add(pd.start) + ` and g.granted_at < ` + p.add(pd.end)
	qs = `with g as (select g.campaign_id, g.member_id, g.occurrence, g.holdout, ` + e.localDay("g.granted_at", tz) + ` as d0
			from campaign_grants g where g.brand_id = $1 and g.skipped is null` + rng + `),
		a as (select g.campaign_id, g.member_id, g.occurrence, g.holdout,
				` + sum("ma.visits") + ` as v, ` + sum("ma.spend_fen") + ` as s
			from g left join member_activity ma on ma.brand_id = $1 and ma.member_id = g.member_id
				and ma.day >= ` + e.asDate("g.d0") + ` and ma.day < ` + e.addDays("g.d0", p.add(int64(report.CampaignDays))) + `
			group by g.campaign_id, g.member_id, g.occurrence, g.holdout)
		select campaign_id, holdout, count(*), ` + sum("case when v > 0 or s > 0 then 1 else 0 end") + `, ` + sum("s") + `,
			coalesce(sum(` + e.float("s") + ` * s), 0)
		from a group by campaign_id, holdout`
	err = r.rows(ctx, "campaign outcomes", qs, p.args, func(rs *sql.Rows) error {
		var k key
		var g report.Group
		if err := rs.Scan(&k.id, boolean{&k.holdout}, &g.Members, &g.Returned, &g.SpendFen, &g.SpendSquares); err != nil {
			return err
		}
		groups[k] = &g
		return nil
	})
	if err != nil {
		return report.Campaigns{}, err
	}
	p = newParams(q.BrandID)
	from, code := e.jsonStrings("g.body", "Coupons", "cc")
	qs = `select g.campaign_id, count(*) from campaign_grants g cross join ` + from + `
		join coupons cp on cp.brand_id = g.brand_id and cp.code = ` + code + `
		where g.brand_id = $1 and g.skipped is null and not g.holdout and cp.state = 'redeemed'` +
		` and g.granted_at >= ` + p.add(pd.start) + ` and g.granted_at < ` + p.add(pd.end) + ` group by g.campaign_id`
	err = r.rows(ctx, "campaign coupons", qs, p.args, func(rs *sql.Rows) error {
		var id string
		var n int64
		if err := rs.Scan(&id, &n); err != nil {
			return err
		}
		if row := rows[id]; row != nil {
			row.Redeemed = n
		}
		return nil
	})
	if err != nil {
		return report.Campaigns{}, err
	}
	var out report.Campaigns
	for _, id := range order {
		row := rows[id]
		treated, holdout := report.Group{}, report.Group{}
		if g := groups[key{id, false}]; g != nil {
			treated = *g
		}
		if g := groups[key{id, true}]; g != nil {
			holdout = *g
		}
		row.RevenueFen, row.TreatedReturned, row.HoldoutReturned = treated.SpendFen, treated.Returned, holdout.Returned
		row.Lifts(treated, holdout, noProof[id])
		out.Campaigns = append(out.Campaigns, *row)
	}
	return out, nil
}
