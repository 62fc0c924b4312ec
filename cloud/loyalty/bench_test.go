package loyalty_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// BenchmarkApplyEvents measures applying purchase events to state (points,
// stored value, tiers, change log) in pushes of 500, against plainly
// inserting the same events in the same store: the cost of the
// programme's logic over the storage floor. Reported as events/s.
func BenchmarkApplyEvents(b *testing.B) {
	const batch = 500
	for name, open := range storages {
		b.Run(name+"/apply", func(b *testing.B) {
			f := newFixture(b, open(b))
			members := make([]string, 100)
			for i := range members {
				members[i] = f.member(fmt.Sprintf("138%08d", i)).ID
			}
			f.push(0, topUp(members[0], 100000))
			b.ResetTimer()
			n := 0
			for b.Loop() {
				events := make([]cloud.Event, batch)
				for i := range events {
					f.seq[0]++
					p := cloud.Purchase{BillFen: 2500, PaidOtherFen: 2500}
					events[i] = cloud.Event{ID: fmt.Sprintf("e%d", f.seq[0]), Seq: f.seq[0], StoreID: f.dev[0].StoreID, OccurredAt: f.now,
						MemberID: members[n%len(members)], Kind: cloud.EventPurchase, Purchase: &p}
					n++
				}
				if _, _, err := f.svc.PushEvents(ctx, f.dev[0], events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(name+"/plain-insert", func(b *testing.B) {
			store := open(b)
			n := 0
			for b.Loop() {
				err := store.Update(ctx, func(tx cloud.Tx) error {
					for range batch {
						n++
						p := cloud.Purchase{BillFen: 2500, PaidOtherFen: 2500}
						ev := cloud.StoredEvent{BrandID: "tea", ReceivedAt: time.Now(), Outcome: cloud.Applied,
							Event: cloud.Event{ID: fmt.Sprintf("e%d", n), Seq: uint64(n), StoreID: "shop-a", MemberID: "1", Kind: cloud.EventPurchase, Purchase: &p}}
						if err := tx.PutEvent(ev); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
