package localstore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A counter transaction recorded many times at once (double clicks, a
// reload, retries) is one event.
func TestRecordIdempotent(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	seqs := make([]uint64, 20)
	for i := range seqs {
		wg.Go(func() {
			ev, err := db.Record(ctx, agent.Event{Kind: agent.EventPurchase, MemberID: "7", IdempotencyKey: "t-abc12345",
				Purchase: &agent.Purchase{BillFen: 100, PaidOtherFen: 100}})
			if err != nil {
				t.Error(err)
			}
			seqs[i] = ev.Seq
		})
	}
	wg.Wait()
	for _, s := range seqs {
		if s != 1 {
			t.Fatalf("seqs = %v, want all 1", seqs)
		}
	}
	other, err := db.Record(ctx, agent.Event{Kind: agent.EventVisit, MemberID: "7"})
	if err != nil || other.Seq != 2 {
		t.Fatalf("next event: seq %d, %v; want 2", other.Seq, err)
	}
	got, err := db.EventByKey("t-abc12345")
	if err != nil || got.Seq != 1 || got.Purchase == nil || got.Purchase.BillFen != 100 {
		t.Fatalf("EventByKey = %+v, %v", got, err)
	}
	if _, err := db.EventByKey("t-unknown1"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown transaction: %v", err)
	}
	st, _ := db.State()
	if st.LastSeq != 2 || st.Pending != 2 {
		t.Fatalf("state = %+v", st)
	}
}

func TestOffersReplica(t *testing.T) {
	db := openTemp(t)
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	changes := []agent.Change{
		{Seq: 1, Programme: &agent.Programme{PointValueFen: 1, Tiers: []agent.Tier{{ID: "gold", DiscountBP: 500}}}},
		{Seq: 2, Coupon: &agent.Coupon{Code: "C1", MemberID: "7", State: agent.CouponIssued, ExpiresAt: exp}},
		{Seq: 3, Coupon: &agent.Coupon{Code: "C2", MemberID: "7", State: agent.CouponIssued}},
		{Seq: 4, Coupon: &agent.Coupon{Code: "C3", MemberID: "8", State: agent.CouponIssued}},
		{Seq: 5, Voucher: &agent.Voucher{Code: "MT123456", FaceValueFen: 3990}},
		// C2 moves to member 8 (a merge): the index follows.
		{Seq: 6, Coupon: &agent.Coupon{Code: "C2", MemberID: "8", State: agent.CouponRedeemed}},
	}
	if err := db.ApplyChanges(changes, 6, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	p, ok, err := db.Programme()
	if err != nil || !ok || p.PointValueFen != 1 || len(p.Tiers) != 1 {
		t.Fatalf("programme = %+v, %v, %v", p, ok, err)
	}
	c7, _ := db.CouponsOf("7")
	c8, _ := db.CouponsOf("8")
	if len(c7) != 1 || c7[0].Code != "C1" || !c7[0].ExpiresAt.Equal(exp) || len(c8) != 2 {
		t.Fatalf("coupons of 7 = %+v, of 8 = %+v", c7, c8)
	}
	if none, _ := db.CouponsOf("77"); len(none) != 0 {
		t.Fatalf("member 77 (a prefix of no one) has coupons %+v", none)
	}
	if v, err := db.Voucher("MT123456"); err != nil || v.FaceValueFen != 3990 {
		t.Fatalf("voucher = %+v, %v", v, err)
	}
	if _, err := db.Voucher("nope"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown voucher: %v", err)
	}
}
