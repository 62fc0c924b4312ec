package loyalty_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// pushAll sends events from device d in one push and returns the results.
func (f *fixture) pushAll(d int, events ...cloud.Event) (uint64, []cloud.EventResult) {
	f.t.Helper()
	for i := range events {
		f.seq[d]++
		if events[i].ID == "" {
			events[i].ID = fmt.Sprintf("ev-%s-%d", f.dev[d].ID, f.seq[d])
		}
		if events[i].Seq == 0 {
			events[i].Seq = f.seq[d]
		}
		events[i].StoreID = f.dev[d].StoreID
		if events[i].OccurredAt.IsZero() {
			events[i].OccurredAt = f.now
		}
	}
	acked, res, err := f.svc.PushEvents(ctx, f.dev[d], events)
	if err != nil {
		f.t.Fatalf("push: %v", err)
	}
	return acked, res
}

func wantReason(t *testing.T, r cloud.EventResult, outcome cloud.Outcome, code string) {
	t.Helper()
	if r.Outcome != outcome || !strings.HasPrefix(r.Reason, code) {
		t.Fatalf("event %s: %s %q; want %s with reason %s", r.EventID, r.Outcome, r.Reason, outcome, code)
	}
}

// TestEventTimesAreBounded: a purchase dated year 9999, or before its
// device was paired, is rejected with its reason; the events behind it apply.
func TestEventTimesAreBounded(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000201")
		year9999 := purchase(m.ID, cloud.Purchase{BillFen: 10000})
		year9999.OccurredAt = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
		early := purchase(m.ID, cloud.Purchase{BillFen: 10000})
		early.OccurredAt = f.dev[0].PairedAt.AddDate(-1, 0, 0)
		acked, res := f.pushAll(0, year9999, early, cloud.Event{Kind: cloud.EventVisit, MemberID: m.ID, Visit: &cloud.Visit{IdentifiedBy: cloud.ByCard}})
		if acked != 3 || len(res) != 3 {
			t.Fatalf("acked %d with %d results; want 3 and 3", acked, len(res))
		}
		wantReason(t, res[0], cloud.Rejected, loyalty.ReasonTimeOutOfRange)
		wantReason(t, res[1], cloud.Rejected, loyalty.ReasonTimeOutOfRange)
		wantReason(t, res[2], cloud.Applied, "")
		if got := f.get(m.ID); got.Visits != 1 || got.Points != 0 || got.TotalSpendFen != 0 {
			t.Fatalf("member after: visits %d points %d spend %d; want 1, 0, 0", got.Visits, got.Points, got.TotalSpendFen)
		}
		// Within the allowed skew is fine.
		soon := purchase(m.ID, cloud.Purchase{BillFen: 10000})
		soon.OccurredAt = f.now.Add(30 * time.Minute)
		_, res = f.pushAll(0, soon)
		wantReason(t, res[0], cloud.Applied, "")
	})
}

// TestSameIDOtherContentIsRefused: a resend with the same content is a
// duplicate; the same id and seq with the amount changed is refused and
// shown to HQ as a conflict; the books keep the first.
func TestSameIDOtherContentIsRefused(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000202")
		first := purchase(m.ID, cloud.Purchase{BillFen: 10000})
		first.ID, first.Seq = "txn-1", 1
		f.pushAll(0, first)
		f.seq[0] = 0
		again := first
		_, res := f.pushAll(0, again)
		wantReason(t, res[0], cloud.Duplicate, "")
		f.seq[0] = 0
		forged := purchase(m.ID, cloud.Purchase{BillFen: 99_999_999})
		forged.ID, forged.Seq = "txn-1", 1
		_, res = f.pushAll(0, forged)
		wantReason(t, res[0], cloud.Rejected, loyalty.ReasonContentMismatch)
		cs := f.conflicts()
		if len(cs) != 1 || cs[0].Kind != loyalty.ReasonContentMismatch || cs[0].EventID != "txn-1" {
			t.Fatalf("conflicts %+v; want one content_mismatch for txn-1", cs)
		}
		if got := f.get(m.ID); got.TotalSpendFen != 10000 {
			t.Fatalf("spend %d; want the first content's 10000", got.TotalSpendFen)
		}
	})
}

// poisonStore fails to write a points ledger line of exactly poisonPoints,
// as a storage fault tied to one event's content would.
type poisonStore struct{ cloud.Storage }

const poisonPoints = 4242

type poisonTx struct{ cloud.Tx }

func (s poisonStore) Update(ctx context.Context, fn func(cloud.Tx) error) error {
	return s.Storage.Update(ctx, func(tx cloud.Tx) error { return fn(poisonTx{tx}) })
}

func (tx poisonTx) AppendPoints(brand string, e cloud.PointsEntry) (cloud.PointsEntry, error) {
	if e.Delta == poisonPoints {
		return e, errors.New("poisoned ledger line")
	}
	return tx.Tx.AppendPoints(brand, e)
}

// TestUnappliableEventDoesNotBlockTheOutbox: an event whose applying fails
// is kept as rejected with its reason; the events behind it apply, and the
// push answers, not an error.
func TestUnappliableEventDoesNotBlockTheOutbox(t *testing.T) {
	for name, open := range storages {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, poisonStore{open(t)})
			m := f.member("13800000203")
			acked, res := f.pushAll(0,
				cloud.Event{Kind: cloud.EventVisit, MemberID: m.ID, Visit: &cloud.Visit{IdentifiedBy: cloud.ByCard}},
				purchase(m.ID, cloud.Purchase{BillFen: poisonPoints * 100}),
				purchase(m.ID, cloud.Purchase{BillFen: 10000}),
			)
			if acked != 3 || len(res) != 3 {
				t.Fatalf("acked %d with %d results; want 3 and 3", acked, len(res))
			}
			wantReason(t, res[0], cloud.Applied, "")
			wantReason(t, res[1], cloud.Rejected, loyalty.ReasonUnappliable)
			wantReason(t, res[2], cloud.Applied, "")
			if got := f.get(m.ID); got.Visits != 1 || got.TotalSpendFen != 10000 || got.Points != 100 {
				t.Fatalf("member: visits %d spend %d points %d; want 1, 10000, 100", got.Visits, got.TotalSpendFen, got.Points)
			}
			f.checkBooks(m.ID)
		})
	}
}
