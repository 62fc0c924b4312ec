package loyalty_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// storages are the engines every loyalty test runs on: SQLite and a real
// PostgreSQL (which fails, never skips, when the server is down).
var storages = sqltest.Engines

// forEachStorage runs a test on every backend.
func forEachStorage(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for name, open := range storages {
		t.Run(name, func(t *testing.T) { fn(t, newFixture(t, open(t))) })
	}
}

var ctx = context.Background()

// fixture is a brand with one store, two paired devices and a clock.
type fixture struct {
	t     testing.TB
	svc   *loyalty.Service
	db    cloud.Storage
	now   time.Time
	brand string
	dev   [2]cloud.Device
	seq   [2]uint64
	n     int
}

func newFixture(t testing.TB, store cloud.Storage) *fixture {
	f := &fixture{t: t, db: store, now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), brand: "tea"}
	f.svc = loyalty.New(store, slog.New(slog.DiscardHandler))
	f.svc.Now = func() time.Time { return f.now }
	ok(f.svc.CreateBrand(ctx, f.brand, "茶", "CNY"))(t)
	for i, st := range []string{"shop-a", "shop-b"} {
		_, p, err := f.svc.CreateStore(ctx, f.brand, st, st)
		if err != nil {
			t.Fatal(err)
		}
		paired, err := f.svc.Pair(ctx, p.Code, "till")
		if err != nil {
			t.Fatal(err)
		}
		f.dev[i] = paired.Device
	}
	return f
}

// ok fails the test on err, else yields v: ok(f())(t).
func ok[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (f *fixture) member(phone string) cloud.Member {
	return ok(f.svc.CreateMember(ctx, f.brand, loyalty.NewMember{Phone: phone, Name: "M" + phone[7:]}))(f.t)
}

func (f *fixture) get(id string) cloud.Member {
	f.t.Helper()
	return ok(f.svc.GetMember(ctx, f.brand, id, ""))(f.t)
}

// push sends one event from device d and returns its result.
func (f *fixture) push(d int, ev cloud.Event) cloud.EventResult {
	f.t.Helper()
	f.seq[d]++
	f.n++
	ev.ID = fmt.Sprintf("ev-%d-%d", d, f.seq[d])
	ev.Seq = f.seq[d]
	ev.StoreID = f.dev[d].StoreID
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = f.now
	}
	acked, res, err := f.svc.PushEvents(ctx, f.dev[d], []cloud.Event{ev})
	if err != nil {
		f.t.Fatal(err)
	}
	if acked != f.seq[d] || len(res) != 1 {
		f.t.Fatalf("acked %d (want %d), %d results", acked, f.seq[d], len(res))
	}
	return res[0]
}

func purchase(member string, p cloud.Purchase) cloud.Event {
	if p.PaidOtherFen == 0 && p.StoredValueFen == 0 {
		p.PaidOtherFen = p.NetFen()
	}
	return cloud.Event{Kind: cloud.EventPurchase, MemberID: member, Purchase: &p}
}

func topUp(member string, amount int64) cloud.Event {
	return cloud.Event{Kind: cloud.EventTopUp, MemberID: member, TopUp: &cloud.TopUp{AmountFen: amount}}
}

// checkBooks asserts that every balance equals the sum of its ledger.
func (f *fixture) checkBooks(id string) {
	f.t.Helper()
	h := ok(f.svc.History(ctx, f.brand, id))(f.t)
	var pts, pr, bo int64
	for _, e := range h.Points {
		pts += e.Delta
	}
	for _, e := range h.StoredValue {
		pr += e.PrincipalDelta
		bo += e.BonusDelta
	}
	m := h.Member
	if pts != m.Points || pr != m.SVPrincipal || bo != m.SVBonus {
		f.t.Fatalf("member %s: balances points %d principal %d bonus %d, ledgers sum to %d %d %d", id, m.Points, m.SVPrincipal, m.SVBonus, pts, pr, bo)
	}
	if m.Points < 0 || m.SVPrincipal < 0 || m.SVBonus < 0 {
		f.t.Fatalf("member %s has a negative balance: %+v", id, m)
	}
}

