package cloudsync_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/localstore"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// lockedLog collects log output for assertions.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runSyncer(t *testing.T, db *localstore.DB, cloud pb.SyncServiceServer, tune func(*cloudsync.Syncer)) (*cloudsync.Syncer, *lockedLog) {
	t.Helper()
	srv := grpc.NewServer()
	pb.RegisterSyncServiceServer(srv, cloud)
	conn, err := grpc.NewClient(serveGRPC(t, srv), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var out lockedLog
	s := cloudsync.New(db, conn, slog.New(slog.NewTextHandler(&out, nil)))
	s.Interval, s.MinBackoff, s.MaxBackoff = 20*time.Millisecond, 10*time.Millisecond, 40*time.Millisecond
	tune(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, &out
}

func TestStaleReplicaIsReported(t *testing.T) {
	db := agentWithOutbox(t, 0)
	if err := db.ApplyChanges(nil, 7, true, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	down := &fakeCloud{
		push: func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
			return nil, status.Error(codes.Unavailable, "down")
		},
		pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			return nil, status.Error(codes.Unavailable, "down")
		},
	}
	s, out := runSyncer(t, db, down, func(s *cloudsync.Syncer) { s.StaleAfter = 30 * time.Minute })
	poll(t, "the replica reported stale", func() bool { return s.Status().ReplicaStale })
	if log := out.String(); !strings.Contains(log, "replica is stale") || !strings.Contains(log, "replica_age=1h0m0s") {
		t.Fatalf("log does not say the replica is stale and how old:\n%s", log)
	}
}

func TestRevokedDeviceIsToldApart(t *testing.T) {
	db := agentWithOutbox(t, 3)
	revoked := &fakeCloud{
		push: func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
			return nil, status.Error(codes.PermissionDenied, "device shop-1-d1 was revoked by HQ")
		},
		pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) { return nil, errors.New("unreachable") },
	}
	s, out := runSyncer(t, db, revoked, func(*cloudsync.Syncer) {})
	poll(t, "the refusal", func() bool { return s.Status().Refused && s.Status().Failures >= 3 })
	if n := strings.Count(out.String(), "the cloud refuses this device's credentials"); n != 1 {
		t.Fatalf("the refusal is logged %d times, want once (not on every retry):\n%s", n, out.String())
	}
	if st, _ := db.State(); st.Pending != 3 {
		t.Fatalf("outbox %d, want the 3 events kept", st.Pending)
	}
}

func TestReplicaRebuild(t *testing.T) {
	db := agentWithOutbox(t, 0)
	if err := db.ApplyChanges([]agent.Change{{Seq: 8, Member: &agent.Member{ID: "stray", Name: "left over"}}}, 8, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var cursors []uint64
	cloud := &fakeCloud{
		push: func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error) { return &pb.PushEventsResponse{}, nil },
		pull: func(r *pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			mu.Lock()
			cursors = append(cursors, r.GetCursor())
			mu.Unlock()
			// Two pages from scratch; the cloud's log holds members 1 and 2.
			switch r.GetCursor() {
			case 0:
				return &pb.PullChangesResponse{NextCursor: 1, More: true, Changes: []*pb.Change{{Seq: 1, Body: &pb.Change_Member{Member: &pb.MemberSnapshot{Id: "1", Name: "王芳"}}}}}, nil
			case 1:
				return &pb.PullChangesResponse{NextCursor: 2, Changes: []*pb.Change{{Seq: 2, Body: &pb.Change_Member{Member: &pb.MemberSnapshot{Id: "2", Name: "李雷"}}}}}, nil
			}
			return &pb.PullChangesResponse{NextCursor: r.GetCursor()}, nil
		},
	}
	s, out := runSyncer(t, db, cloud, func(s *cloudsync.Syncer) { s.RequestRebuild() })
	poll(t, "the rebuild to finish", func() bool { return strings.Contains(out.String(), "replica rebuilt from scratch") })
	_ = s
	if _, err := db.Member("stray"); !errors.Is(err, localstore.ErrUnknown) {
		t.Fatalf("stray member survived the rebuild: %v", err)
	}
	for _, id := range []string{"1", "2"} {
		if _, err := db.Member(id); err != nil {
			t.Fatalf("member %s missing after the rebuild: %v", id, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cursors) < 2 || cursors[0] != 0 {
		t.Fatalf("pulls from cursors %v, want a pull from 0", cursors)
	}
}
