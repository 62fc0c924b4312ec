// Package reporttest is the conformance suite for reports and segments: a
// fixed dataset whose every answer was worked out by hand (the comments
// say how), checked on each engine the store runs on.
package reporttest

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
)

// Brand is the fixture's brand; Other is a second brand whose rows must
// never show in Brand's figures.
const (
	Brand = "b1"
	Other = "b2"
)

// shanghai is the brand's zone (UTC+8, no daylight saving).
var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// lt is a local time in the brand's zone, "2006-01-02 15:04".
func lt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// ev is one fixture event.
type ev struct {
	id, kind, store, member, staff, at   string
	bill, coupon, pointsDisc, sv, burned int64
	amount, bonus                        int64
	rejected                             bool
	coupons                              []string
}

// The fixture's events (local times, Asia/Shanghai). Member m6 enrolled
// with a douyin voucher at the counter as local:r6 and was then merged
// into m3, so e18 counts for m3.
var events = []ev{
	{id: "e01", kind: "visit", store: "s1", member: "m1", at: "2026-01-10 10:00"},
	{id: "e02", kind: "purchase", store: "s1", member: "m1", at: "2026-01-10 10:05", bill: 10000},
	{id: "e22", kind: "top_up", store: "s1", member: "m1", at: "2026-01-10 10:06", amount: 10000, bonus: 1000},
	{id: "e03", kind: "visit", store: "s1", member: "m1", at: "2026-03-03 09:00"},
	{id: "e04", kind: "purchase", store: "s1", member: "m1", at: "2026-03-03 09:10", bill: 5000, coupon: 500, sv: 2000, coupons: []string{"C1"}},
	{id: "e05", kind: "visit", store: "s1", member: "m1", at: "2026-03-10 08:00"},
	{id: "e06", kind: "purchase", store: "s1", member: "m1", at: "2026-03-10 08:05", bill: 3000, pointsDisc: 200, burned: 200},
	{id: "e07", kind: "top_up", store: "s1", member: "m1", at: "2026-03-10 08:10", amount: 50000, bonus: 5000},
	{id: "e20", kind: "visit", store: "s1", member: "m1", at: "2026-03-10 09:00", rejected: true},
	{id: "e23", kind: "refund", store: "s1", member: "m1", at: "2026-03-20 10:00", amount: 10000},
	{id: "e08", kind: "voucher_redemption", store: "s1", staff: "st1", at: "2026-03-02 11:00"},
	{id: "e09", kind: "visit", store: "s1", member: "m2", at: "2026-03-02 11:05"},
	{id: "e10", kind: "visit", store: "s2", member: "m2", at: "2026-03-09 19:00"},
	{id: "e11", kind: "purchase", store: "s2", member: "m2", at: "2026-03-09 19:10", bill: 6000},
	{id: "e12", kind: "visit", store: "s2", member: "m3", at: "2026-03-03 12:30"},
	{id: "e13", kind: "purchase", store: "s2", member: "m3", at: "2026-03-03 12:40", bill: 2000},
	// 00:30 on the 11th in Shanghai is still the 10th in UTC.
	{id: "e14", kind: "visit", store: "s2", member: "m3", at: "2026-03-11 00:30"},
	{id: "e15", kind: "visit", store: "s1", member: "m4", at: "2025-07-01 10:00"},
	{id: "e16", kind: "visit", store: "s1", member: "m4", at: "2026-03-03 10:00"},
	{id: "e17", kind: "voucher_redemption", store: "s2", staff: "st2", at: "2026-03-05 15:00"},
	{id: "e18", kind: "visit", store: "s2", member: "local:r6", at: "2026-03-05 15:05"},
	{id: "e21", kind: "voucher_redemption", store: "s2", staff: "st3", at: "2026-03-10 13:00"},
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Load writes the fixture through the storage contract.
func Load(t testing.TB, s cloud.Storage) {
	t.Helper()
	created := lt("2025-01-01 00:00")
	err := s.Update(t.Context(), func(tx cloud.Tx) error {
		for _, b := range []string{Brand, Other} {
			_, key, _ := ed25519.GenerateKey(nil)
			must(t, tx.PutBrand(cloud.Brand{ID: b, Name: b, Currency: "CNY", TimeZone: "Asia/Shanghai", MemberCodeKey: key, Programme: cloud.DefaultProgramme(), CreatedAt: created}))
			for _, st := range []string{"s1", "s2"} {
				must(t, tx.PutStore(cloud.Store{BrandID: b, ID: st, Name: st, CreatedAt: created}))
				must(t, tx.PutDevice(cloud.Device{BrandID: b, StoreID: st, ID: st + "-d", Name: "till", SecretHash: []byte{1}, PairedAt: created}))
			}
		}
		yes := true
		members := []cloud.Member{
			{ID: "m1", Name: "One", Phone: "13800000001", CreatedAt: lt("2026-01-05 10:00"), Birthday: "1990-03-15", Consent: yes, Tags: []string{"vip"}, TierID: "gold",
				Source: cloud.MemberSource{Channel: "counter", StoreID: "s1", StaffID: "st1"},
				Visits: 3, LastVisitAt: lt("2026-03-10 08:00"), TotalSpendFen: 17300, Points: 173, SVPrincipal: 48182, SVBonus: 4818},
			{ID: "m2", Name: "Two", Phone: "13800000002", CreatedAt: lt("2026-03-02 11:00"), Birthday: "04-20", TierID: "regular",
				Source: cloud.MemberSource{Channel: "group_buy", StoreID: "s1", StaffID: "st1", CampaignID: "mt-deal-1"},
				Visits: 2, LastVisitAt: lt("2026-03-09 19:00"), TotalSpendFen: 6000, Points: 60},
			{ID: "m3", Name: "Three", CreatedAt: lt("2026-03-03 12:00"), Consent: yes, TierID: "regular",
				Source: cloud.MemberSource{Channel: "join_page", StoreID: "s2", StaffID: "st2"},
				Visits: 3, LastVisitAt: lt("2026-03-11 00:30"), TotalSpendFen: 2000, Points: 20},
			{ID: "m4", Name: "Four", CreatedAt: lt("2025-06-01 09:00"), Tags: []string{"vip", "old"}, TierID: "silver",
				Source: cloud.MemberSource{Channel: "import"}, Visits: 2, LastVisitAt: lt("2026-03-03 10:00")},
			{ID: "m5", Name: "Five", CreatedAt: lt("2026-03-10 23:30"), TierID: "regular",
				Source: cloud.MemberSource{Channel: "counter", StoreID: "s2", StaffID: "st2"}},
			{ID: "m6", Name: "Six", CreatedAt: lt("2026-03-05 15:00"), TierID: "regular", MergedInto: "m3",
				Source: cloud.MemberSource{Channel: "group_buy", StoreID: "s2", StaffID: "st2", CampaignID: "dy-deal-2"}},
		}
		for _, m := range members {
			m.BrandID = Brand
			must(t, tx.PutMember(m))
		}
		must(t, tx.PutLocalRef(Brand, "r6", "m6"))
		// The other brand: a member and a visit on the dashboard's day.
		must(t, tx.PutMember(cloud.Member{BrandID: Other, ID: "m1", Name: "Other", CreatedAt: lt("2026-03-10 10:00"), TierID: "regular", Visits: 1,
			LastVisitAt: lt("2026-03-10 10:00"), Source: cloud.MemberSource{Channel: "counter", StoreID: "s1"}}))
		must(t, tx.PutEvent(cloud.StoredEvent{BrandID: Other, Outcome: cloud.Applied, ReceivedAt: lt("2026-03-10 10:00"), Event: cloud.Event{
			ID: "x1", DeviceID: "s1-d", Seq: 1, StoreID: "s1", MemberID: "m1", Kind: cloud.EventVisit, OccurredAt: lt("2026-03-10 10:00"), Visit: &cloud.Visit{}}}))
		must(t, tx.AddActivity(Other, "m1", lt("2026-03-10 10:00"), 1, 0))

		seq := map[string]uint64{}
		for _, e := range events {
			dev := e.store + "-d"
			seq[dev]++
			se := cloud.StoredEvent{BrandID: Brand, Outcome: cloud.Applied, ReceivedAt: lt(e.at), Event: cloud.Event{
				ID: e.id, DeviceID: dev, Seq: seq[dev], StoreID: e.store, MemberID: e.member, StaffID: e.staff, Kind: cloud.EventKind(e.kind), OccurredAt: lt(e.at)}}
			if e.rejected {
				se.Outcome, se.Reason = cloud.Rejected, "test"
			}
			switch e.kind {
			case "visit":
				se.Visit = &cloud.Visit{IdentifiedBy: cloud.ByCard}
			case "purchase":
				p := &cloud.Purchase{BillFen: e.bill, CouponDiscountFen: e.coupon, PointsDiscountFen: e.pointsDisc, PointsBurned: e.burned, StoredValueFen: e.sv, CouponCodes: e.coupons}
				p.PaidOtherFen = p.NetFen() - e.sv
				se.Purchase = p
			case "top_up":
				se.TopUp = &cloud.TopUp{AmountFen: e.amount, BonusFen: e.bonus}
			case "refund":
				se.Refund = &cloud.Refund{AmountFen: e.amount}
			case "voucher_redemption":
				se.Voucher = &cloud.VoucherRedemption{Code: "V"}
			}
			must(t, tx.PutEvent(se))
		}
		// Each member's activity by local day, as applying the events
		// books it: e18's visit went to m6, merged into m3 since.
		for _, a := range []struct {
			member, at string
			visits     int
			spend      int64
		}{
			{"m1", "2026-01-10 10:00", 1, 10000}, {"m1", "2026-03-03 09:00", 1, 4500}, {"m1", "2026-03-10 08:00", 1, 2800},
			{"m2", "2026-03-02 11:05", 1, 0}, {"m2", "2026-03-09 19:00", 1, 6000},
			{"m3", "2026-03-03 12:30", 1, 2000}, {"m6", "2026-03-05 15:05", 1, 0}, {"m3", "2026-03-11 00:30", 1, 0},
			{"m4", "2025-07-01 10:00", 1, 0}, {"m4", "2026-03-03 10:00", 1, 0},
		} {
			must(t, tx.AddActivity(Brand, a.member, lt(a.at), a.visits, a.spend))
		}
		// Points: m1 earns 300 (e02), 45 (e04), burns 200 and earns 28
		// (e06); m2 earns 60 (e11); m3 20 (e13); m4 was given 50 by HQ,
		// which expired at midnight starting 1 March (local).
		for _, p := range []struct {
			member, at, reason, event string
			delta                     int64
		}{
			{"m1", "2026-01-10 10:05", "earn", "e02", 300}, {"m1", "2026-03-03 09:10", "earn", "e04", 45},
			{"m1", "2026-03-10 08:05", "burn", "e06", -200}, {"m1", "2026-03-10 08:05", "earn", "e06", 28},
			{"m2", "2026-03-09 19:10", "earn", "e11", 60}, {"m3", "2026-03-03 12:40", "earn", "e13", 20},
			{"m4", "2025-07-01 10:00", "adjust", "", 50}, {"m4", "2026-03-01 00:00", "expire", "", -50},
		} {
			_, err := tx.AppendPoints(Brand, cloud.PointsEntry{MemberID: p.member, At: lt(p.at), Delta: p.delta, Reason: p.reason, EventID: p.event})
			must(t, err)
		}
		// Stored value: m1 tops up 100 yuan + 10 bonus (e22), spends 20
		// yuan of it in proportion (1818 principal, 182 bonus; e04), tops
		// up 500 + 50 (e07), cashes out 100 yuan forfeiting 10 of bonus (e23).
		for _, l := range []struct {
			at, reason, event string
			principal, bonus  int64
		}{
			{"2026-01-10 10:06", "top_up", "e22", 10000, 1000}, {"2026-03-03 09:10", "spend", "e04", -1818, -182},
			{"2026-03-10 08:10", "top_up", "e07", 50000, 5000}, {"2026-03-20 10:00", "cash_out", "e23", -10000, -1000},
		} {
			_, err := tx.AppendStoredValue(Brand, cloud.StoredValueEntry{MemberID: "m1", At: lt(l.at), PrincipalDelta: l.principal, BonusDelta: l.bonus, Reason: l.reason, EventID: l.event})
			must(t, err)
		}
		must(t, tx.PutCouponTemplate(cloud.CouponTemplate{BrandID: Brand, ID: "T1", Name: "five off", Kind: cloud.AmountOff, AmountOffFen: 500, ValidDays: 60, CreatedAt: lt("2026-02-01 09:00")}))
		must(t, tx.PutCoupon(cloud.Coupon{BrandID: Brand, Code: "C1", TemplateID: "T1", MemberID: "m1", State: cloud.CouponRedeemed,
			IssuedAt: lt("2026-02-01 09:00"), ValidFrom: lt("2026-02-01 09:00"), ExpiresAt: lt("2026-04-01 09:00"),
			History: []cloud.CouponTransition{
				{At: lt("2026-02-01 09:00"), To: cloud.CouponIssued, Reason: "issued by HQ"},
				{At: lt("2026-03-03 09:10"), From: cloud.CouponIssued, To: cloud.CouponRedeemed, EventID: "e04", StoreID: "s1"},
			}}))
		for _, v := range []cloud.Voucher{
			{Code: "MT001", Platform: "meituan", CampaignID: "mt-deal-1", FaceValueFen: 3990, Redeemed: true, RedeemedAt: lt("2026-03-02 11:00"), StoreID: "s1", EventID: "e08", MemberID: "m2"},
			{Code: "MT002", Platform: "meituan", CampaignID: "mt-deal-1", FaceValueFen: 3990},
			{Code: "DY001", Platform: "douyin", CampaignID: "dy-deal-2", FaceValueFen: 2000, Redeemed: true, RedeemedAt: lt("2026-03-05 15:00"), StoreID: "s2", EventID: "e17", MemberID: "m6"},
			{Code: "DY002", Platform: "douyin", CampaignID: "dy-deal-2", FaceValueFen: 2000, Redeemed: true, RedeemedAt: lt("2026-03-10 13:00"), StoreID: "s2", EventID: "e21"},
		} {
			v.BrandID, v.ImportedAt = Brand, lt("2026-02-20 09:00")
			must(t, tx.PutVoucher(v))
		}
		for _, c := range []cloud.ConflictRecord{
			{At: lt("2026-02-25 10:00"), Kind: "overdraft", EventID: "e02", StoreID: "s1", MemberID: "m1"},
			{At: lt("2026-03-03 09:20"), Kind: "overdraft", EventID: "e04", StoreID: "s1", MemberID: "m1"},
			{At: lt("2026-03-03 13:00"), Kind: "coupon_reused", EventID: "e13", StoreID: "s2", MemberID: "m3"},
		} {
			c.Detail, c.Resolution = "test", "test"
			_, err := tx.AppendConflict(Brand, c)
			must(t, err)
		}
		return loadCampaigns(t, tx)
	})
	must(t, err)
}

// Big is a third brand with one campaign large enough for an interval.
const Big = "b3"

// loadCampaigns adds campaigns and their grants. In b1, "spring" (10%
// holdout) granted on 2 March: m1 (coupon C1, redeemed) and m2 (coupon C2,
// never issued) treated, m3 held out, m4 skipped over budget; "nohold"
// kept no holdout and granted m5 on 15 March. In b3, "big" (50% holdout)
// granted 40 treated and 40 held-out members at noon on 1 March.
func loadCampaigns(t testing.TB, tx cloud.Tx) error {
	tables, ok := tx.(campaign.Tables)
	if !ok {
		t.Fatalf("the store's transaction %T keeps no campaigns", tx)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	must(t, tx.PutBrand(cloud.Brand{ID: Big, Name: Big, Currency: "CNY", TimeZone: "Asia/Shanghai", MemberCodeKey: key, Programme: cloud.DefaultProgramme(), CreatedAt: lt("2025-01-01 00:00")}))
	for _, c := range []campaign.Campaign{
		{BrandID: Brand, ID: "spring", Name: "Spring", HoldoutBP: 1000, HoldoutSet: true},
		{BrandID: Brand, ID: "nohold", Name: "No holdout", HoldoutBP: 0, HoldoutSet: true},
		{BrandID: Big, ID: "big", Name: "Big", HoldoutBP: 5000, HoldoutSet: true},
	} {
		c.Trigger.Kind, c.Status = "manual", "ended"
		must(t, tables.PutCampaign(c))
	}
	for _, g := range []campaign.Grant{
		{BrandID: Brand, CampaignID: "spring", MemberID: "m1", Occurrence: "1", At: lt("2026-03-02 10:00"), Cost: campaign.Cost{Coupons: 1, MoneyFen: 500}, Coupons: []string{"C1"}},
		{BrandID: Brand, CampaignID: "spring", MemberID: "m2", Occurrence: "1", At: lt("2026-03-02 10:00"), Cost: campaign.Cost{Coupons: 1, MoneyFen: 500}, Coupons: []string{"C2"}},
		{BrandID: Brand, CampaignID: "spring", MemberID: "m3", Occurrence: "1", At: lt("2026-03-02 10:00"), Holdout: true},
		{BrandID: Brand, CampaignID: "spring", MemberID: "m4", Occurrence: "1", At: lt("2026-03-02 10:00"), Skipped: "over_budget"},
		{BrandID: Brand, CampaignID: "nohold", MemberID: "m5", Occurrence: "1", At: lt("2026-03-15 10:00"), Cost: campaign.Cost{Points: 100}},
	} {
		must(t, tables.PutGrant(g))
	}
	// b3: t01-t20 spent 1000 on 5 March; t22 5000 on 31 March and t21 on 5
	// April, past the 30 days (1-30 March); t23 came on 30 March and spent
	// nothing. h01-h10 spent 1000 on 5 March.
	for n := 1; n <= 40; n++ {
		for _, grp := range []string{"t", "h"} {
			id := fmt.Sprintf("%s%02d", grp, n)
			must(t, tables.PutGrant(campaign.Grant{BrandID: Big, CampaignID: "big", MemberID: id, Occurrence: "1", At: lt("2026-03-01 12:00"), Holdout: grp == "h"}))
			switch {
			case grp == "t" && n <= 20, grp == "h" && n <= 10:
				must(t, tx.AddActivity(Big, id, lt("2026-03-05 12:00"), 1, 1000))
			case grp == "t" && n == 21:
				must(t, tx.AddActivity(Big, id, lt("2026-04-05 12:00"), 1, 1000))
			case grp == "t" && n == 22:
				must(t, tx.AddActivity(Big, id, lt("2026-03-31 12:00"), 1, 5000))
			case grp == "t" && n == 23:
				must(t, tx.AddActivity(Big, id, lt("2026-03-30 12:00"), 1, 0))
			}
		}
	}
	return nil
}