func (f *fixture) conflicts() []cloud.ConflictRecord {
	f.t.Helper()
	cs, _, err := f.svc.Conflicts(ctx, f.brand, "", 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func TestPurchaseEarnsPointsAndUpgradesTier(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000001")
		if m.TierID != "regular" {
			t.Fatalf("new member tier %q, want regular", m.TierID)
		}
		res := f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 120000}))
		if res.Outcome != cloud.Applied {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Reason)
		}
		got := f.get(m.ID)
		if got.Points != 1200 || got.TotalSpendFen != 120000 || got.TierID != "silver" {
			t.Fatalf("after 1200 yuan: points %d spend %d tier %s; want 1200, 120000, silver", got.Points, got.TotalSpendFen, got.TierID)
		}
		// Silver earns 1.2x.
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 10000, TierDiscountFen: 200}))
		if got := f.get(m.ID); got.Points != 1200+117 {
			t.Fatalf("silver purchase of 98 yuan net earned %d points, want 117", got.Points-1200)
		}
		h := ok(f.svc.History(ctx, f.brand, m.ID))(t)
		if len(h.TierChanges) != 1 || h.TierChanges[0].From != "regular" || h.TierChanges[0].To != "silver" || !strings.Contains(h.TierChanges[0].Reason, "upgrade") {
			t.Fatalf("tier changes %+v", h.TierChanges)
		}
		f.checkBooks(m.ID)
	})
}

func TestStoredValueTopUpSpendCashOut(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000002")
		f.push(0, topUp(m.ID, 50000)) // 充500送50
		got := f.get(m.ID)
		if got.SVPrincipal != 50000 || got.SVBonus != 5000 {
			t.Fatalf("after top-up: principal %d bonus %d, want 50000 and 5000", got.SVPrincipal, got.SVBonus)
		}
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 11000, StoredValueFen: 11000}))
		got = f.get(m.ID)
		if got.SVPrincipal != 40000 || got.SVBonus != 4000 {
			t.Fatalf("after spending 110 yuan: principal %d bonus %d, want 40000 and 4000 (proportional)", got.SVPrincipal, got.SVBonus)
		}
		res := f.push(0, cloud.Event{Kind: cloud.EventRefund, MemberID: m.ID, Refund: &cloud.Refund{AmountFen: 40000}})
		if res.Outcome != cloud.Applied {
			t.Fatalf("cash-out: %s %s", res.Outcome, res.Reason)
		}
		if got = f.get(m.ID); got.StoredValue() != 0 {
			t.Fatalf("after cashing out all principal the balance is %d, want 0 (bonus forfeited)", got.StoredValue())
		}
		f.checkBooks(m.ID)
	})
}

func TestOverdraftFromOfflineStoresIsAConflict(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000003")
		f.push(0, topUp(m.ID, 10000))
		// Both stores, offline, each spend the whole balance.
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 10000, StoredValueFen: 10000}))
		res := f.push(1, purchase(m.ID, cloud.Purchase{BillFen: 8000, StoredValueFen: 8000}))
		if res.Outcome != cloud.Applied || !strings.Contains(res.Reason, "overdraft") {
			t.Fatalf("second spend: %s %q; want applied with an overdraft note", res.Outcome, res.Reason)
		}
		if got := f.get(m.ID); got.StoredValue() != 0 {
			t.Fatalf("balance %d, want 0: never negative", got.StoredValue())
		}
		cs := f.conflicts()
		if len(cs) != 1 || cs[0].Kind != "overdraft" || cs[0].StoreID != "shop-b" || !strings.Contains(cs[0].Detail, "short 8000") {
			t.Fatalf("conflicts %+v", cs)
		}
		f.checkBooks(m.ID)
	})
}

