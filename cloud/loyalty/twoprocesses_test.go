package loyalty_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// TestTwoCloudProcessesApplyOnce runs two services, each with its own
// connection pool (as two cloud processes behind a load balancer), on one
// PostgreSQL database, and has both receive the same device's pushes at
// once, overlapping and resent: every event counts exactly once, and the
// device's acknowledged seq never passes a gap.
func TestTwoCloudProcessesApplyOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	var svcs [2]*loyalty.Service
	for i := range svcs {
		db, err := sqlstore.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		svcs[i] = loyalty.New(db, slog.New(slog.DiscardHandler))
	}
	if _, err := svcs[0].CreateBrand(ctx, "tea", "Tea", "CNY"); err != nil {
		t.Fatal(err)
	}
	_, pairing, err := svcs[0].CreateStore(ctx, "tea", "s1", "One")
	if err != nil {
		t.Fatal(err)
	}
	paired, err := svcs[1].Pair(ctx, pairing.Code, "till")
	if err != nil {
		t.Fatal(err)
	}
	m, err := svcs[1].CreateMember(ctx, "tea", loyalty.NewMember{Phone: "13800138000", Name: "Li"})
	if err != nil {
		t.Fatal(err)
	}
	const n, batch = 200, 25
	events := make([]cloud.Event, n)
	for i := range events {
		events[i] = cloud.Event{ID: fmt.Sprintf("ev-%03d", i+1), Seq: uint64(i + 1), OccurredAt: time.Now().UTC(), StoreID: "s1", MemberID: m.ID,
			Kind: cloud.EventVisit, Visit: &cloud.Visit{IdentifiedBy: cloud.ByCard}}
	}
	// Each sender pushes every batch in order, as an agent resending after
	// lost answers would, through its own process.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			svc := svcs[w%2]
			for i := 0; i < n; i += batch {
				acked, _, err := svc.PushEvents(ctx, paired.Device, events[i:i+batch])
				if err != nil {
					errs <- fmt.Errorf("sender %d, events from %d: %w", w, i+1, err)
					return
				}
				if acked < uint64(i+batch) {
					errs <- fmt.Errorf("sender %d: acked %d after pushing up to %d", w, acked, i+batch)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := svcs[0].GetMember(ctx, "tea", m.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := svcs[1].Stats(ctx, "tea")
	if err != nil {
		t.Fatal(err)
	}
	if got.Visits != n || st.Events != n || st.Rejected != 0 || len(st.Devices) != 1 || st.Devices[0].AckedSeq != n {
		t.Fatalf("after two processes took the same pushes: %d visits, %d events (%d rejected), acked %d; want %d each, none rejected",
			got.Visits, st.Events, st.Rejected, st.Devices[0].AckedSeq, n)
	}
}
