package synctest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/scripts/localcloud"
)

// shop is one brand with one store, its member and a paired agent whose
// database lives in dir.
type shop struct {
	t      *testing.T
	cloud  *localcloud.Cloud
	member string
	ident  agent.Identity
	dir    string
	db     *localstore.DB
	conn   *grpc.ClientConn
}

func newShop(t *testing.T) *shop {
	t.Helper()
	ctx := context.Background()
	c, err := localcloud.Start(sqltest.OpenSQLite(t), "token", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if _, err := c.Service.CreateBrand(ctx, "b1", "Brand", "CNY"); err != nil {
		t.Fatal(err)
	}
	m, err := c.Service.CreateMember(ctx, "b1", loyalty.NewMember{Phone: "13700000001", Name: "Li Lei", Cards: []string{"7700000001"}})
	if err != nil {
		t.Fatal(err)
	}
	_, pairing, err := c.Service.CreateStore(ctx, "b1", "s1", "Store 1")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := grpc.NewClient(c.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ident, err := cloudsync.Pair(ctx, plain, pairing.Code, "till-1")
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{t: t, cloud: c, member: m.ID, ident: ident, dir: t.TempDir()}
	s.conn, err = grpc.NewClient(c.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: ident.BrandID, DeviceID: ident.DeviceID, Secret: ident.Secret, Insecure: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.conn.Close() })
	s.open()
	if err := s.db.SaveIdentity(ident); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.db != nil {
			s.db.Close()
		}
	})
	return s
}

func (s *shop) path() string { return filepath.Join(s.dir, "agent.db") }

func (s *shop) open() {
	s.t.Helper()
	db, err := localstore.Open(s.path())
	if err != nil {
		s.t.Fatal(err)
	}
	s.db = db
}

// stop closes the agent's database, as stopping the service does.
func (s *shop) stop() {
	s.t.Helper()
	if err := s.db.Close(); err != nil {
		s.t.Fatal(err)
	}
	s.db = nil
}

