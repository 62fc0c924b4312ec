package loyalty

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// qualifyingTier is the highest tier whose spend or visit threshold the
// member meets within the window ending at `at`.
func qualifyingTier(tx cloud.Tx, p cloud.Programme, m cloud.Member, at time.Time, loc *time.Location) (cloud.Tier, int, int64, error) {
	visits, spend, err := tx.ActivitySince(m.BrandID, m.ID, tierWindowStart(p, at, loc))
	if err != nil {
		return cloud.Tier{}, 0, 0, err
	}
	best := p.BaseTier()
	for _, t := range p.Tiers {
		reached := (t.UpgradeSpendFen > 0 && spend >= t.UpgradeSpendFen) || (t.UpgradeVisits > 0 && visits >= t.UpgradeVisits)
		if reached && t.Rank > best.Rank {
			best = t
		}
	}
	return best, visits, spend, nil
}

// tierWindowStart is the first day of the tier window ending at `at`, in
// the brand's zone.
func tierWindowStart(p cloud.Programme, at time.Time, loc *time.Location) time.Time {
	return activityDay(at, loc).AddDate(0, 0, -max(p.TierWindowDays, 1))
}

// activityDay is t in the brand's zone: its date is the calendar day a
// member's activity at t counts for.
func activityDay(t time.Time, loc *time.Location) time.Time { return t.In(loc) }

func setTier(tx cloud.Tx, m *cloud.Member, to cloud.Tier, at time.Time, reason string) error {
	if err := tx.AppendTierChange(m.BrandID, cloud.TierChange{MemberID: m.ID, At: at, From: m.TierID, To: to.ID, Reason: reason}); err != nil {
		return err
	}
	m.TierID, m.TierSince = to.ID, at
	return nil
}

// upgradeTier moves a member up when an event makes them qualify; moving
// down waits for the scheduled review.
func upgradeTier(tx cloud.Tx, p cloud.Programme, m *cloud.Member, at time.Time, loc *time.Location, cause string) error {
	best, visits, spend, err := qualifyingTier(tx, p, *m, at, loc)
	if err != nil {
		return err
	}
	cur, ok := p.Tier(m.TierID)
	if ok && best.Rank <= cur.Rank {
		return nil
	}
	return setTier(tx, m, best, at, fmt.Sprintf("upgrade on %s: %d visits and %d fen spent in %d days", cause, visits, spend, p.TierWindowDays))
}

// reviewTier moves a member to the tier they qualify for now, up or down.
func reviewTier(tx cloud.Tx, p cloud.Programme, m *cloud.Member, at time.Time, loc *time.Location) (bool, error) {
	best, visits, spend, err := qualifyingTier(tx, p, *m, at, loc)
	if err != nil {
		return false, err
	}
	if best.ID == m.TierID {
		return false, nil
	}
	dir := "upgrade"
	if cur, ok := p.Tier(m.TierID); ok && best.Rank < cur.Rank {
		dir = "downgrade"
	}
	return true, setTier(tx, m, best, at, fmt.Sprintf("%s on review: %d visits and %d fen spent in %d days", dir, visits, spend, p.TierWindowDays))
}
