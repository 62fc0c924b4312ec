package localstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
)

// TestUnansweredTail: what was recorded but never answered is the tail
// past the answered mark, which moves only over a run of answered seqs
// and survives a restart.
func TestUnansweredTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 4 {
		if _, err := db.Record(ctx, visit("7")); err != nil {
			t.Fatal(err)
		}
	}
	db.MarkAnswered(1)
	db.MarkAnswered(3) // answered before 2: the mark waits for 2
	if got := db.AnsweredSeq(); got != 1 {
		t.Fatalf("mark %d after answering 1 and 3, want 1", got)
	}
	db.MarkAnswered(2)
	if got := db.AnsweredSeq(); got != 3 {
		t.Fatalf("mark %d after answering 1, 2, 3, want 3", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Seq 4 was recorded and never answered: the restart finds it.
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tail, err := db.Unanswered()
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 1 || tail[0].Seq != 4 || tail[0].MemberID != "7" {
		t.Fatalf("unanswered after restart = %+v, want seq 4", tail)
	}
	db.MarkAnswered(4)
	if tail, _ := db.Unanswered(); len(tail) != 0 {
		t.Fatalf("unanswered after answering = %+v", tail)
	}
}

// A database older than the mark starts with everything answered.
func TestAnsweredMarkOfAnOldDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Record(context.Background(), visit("7"))
	db.Close()
	if err := removeFile(answeredPath(path)); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if tail, _ := db.Unanswered(); len(tail) != 0 || db.AnsweredSeq() != 1 {
		t.Fatalf("unanswered %+v, mark %d", tail, db.AnsweredSeq())
	}
}

func visit(member string) agent.Event {
	return agent.Event{OccurredAt: time.Now().UTC(), StoreID: "s1", MemberID: member, Kind: agent.EventVisit,
		Visit: &agent.Visit{IdentifiedBy: agent.ByCard, IdentifierHint: "****0001"}}
}

func removeFile(path string) error { return os.Remove(path) }
