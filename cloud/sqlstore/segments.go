package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/segment"
)

// Segments is the segment.Store on this database.
func (d *DB) Segments() segment.Store { return segmentStore{d} }

type segmentStore struct{ d *DB }

func (s segmentStore) PutSegment(ctx context.Context, seg segment.Segment) error {
	_, err := s.d.write.ExecContext(ctx, `insert into segments (brand_id, name, rules, created_at, updated_at) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, name) do update set rules = excluded.rules, updated_at = excluded.updated_at`,
		seg.BrandID, seg.Name, js(seg.Rules), ts(seg.CreatedAt), ts(seg.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: write segment %s: %w", seg.Name, err)
	}
	return nil
}

func (s segmentStore) Segment(ctx context.Context, brand, name string) (segment.Segment, error) {
	seg := segment.Segment{BrandID: brand, Name: name}
	err := s.d.read.QueryRowContext(ctx, `select rules, created_at, updated_at from segments where brand_id = $1 and name = $2`, brand, name).
		Scan(jsonCol{&seg.Rules}, tm{&seg.CreatedAt}, tm{&seg.UpdatedAt})
	if err == sql.ErrNoRows {
		return seg, notFound("segment %q", name)
	}
	if err != nil {
		return seg, fmt.Errorf("sqlstore: read segment %s: %w", name, err)
	}
	return seg, nil
}

func (s segmentStore) Segments(ctx context.Context, brand string) ([]segment.Segment, error) {
	rows, err := s.d.read.QueryContext(ctx, `select name, rules, created_at, updated_at from segments where brand_id = $1 order by name`, brand)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list segments: %w", err)
	}
	defer rows.Close()
	var out []segment.Segment
	for rows.Next() {
		seg := segment.Segment{BrandID: brand}
		if err := rows.Scan(&seg.Name, jsonCol{&seg.Rules}, tm{&seg.CreatedAt}, tm{&seg.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: list segments: %w", err)
		}
		out = append(out, seg)
	}
	return out, rows.Err()
}

func (s segmentStore) DeleteSegment(ctx context.Context, brand, name string) error {
	res, err := s.d.write.ExecContext(ctx, `delete from segments where brand_id = $1 and name = $2`, brand, name)
	if err != nil {
		return fmt.Errorf("sqlstore: delete segment %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("segment %q", name)
	}
	return nil
}

func (s segmentStore) Settings(ctx context.Context, brand string) (segment.Settings, error) {
	st := segment.Defaults
	err := s.d.read.QueryRowContext(ctx, `select new_days, active_days, lapsed_days from segment_settings where brand_id = $1`, brand).
		Scan(&st.NewDays, &st.ActiveDays, &st.LapsedDays)
	if err == sql.ErrNoRows {
		return segment.Defaults, nil
	}
	if err != nil {
		return st, fmt.Errorf("sqlstore: read lifecycle settings: %w", err)
	}
	return st, nil
}

func (s segmentStore) PutSettings(ctx context.Context, brand string, st segment.Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	_, err := s.d.write.ExecContext(ctx, `insert into segment_settings (brand_id, new_days, active_days, lapsed_days) values ($1, $2, $3, $4)
		on conflict (brand_id) do update set new_days = excluded.new_days, active_days = excluded.active_days, lapsed_days = excluded.lapsed_days`,
		brand, st.NewDays, st.ActiveDays, st.LapsedDays)
	if err != nil {
		return fmt.Errorf("sqlstore: write lifecycle settings: %w", err)
	}
	return nil
}

// brandClock reads the brand's zone, to count days there.
func (d *DB) brandClock(ctx context.Context, brand string, now time.Time) (segment.Clock, string, error) {
	var tz string
	err := d.read.QueryRowContext(ctx, `select time_zone from brands where brand_id = $1`, brand).Scan(&tz)
	if err == sql.ErrNoRows {
		return segment.Clock{}, "", notFound("brand %q", brand)
	}
	if err != nil {
		return segment.Clock{}, "", fmt.Errorf("sqlstore: read brand %s: %w", brand, err)
	}
	if tz == "" {
		tz = cloud.DefaultTimeZone
	}
	loc, err := zone(tz)
	if err != nil {
		return segment.Clock{}, "", fmt.Errorf("sqlstore: brand %s time zone: %w", brand, err)
	}
	return segment.Clock{Now: now, Loc: loc}, tz, nil
}

func (s segmentStore) Count(ctx context.Context, brand string, r segment.Rules, st segment.Settings, now time.Time) (int64, error) {
	clock, _, err := s.d.brandClock(ctx, brand, now)
	if err != nil {
		return 0, err
	}
	q, args := s.d.engine.compileSegment(brand, r, st, clock, true)
	var n int64
	if err := s.d.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count segment: %w", err)
	}
	return n, nil
}

// pageOf asks for the members after a member id, at most limit of them.
type pageOf struct {
	after string
	limit int
}

func (s segmentStore) Page(ctx context.Context, brand string, r segment.Rules, st segment.Settings, now time.Time, after string, limit int) ([]segment.Member, error) {
	var out []segment.Member
	err := s.members(ctx, brand, r, st, now, pageOf{after, limit}, func(m segment.Member) bool {
		out = append(out, m)
		return true
	})
	return out, err
}

func (s segmentStore) Members(ctx context.Context, brand string, r segment.Rules, st segment.Settings, now time.Time, fn func(segment.Member) bool) error {
	return s.members(ctx, brand, r, st, now, pageOf{}, fn)
}

func (s segmentStore) members(ctx context.Context, brand string, r segment.Rules, st segment.Settings, now time.Time, page pageOf, fn func(segment.Member) bool) error {
	clock, _, err := s.d.brandClock(ctx, brand, now)
	if err != nil {
		return err
	}
	q, args := s.d.engine.compileSegment(brand, r, st, clock, false, page)
	rows, err := s.d.read.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: list segment members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m segment.Member
		var stage string
		if err := rows.Scan(&m.ID, &m.Name, str{&m.Phone}, &m.TierID, &stage, &m.Visits, tm{&m.LastVisitAt}, &m.Points, &m.StoredValueFen, &m.TotalSpendFen); err != nil {
			return fmt.Errorf("sqlstore: list segment members: %w", err)
		}
		m.Stage = segment.Stage(stage)
		if !fn(m) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: list segment members: %w", err)
	}
	return nil
}

