package localstore

import (
	"context"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
)

func TestRenumberFollowsTheCloud(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	rec := func(key string) agent.Event {
		t.Helper()
		ev, err := db.Record(ctx, agent.Event{OccurredAt: time.Now().UTC(), MemberID: "1", Kind: agent.EventTopUp,
			TopUp: &agent.TopUp{AmountFen: 100}, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	rec("")
	rec("")
	if err := db.Ack(2); err != nil {
		t.Fatal(err)
	}
	a, b := rec("bill-a"), rec("")
	if a.Seq != 3 || b.Seq != 4 {
		t.Fatalf("seqs %d, %d", a.Seq, b.Seq)
	}

	// Not past the acknowledged seq: nothing moves.
	if n, err := db.Renumber(2); err != nil || n != 0 {
		t.Fatalf("Renumber(2) = %d, %v", n, err)
	}
	n, err := db.Renumber(10)
	if err != nil || n != 2 {
		t.Fatalf("Renumber(10) = %d, %v; want 2 moved", n, err)
	}
	st, _ := db.State()
	if st.AckedSeq != 10 || st.LastSeq != 12 || st.Pending != 2 {
		t.Errorf("state after renumbering: %+v", st)
	}
	pending, err := db.Pending(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || pending[0].ID != a.ID || pending[0].Seq != 11 || pending[1].ID != b.ID || pending[1].Seq != 12 {
		t.Fatalf("pending after renumbering: %+v", pending)
	}
	// The counter transaction settled again finds its event at its new seq.
	if again := rec("bill-a"); again.ID != a.ID || again.Seq != 11 {
		t.Errorf("settling bill-a again: %s seq %d; want %s seq 11", again.ID, again.Seq, a.ID)
	}
	if next := rec(""); next.Seq != 13 {
		t.Errorf("next event seq %d, want 13", next.Seq)
	}
	if old, err := db.Events(3, 4); err != nil || len(old) != 0 {
		t.Errorf("events left at the old seqs: %+v, %v", old, err)
	}
}
