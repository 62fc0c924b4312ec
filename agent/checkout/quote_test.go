package checkout

import (
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
)

var (
	now  = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	prog = agent.Programme{
		Tiers:         []agent.Tier{{ID: "silver", DiscountBP: 0}, {ID: "gold", DiscountBP: 500}, {ID: "odd", DiscountBP: 333}},
		PointValueFen: 1, // 100 points = 1 yuan
		TopUpRules:    []agent.TopUpRule{{MinAmountFen: 50000, BonusFen: 5000}, {MinAmountFen: 100000, BonusFen: 12000}},
		Offline:       agent.OfflinePolicy{MaxStoredValuePerMemberDayFen: 30000, MaxPointsBurnPerMemberDay: 5000, MaxReplicaAge: time.Hour},
	}
	gold = Account{Member: agent.Member{ID: "7", TierID: "gold", Points: 3000, StoredValueFen: 50000}, Known: true, Coupons: []CouponView{
		{Coupon: agent.Coupon{Code: "C10", Kind: agent.CouponAmountOff, AmountOffFen: 1000, MinSpendFen: 5000, State: agent.CouponIssued, ExpiresAt: now.Add(time.Hour)}},
		{Coupon: agent.Coupon{Code: "P12", Kind: agent.CouponPercentOff, PercentOffBP: 1250, State: agent.CouponIssued}},
		{Coupon: agent.Coupon{Code: "OLD", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponIssued, ExpiresAt: now}},
		{Coupon: agent.Coupon{Code: "USED", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponRedeemed}},
		{Coupon: agent.Coupon{Code: "PEND", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponIssued}, UsedPending: true},
		{Coupon: agent.Coupon{Code: "SHOP2", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponIssued, StoreIDs: []string{"shop-2"}}},
		{Coupon: agent.Coupon{Code: "BIG", Kind: agent.CouponAmountOff, AmountOffFen: 99999, State: agent.CouponIssued}},
	}}
	fresh = Limits{Now: now, StoreID: "shop-1", ReplicaAge: time.Minute}
)