// compileSegment writes the one query that selects a segment's members
// (or counts them): members of the brand, not merged, with each rule an
// AND-ed condition whose values are parameters.
func (e Engine) compileSegment(brand string, r segment.Rules, st segment.Settings, c segment.Clock, count bool, page ...pageOf) (string, []any) {
	p := newParams(brand)
	var where []string
	cond := func(s string) { where = append(where, s) }
	stage := ""
	if !count || len(r.Stages) > 0 {
		stage = e.stageExpr(p, st, c)
	}
	from := "members m"
	if r.Visits.Set() || r.SpendFen.Set() {
		from += ` left join (select member_id, sum(visits) as visits, sum(spend_fen) as spend_fen from member_activity
			where brand_id = $1 and day >= ` + p.add(c.Day(r.Window()-1)) + ` group by member_id) w on w.member_id = m.member_id`
		rangeCond(p, cond, "coalesce(w.visits, 0)", r.Visits)
		rangeCond(p, cond, "coalesce(w.spend_fen, 0)", r.SpendFen)
	}
	if r.LastVisitWithinDays > 0 {
		cond("m.last_visit_at >= " + p.add(c.DayStart(r.LastVisitWithinDays-1)))
	}
	if r.NoVisitForDays > 0 {
		cond("(m.last_visit_at is null or m.last_visit_at < " + p.add(c.DayStart(r.NoVisitForDays-1)) + ")")
	}
	if len(r.Stages) > 0 {
		ss := make([]string, len(r.Stages))
		for i, s := range r.Stages {
			ss[i] = string(s)
		}
		cond(stage + " in (" + p.list(ss) + ")")
	}
	if len(r.Tiers) > 0 {
		cond("m.tier_id in (" + p.list(r.Tiers) + ")")
	}
	if len(r.Tags) > 0 {
		cond(e.jsonArrayHasAny("m.tags", p.list(r.Tags)))
	}
	if len(r.HomeStores) > 0 {
		cond("m.source_store_id in (" + p.list(r.HomeStores) + ")")
	}
	if len(r.VisitedStores) > 0 {
		cond(`exists (select 1 from events ve where ve.brand_id = m.brand_id and ve.member_id = m.member_id and ve.kind = 'visit'
			and ve.outcome = 'applied' and ve.occurred_at >= ` + p.add(c.DayStart(r.Window()-1)) + ` and ve.store_id in (` + p.list(r.VisitedStores) + `))`)
	}
	if len(r.JoinChannels) > 0 {
		cond("m.source_channel in (" + p.list(r.JoinChannels) + ")")
	}
	if len(r.JoinStaff) > 0 {
		cond("m.source_staff_id in (" + p.list(r.JoinStaff) + ")")
	}
	if len(r.VoucherBatches) > 0 {
		in := p.list(r.VoucherBatches)
		cond("(m.source_campaign_id in (" + in + ") or m.source_deal_id in (" + in + "))")
	}
	if len(r.VoucherPlatforms) > 0 {
		in := p.list(r.VoucherPlatforms)
		cond(`(m.source_platform in (` + in + `) or exists (select 1 from vouchers v where v.brand_id = m.brand_id
			and v.campaign_id = m.source_campaign_id and v.platform in (` + in + `)))`)
	}
	if len(r.BirthdayMonths) > 0 {
		ms := make([]string, len(r.BirthdayMonths))
		for i, mo := range r.BirthdayMonths {
			ms[i] = fmt.Sprintf("%02d", mo)
		}
		cond("(case when length(m.birthday) = 10 then substr(m.birthday, 6, 2) else substr(m.birthday, 1, 2) end) in (" + p.list(ms) + ")")
	}
	if r.Consent != nil {
		cond("m.consent = " + p.add(*r.Consent))
	}
	if len(r.ConsentChannels) > 0 {
		cond(`exists (select 1 from msg_consents mc where mc.brand_id = m.brand_id and mc.member_id = m.member_id and mc.granted = 1
			and mc.channel in (` + p.list(r.ConsentChannels) + `))`)
	}
	rangeCond(p, cond, "m.points", r.Points)
	rangeCond(p, cond, "(m.sv_principal_fen + m.sv_bonus_fen)", r.StoredValueFen)

	filter := "m.brand_id = $1 and m.merged_into is null"
	limit := ""
	for _, pg := range page {
		if pg.after != "" {
			where = append(where, "m.member_id > "+p.add(pg.after))
		}
		if pg.limit > 0 {
			limit = " limit " + p.add(int64(pg.limit))
		}
	}
	for _, w := range where {
		filter += "\n\tand " + w
	}
	if count {
		return "select count(*) from " + from + " where " + filter, p.args
	}
	return `select m.member_id, m.name, m.phone, m.tier_id, ` + stage + `, m.visits, m.last_visit_at, m.points,
		m.sv_principal_fen + m.sv_bonus_fen, m.total_spend_fen from ` + from + " where " + filter + " order by m.member_id" + limit, p.args
}

