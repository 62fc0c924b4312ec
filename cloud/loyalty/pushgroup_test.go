package loyalty_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// TestConcurrentPushesCountOnce has many devices push at once, each in
// several pushes and each push sent twice, so pushes share transactions;
// every event must count exactly once and every device be acknowledged
// to its last seq.
func TestConcurrentPushesCountOnce(t *testing.T) {
	forEachStorage(t, testConcurrentPushesCountOnce)
}

func testConcurrentPushesCountOnce(t *testing.T, f *fixture) {
	svc, brand := f.svc, f.brand
	m := f.member("13800000001")
	const devices, pushes, perPush = 12, 5, 7
	devs := make([]cloud.Device, devices)
	for i := range devs {
		_, p, err := svc.CreateStore(ctx, brand, fmt.Sprintf("store-%d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		paired, err := svc.Pair(ctx, p.Code, "counter")
		if err != nil {
			t.Fatal(err)
		}
		devs[i] = paired.Device
	}
	var wg sync.WaitGroup
	errs := make(chan error, devices*pushes*2)
	for _, d := range devs {
		wg.Go(func() {
			seq := uint64(0)
			for p := range pushes {
				batch := make([]cloud.Event, perPush)
				for i := range batch {
					seq++
					batch[i] = cloud.Event{ID: fmt.Sprintf("%s-%d", d.ID, seq), Seq: seq, OccurredAt: f.now, StoreID: d.StoreID, MemberID: m.ID, Kind: cloud.EventVisit, Visit: &cloud.Visit{IdentifiedBy: cloud.ByCard}}
				}
				var inner sync.WaitGroup
				for range 2 { // the same push twice at once: a resend racing the original
					inner.Go(func() {
						acked, _, err := svc.PushEvents(ctx, d, batch)
						if err != nil {
							errs <- fmt.Errorf("device %s push %d: %w", d.ID, p, err)
						} else if acked != seq {
							errs <- fmt.Errorf("device %s push %d: acked %d, want %d", d.ID, p, acked, seq)
						}
					})
				}
				inner.Wait()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := svc.Stats(ctx, brand)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(devices * pushes * perPush); st.Events != want || st.Visits != want || st.Rejected != 0 {
		t.Errorf("stats: events %d, visits %d, rejected %d; want %d, %d, 0", st.Events, st.Visits, st.Rejected, want, want)
	}
	got, err := svc.GetMember(ctx, brand, m.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Visits != devices*pushes*perPush {
		t.Errorf("member visits %d, want %d", got.Visits, devices*pushes*perPush)
	}
}

// TestFailedPushFailsAlone sends pushes from an unknown device among good
// ones: the bad ones fail, the good ones commit.
func TestFailedPushFailsAlone(t *testing.T) {
	forEachStorage(t, testFailedPushFailsAlone)
}

func testFailedPushFailsAlone(t *testing.T, f *fixture) {
	svc, brand := f.svc, f.brand
	good := f.dev[0]
	ghost := cloud.Device{BrandID: brand, StoreID: good.StoreID, ID: "no-such-device"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var goodErrs, ghostOK int
	for i := range 40 {
		wg.Go(func() {
			ev := []cloud.Event{{ID: fmt.Sprintf("e%d", i), Seq: 1, OccurredAt: time.Now(), StoreID: good.StoreID, MemberID: "404", Kind: cloud.EventVisit}}
			if i%2 == 0 {
				_, _, err := svc.PushEvents(ctx, ghost, ev)
				if err == nil || !cloud.IsNotFound(err) {
					mu.Lock()
					ghostOK++
					mu.Unlock()
				}
				return
			}
			ev[0].ID = "good-1"
			if _, _, err := svc.PushEvents(ctx, good, ev); err != nil {
				mu.Lock()
				goodErrs++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if goodErrs != 0 || ghostOK != 0 {
		t.Errorf("%d good pushes failed, %d pushes from an unknown device did not fail with not found", goodErrs, ghostOK)
	}
	st, err := svc.Stats(ctx, brand)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 1 || st.Rejected != 1 {
		t.Errorf("stats: %d events, %d rejected; want the one event kept as rejected (unknown member)", st.Events, st.Rejected)
	}
}

// TestCanceledPushIsNotCommitted checks a push whose caller has gone is
// refused with the context's error.
func TestCanceledPushIsNotCommitted(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := f.svc.PushEvents(ctx, f.dev[0], nil); err == nil {
			t.Fatal("push with a canceled context succeeded")
		}
	})
}
