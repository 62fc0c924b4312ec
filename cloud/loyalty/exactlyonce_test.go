package loyalty_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestPushEventsExactlyOnce runs the service's exactly-once push on
// PostgreSQL, where transactions can conflict: one batch of visits pushed by several senders at once and
// then again (an agent resending after a lost answer) counts once.
func TestPushEventsExactlyOnce(t *testing.T) {
	ctx := context.Background()
	svc := loyalty.New(sqltest.OpenPostgres(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := svc.CreateBrand(ctx, "tea", "Tea House", "CNY"); err != nil {
		t.Fatal(err)
	}
	_, pairing, err := svc.CreateStore(ctx, "tea", "s1", "First Street")
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.CreateMember(ctx, "tea", loyalty.NewMember{Phone: "13800138000", Name: "Li"})
	if err != nil {
		t.Fatal(err)
	}
	paired, err := svc.Pair(ctx, pairing.Code, "pos-1")
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	batch := make([]cloud.Event, n)
	for i := range batch {
		batch[i] = cloud.Event{
			ID: fmt.Sprintf("ev-%03d", i+1), Seq: uint64(i + 1), OccurredAt: time.Now().UTC(),
			StoreID: "s1", MemberID: m.ID, Kind: cloud.EventVisit,
			Visit: &cloud.Visit{IdentifiedBy: cloud.ByCard, IdentifierHint: "1234"},
		}
	}
	push := func() error {
		acked, _, err := svc.PushEvents(ctx, paired.Device, batch)
		if err == nil && acked != n {
			err = fmt.Errorf("acked %d, want %d", acked, n)
		}
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- push() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent push: %v", err)
		}
	}
	if err := push(); err != nil {
		t.Fatalf("push again: %v", err)
	}
	got, err := svc.GetMember(ctx, "tea", m.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Visits != n {
		t.Fatalf("member has %d visits after pushing %d events five times, want %d", got.Visits, n, n)
	}
}