func TestCouponIsSingleUse(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000004")
		ok(f.svc.CreateCouponTemplate(ctx, cloud.CouponTemplate{BrandID: f.brand, ID: "ten-off", Name: "满50减10", Kind: cloud.AmountOff, AmountOffFen: 1000, MinSpendFen: 5000, ValidDays: 30, PerMemberLimit: 1}))(t)
		issued, skipped := ok2(f.svc.IssueCoupons(ctx, f.brand, "ten-off", []string{m.ID, m.ID}, ""))(t)
		if len(issued) != 1 || len(skipped) != 1 {
			t.Fatalf("issued %d, skipped %v: the per-member limit is 1", len(issued), skipped)
		}
		code := issued[0].Code
		use := func(d int) cloud.EventResult {
			return f.push(d, purchase(m.ID, cloud.Purchase{BillFen: 6000, CouponCodes: []string{code}, CouponDiscountFen: 1000}))
		}
		if r := use(0); r.Outcome != cloud.Applied || r.Reason != "" {
			t.Fatalf("first use: %s %q", r.Outcome, r.Reason)
		}
		if r := use(1); !strings.Contains(r.Reason, "coupon_reused") {
			t.Fatalf("second use in another store: %q, want a coupon_reused note", r.Reason)
		}
		cs := f.conflicts()
		if len(cs) != 1 || cs[0].Kind != "coupon_reused" || !strings.Contains(cs[0].Detail, "shop-a") {
			t.Fatalf("conflicts %+v", cs)
		}
		h := ok(f.svc.History(ctx, f.brand, m.ID))(t)
		if len(h.Coupons) != 1 || h.Coupons[0].State != cloud.CouponRedeemed || len(h.Coupons[0].History) != 2 {
			t.Fatalf("coupon %+v", h.Coupons)
		}
	})
}

func ok2[A, B any](a A, b B, err error) func(*testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func TestPointsBurnAndExpiry(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000005")
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 50000})) // 500 points, expire 2028-01-01
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 10000, PointsBurned: 200, PointsDiscountFen: 200}))
		if got := f.get(m.ID).Points; got != 500-200+98 {
			t.Fatalf("points %d, want 398", got)
		}
		// Burning more than the member has, offline: floored, recorded.
		res := f.push(1, purchase(m.ID, cloud.Purchase{BillFen: 1000, PointsBurned: 1000, PointsDiscountFen: 1000}))
		if !strings.Contains(res.Reason, "points_overdraft") {
			t.Fatalf("over-burn: %q", res.Reason)
		}
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 3000}))
		f.now = time.Date(2028, 1, 1, 0, 0, 1, 0, time.UTC)
		rep := ok(f.svc.RunMaintenance(ctx, f.brand))(t)
		if rep.PointsExpired != 30 || f.get(m.ID).Points != 0 {
			t.Fatalf("expired %d, left %d; want 30 and 0", rep.PointsExpired, f.get(m.ID).Points)
		}
		again := ok(f.svc.RunMaintenance(ctx, f.brand))(t)
		if again.PointsExpired != 0 {
			t.Fatalf("a second run expired %d more", again.PointsExpired)
		}
		f.checkBooks(m.ID)
	})
}

func TestRefundReversesPurchase(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000006")
		f.push(0, topUp(m.ID, 100000)) // bonus 15000
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 20000}))
		bought := f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 23000, StoredValueFen: 23000, PointsBurned: 100, PointsDiscountFen: 100, PaidOtherFen: -100}))
		if bought.Outcome != cloud.Rejected {
			t.Fatalf("negative paid amount: %s", bought.Outcome)
		}
		bought = f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 23100, StoredValueFen: 23000, PointsBurned: 100, PointsDiscountFen: 100}))
		before := f.get(m.ID)
		refund := cloud.Event{Kind: cloud.EventRefund, MemberID: m.ID, Refund: &cloud.Refund{PurchaseEventID: bought.EventID}}
		if r := f.push(0, refund); r.Outcome != cloud.Applied {
			t.Fatalf("refund: %s %s", r.Outcome, r.Reason)
		}
		after := f.get(m.ID)
		if after.StoredValue() != 115000 || after.Points != before.Points+100-230 || after.TotalSpendFen != 20000 {
			t.Fatalf("after refund: stored value %d points %d spend %d", after.StoredValue(), after.Points, after.TotalSpendFen)
		}
		if r := f.push(1, refund); r.Outcome != cloud.Rejected || !strings.Contains(r.Reason, "already refunded") {
			t.Fatalf("second refund: %s %q", r.Outcome, r.Reason)
		}
		f.checkBooks(m.ID)
	})
}

