package localstore_test

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/proto/membercode"
)

// smallDisk mounts a tmpfs of size bytes, so a full disk is real (ENOSPC
// from the kernel), not simulated. It needs root.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test needs root to mount a small tmpfs; run as root to prove ENOSPC handling")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); full-disk test skipped", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

func TestFullDisk(t *testing.T) {
	dir := smallDisk(t, "1m")
	path := filepath.Join(dir, "agent.db")
	db, err := localstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := db.ApplyChanges([]agent.Change{
		{Seq: 1, Member: &agent.Member{ID: "1", Name: "王芳"}},
		{Seq: 2, Card: &agent.CardBinding{Number: "61000001", MemberID: "1"}},
	}, 2, true, now); err != nil {
		t.Fatal(err)
	}
	// Room to free later, as an operator would by removing old logs.
	filler := filepath.Join(dir, "old.log")
	if err := os.WriteFile(filler, make([]byte, 200<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	pub, _, _ := ed25519.GenerateKey(nil)
	v, _ := membercode.NewVerifier(time.Minute, pub)
	var logBuf strings.Builder
	ctr := counter.New(db, agent.Identity{StoreID: "s1"}, v, slog.New(slog.NewTextHandler(&logBuf, nil)))
	ctr.Debounce = 0

	ctx := context.Background()
	recorded := 0
	var res counter.Result
	for range 100000 {
		res = ctr.HandleFrame(ctx, "61000001", nil)
		if res.Refusal != nil {
			break
		}
		recorded++
	}
	if res.Refusal == nil || res.Refusal.Code != counter.RefuseDiskFull.Code {
		t.Fatalf("after %d visits the disk never filled, or the refusal is %+v", recorded, res.Refusal)
	}
	if !strings.Contains(logBuf.String(), "no space left on device") {
		t.Errorf("the log does not say the disk is full:\n%s", tail(logBuf.String()))
	}
	t.Logf("disk full after %d visits; refusal: %s / %s", recorded, res.Refusal.En, res.Refusal.Zh)

	// Still serving what it can: the replica and the outbox read fine,
	// and another scan is refused again, not a crash.
	if m, err := db.MemberByCard("61000001"); err != nil || m.Name != "王芳" {
		t.Fatalf("replica read on a full disk: %v %v", m, err)
	}
	st, err := db.State()
	if err != nil || st.LastSeq != uint64(recorded) || st.Pending != uint64(recorded) {
		t.Fatalf("state on a full disk: %+v %v; want %d recorded and pending", st, err, recorded)
	}
	if res := ctr.HandleFrame(ctx, "61000001", nil); res.Refusal == nil {
		t.Fatal("recorded on a full disk")
	}
	if _, err := db.Pending(1000); err != nil {
		t.Fatalf("outbox read on a full disk: %v", err)
	}

	// Space comes back: recording resumes with the next seq.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	res = ctr.HandleFrame(ctx, "61000001", nil)
	if res.Event == nil || res.Event.Seq != uint64(recorded+1) {
		t.Fatalf("after freeing space: %+v, want seq %d", res, recorded+1)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Nothing acknowledged was lost or damaged.
	db, err = localstore.Open(path)
	if err != nil {
		t.Fatalf("reopen after a full disk: %v", err)
	}
	defer db.Close()
	events, err := db.Events(1, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != recorded+1 {
		t.Fatalf("%d events on disk, want %d", len(events), recorded+1)
	}
	for i, ev := range events {
		if ev.Seq != uint64(i+1) || ev.MemberID != "1" {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
