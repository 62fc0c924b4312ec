package localstore

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentRecordsGetConsecutiveSeqs records from many goroutines
// (so records share commits) and checks every event is held once, with
// seqs 1..n and distinct IDs, after a reopen.
func TestConcurrentRecordsGetConsecutiveSeqs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const callers, each = 32, 25
	var wg sync.WaitGroup
	seqs := make(chan uint64, callers*each)
	for range callers {
		wg.Go(func() {
			for range each {
				ev, err := db.Record(context.Background(), benchVisit())
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- ev.Seq
			}
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d given twice", s)
		}
		seen[s] = true
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.Events(1, callers*each)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, ev := range events {
		if ev.Seq != uint64(i+1) || ids[ev.ID] {
			t.Fatalf("event %d: seq %d id %s (duplicate id: %v)", i, ev.Seq, ev.ID, ids[ev.ID])
		}
		ids[ev.ID] = true
	}
	if len(events) != callers*each || len(seen) != callers*each {
		t.Fatalf("%d events held, %d seqs returned; want %d", len(events), len(seen), callers*each)
	}
}