func TestBadEventsAreRejectedAndChangeNothing(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000007")
		tests := []struct {
			name string
			ev   cloud.Event
			want string
		}{
			{"negative bill", purchase(m.ID, cloud.Purchase{BillFen: -5, PaidOtherFen: 1}), "bill_fen is negative"},
			{"absurd bill", purchase(m.ID, cloud.Purchase{BillFen: 5_000_000_000}), "beyond any real bill"},
			{"does not add up", purchase(m.ID, cloud.Purchase{BillFen: 1000, PaidOtherFen: 900}), "do not add up"},
			{"discount over bill", purchase(m.ID, cloud.Purchase{BillFen: 1000, CouponDiscountFen: 2000, PaidOtherFen: 1}), "exceed the bill"},
			{"unknown member", purchase("999", cloud.Purchase{BillFen: 1000}), "does not exist"},
			{"zero top-up", topUp(m.ID, 0), "top-up of 0"},
			{"cash-out beyond principal", cloud.Event{Kind: cloud.EventRefund, MemberID: m.ID, Refund: &cloud.Refund{AmountFen: 100}}, "principal is 0"},
			{"unknown kind", cloud.Event{Kind: "unknown", MemberID: m.ID}, "not known"},
			{"enrolment bad phone", cloud.Event{Kind: cloud.EventEnrolment, Enrolment: &cloud.Enrolment{Phone: "12345", LocalRef: "r1"}}, "11-digit"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := f.push(0, tt.ev)
				if res.Outcome != cloud.Rejected || !strings.Contains(res.Reason, tt.want) {
					t.Fatalf("%s %q, want rejected with %q", res.Outcome, res.Reason, tt.want)
				}
			})
		}
		got := f.get(m.ID)
		if got.Points != 0 || got.StoredValue() != 0 || got.TotalSpendFen != 0 {
			t.Fatalf("rejected events changed the member: %+v", got)
		}
		st := ok(f.svc.Stats(ctx, f.brand))(t)
		if st.Rejected != uint64(len(tests)) {
			t.Fatalf("%d rejected events kept, want %d", st.Rejected, len(tests))
		}
	})
}

