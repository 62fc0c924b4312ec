package reporttest

import (
	"context"
	"database/sql"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign/lift"
	"github.com/memberpass/memberpass/cloud/report"
	"github.com/memberpass/memberpass/cloud/segment"
)

// Env is a store under test: its storage contract, its reports, its
// segments and its SQL (for the documented views).
type Env struct {
	Storage  cloud.Storage
	Reports  report.Source
	Segments segment.Store
	SQL      *sql.DB
}

// Run loads the fixture into a fresh store and checks every report and
// segment against the answers worked out by hand.
func Run(t *testing.T, open func(t *testing.T) Env) {
	env := open(t)
	Load(t, env.Storage)
	t.Run("Dashboard", func(t *testing.T) { testDashboard(t, env) })
	t.Run("Retention", func(t *testing.T) { testRetention(t, env) })
	t.Run("GroupBuy", func(t *testing.T) { testGroupBuy(t, env) })
	t.Run("Conversion", func(t *testing.T) { testConversion(t, env) })
	t.Run("RFM", func(t *testing.T) { testRFM(t, env) })
	t.Run("Liabilities", func(t *testing.T) { testLiabilities(t, env) })
	t.Run("Conflicts", func(t *testing.T) { testConflicts(t, env) })
	t.Run("Campaigns", func(t *testing.T) { testCampaigns(t, env) })
	t.Run("Segments", func(t *testing.T) { testSegments(t, env) })
	t.Run("ViewsMatchReports", func(t *testing.T) { testViews(t, env) })
	t.Run("Tables", func(t *testing.T) { testTables(t, env) })
	t.Run("CSV", func(t *testing.T) { testExport(t, env) })
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

var march = report.Query{BrandID: Brand, From: "2026-03-01", To: "2026-03-31"}

func testDashboard(t *testing.T, env Env) {
	ctx := t.Context()
	d, err := env.Reports.Dashboard(ctx, report.Query{BrandID: Brand, From: "2026-03-10", To: "2026-03-10"})
	must(t, err)
	// 10 March (local): e05 visit, e06 purchase (bill 3000 - 200 of points
	// = net 2800, 200 points burned), e07 top-up 50000, e21 voucher. e14 is
	// 00:30 on the 11th locally (the 10th in UTC): not counted. e20 was
	// rejected; brand b2's visit is another brand's. New: m5 joined 23:30.
	eq(t, "10 March", d.Current, report.Metrics{Visits: 1, Purchases: 1, MemberSalesFen: 2800, NewMembers: 1, TopUps: 1, TopUpFen: 50000,
		PointsBurned: 200, VouchersRedeemed: 1})
	// 3 March: visits e03, e12, e16; purchases e04 (5000 - 500 coupon =
	// 4500, 2000 from stored value) and e13 (2000); coupon C1; m3 joined.
	eq(t, "3 March", d.WeekAgo, report.Metrics{Visits: 3, Purchases: 2, MemberSalesFen: 6500, NewMembers: 1, CouponsRedeemed: 1, StoredValueSpentFen: 2000})
	eq(t, "days", len(d.Days), 1)

	s2, err := env.Reports.Dashboard(ctx, report.Query{BrandID: Brand, StoreID: "s2", From: "2026-03-10", To: "2026-03-10"})
	must(t, err)
	// At s2 on the 10th: only the voucher e21, and m5 who joined there.
	eq(t, "10 March at s2", s2.Current, report.Metrics{NewMembers: 1, VouchersRedeemed: 1})
	// At s2 on the 3rd: e12 visit, e13 purchase 2000, m3 joined there.
	eq(t, "3 March at s2", s2.WeekAgo, report.Metrics{Visits: 1, Purchases: 1, MemberSalesFen: 2000, NewMembers: 1})

	wk, err := env.Reports.Dashboard(ctx, report.Query{BrandID: Brand, From: "2026-03-09", To: "2026-03-11"})
	must(t, err)
	// 9-11 March: visits e10 (9th), e05 (10th), e14 (11th); purchases e11
	// 6000 and e06 2800; top-up e07; new m5; burned 200; voucher e21.
	eq(t, "9-11 March", wk.Current, report.Metrics{Visits: 3, Purchases: 2, MemberSalesFen: 8800, NewMembers: 1, TopUps: 1, TopUpFen: 50000, PointsBurned: 200, VouchersRedeemed: 1})
	eq(t, "9-11 March by day", []int64{wk.Days[0].Visits, wk.Days[1].Visits, wk.Days[2].Visits}, []int64{1, 1, 1})
	// 2-4 March: e09 (2nd), e03 e12 e16 (3rd); e04 4500 + e13 2000; e08
	// voucher; m2 and m3 joined; coupon C1; 2000 of stored value.
	eq(t, "2-4 March", wk.WeekAgo, report.Metrics{Visits: 4, Purchases: 2, MemberSalesFen: 6500, NewMembers: 2, CouponsRedeemed: 1, StoredValueSpentFen: 2000, VouchersRedeemed: 1})
}

func testRetention(t *testing.T, env Env) {
	r, err := env.Reports.Retention(t.Context(), march)
	must(t, err)
	// Visit days in March: m1 3rd, 10th; m2 2nd, 9th; m3 3rd, 5th (e18 by
	// local:r6 = m6, merged into m3), 11th; m4 3rd. 4 visitors, 3 on two
	// days or more: 3/4 = 7500 bp.
	eq(t, "repeat", []int64{r.Visitors, r.Repeaters, r.RepeatRateBP}, []int64{4, 3, 7500})
	// First visits ever in March: m2 (2nd) and m3 (3rd); m1 first came in
	// January, m4 in July 2025.
	eq(t, "cohorts", r.Cohorts, []report.Cohort{{Month: "2026-03", Size: 2, Active: []int64{2}}})
	// m2: 2nd -> 9th = 7 days; m3: 3rd -> 5th = 2 days. Lower median 2.
	eq(t, "second visit", r.SecondVisit, report.SecondVisit{FirstVisitors: 2, Returned: 2, MedianDays: 2, Within7: 2})
	// Joined in March (m6 merged away): m5 counter (never came), m2
	// group_buy (2 days), m3 join_page (3 days).
	eq(t, "by source", r.BySource, []report.SourceCohort{
		{Channel: "counter", Joined: 1}, {Channel: "group_buy", Joined: 1, Visited: 1, Repeated: 1}, {Channel: "join_page", Joined: 1, Visited: 1, Repeated: 1}})

	s1, err := env.Reports.Retention(t.Context(), report.Query{BrandID: Brand, StoreID: "s1", From: "2026-03-01", To: "2026-03-31"})
	must(t, err)
	// At s1 in March: m1 (3rd, 10th), m2 (2nd), m4 (3rd): 3 visitors, 1
	// repeater = 3333 bp. First visit at s1 in March: m2 only, never back
	// at s1. Joined at s1 in March: m2 (group_buy), who visited s1 once.
	eq(t, "repeat at s1", []int64{r.Visitors, s1.Visitors, s1.Repeaters, s1.RepeatRateBP}, []int64{4, 3, 1, 3333})
	eq(t, "cohorts at s1", s1.Cohorts, []report.Cohort{{Month: "2026-03", Size: 1, Active: []int64{1}}})
	eq(t, "second visit at s1", s1.SecondVisit, report.SecondVisit{FirstVisitors: 1, Never: 1})
	eq(t, "by source at s1", s1.BySource, []report.SourceCohort{{Channel: "group_buy", Joined: 1, Visited: 1}})

	feb, err := env.Reports.Retention(t.Context(), report.Query{BrandID: Brand, From: "2026-01-01", To: "2026-03-31"})
	must(t, err)
	// From January: m1's cohort is January (visits in Jan and Mar), m2 and
	// m3 March's.
	eq(t, "cohorts Jan-Mar", feb.Cohorts, []report.Cohort{{Month: "2026-01", Size: 1, Active: []int64{1, 0, 1}}, {Month: "2026-03", Size: 2, Active: []int64{2}}})
	// m1: 10 Jan -> 3 Mar = 52 days (21 + 28 + 3).
	eq(t, "second visit Jan-Mar", feb.SecondVisit, report.SecondVisit{FirstVisitors: 3, Returned: 3, MedianDays: 7, Within7: 2, Within90: 1})
}

func testGroupBuy(t *testing.T, env Env) {
	g, err := env.Reports.GroupBuy(t.Context(), march)
	must(t, err)
	eq(t, "batches", g.Batches, []report.Batch{
		// dy-deal-2: DY001 (5th) and DY002 (10th) redeemed; its joiner m6
		// was merged away; DY001's redeemer m6 is m3 now, first contact
		// the 5th; m3 came back on the 11th (a visit, no purchase).
		{Platform: "douyin", Batch: "dy-deal-2", Redeemed: 2, Joined: 0, Customers: 1, CameBack: 1},
		// mt-deal-1: MT001 redeemed by m2 who joined with it on the 2nd;
		// back on the 9th with a 6000 purchase (more than the 3990 face).
		{Platform: "meituan", Batch: "mt-deal-1", Redeemed: 1, Joined: 1, Customers: 1, CameBack: 1, FullPrice: 1, SpentMore: 1, RevenueAfterFen: 6000},
	})
	s2, err := env.Reports.GroupBuy(t.Context(), report.Query{BrandID: Brand, StoreID: "s2", From: "2026-03-01", To: "2026-03-31"})
	must(t, err)
	// At s2: only the douyin vouchers were redeemed there; m2 joined at s1.
	eq(t, "batches at s2", s2.Batches, []report.Batch{
		{Platform: "douyin", Batch: "dy-deal-2", Redeemed: 2, Customers: 1, CameBack: 1},
		{Platform: "meituan", Batch: "mt-deal-1"},
	})

	// A voucher checked with the platform (cloud/groupbuy) at s2 on 12
	// March, deal dy-live-9: its batch shows, redeemed once, nobody joined.
	if _, err := env.SQL.ExecContext(t.Context(), `insert into voucher_consumptions (brand_id, platform, code, idem_key, store_id, shop_id, state, uses, deal_id,
		price_fen, created_at, consumed_at, updated_at) values ($1, 'douyin', 'DYX1', 'k1', 's2', 'poi', 'consumed', 1, 'dy-live-9', 4990, $2, $2, $2)`,
		Brand, lt("2026-03-12 12:00").UTC()); err != nil {
		t.Fatal(err)
	}
	g, err = env.Reports.GroupBuy(t.Context(), march)
	must(t, err)
	eq(t, "batches with a platform deal", g.Batches[1], report.Batch{Platform: "douyin", Batch: "dy-live-9", Redeemed: 1})
	eq(t, "batches", len(g.Batches), 3)
}

func testConversion(t *testing.T, env Env) {
	c, err := env.Reports.Conversion(t.Context(), march)
	must(t, err)
	// Walk-ins: e08 (s1, st1), e17 (s2, st2), e21 (s2, st3). Enrolled in
	// March: m2 (s1, st1), m3 and m5 (s2, st2). 90-day value: m2's e11
	// 6000, m3's e13 2000 (the day she joined), m5 nothing.
	eq(t, "stores", c.Stores, []report.ConversionRow{
		{StoreID: "s1", WalkIns: 1, Enrolled: 1, ConversionBP: 10000, Value90DaysFen: 6000},
		{StoreID: "s2", WalkIns: 2, Enrolled: 2, ConversionBP: 10000, Value90DaysFen: 2000},
	})
	eq(t, "staff", c.Staff, []report.ConversionRow{
		{StoreID: "s1", StaffID: "st1", WalkIns: 1, Enrolled: 1, ConversionBP: 10000, Value90DaysFen: 6000},
		{StoreID: "s2", StaffID: "st2", WalkIns: 1, Enrolled: 2, ConversionBP: 20000, Value90DaysFen: 2000},
		{StoreID: "s2", StaffID: "st3", WalkIns: 1},
	})
}

func testRFM(t *testing.T, env Env) {
	r, err := env.Reports.RFM(t.Context(), march)
	must(t, err)
	eq(t, "as of", []string{r.AsOf, r.Before}, []string{"2026-03-31", "2026-02-28"})
	// As of 31 March, last visit days: m1 10th (21 days), m2 9th (22), m3
	// 11th (20), m4 3rd (28): all r0-30; visit days in the year: m1 3, m2
	// 2, m3 3, m4 2: all f2-3. Spend in the year: 17300 + 6000 + 2000 + 0.
	var cells []report.RFMCell
	for _, c := range r.Cells {
		if c.Members > 0 {
			cells = append(cells, c)
		}
	}
	eq(t, "cells", cells, []report.RFMCell{{Recency: "r0-30", Frequency: "f2-3", Members: 4, SpendFen: 25300}})
	eq(t, "grid size", len(r.Cells), 16)
	// On 28 February: m1 last came 10 Jan (49 days, once): r31-90/f1; m4
	// 1 July 2025 (242 days, once): r181-365/f1; m2 and m3 had not come.
	eq(t, "movement", r.Movement, []report.Move{
		{From: "none", To: "r0-30/f2-3", Members: 2},
		{From: "r181-365/f1", To: "r0-30/f2-3", Members: 1},
		{From: "r31-90/f1", To: "r0-30/f2-3", Members: 1},
	})

	s2, err := env.Reports.RFM(t.Context(), report.Query{BrandID: Brand, StoreID: "s2", From: "2026-03-01", To: "2026-03-31"})
	must(t, err)
	// At s2: m2 came on the 9th (one day, 6000 spent there); m3 on the
	// 3rd, 5th (e18, as local:r6, merged) and 11th (2000 spent there).
	cells = nil
	for _, c := range s2.Cells {
		if c.Members > 0 {
			cells = append(cells, c)
		}
	}
	eq(t, "cells at s2", cells, []report.RFMCell{{Recency: "r0-30", Frequency: "f1", Members: 1, SpendFen: 6000}, {Recency: "r0-30", Frequency: "f2-3", Members: 1, SpendFen: 2000}})
	eq(t, "movement at s2", s2.Movement, []report.Move{{From: "none", To: "r0-30/f1", Members: 1}, {From: "none", To: "r0-30/f2-3", Members: 1}})
}

func testLiabilities(t *testing.T, env Env) {
	l, err := env.Reports.Liabilities(t.Context(), march)
	must(t, err)
	// Before 1 March: m1's top-up 10000 + 1000; points 300 (m1) + 50 (m4;
	// its expiry is at midnight starting 1 March, so in March).
	eq(t, "opening", l.Opening, report.Balance{PrincipalFen: 10000, BonusFen: 1000, Points: 350})
	// Closing: 10000 - 1818 + 50000 - 10000 = 48182; 1000 - 182 + 5000 -
	// 1000 = 4818; points 350 + 45 - 200 + 28 + 60 + 20 - 50 = 253 (the
	// members' balances: 173 + 60 + 20).
	eq(t, "closing", l.Closing, report.Balance{PrincipalFen: 48182, BonusFen: 4818, Points: 253})
	eq(t, "months", l.Months, []report.LiabilityMonth{
		{Month: "2026-03", StoreID: "", PointsExpired: 50},
		{Month: "2026-03", StoreID: "s1", PrincipalIssuedFen: 50000, PrincipalUsedFen: 1818, PrincipalCashedFen: 10000,
			BonusIssuedFen: 5000, BonusUsedFen: 182, BonusForfeitedFen: 1000, PointsIssued: 73, PointsUsed: 200},
		{Month: "2026-03", StoreID: "s2", PointsIssued: 80},
	})
	eq(t, "breakage", []int64{l.PointsExpired, l.BonusForfeitedFen}, []int64{50, 1000})
	// Opening plus movements is closing.
	p, b, pts := l.Opening.PrincipalFen, l.Opening.BonusFen, l.Opening.Points
	for _, m := range l.Months {
		p += m.PrincipalIssuedFen - m.PrincipalUsedFen - m.PrincipalCashedFen + m.PrincipalRefundFen + m.PrincipalOtherFen
		b += m.BonusIssuedFen - m.BonusUsedFen - m.BonusForfeitedFen + m.BonusRefundFen + m.BonusOtherFen
		pts += m.PointsIssued - m.PointsUsed - m.PointsExpired + m.PointsRefund + m.PointsOther
	}
	eq(t, "roll forward", report.Balance{PrincipalFen: p, BonusFen: b, Points: pts}, l.Closing)

	feb, err := env.Reports.Liabilities(t.Context(), report.Query{BrandID: Brand, From: "2026-02-01", To: "2026-02-28"})
	must(t, err)
	// The expiry at 00:00 on 1 March local is 16:00 on 28 February UTC:
	// not February's.
	eq(t, "february", feb.Months, []report.LiabilityMonth(nil))
	eq(t, "february closing", feb.Closing, report.Balance{PrincipalFen: 10000, BonusFen: 1000, Points: 350})
}

func testConflicts(t *testing.T, env Env) {
	c, err := env.Reports.Conflicts(t.Context(), march)
	must(t, err)
	// March: overdraft at s1 (e04, net 4500) and coupon_reused at s2 (e13,
	// 2000); the 31 days before (29 Jan - 28 Feb): an overdraft at s1.
	eq(t, "rows", c.Rows, []report.ConflictRow{
		{Kind: "coupon_reused", StoreID: "s2", Count: 1, AmountFen: 2000},
		{Kind: "overdraft", StoreID: "s1", Count: 1, AmountFen: 4500, Before: 1},
	})
	eq(t, "days", len(c.Days), 31)
	eq(t, "3 March", c.Days[2], report.Point{X: "2026-03-03", Y: 2})
}

func testCampaigns(t *testing.T, env Env) {
	c, err := env.Reports.Campaigns(t.Context(), march)
	must(t, err)
	// nohold: m5 reached on 15 March, 100 points, no activity after; no
	// holdout, so no proof either way.
	// spring: m1 and m2 treated (m4 skipped), m3 held out; C1 redeemed (C2
	// was never issued); cost 500 + 500. In 2-31 March m1 came back (4500 +
	// 2800), m2 (6000), m3 (2000); groups under 30: not enough data.
	noProof, notEnough := report.Lift{Status: report.LiftNoProof}, report.Lift{Status: report.LiftNotEnoughData}
	eq(t, "b1 campaigns", c.Campaigns, []report.CampaignRow{
		{CampaignID: "nohold", Name: "No holdout", Reached: 1, CostPoints: 100, ReturnLift: noProof, SpendLift: noProof},
		{CampaignID: "spring", Name: "Spring", Reached: 2, Holdout: 1, Redeemed: 1, CostFen: 1000, RevenueFen: 13300, TreatedReturned: 2, HoldoutReturned: 1,
			ReturnLift: notEnough, SpendLift: notEnough},
	})

	big, err := env.Reports.Campaigns(t.Context(), report.Query{BrandID: Big, From: "2026-03-01", To: "2026-03-31"})
	must(t, err)
	eq(t, "b3 campaigns", len(big.Campaigns), 1)
	row := big.Campaigns[0]
	// 1-30 March: treated t01-t20 (1000 each) and t23 (0) came back: 21 of
	// 40, 20000 fen; held out h01-h10: 10 of 40, 10000 fen. Return lift
	// 21/40 - 10/40 = 0.275 = 2750 bp; spend 500 - 250 = 250 fen a member.
	eq(t, "big", []int64{row.Reached, row.Holdout, row.TreatedReturned, row.HoldoutReturned, row.RevenueFen}, []int64{40, 40, 21, 10, 20000})
	// The intervals are the campaign package's estimators on the members'
	// values listed one by one.
	treated, held := make([]int64, 40), make([]int64, 40)
	for n := range 20 {
		treated[n] = 1000
	}
	for n := range 10 {
		held[n] = 1000
	}
	pr, err := lift.Proportions(21, 40, 10, 40)
	must(t, err)
	mn, err := lift.Means(lift.Summarize(treated), lift.Summarize(held))
	must(t, err)
	round := func(f float64) int64 { return int64(math.Round(f)) }
	eq(t, "return lift", row.ReturnLift, report.Lift{Status: report.LiftOK, Estimate: 2750, Low: round(pr.Low * 10000), High: round(pr.High * 10000)})
	eq(t, "spend lift", row.SpendLift, report.Lift{Status: report.LiftOK, Estimate: 250, Low: round(mn.Low), High: round(mn.High)})
	if row.ReturnLift.Low <= 0 || row.SpendLift.Low <= 0 {
		t.Errorf("big: lifts %+v %+v should be clear of zero", row.ReturnLift, row.SpendLift)
	}
}

func i64(n int64) *int64 { return &n }

func testSegments(t *testing.T, env Env) {
	ctx := t.Context()
	// Now is 20 March, noon, Shanghai. Stages with the default thresholds
	// (new 30, active 60, lapsed 180 days): m1 active (last 10 Mar; gap
	// from 10 Jan to 3 Mar is 52 days); m2 and m3 new (joined 2 and 3
	// Mar); m4 returned (first visit in the active window 3 Mar, the one
	// before 1 July 2025: 245 days > 180); m5 prospect; m6 merged.
	now := lt("2026-03-20 12:00")
	yes := true
	cases := []struct {
		name  string
		rules segment.Rules
		want  int64
	}{
		{"everyone", segment.Rules{}, 5},
		{"returned", segment.Rules{Stages: []segment.Stage{segment.Returned}}, 1},
		{"new or prospect", segment.Rules{Stages: []segment.Stage{segment.New, segment.Prospect}}, 3},
		{"active", segment.Rules{Stages: []segment.Stage{segment.Active}}, 1},
		{"lapsing or lapsed", segment.Rules{Stages: []segment.Stage{segment.Lapsing, segment.Lapsed}}, 0},
		{"gold", segment.Rules{Tiers: []string{"gold"}}, 1},
		{"vip", segment.Rules{Tags: []string{"vip"}}, 2},
		{"vip or old", segment.Rules{Tags: []string{"old", "vip"}}, 2},
		{"home s2", segment.Rules{HomeStores: []string{"s2"}}, 2},
		// Visits at s2 since 19 Feb: e10 (m2), e12 and e14 (m3).
		{"visited s2 in 30 days", segment.Rules{WindowDays: 30, VisitedStores: []string{"s2"}}, 2},
		{"group buy", segment.Rules{JoinChannels: []string{"group_buy"}}, 1},
		{"staff st2", segment.Rules{JoinStaff: []string{"st2"}}, 2},
		{"batch mt-deal-1", segment.Rules{VoucherBatches: []string{"mt-deal-1"}}, 1},
		{"meituan", segment.Rules{VoucherPlatforms: []string{"meituan"}}, 1},
		{"douyin (merged away)", segment.Rules{VoucherPlatforms: []string{"douyin"}}, 0},
		{"born in March", segment.Rules{BirthdayMonths: []int{3}}, 1},
		{"born in April", segment.Rules{BirthdayMonths: []int{4}}, 1},
		{"consent", segment.Rules{Consent: &yes}, 2},
		{"100 points", segment.Rules{Points: &segment.Range{Min: i64(100)}}, 1},
		{"stored value", segment.Rules{StoredValueFen: &segment.Range{Min: i64(1)}}, 1},
		// Visit days since 19 Feb: m1 2, m2 2, m3 3, m4 1.
		{"2 visits in 30 days", segment.Rules{WindowDays: 30, Visits: &segment.Range{Min: i64(2)}}, 3},
		{"at most 1 visit in 30 days", segment.Rules{WindowDays: 30, Visits: &segment.Range{Max: i64(1)}}, 2},
		// Spend since 19 Feb: m1 4500 + 2800, m2 6000, m3 2000.
		{"spent 50 yuan in 30 days", segment.Rules{WindowDays: 30, SpendFen: &segment.Range{Min: i64(5000)}}, 2},
		// Last visit on or after 11 March: m3 (00:30 on the 11th).
		{"visited in 10 days", segment.Rules{LastVisitWithinDays: 10}, 1},
		// No visit since 7 March: m4 (3 Mar) and m5 (never).
		{"no visit for 14 days", segment.Rules{NoVisitForDays: 14}, 2},
		{"active or new with consent", segment.Rules{Stages: []segment.Stage{segment.Active, segment.New}, Consent: &yes}, 2},
	}
	// Consent per channel, as messaging records it: m1 granted SMS, m3
	// refused WeChat.
	for _, c := range []struct {
		member, channel string
		granted         int
	}{{"m1", "sms", 1}, {"m3", "wechat", 0}} {
		if _, err := env.SQL.ExecContext(ctx, `insert into msg_consents (brand_id, member_id, channel, granted, address, source, at_ms) values ($1, $2, $3, $4, 'x', 'hq', 0)`,
			Brand, c.member, c.channel, c.granted); err != nil {
			t.Fatal(err)
		}
	}
	cases = append(cases, []struct {
		name  string
		rules segment.Rules
		want  int64
	}{
		{"consented to sms", segment.Rules{ConsentChannels: []string{"sms"}}, 1},
		{"consented to wechat", segment.Rules{ConsentChannels: []string{"wechat"}}, 0},
		{"consented to sms or wechat, vip", segment.Rules{ConsentChannels: []string{"sms", "wechat"}, Tags: []string{"vip"}}, 1},
	}...)
	for _, c := range cases {
		n, err := env.Segments.Count(ctx, Brand, c.rules, segment.Defaults, now)
		must(t, err)
		if n != c.want {
			t.Errorf("segment %s: %d members, want %d", c.name, n, c.want)
		}
	}
	var got []string
	must(t, env.Segments.Members(ctx, Brand, segment.Rules{Tags: []string{"vip"}}, segment.Defaults, now, func(m segment.Member) bool {
		got = append(got, m.ID+":"+string(m.Stage))
		return true
	}))
	eq(t, "vip members", got, []string{"m1:active", "m4:returned"})

	// Tighter thresholds: new 1, active 10, lapsed 20 days. Active since
	// 11 Mar, lapsing since 1 Mar: m1 (10th), m2 (9th), m4 (3rd) lapsing;
	// m3 active (11th; the visit before was the 5th).
	tight := segment.Settings{NewDays: 1, ActiveDays: 10, LapsedDays: 20}
	n, err := env.Segments.Count(ctx, Brand, segment.Rules{Stages: []segment.Stage{segment.Lapsing}}, tight, now)
	must(t, err)
	eq(t, "lapsing with tight thresholds", n, int64(3))

	// Saved, listed, counted through the service; brand b2 sees none.
	svc := &segment.Service{Store: env.Segments, Now: func() time.Time { return now }}
	_, err = svc.Save(ctx, Brand, "vip", segment.Rules{Tags: []string{"vip"}})
	must(t, err)
	must(t, env.Segments.PutSettings(ctx, Brand, segment.Defaults))
	n, err = svc.Count(ctx, Brand, "vip")
	must(t, err)
	eq(t, "saved count", n, int64(2))
	ids, err := svc.Audience(ctx, Brand, "vip")
	must(t, err)
	eq(t, "audience", ids, []string{"m1", "m4"})
	list, err := env.Segments.Segments(ctx, Brand)
	must(t, err)
	eq(t, "list", len(list), 1)
	if _, err := svc.Count(ctx, Other, "vip"); cloud.ErrorCode(err) != cloud.NotFound {
		t.Errorf("other brand's segment: %v, want not found", err)
	}
	if _, err := svc.Save(ctx, Brand, "bad", segment.Rules{Tags: []string{"x'; drop table members; --"}}); cloud.ErrorCode(err) != cloud.Invalid {
		t.Errorf("a tag with quotes: %v, want invalid", err)
	}
}

// testViews checks that what an analyst gets from the documented views
// (docs/sql.md) is what the reports say.
func testViews(t *testing.T, env Env) {
	ctx := t.Context()
	q := func(query string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := env.SQL.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	start, end := lt("2026-03-01 00:00").UTC(), lt("2026-04-01 00:00").UTC()
	d, err := env.Reports.Dashboard(ctx, march)
	must(t, err)
	eq(t, "visits", q(`select count(*) from v_events where brand_id = $1 and kind = 'visit' and occurred_at >= $2 and occurred_at < $3`, Brand, start, end), d.Current.Visits)
	eq(t, "sales", q(`select cast(sum(net_fen) as bigint) from v_events where brand_id = $1 and kind = 'purchase' and occurred_at >= $2 and occurred_at < $3`, Brand, start, end), d.Current.MemberSalesFen)
	eq(t, "new members", q(`select count(*) from v_members where brand_id = $1 and created_at >= $2 and created_at < $3`, Brand, start, end), d.Current.NewMembers)
	r, err := env.Reports.Retention(ctx, march)
	must(t, err)
	eq(t, "visitors", q(`select count(distinct member_id) from v_events where brand_id = $1 and kind = 'visit' and occurred_at >= $2 and occurred_at < $3`, Brand, start, end), r.Visitors)
	l, err := env.Reports.Liabilities(ctx, march)
	must(t, err)
	eq(t, "principal", q(`select cast(sum(principal_delta_fen) as bigint) from v_stored_value_ledger where brand_id = $1 and at < $2`, Brand, end), l.Closing.PrincipalFen)
	eq(t, "bonus", q(`select cast(sum(bonus_delta_fen) as bigint) from v_stored_value_ledger where brand_id = $1 and at < $2`, Brand, end), l.Closing.BonusFen)
	eq(t, "points", q(`select cast(sum(delta) as bigint) from v_points_ledger where brand_id = $1 and at < $2`, Brand, end), l.Closing.Points)
	eq(t, "points held", q(`select cast(sum(points) as bigint) from v_members where brand_id = $1`, Brand), l.Closing.Points)
	n, err := env.Segments.Count(ctx, Brand, segment.Rules{}, segment.Defaults, lt("2026-03-20 12:00"))
	must(t, err)
	eq(t, "members", q(`select count(*) from v_members where brand_id = $1`, Brand), n)
}

func testTables(t *testing.T, env Env) {
	for _, name := range report.Names {
		tb, err := report.Run(context.Background(), env.Reports, name, march)
		must(t, err)
		if len(tb.Columns) == 0 {
			t.Errorf("report %s has no columns", name)
		}
		for i, row := range tb.Rows {
			if len(row) != len(tb.Columns) {
				t.Errorf("report %s row %d has %d cells for %d columns", name, i, len(row), len(tb.Columns))
			}
		}
	}
	if _, err := report.Run(context.Background(), env.Reports, "nope", march); cloud.ErrorCode(err) != cloud.Invalid {
		t.Errorf("unknown report: %v", err)
	}
	if _, err := report.Run(context.Background(), env.Reports, "dashboard", report.Query{BrandID: Brand, From: "2026-03-10", To: "2026-03-01"}); cloud.ErrorCode(err) != cloud.Invalid {
		t.Errorf("period backwards: %v", err)
	}
}

func testExport(t *testing.T, env Env) {
	svc := &segment.Service{Store: env.Segments, Now: func() time.Time { return lt("2026-03-20 12:00") }}
	_, err := svc.Save(t.Context(), Brand, "gold", segment.Rules{Tiers: []string{"gold"}})
	must(t, err)
	var b strings.Builder
	n, err := svc.Export(t.Context(), Brand, "gold", &b)
	must(t, err)
	eq(t, "exported", n, int64(1))
	// m1: 3 visits, last 10 Mar 08:00 Shanghai (00:00 UTC), 173 points,
	// 48182 + 4818 of stored value, 17300 spent.
	eq(t, "csv", b.String(), "member_id,name,phone,tier,stage,visits,last_visit_at,points,stored_value_fen,total_spend_fen\n"+
		"m1,One,13800000001,gold,active,3,2026-03-10T00:00:00Z,173,53000,17300\n")
	var c strings.Builder
	tb, err := report.Run(t.Context(), env.Reports, report.NameConflicts, march)
	must(t, err)
	must(t, tb.WriteCSV(&c))
	eq(t, "conflicts csv", c.String(), "kind,store,count,amount_fen,before\ncoupon_reused,s2,1,2000,0\noverdraft,s1,1,4500,1\n")
}