func rangeCond(p *params, cond func(string), expr string, r *segment.Range) {
	if r == nil {
		return
	}
	if r.Min != nil {
		cond(expr + " >= " + p.add(*r.Min))
	}
	if r.Max != nil {
		cond(expr + " <= " + p.add(*r.Max))
	}
}

// stageExpr is the member's lifecycle stage as of the clock (see
// segment.Stage for the rules, decided in order).
func (e Engine) stageExpr(p *params, st segment.Settings, c segment.Clock) string {
	activeStart := p.add(c.DayStart(st.ActiveDays - 1))
	activeDay := p.add(c.Day(st.ActiveDays - 1))
	// returned: the first visit day in the active window comes more than
	// LapsedDays after the last visit day before it.
	first := `(select min(a.day) from member_activity a where a.brand_id = m.brand_id and a.member_id = m.member_id and a.visits > 0 and a.day >= ` + activeDay + `)`
	prev := `(select max(a.day) from member_activity a where a.brand_id = m.brand_id and a.member_id = m.member_id and a.visits > 0 and a.day < ` + activeDay + `)`
	return `(case when m.visits = 0 then 'prospect'
		when m.created_at >= ` + p.add(c.DayStart(st.NewDays-1)) + ` then 'new'
		when m.last_visit_at >= ` + activeStart + ` and ` + e.daysBetween(prev, first) + ` > ` + p.add(int64(st.LapsedDays)) + ` then 'returned'
		when m.last_visit_at >= ` + activeStart + ` then 'active'
		when m.last_visit_at >= ` + p.add(c.DayStart(st.LapsedDays-1)) + ` then 'lapsing'
		else 'lapsed' end)`
}