func TestVouchersAndWalkInEnrolment(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		csv := "code,platform,campaign,face_value_fen,expires,title\n" +
			"MT20261122001,meituan,mt-autumn,3990,2026-12-31,双人套餐\n" +
			"MT20261122002,meituan,mt-autumn,3990,2026-12-31,双人套餐\n"
		rep := ok(f.svc.ImportVouchers(ctx, f.brand, []byte(csv), false))(t)
		if rep.Created != 2 || !rep.Written {
			t.Fatalf("import: %+v", rep)
		}
		if rep = ok(f.svc.ImportVouchers(ctx, f.brand, []byte(csv), false))(t); rep.Unchanged != 2 || rep.Created != 0 {
			t.Fatalf("importing the same file again: %+v", rep)
		}
		// A walk-in redeems a voucher and joins on the spot.
		f.push(0, cloud.Event{Kind: cloud.EventVoucher, Voucher: &cloud.VoucherRedemption{Code: "MT20261122001"}})
		enrol := cloud.Event{Kind: cloud.EventEnrolment, StaffID: "staff-7", Enrolment: &cloud.Enrolment{Phone: "+86 139 0000 0008", Name: "新客", VoucherCode: "MT20261122001", LocalRef: "ref-1", Consent: true}}
		if r := f.push(0, enrol); r.Outcome != cloud.Applied {
			t.Fatalf("enrol: %s %s", r.Outcome, r.Reason)
		}
		m := ok(f.svc.GetMember(ctx, f.brand, "", "13900000008"))(t)
		want := cloud.MemberSource{Channel: "group_buy", StoreID: "shop-a", StaffID: "staff-7", CampaignID: "mt-autumn"}
		if m.Source != want || !m.Consent {
			t.Fatalf("source %+v consent %v, want %+v", m.Source, m.Consent, want)
		}
		// The counter's next event names the member by its local reference.
		if r := f.push(0, purchase("local:ref-1", cloud.Purchase{BillFen: 5000})); r.Outcome != cloud.Applied {
			t.Fatalf("purchase by local ref: %s %s", r.Outcome, r.Reason)
		}
		if got := f.get(m.ID); got.TotalSpendFen != 5000 {
			t.Fatalf("spend %d", got.TotalSpendFen)
		}
		// The same voucher at the other store, offline: a conflict for HQ.
		if r := f.push(1, cloud.Event{Kind: cloud.EventVoucher, Voucher: &cloud.VoucherRedemption{Code: "MT20261122001"}}); !strings.Contains(r.Reason, "voucher_reused") {
			t.Fatalf("reused voucher: %q", r.Reason)
		}
		// Enrolling the same phone at the other store does not make a second member.
		dup := cloud.Event{Kind: cloud.EventEnrolment, Enrolment: &cloud.Enrolment{Phone: "13900000008", LocalRef: "ref-2"}}
		if r := f.push(1, dup); r.Outcome != cloud.Applied || !strings.Contains(r.Reason, "already belonged") {
			t.Fatalf("duplicate enrolment: %s %q", r.Outcome, r.Reason)
		}
		if st := ok(f.svc.Stats(ctx, f.brand))(t); st.Members != 1 {
			t.Fatalf("%d members, want 1", st.Members)
		}
	})
}

func TestImportMembersWritesAllOrNothing(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		bad := "phone,name,birthday,card,tags,consent\n" +
			"13800000101,王一,1990-05-01,6200000101,vip;staff-pick,yes\n" +
			"1380000,坏号码,,,,\n" +
			"13800000103,张三,13-45,,,maybe\n" +
			"13800000101,重复,,,,\n"
		rep := ok(f.svc.ImportMembers(ctx, f.brand, []byte(bad), false))(t)
		if rep.Written || rep.Created != 0 || len(rep.Errors) != 4 {
			t.Fatalf("bad file: %+v", rep)
		}
		wantErr := []struct {
			line  int
			field string
		}{{3, "phone"}, {4, "birthday"}, {4, "consent"}, {5, "phone"}}
		for i, w := range wantErr {
			if rep.Errors[i].Line != w.line || rep.Errors[i].Field != w.field {
				t.Errorf("error %d = %+v, want line %d field %s", i, rep.Errors[i], w.line, w.field)
			}
		}
		if st := ok(f.svc.Stats(ctx, f.brand))(t); st.Members != 0 {
			t.Fatalf("a failed import left %d members", st.Members)
		}
		good := "\xef\xbb\xbfPhone,Name,Card,Tags\n13800000101,王一,6200000101,vip\n13800000102,李二,,\n"
		if rep = ok(f.svc.ImportMembers(ctx, f.brand, []byte(good), false))(t); rep.Created != 2 || !rep.Written {
			t.Fatalf("good file: %+v", rep)
		}
		if rep = ok(f.svc.ImportMembers(ctx, f.brand, []byte(good), false))(t); rep.Unchanged != 2 || rep.Created != 0 {
			t.Fatalf("same file again: %+v", rep)
		}
		conflicting := "phone,name,card\n13800000109,新人,6200000101\n"
		if rep = ok(f.svc.ImportMembers(ctx, f.brand, []byte(conflicting), false))(t); rep.Written || len(rep.Errors) != 1 || rep.Errors[0].Field != "card" {
			t.Fatalf("card already taken: %+v", rep)
		}
		for _, raw := range []string{"", "name\nx\n", "phone,\"bad\n", "phone,colour\n1,2\n"} {
			if rep = ok(f.svc.ImportMembers(ctx, f.brand, []byte(raw), false))(t); len(rep.Errors) == 0 || rep.Written {
				t.Errorf("malformed file %q: %+v", raw, rep)
			}
		}
	})
}

