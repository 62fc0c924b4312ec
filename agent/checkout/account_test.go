package checkout

import (
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
)

// What the counter shows is the replica plus this counter's pending events.
func TestAccountFoldsPendingEvents(t *testing.T) {
	m := agent.Member{ID: "7", TierID: "gold", Points: 1000, StoredValueFen: 20000, Birthday: "05-21"}
	coupons := []agent.Coupon{
		{Code: "A", MemberID: "7", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponIssued, ExpiresAt: now.Add(48 * time.Hour)},
		{Code: "B", MemberID: "7", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponIssued, ExpiresAt: now.Add(24 * time.Hour)},
		{Code: "OLD", MemberID: "7", Kind: agent.CouponAmountOff, AmountOffFen: 500, State: agent.CouponIssued, ExpiresAt: now.Add(-time.Hour)},
	}
	pending := []agent.Event{
		{MemberID: "7", OccurredAt: now.Add(-time.Hour), Kind: agent.EventTopUp, TopUp: &agent.TopUp{AmountFen: 50000, BonusFen: 5000}},
		{MemberID: "7", OccurredAt: now.Add(-time.Minute), Kind: agent.EventPurchase, Purchase: &agent.Purchase{PointsBurned: 300, StoredValueFen: 7000, CouponCodes: []string{"B"}}},
		{MemberID: "8", OccurredAt: now, Kind: agent.EventTopUp, TopUp: &agent.TopUp{AmountFen: 99900}},
		{MemberID: "7", OccurredAt: now.Add(-30 * time.Hour), Kind: agent.EventPurchase, Purchase: &agent.Purchase{StoredValueFen: 1000}},
	}
	a := account(m, true, coupons, prog, pending, fresh, time.UTC)
	if a.Member.StoredValueFen != 20000+55000-7000-1000 || a.Member.Points != 700 || a.PendingEvents != 3 {
		t.Fatalf("balances: stored value %d, points %d, pending %d", a.Member.StoredValueFen, a.Member.Points, a.PendingEvents)
	}
	if a.Tier == nil || a.Tier.DiscountBP != 500 || !a.BirthdayMonth {
		t.Fatalf("tier %+v, birthday month %v", a.Tier, a.BirthdayMonth)
	}
	// Usable first, then by expiry; B is used by a pending purchase.
	var order []string
	for _, c := range a.Coupons {
		order = append(order, c.Code)
	}
	if len(order) != 3 || order[0] != "A" || !a.Coupons[0].Usable || a.Coupons[1].Usable || a.Coupons[2].Usable {
		t.Fatalf("coupons %v: %+v", order, a.Coupons)
	}
	for _, c := range a.Coupons[1:] {
		if c.Why == nil || c.Why.Zh == "" {
			t.Fatalf("coupon %s is unusable without a reason", c.Code)
		}
	}
	sv, points := pendingUsage("7", pending, now.Add(-2*time.Hour))
	if sv != 7000 || points != 300 {
		t.Fatalf("pending usage today = %d fen, %d points; want 7000, 300", sv, points)
	}
}
