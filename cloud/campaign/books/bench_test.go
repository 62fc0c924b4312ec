package books_test

import (
	"fmt"
	"testing"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// BenchmarkPushWithCampaigns measures what the campaigns' event hook adds
// to applying pushes (the sync path): pushes of 500 purchases across 100
// members with no hook, with the hook and no event campaign, and with two
// running event campaigns (spend reaching 1,000 yuan in a month, the 5th
// visit) that evaluate every purchase. Compare events/s within one run.
func BenchmarkPushWithCampaigns(b *testing.B) {
	const batch = 500
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"no-hook", "hook-idle", "hook-active"} {
			b.Run(engine+"/"+mode, func(b *testing.B) {
				f := newFixture(b, sqltest.Engines[engine](b))
				switch mode {
				case "no-hook":
					f.svc.OnApplied, f.svc.WantsEvents = nil, nil
				case "hook-active":
					f.start(campaign.Campaign{ID: "month", Trigger: campaign.Trigger{Kind: campaign.TriggerSpendReached, AmountFen: 100000, Period: campaign.PeriodMonth}, Actions: coupon})
					f.start(campaign.Campaign{ID: "fifth", Trigger: campaign.Trigger{Kind: campaign.TriggerNthVisit, N: 5}, Actions: coupon})
				}
				members := make([]string, 100)
				for i := range members {
					members[i] = f.member(loyalty.NewMember{}).ID
				}
				n := 0
				for b.Loop() {
					events := make([]cloud.Event, batch)
					for i := range events {
						f.seq++
						p := cloud.Purchase{BillFen: 2500, PaidOtherFen: 2500}
						events[i] = cloud.Event{ID: fmt.Sprintf("e%d", f.seq), Seq: f.seq, StoreID: f.dev.StoreID, OccurredAt: f.clock(),
							MemberID: members[n%len(members)], Kind: cloud.EventPurchase, Purchase: &p}
						n++
					}
					if _, _, err := f.svc.PushEvents(ctx, f.dev, events); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
