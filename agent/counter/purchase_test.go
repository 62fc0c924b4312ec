package counter

import (
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	base := agent.Ledger{
		Member: agent.Member{ID: "1", TierID: "gold", Points: 1000, StoredValueFen: 30000},
		Coupons: []agent.Coupon{
			{Code: "CP1", MemberID: "1", Kind: "amount_off", AmountOffFen: 500, State: "issued", ExpiresAt: now.Add(time.Hour)},
			{Code: "CP2", MemberID: "1", Kind: "percent_off", PercentOffBP: 1000, MinSpendFen: 5000, State: "issued"},
			{Code: "OLD", MemberID: "1", Kind: "amount_off", AmountOffFen: 500, State: "issued", ExpiresAt: now.Add(-time.Hour)},
			{Code: "USED", MemberID: "1", Kind: "amount_off", AmountOffFen: 500, State: "redeemed"},
			{Code: "ELSE", MemberID: "1", Kind: "amount_off", AmountOffFen: 500, State: "issued", StoreIDs: []string{"shop-9"}},
		},
		Programme: agent.Programme{
			Tiers: []agent.Tier{{ID: "gold", DiscountBP: 500}}, PointValueFen: 1,
			Offline: agent.OfflinePolicy{MaxStoredValuePerMemberDayFen: 20000, MaxPointsBurnPerMemberDay: 800, MaxReplicaAge: time.Hour},
		},
		UsedCoupons:     map[string]bool{},
		ReplicaSyncedAt: now.Add(-time.Minute),
	}
	with := func(f func(*agent.Ledger)) agent.Ledger {
		l := base
		l.UsedCoupons = map[string]bool{}
		f(&l)
		return l
	}
	tests := []struct {
		name   string
		req    PurchaseRequest
		ledger agent.Ledger
		want   agent.Purchase
		refuse string
	}{
		{name: "cash only, tier discount", req: PurchaseRequest{MemberID: "1", BillFen: 10000}, ledger: base,
			want: agent.Purchase{BillFen: 10000, TierDiscountFen: 500, PaidOtherFen: 9500, TierID: "gold"}},
		{name: "coupons, points and stored value", req: PurchaseRequest{MemberID: "1", BillFen: 10000, CouponCodes: []string{"CP1", "CP2"}, PointsBurn: 100, StoredValueFen: 5000}, ledger: base,
			want: agent.Purchase{BillFen: 10000, TierDiscountFen: 500, CouponCodes: []string{"CP1", "CP2"}, CouponDiscountFen: 500 + 900,
				PointsBurned: 100, PointsDiscountFen: 100, StoredValueFen: 5000, PaidOtherFen: 10000 - 500 - 1400 - 100 - 5000, TierID: "gold"}},
		{name: "bad bill", req: PurchaseRequest{MemberID: "1", BillFen: 0}, ledger: base, refuse: "bad_amount"},
		{name: "negative stored value", req: PurchaseRequest{MemberID: "1", BillFen: 100, StoredValueFen: -5}, ledger: base, refuse: "bad_amount"},
		{name: "stale replica refuses redemptions", req: PurchaseRequest{MemberID: "1", BillFen: 10000, StoredValueFen: 100},
			ledger: with(func(l *agent.Ledger) { l.ReplicaSyncedAt = now.Add(-2 * time.Hour) }), refuse: "replica_stale"},
		{name: "stale replica still takes cash", req: PurchaseRequest{MemberID: "1", BillFen: 1000},
			ledger: with(func(l *agent.Ledger) { l.ReplicaSyncedAt = now.Add(-2 * time.Hour) }),
			want:   agent.Purchase{BillFen: 1000, TierDiscountFen: 50, PaidOtherFen: 950, TierID: "gold"}},
		{name: "stored value short with pending spends", req: PurchaseRequest{MemberID: "1", BillFen: 20000, StoredValueFen: 15000},
			ledger: with(func(l *agent.Ledger) { l.PendingStoredValueFen = -16000 }), refuse: "stored_value_short"},
		{name: "daily stored value limit", req: PurchaseRequest{MemberID: "1", BillFen: 20000, StoredValueFen: 6000},
			ledger: with(func(l *agent.Ledger) { l.TodayStoredValueFen = 15000 }), refuse: "stored_value_daily_limit"},
		{name: "stored value over what is due", req: PurchaseRequest{MemberID: "1", BillFen: 1000, StoredValueFen: 1000}, ledger: base, refuse: "over_pay"},
		{name: "points short", req: PurchaseRequest{MemberID: "1", BillFen: 5000, PointsBurn: 700},
			ledger: with(func(l *agent.Ledger) { l.PendingPoints = -400 }), refuse: "points_short"},
		{name: "daily points limit", req: PurchaseRequest{MemberID: "1", BillFen: 5000, PointsBurn: 500},
			ledger: with(func(l *agent.Ledger) { l.TodayPoints = 400 }), refuse: "points_daily_limit"},
		{name: "coupon used at this counter, not yet reflected", req: PurchaseRequest{MemberID: "1", BillFen: 5000, CouponCodes: []string{"CP1"}},
			ledger: with(func(l *agent.Ledger) { l.UsedCoupons["CP1"] = true }), refuse: "coupon_unusable"},
		{name: "coupon twice in one bill", req: PurchaseRequest{MemberID: "1", BillFen: 5000, CouponCodes: []string{"CP1", "CP1"}}, ledger: base, refuse: "coupon_unusable"},
		{name: "expired coupon", req: PurchaseRequest{MemberID: "1", BillFen: 5000, CouponCodes: []string{"OLD"}}, ledger: base, refuse: "coupon_unusable"},
		{name: "redeemed coupon", req: PurchaseRequest{MemberID: "1", BillFen: 5000, CouponCodes: []string{"USED"}}, ledger: base, refuse: "coupon_unusable"},
		{name: "coupon for another store", req: PurchaseRequest{MemberID: "1", BillFen: 5000, CouponCodes: []string{"ELSE"}}, ledger: base, refuse: "coupon_unusable"},
		{name: "unknown coupon", req: PurchaseRequest{MemberID: "1", BillFen: 5000, CouponCodes: []string{"NOPE"}}, ledger: base, refuse: "coupon_unusable"},
		{name: "coupon minimum spend", req: PurchaseRequest{MemberID: "1", BillFen: 4000, CouponCodes: []string{"CP2"}}, ledger: base, refuse: "coupon_min_spend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refusal, detail := Decide(tt.req, tt.ledger, "shop-1", now)
			if tt.refuse != "" {
				if refusal == nil || refusal.Code != tt.refuse {
					t.Fatalf("got %+v, refusal %v; want refusal %s", got, refusal, tt.refuse)
				}
				if detail == "" || refusal.Zh == "" || refusal.En == "" {
					t.Errorf("refusal %s lacks detail or a sentence", refusal.Code)
				}
				return
			}
			if refusal != nil {
				t.Fatalf("refused %s: %s", refusal.Code, detail)
			}
			if got.NetFen() != got.StoredValueFen+got.PaidOtherFen {
				t.Errorf("amounts do not add up: %+v", got)
			}
			if got.BillFen != tt.want.BillFen || got.TierDiscountFen != tt.want.TierDiscountFen || got.CouponDiscountFen != tt.want.CouponDiscountFen ||
				got.PointsBurned != tt.want.PointsBurned || got.PointsDiscountFen != tt.want.PointsDiscountFen ||
				got.StoredValueFen != tt.want.StoredValueFen || got.PaidOtherFen != tt.want.PaidOtherFen || len(got.CouponCodes) != len(tt.want.CouponCodes) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
