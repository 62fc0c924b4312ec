package checkout

import (
	"slices"
	"time"

	"github.com/memberpass/memberpass/agent"
)

// CouponView is a member's coupon as the counter shows it.
type CouponView struct {
	agent.Coupon
	// UsedPending: a purchase at this till used it and the cloud has not
	// acknowledged it yet.
	UsedPending bool `json:"UsedPending"`
	// Usable says whether it can be picked now (before the bill's minimum
	// spend is checked); Why says why not.
	Usable bool     `json:"Usable"`
	Why    *Refusal `json:"Why,omitempty"`
}

// Account is what the counter knows of a member: the replica plus this
// agent's own pending events.
type Account struct {
	Member agent.Member `json:"member"`
	// Known is false when a genuine member code names a member the
	// replica has not heard of yet.
	Known bool `json:"known"`
	// Provisional: enrolled at this counter ("local:<ref>"), not yet
	// confirmed by the cloud.
	Provisional   bool         `json:"provisional"`
	Tier          *agent.Tier  `json:"tier,omitempty"`
	Coupons       []CouponView `json:"coupons"`
	BirthdayMonth bool         `json:"birthday_month"`
	// PendingEvents are this member's events not yet acknowledged.
	PendingEvents int `json:"pending_events"`
}

// account folds pending events into a replica entry.
func account(m agent.Member, known bool, coupons []agent.Coupon, prog agent.Programme, pending []agent.Event, lim Limits, loc *time.Location) Account {
	a := Account{Member: m, Known: known, Coupons: []CouponView{}}
	used := map[string]bool{}
	for _, ev := range pending {
		if ev.MemberID != m.ID || m.ID == "" {
			continue
		}
		a.PendingEvents++
		switch {
		case ev.Purchase != nil:
			a.Member.Points -= ev.Purchase.PointsBurned
			a.Member.StoredValueFen -= ev.Purchase.StoredValueFen
			for _, c := range ev.Purchase.CouponCodes {
				used[c] = true
			}
		case ev.TopUp != nil:
			a.Member.StoredValueFen += ev.TopUp.AmountFen + ev.TopUp.BonusFen
		}
	}
	if t, ok := prog.Tier(m.TierID); ok {
		a.Tier = &t
	}
	for _, c := range coupons {
		v := CouponView{Coupon: c, UsedPending: used[c.Code]}
		v.Why = couponUsable(v, c.MinSpendFen, lim)
		v.Usable = v.Why == nil
		a.Coupons = append(a.Coupons, v)
	}
	// Usable coupons first, the soonest to expire first among them.
	slices.SortStableFunc(a.Coupons, func(x, y CouponView) int {
		if x.Usable != y.Usable {
			if x.Usable {
				return -1
			}
			return 1
		}
		return x.ExpiresAt.Compare(y.ExpiresAt)
	})
	if len(m.Birthday) == 5 && m.Birthday[:2] == lim.Now.In(loc).Format("01") {
		a.BirthdayMonth = true
	}
	return a
}

// pendingUsage sums what this agent approved for a member today without
// the cloud: stored value paid and points burned by pending purchases.
func pendingUsage(memberID string, pending []agent.Event, dayStart time.Time) (sv, points int64) {
	for _, ev := range pending {
		if ev.MemberID != memberID || ev.Purchase == nil || ev.OccurredAt.Before(dayStart) {
			continue
		}
		sv += ev.Purchase.StoredValueFen
		points += ev.Purchase.PointsBurned
	}
	return sv, points
}
