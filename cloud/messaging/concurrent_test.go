package messaging_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
)

// Dispatchers sharing one database (several cloud processes) claim
// disjoint messages and still let only one marketing message a day through
// to a member aimed at by many campaigns at once.
func TestConcurrentDispatchersKeepCaps(t *testing.T) {
	for _, e := range messagingtest.Engines {
		t.Run(e.Name, func(t *testing.T) {
			r := newRig(t, e.Open(t), time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai))
			const members, campaigns = 5, 8
			for i := range members {
				r.member(fmt.Sprint(i), fmt.Sprintf("1380000000%d", i), true)
			}
			for c := range campaigns {
				for i := range members {
					r.enqueue(fmt.Sprint("c", c), fmt.Sprint(i), "1", messaging.SMS, "promo", time.Time{})
				}
			}
			var wg sync.WaitGroup
			for w := range 4 {
				d := &messaging.Dispatcher{Service: r.svc, Senders: r.disp.Senders, Owner: fmt.Sprint("d", w), Batch: 3, Workers: 2}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 50 {
						n, err := d.DispatchOnce(r.ctx)
						if err != nil {
							t.Errorf("dispatcher %s: %v", d.Owner, err)
							return
						}
						if n == 0 {
							return
						}
					}
				}()
			}
			wg.Wait()
			counts, err := r.svc.Store.Counts(r.ctx, "cha")
			if err != nil {
				t.Fatal(err)
			}
			if counts[messaging.StatusSent] != members || counts[messaging.StatusCapped] != members*(campaigns-1) {
				t.Errorf("statuses %v, want %d sent and %d capped", counts, members, members*(campaigns-1))
			}
			perPhone := map[string]int{}
			for _, s := range r.sms.Sent {
				perPhone[s.To]++
			}
			for phone, n := range perPhone {
				if n != 1 {
					t.Errorf("%s got %d marketing SMS today, cap is 1", phone, n)
				}
			}
		})
	}
}
