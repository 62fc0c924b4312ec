package books

import (
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// EventHook is loyalty.Service.OnApplied for an engine: it runs the
// brand's event campaigns inside the push's transaction, and books the
// extra points of a member's active points multiplier on a purchase.
func EventHook(e *campaign.Engine) func(tx cloud.Tx, b cloud.Brand, ev cloud.Event, after cloud.Member) error {
	return func(tx cloud.Tx, b cloud.Brand, ev cloud.Event, after cloud.Member) error {
		l, err := ledgerOf(tx, b.ID)
		if err != nil {
			return err
		}
		if ev.Kind == cloud.EventPurchase && ev.Purchase != nil {
			if err := boost(l, b, ev, after); err != nil {
				return err
			}
		}
		before := beforeOf(ev, after)
		f := campaign.EventFacts{
			Event: ev, Before: before, After: after, Location: e.Location(b),
			// Tiers move up on events and down only in the scheduled
			// review: a tier set at this event's time is an upgrade by it.
			TierUpgraded: ev.Kind != cloud.EventEnrolment && campaign.SameInstant(after.TierSince, ev.OccurredAt) && tierRank(b.Programme, after.TierID) > 0,
			PeriodSpendFen: func(start time.Time) (int64, error) {
				_, spend, err := tx.ActivitySince(b.ID, after.ID, start)
				return spend, err
			},
		}
		_, err = e.OnEvent(l, b.ID, f)
		return err
	}
}

// boost books the extra points of an active multiplier on what the
// purchase earned by the programme (a line of its own: "grant").
func boost(l *Ledger, b cloud.Brand, ev cloud.Event, m cloud.Member) error {
	bo, ok, err := l.T.PointsBoost(b.ID, m.ID)
	if err != nil || !ok || !ev.OccurredAt.Before(bo.Until) || bo.MultiplierBP <= 10000 {
		return err
	}
	tier, _ := b.Programme.Tier(ev.Purchase.TierID)
	if tier.ID == "" {
		tier, _ = b.Programme.Tier(m.TierID)
	}
	loc, err := b.Location()
	if err != nil {
		return err
	}
	earned, err := b.Programme.PointsFor(ev.Purchase.NetFen(), tier, ev.OccurredAt.In(loc))
	if err != nil {
		return nil // beyond an int64: the purchase itself was refused
	}
	extra := earned / 10000 * int64(bo.MultiplierBP-10000)
	extra += earned % 10000 * int64(bo.MultiplierBP-10000) / 10000
	if extra <= 0 {
		return nil
	}
	return loyalty.GrantPoints(l.Tx, b.ID, m.ID, extra, bo.Reason, ev.OccurredAt)
}

func tierRank(p cloud.Programme, id string) int {
	if t, ok := p.Tier(id); ok {
		return t.Rank
	}
	return -1
}

// beforeOf works out what campaigns need of the member before the event
// from the member after it, without another read: the visit count, the
// lifetime spend, and whether the member existed (an enrolment that made
// the member leaves no member before).
func beforeOf(ev cloud.Event, after cloud.Member) cloud.Member {
	if ev.Kind == cloud.EventEnrolment && campaign.SameInstant(after.CreatedAt, ev.OccurredAt) {
		return cloud.Member{}
	}
	before := after
	switch ev.Kind {
	case cloud.EventVisit:
		if before.Visits > 0 {
			before.Visits--
		}
	case cloud.EventPurchase:
		if ev.Purchase != nil {
			before.TotalSpendFen -= ev.Purchase.NetFen()
		}
	}
	return before
}
