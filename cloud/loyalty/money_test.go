package loyalty_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/memberpass/memberpass/cloud"
)

// pushMany sends n copies of ev from device d in one push, each applied.
func (f *fixture) pushMany(d, n int, ev cloud.Event) {
	f.t.Helper()
	events := make([]cloud.Event, n)
	for i := range events {
		f.seq[d]++
		e := ev
		e.ID, e.Seq, e.StoreID, e.OccurredAt = fmt.Sprintf("ev-%d-%d", d, f.seq[d]), f.seq[d], f.dev[d].StoreID, f.now
		events[i] = e
	}
	acked, res, err := f.svc.PushEvents(ctx, f.dev[d], events)
	if err != nil || acked != f.seq[d] {
		f.t.Fatalf("push of %d: acked %d, %v", n, acked, err)
	}
	for _, r := range res {
		if r.Outcome != cloud.Applied {
			f.t.Fatalf("event %s: %s %s", r.EventID, r.Outcome, r.Reason)
		}
	}
}

func cashOut(member string, amount int64) cloud.Event {
	return cloud.Event{Kind: cloud.EventRefund, MemberID: member, Refund: &cloud.Refund{AmountFen: amount}}
}

// TestCashOutOfLargeBalanceForfeitsExactly: 800 legal top-ups of 1e9 fen
// carry 12,000,000 fen of bonus; bonus × amount is far beyond an int64, and
// a full cash-out must still leave the bonus at 0, not wrapped.
func TestCashOutOfLargeBalanceForfeitsExactly(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000101")
		f.pushMany(0, 800, topUp(m.ID, 1_000_000_000))
		got := f.get(m.ID)
		if got.SVPrincipal != 800_000_000_000 || got.SVBonus != 12_000_000 {
			t.Fatalf("after 800 top-ups: principal %d bonus %d", got.SVPrincipal, got.SVBonus)
		}
		if res := f.push(0, cashOut(m.ID, got.SVPrincipal)); res.Outcome != cloud.Applied {
			t.Fatalf("cash-out: %s %s", res.Outcome, res.Reason)
		}
		if got = f.get(m.ID); got.SVPrincipal != 0 || got.SVBonus != 0 {
			t.Fatalf("after the full cash-out: principal %d bonus %d; want 0 and 0", got.SVPrincipal, got.SVBonus)
		}
		f.checkBooks(m.ID)
	})
}

// TestCashOutForfeitDoesNotDependOnSplit: 850 cash-outs of 1 fen forfeit
// what one cash-out of 850 fen does (floor of bonus × 850 / principal).
func TestCashOutForfeitDoesNotDependOnSplit(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		one, many := f.member("13800000102"), f.member("13800000103")
		for _, id := range []string{one.ID, many.ID} {
			f.push(0, topUp(id, 100_000)) // 充1000送150
		}
		f.push(0, cashOut(one.ID, 850))
		f.pushMany(1, 850, cashOut(many.ID, 1))
		a, b := f.get(one.ID), f.get(many.ID)
		const want = 15_000 - 15_000*850/100_000 // 127 fen forfeited, rounded down
		if a.SVPrincipal != 99_150 || a.SVBonus != want || b.SVPrincipal != a.SVPrincipal || b.SVBonus != a.SVBonus {
			t.Fatalf("one cash-out left %d+%d, 850 left %d+%d; want 99150+%d both", a.SVPrincipal, a.SVBonus, b.SVPrincipal, b.SVBonus, want)
		}
		// A later top-up starts a new run; cashing out everything forfeits all.
		f.push(1, topUp(many.ID, 50_000))
		b = f.get(many.ID)
		f.push(1, cashOut(many.ID, b.SVPrincipal))
		if b = f.get(many.ID); b.StoredValue() != 0 {
			t.Fatalf("after cashing out all principal: %d left", b.StoredValue())
		}
		f.checkBooks(one.ID)
		f.checkBooks(many.ID)
	})
}

// TestBillLinesAreChecked: a negative quantity, or a line beyond an int64,
// rejects the purchase and changes nothing.
func TestBillLinesAreChecked(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		m := f.member("13800000104")
		for _, it := range []cloud.Item{
			{SKU: "tea", Quantity: -5, UnitPriceFen: math.MaxInt64},
			{SKU: "tea", Quantity: 0, UnitPriceFen: 100},
			{SKU: "tea", Quantity: 3, UnitPriceFen: math.MaxInt64 / 2},
			{SKU: "tea", Quantity: 1, UnitPriceFen: -100},
		} {
			res := f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 1000, Items: []cloud.Item{it}}))
			if res.Outcome != cloud.Rejected {
				t.Fatalf("line %+v: %s %s; want rejected", it, res.Outcome, res.Reason)
			}
		}
		if res := f.push(0, purchase(m.ID, cloud.Purchase{BillFen: 1000, Items: []cloud.Item{{SKU: "tea", Quantity: 2, UnitPriceFen: 500}}})); res.Outcome != cloud.Applied {
			t.Fatalf("a good line: %s %s", res.Outcome, res.Reason)
		}
		if got := f.get(m.ID); got.TotalSpendFen != 1000 {
			t.Fatalf("spend %d; want 1000 (only the good purchase)", got.TotalSpendFen)
		}
	})
}