func TestCompute(t *testing.T) {
	tests := []struct {
		name    string
		req     Request
		acct    Account
		lim     Limits
		want    Quote
		refusal string
	}{
		{name: "tier discount only", req: Request{BillFen: 10000}, want: Quote{TierDiscountFen: 500, DueFen: 9500, PaidOtherFen: 9500, MaxPoints: 3000}},
		{name: "tier discount rounds half up", req: Request{BillFen: 10010}, want: Quote{TierDiscountFen: 501, DueFen: 9509, PaidOtherFen: 9509, MaxPoints: 3000}},
		{name: "odd rate rounds to nearest", acct: withTier("odd"), req: Request{BillFen: 1001}, want: Quote{TierDiscountFen: 33, DueFen: 968, PaidOtherFen: 968, MaxPoints: 968}},
		{name: "amount-off coupon after tier", req: Request{BillFen: 10000, CouponCode: "C10"}, want: Quote{TierDiscountFen: 500, CouponCode: "C10", CouponDiscountFen: 1000, DueFen: 8500, PaidOtherFen: 8500, MaxPoints: 3000}},
		{name: "percent coupon on what is left", req: Request{BillFen: 10000, CouponCode: "P12"}, want: Quote{TierDiscountFen: 500, CouponCode: "P12", CouponDiscountFen: 1188, DueFen: 8312, PaidOtherFen: 8312, MaxPoints: 3000}},
		{name: "coupon larger than bill is capped", req: Request{BillFen: 2000, CouponCode: "BIG"}, want: Quote{TierDiscountFen: 100, CouponCode: "BIG", CouponDiscountFen: 1900}},
		{name: "everything", req: Request{BillFen: 20000, CouponCode: "C10", Points: 2000, StoredValueFen: 10000},
			want: Quote{TierDiscountFen: 1000, CouponCode: "C10", CouponDiscountFen: 1000, PointsBurned: 2000, PointsDiscountFen: 2000, DueFen: 16000, StoredValueFen: 10000, PaidOtherFen: 6000, MaxPoints: 3000}},
		{name: "stored value pays all", req: Request{BillFen: 10000, StoredValueFen: 9500}, want: Quote{TierDiscountFen: 500, DueFen: 9500, StoredValueFen: 9500, MaxPoints: 3000}},
		{name: "zero bill", req: Request{BillFen: 0}, refusal: "bill_invalid"},
		{name: "huge bill", req: Request{BillFen: MaxBillFen + 1}, refusal: "bill_invalid"},
		{name: "negative points", req: Request{BillFen: 100, Points: -1}, refusal: "points_invalid"},
		{name: "below min spend", req: Request{BillFen: 4999, CouponCode: "C10"}, refusal: "coupon_min_spend"},
		{name: "expired coupon", req: Request{BillFen: 10000, CouponCode: "OLD"}, refusal: "coupon_expired"},
		{name: "redeemed coupon", req: Request{BillFen: 10000, CouponCode: "USED"}, refusal: "coupon_used"},
		{name: "coupon used by pending event", req: Request{BillFen: 10000, CouponCode: "PEND"}, refusal: "coupon_used"},
		{name: "coupon of another store", req: Request{BillFen: 10000, CouponCode: "SHOP2"}, refusal: "coupon_other_store"},
		{name: "someone else's coupon", req: Request{BillFen: 10000, CouponCode: "NOPE"}, refusal: "coupon_unknown"},
		{name: "points over balance", req: Request{BillFen: 10000, Points: 3001}, refusal: "points_over_balance"},
		{name: "points over bill", req: Request{BillFen: 1000, Points: 951}, refusal: "points_over_bill"},
		{name: "stored value over balance", req: Request{BillFen: 100000, StoredValueFen: 50001}, refusal: "stored_value_over_balance"},
		{name: "stored value over due", req: Request{BillFen: 10000, StoredValueFen: 9501}, refusal: "stored_value_over_bill"},
		{name: "offline stored value limit", req: Request{BillFen: 30000, StoredValueFen: 10001}, lim: Limits{Now: now, StoreID: "shop-1", ReplicaAge: time.Minute, PendingStoredValueTodayFen: 20000}, refusal: "offline_limit_stored_value"},
		{name: "offline stored value at the limit", req: Request{BillFen: 30000, StoredValueFen: 10000}, lim: Limits{Now: now, StoreID: "shop-1", ReplicaAge: time.Minute, PendingStoredValueTodayFen: 20000},
			want: Quote{TierDiscountFen: 1500, DueFen: 28500, StoredValueFen: 10000, PaidOtherFen: 18500, MaxPoints: 3000}},
		{name: "offline points limit", req: Request{BillFen: 30000, Points: 1001}, lim: Limits{Now: now, StoreID: "shop-1", ReplicaAge: time.Minute, PendingPointsToday: 4000}, refusal: "offline_limit_points"},
		{name: "stale replica refuses redemption", req: Request{BillFen: 10000, StoredValueFen: 100}, lim: Limits{Now: now, StoreID: "shop-1", ReplicaAge: 2 * time.Hour}, refusal: "replica_stale"},
		{name: "never synced refuses redemption", req: Request{BillFen: 10000, CouponCode: "C10"}, lim: Limits{Now: now, StoreID: "shop-1", ReplicaAge: -1}, refusal: "replica_stale"},
		{name: "stale replica still takes plain bills", req: Request{BillFen: 10000}, lim: Limits{Now: now, StoreID: "shop-1", ReplicaAge: 2 * time.Hour}, want: Quote{TierDiscountFen: 500, DueFen: 9500, PaidOtherFen: 9500, MaxPoints: 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct, lim := tt.acct, tt.lim
			if acct.Member.ID == "" {
				acct = gold
			}
			if lim.Now.IsZero() {
				lim = fresh
			}
			got, r := Compute(tt.req, acct, prog, lim)
			if tt.refusal != "" {
				if r == nil || r.Code != tt.refusal {
					t.Fatalf("refusal = %v, want %s (quote %+v)", r, tt.refusal, got)
				}
				if r.Zh == "" || r.En == "" {
					t.Fatalf("refusal %s lacks a sentence in both languages: %+v", r.Code, r)
				}
				return
			}
			if r != nil {
				t.Fatalf("refused: %v", r)
			}
			want := tt.want
			want.BillFen, want.TierID = tt.req.BillFen, acct.Member.TierID
			if t, ok := prog.Tier(acct.Member.TierID); ok {
				want.TierDiscountBP = t.DiscountBP
			}
			if got != want {
				t.Fatalf("quote\n got %+v\nwant %+v", got, want)
			}
			if sum := got.TierDiscountFen + got.CouponDiscountFen + got.PointsDiscountFen + got.StoredValueFen + got.PaidOtherFen; sum != got.BillFen {
				t.Fatalf("parts add up to %d, not the bill %d", sum, got.BillFen)
			}
		})
	}
}

func withTier(id string) Account {
	a := gold
	a.Member.TierID = id
	a.Coupons = nil
	return a
}

func TestTopUpBonus(t *testing.T) {
	for _, tt := range []struct{ amount, bonus int64 }{{49999, 0}, {50000, 5000}, {99999, 5000}, {100000, 12000}, {500000, 12000}} {
		if got := prog.TopUpBonus(tt.amount); got != tt.bonus {
			t.Errorf("bonus for %d = %d, want %d", tt.amount, got, tt.bonus)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"13800138000", "13800138000", true}, {"+86 138-0013-8000", "13800138000", true}, {"8613800138000", "13800138000", true},
		{"1380013800", "", false}, {"23800138000", "", false}, {"12800138000", "", false}, {"1380013800a", "", false}, {"", "", false},
	} {
		got, ok := NormalizePhone(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 12345: "123.45", -250: "-2.50"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}