func TestMergeKeepsBothHistories(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		keep := f.member("13800000201")
		gone := ok(f.svc.CreateMember(ctx, f.brand, loyalty.NewMember{Phone: "13800000202", Name: "dup", Cards: []string{"6300000202"}, Tags: []string{"vip"}}))(t)
		f.push(0, purchase(keep.ID, cloud.Purchase{BillFen: 10000}))
		f.push(0, purchase(gone.ID, cloud.Purchase{BillFen: 20000}))
		f.push(0, topUp(gone.ID, 50000))
		merged := ok(f.svc.MergeMembers(ctx, f.brand, keep.ID, gone.ID))(t)
		if merged.Points != 300 || merged.SVPrincipal != 50000 || merged.SVBonus != 5000 || merged.TotalSpendFen != 30000 {
			t.Fatalf("kept member after merge: %+v", merged)
		}
		if len(merged.Cards) != 1 || merged.Tags[0] != "vip" {
			t.Fatalf("cards %v tags %v", merged.Cards, merged.Tags)
		}
		g := f.get(gone.ID)
		if g.MergedInto != keep.ID || g.Points != 0 || g.StoredValue() != 0 {
			t.Fatalf("merged member: %+v", g)
		}
		// An offline store still names the old member: it lands on the kept one.
		f.push(1, purchase(gone.ID, cloud.Purchase{BillFen: 1000}))
		if got := f.get(keep.ID); got.Points != 310 {
			t.Fatalf("points %d after an event for the merged member, want 310", got.Points)
		}
		f.checkBooks(keep.ID)
		f.checkBooks(gone.ID)
		if _, err := f.svc.MergeMembers(ctx, f.brand, keep.ID, gone.ID); cloud.ErrorCode(err) != cloud.Invalid {
			t.Fatalf("merging twice: %v", err)
		}
	})
}

func TestTierReviewDowngrades(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000301")
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 300000}))
		if got := f.get(m.ID).TierID; got != "gold" {
			t.Fatalf("tier %s, want gold", got)
		}
		f.now = f.now.AddDate(1, 0, 1) // past the 365-day window
		rep := ok(f.svc.RunMaintenance(ctx, f.brand))(t)
		if rep.TiersChanged != 1 || f.get(m.ID).TierID != "regular" {
			t.Fatalf("review: %+v, tier %s", rep, f.get(m.ID).TierID)
		}
	})
}

func TestProgrammeValidation(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		p := cloud.DefaultProgramme()
		p.Tiers[1].DiscountBP = 9000
		if _, err := f.svc.SetProgramme(ctx, f.brand, p); cloud.ErrorCode(err) != cloud.Invalid {
			t.Fatalf("90%% discount accepted: %v", err)
		}
		p = cloud.DefaultProgramme()
		p.Tiers = p.Tiers[:2]
		p.TopUpRules = []cloud.TopUpRule{{MinAmountFen: 20000, BonusFen: 3000}}
		m := f.member("13800000401")
		f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 300000}))
		ok(f.svc.SetProgramme(ctx, f.brand, p))(t)
		if got := f.get(m.ID).TierID; got != "regular" {
			t.Fatalf("member in a removed tier is in %s, want regular", got)
		}
		f.push(0, topUp(m.ID, 20000))
		if got := f.get(m.ID).SVBonus; got != 3000 {
			t.Fatalf("bonus %d under the new rule, want 3000", got)
		}
	})
}