func (s *shop) syncer() *cloudsync.Syncer {
	sy := cloudsync.New(s.db, s.conn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sy.Health = func() cloudsync.Health { return cloudsync.Health{Version: "test"} }
	return sy
}

// visits records n card visits and returns their IDs.
func (s *shop) visits(n int) []string {
	s.t.Helper()
	var ids []string
	for range n {
		ev, err := s.db.Record(context.Background(), agent.Event{
			OccurredAt: time.Now().UTC(), StoreID: s.ident.StoreID, MemberID: s.member, Kind: agent.EventVisit,
			Visit: &agent.Visit{IdentifiedBy: agent.ByCard, IdentifierHint: "…0001"},
		})
		if err != nil {
			s.t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

func (s *shop) sync() {
	s.t.Helper()
	if err := s.syncer().SyncOnce(context.Background()); err != nil {
		s.t.Fatalf("sync: %v", err)
	}
}

// cloudEvents are the device's events the cloud holds, by ID, with the
// count of each.
func (s *shop) cloudEvents() (map[string]int, []cloud.StoredEvent) {
	s.t.Helper()
	ctx := context.Background()
	seen := map[string]int{}
	var all []cloud.StoredEvent
	token := ""
	for {
		events, next, err := s.cloud.Service.ListEvents(ctx, "b1", token, 500)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, e := range events {
			seen[e.ID]++
			all = append(all, e)
		}
		if next == "" || len(events) == 0 {
			return seen, all
		}
		token = next
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAgentRestoredFromAnOldBackup: a till's data directory is restored
// from a backup older than what the cloud holds. Its seq went backwards:
// the visits it records next carry seqs the cloud holds for other events.
// The cloud notices and says so (push answer, HQ's fleet view); the agent
// renumbers; in the end the cloud holds every event once, none dropped,
// none doubled.
func TestAgentRestoredFromAnOldBackup(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	before := s.visits(3)
	s.sync()
	s.stop()
	backup := filepath.Join(t.TempDir(), "agent.db.backup")
	copyFile(t, s.path(), backup) // the operator's nightly copy
	s.open()
	lost := s.visits(4) // recorded and synced after the backup, then the disk dies
	s.sync()
	s.stop()

	copyFile(t, backup, s.path()) // restored onto a new disk
	s.open()
	if st, _ := s.db.State(); st.LastSeq != 3 || st.AckedSeq != 3 {
		t.Fatalf("restored agent at last seq %d, acked %d; want 3, 3", st.LastSeq, st.AckedSeq)
	}
	after := s.visits(2) // local seqs 4 and 5: the cloud holds 4..7 as other events
	sy := s.syncer()
	if err := sy.SyncOnce(ctx); err != nil {
		t.Fatalf("sync after restore: %v", err)
	}

	st, err := s.db.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 0 || st.AckedSeq != 9 || st.LastSeq != 9 {
		t.Errorf("agent after sync: pending %d, acked %d, last %d; want 0, 9, 9", st.Pending, st.AckedSeq, st.LastSeq)
	}
	seen, all := s.cloudEvents()
	for _, id := range append(append(append([]string{}, before...), lost...), after...) {
		if seen[id] != 1 {
			t.Errorf("event %s held %d times, want once", id, seen[id])
		}
	}
	if len(all) != 9 {
		t.Errorf("cloud holds %d events, want 9", len(all))
	}
	seqs := map[uint64]bool{}
	for _, e := range all {
		if e.Outcome != cloud.Applied {
			t.Errorf("event seq %d: %s %s", e.Seq, e.Outcome, e.Reason)
		}
		if seqs[e.Seq] {
			t.Errorf("seq %d held twice", e.Seq)
		}
		seqs[e.Seq] = true
	}
	stats, err := s.cloud.Service.Stats(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if stats.Visits != 9 || len(stats.Devices) != 1 || stats.Devices[0].AckedSeq != 9 {
		t.Errorf("cloud: %d visits, devices %+v; want 9 visits, acked 9", stats.Visits, stats.Devices)
	}

	// HQ was told: the device is marked as restored until it reports a
	// seq past the cloud's.
	fleet, err := s.cloud.Fleet.Fleet(ctx, "b1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(fleet) != 1 || fleet[0].Record == nil || fleet[0].Record.SeqBehindAt.IsZero() || !fleet[0].SeqBehind {
		t.Fatalf("fleet after the collision: %+v", fleet)
	}
	if err := sy.ReportHealth(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if fleet, _ = s.cloud.Fleet.Fleet(ctx, "b1", 0); fleet[0].SeqBehind || fleet[0].Record.Report.LastSeq != 9 {
		t.Errorf("fleet after the agent caught up: seq behind %v, last seq %d", fleet[0].SeqBehind, fleet[0].Record.Report.LastSeq)
	}
}

// TestRestoredAgentFollowsTheCloudBeforeRecording: a restored agent that
// reports its health before recording anything learns the cloud's seq and
// numbers its next events after it, with no collision at all.
func TestRestoredAgentFollowsTheCloudBeforeRecording(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	s.visits(2)
	s.sync()
	s.stop()
	backup := filepath.Join(t.TempDir(), "agent.db.backup")
	copyFile(t, s.path(), backup)
	s.open()
	s.visits(3)
	s.sync()
	s.stop()
	copyFile(t, backup, s.path())
	s.open()

	sy := s.syncer()
	if err := sy.ReportHealth(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The cloud noticed from the report (last seq 3, it holds 5).
	if fleet, err := s.cloud.Fleet.Fleet(ctx, "b1", 0); err != nil || !fleet[0].SeqBehind {
		t.Errorf("fleet after the restored agent's report: %+v, %v", fleet, err)
	}
	if st, _ := s.db.State(); st.LastSeq != 5 || st.AckedSeq != 5 {
		t.Fatalf("after the health answer: last %d, acked %d; want 5, 5", st.LastSeq, st.AckedSeq)
	}
	ids := s.visits(1)
	if err := sy.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	seen, all := s.cloudEvents()
	if len(all) != 6 || seen[ids[0]] != 1 {
		t.Errorf("cloud holds %d events (new one %d times), want 6 and once", len(all), seen[ids[0]])
	}
	for _, e := range all {
		if e.Outcome != cloud.Applied {
			t.Errorf("event seq %d: %s %s", e.Seq, e.Outcome, e.Reason)
		}
	}
}
