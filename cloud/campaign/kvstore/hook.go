package kvstore

import (
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/records"
)

// EventHook is loyalty.Service.OnApplied for an engine: it runs the
// brand's event campaigns inside the push's transaction.
func EventHook(e *campaign.Engine) func(tx cloud.Tx, b cloud.Brand, ev cloud.Event, before, after cloud.Member) error {
	return func(tx cloud.Tx, b cloud.Brand, ev cloud.Event, before, after cloud.Member) error {
		l := &Ledger{Tx: tx, BrandID: b.ID}
		f := campaign.EventFacts{
			Event: ev, Before: before, After: after, Location: e.Location(b),
			TierUpgraded: tierRank(b.Programme, after.TierID) > tierRank(b.Programme, before.TierID) && before.ID != "",
			PeriodSpendFen: func(start time.Time) (int64, error) {
				_, spend, err := records.ActivitySince(tx, b.ID, after.ID, start)
				return spend, err
			},
		}
		_, err := e.OnEvent(l, b.ID, f)
		return err
	}
}

func tierRank(p cloud.Programme, id string) int {
	if t, ok := p.Tier(id); ok {
		return t.Rank
	}
	return -1
}
