package localstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func codeVisit(ref string, until time.Time) agent.Event {
	return agent.Event{OccurredAt: time.Now().UTC(), StoreID: "s", MemberID: "1", Kind: agent.EventVisit,
		Visit: &agent.Visit{IdentifiedBy: agent.ByMemberCode, CodeRef: ref, CodeExpiresAt: until}}
}

func TestReplayedCodeRefusedAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	db := open(t, path)
	if _, err := db.Record(ctx, codeVisit("k/1/100/a", until)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Record(ctx, codeVisit("k/1/100/a", until)); !errors.Is(err, agent.ErrCodeReplayed) {
		t.Fatalf("second use: %v, want ErrCodeReplayed", err)
	}
	db.Close()

	db = open(t, path)
	defer db.Close()
	if _, err := db.Record(ctx, codeVisit("k/1/100/a", until)); !errors.Is(err, agent.ErrCodeReplayed) {
		t.Fatalf("use after restart: %v, want ErrCodeReplayed", err)
	}
	ev, err := db.Record(ctx, codeVisit("k/1/160/b", until))
	if err != nil || ev.Seq != 2 {
		t.Fatalf("a fresh code: seq %d, %v; want seq 2 (the refused ones take no seq)", ev.Seq, err)
	}
	if n, err := db.PruneCodeRefs(until.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want 2", n, err)
	}
	if _, err := db.Record(ctx, codeVisit("k/1/100/a", until)); err != nil {
		t.Fatalf("after expiry the ref is forgotten (the verifier refuses the code by then): %v", err)
	}
}

func TestConcurrentUseOfOneCodeRecordsOnce(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "agent.db"))
	defer db.Close()
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := db.Record(context.Background(), codeVisit("k/7/1/f", time.Now().Add(time.Minute)))
			errs <- err
		}()
	}
	ok := 0
	for range n {
		if err := <-errs; err == nil {
			ok++
		} else if !errors.Is(err, agent.ErrCodeReplayed) {
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d records of one code, want 1", ok)
	}
}

func TestRebuildSwapsInAFreshReplica(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "agent.db"))
	defer db.Close()
	now := time.Now().UTC()
	old := []agent.Change{
		{Seq: 1, Member: &agent.Member{ID: "1", Name: "old"}},
		{Seq: 2, Member: &agent.Member{ID: "stray", Name: "not in the cloud any more"}},
		{Seq: 3, Card: &agent.CardBinding{Number: "1234", MemberID: "1"}},
	}
	if err := db.ApplyChanges(old, 3, true, now); err != nil {
		t.Fatal(err)
	}
	cursor, err := db.StartRebuild()
	if err != nil || cursor != 0 {
		t.Fatalf("start: %d %v", cursor, err)
	}
	if err := db.ApplyRebuild([]agent.Change{{Seq: 4, Member: &agent.Member{ID: "1", Name: "new"}}}, 4, false, now); err != nil {
		t.Fatal(err)
	}
	// Mid-rebuild the old replica still serves, and a restart resumes.
	if m, err := db.MemberByCard("1234"); err != nil || m.Name != "old" {
		t.Fatalf("mid-rebuild: %v %v", m, err)
	}
	if st, _ := db.State(); !st.Rebuilding {
		t.Fatal("state does not say rebuilding")
	}
	if cursor, _ := db.StartRebuild(); cursor != 4 {
		t.Fatalf("resume at %d, want 4", cursor)
	}
	if err := db.ApplyRebuild([]agent.Change{{Seq: 5, Card: &agent.CardBinding{Number: "1234", MemberID: "1"}}}, 5, true, now); err != nil {
		t.Fatal(err)
	}
	if m, err := db.MemberByCard("1234"); err != nil || m.Name != "new" {
		t.Fatalf("after rebuild: %v %v", m, err)
	}
	if _, err := db.Member("stray"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("stray member survived the rebuild: %v", err)
	}
	st, _ := db.State()
	if st.Rebuilding || st.Cursor != 5 {
		t.Fatalf("state after rebuild: %+v", st)
	}
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(raw)
}

func TestBadFilesAreRefusedAndLeftUntouched(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db := open(t, good)
	for range 50 {
		if _, err := db.Record(context.Background(), agent.Event{Kind: agent.EventVisit, MemberID: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()

	foreign := filepath.Join(dir, "foreign.db")
	fdb, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	fdb.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("invoices"))
		return b.Put([]byte("1"), []byte("x"))
	})
	fdb.Close()

	tests := []struct {
		name string
		make func(path string)
		want string
	}{
		{"text file", func(p string) { os.WriteFile(p, bytes.Repeat([]byte("not a database\n"), 1000), 0o600) }, "invalid"},
		{"both meta pages overwritten", func(p string) {
			bad := bytes.Clone(raw)
			copy(bad[:2*pageSize], bytes.Repeat([]byte{0xA5}, 2*pageSize))
			os.WriteFile(p, bad, 0o600)
		}, "open agent database"},
		{"truncated to half a page", func(p string) { os.WriteFile(p, raw[:pageSize/2], 0o600) }, "open agent database"},
		{"data pages scrambled", func(p string) {
			bad := bytes.Clone(raw)
			for i := 2 * pageSize; i < len(bad); i += 7 {
				bad[i] ^= 0x5A
			}
			os.WriteFile(p, bad, 0o600)
		}, "corrupt"},
		{"another program's bbolt file", func(p string) {
			b, _ := os.ReadFile(foreign)
			os.WriteFile(p, b, 0o600)
		}, "not this agent's database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.db")
			tt.make(path)
			before := sum(t, path)
			db, err := Open(path)
			if err == nil {
				db.Close()
				t.Fatal("opened a bad file")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say %q and name the file", err, tt.want)
			}
			if sum(t, path) != before {
				t.Error("the bad file was changed")
			}
		})
	}
}
