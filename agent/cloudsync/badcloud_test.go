package cloudsync_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
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

// fakeCloud answers sync calls however a test wants.
type fakeCloud struct {
	pb.UnimplementedSyncServiceServer
	push func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error)
	pull func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error)
}

func (f *fakeCloud) PushEvents(_ context.Context, r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
	return f.push(r)
}

func (f *fakeCloud) PullChanges(_ context.Context, r *pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
	return f.pull(r)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	return lis
}

func serveGRPC(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis := listen(t)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// rawCodec passes bytes through untouched, so a server can answer with
// bytes that are no protobuf message at all.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// agentWithOutbox is a real local store holding n recorded, unacknowledged
// visits and a replica at cursor 7.
func agentWithOutbox(t *testing.T, n int) *localstore.DB {
	t.Helper()
	db, err := localstore.Open(filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.ApplyChanges([]agent.Change{{Seq: 7, Member: &agent.Member{ID: "1", Name: "王芳"}}}, 7, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := db.Record(context.Background(), agent.Event{Kind: agent.EventVisit, MemberID: "1", StoreID: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestBadCloudAnswers(t *testing.T) {
	big := strings.Repeat("長", cloudsync.MaxResponseBytes/3+1000)
	ok := func(r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
		return &pb.PushEventsResponse{AckedSeq: r.GetEvents()[len(r.GetEvents())-1].GetSeq()}, nil
	}
	empty := func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
		return &pb.PullChangesResponse{NextCursor: 7}, nil
	}
	tests := []struct {
		name    string
		push    func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error)
		pull    func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error)
		wantErr string
		code    codes.Code
	}{
		{name: "unavailable", push: func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
			return nil, status.Error(codes.Unavailable, "down for maintenance")
		}, pull: empty, wantErr: "down for maintenance", code: codes.Unavailable},
		{name: "internal error", push: func(*pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
			return nil, errors.New("disk on fire")
		}, pull: empty, wantErr: "disk on fire", code: codes.Unknown},
		{name: "ack beyond what was sent", push: func(r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
			return &pb.PushEventsResponse{AckedSeq: 1 << 40}, nil
		}, pull: empty, wantErr: "beyond the last event sent"},
		{name: "ack below what was sent", push: func(r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
			return &pb.PushEventsResponse{AckedSeq: 0}, nil
		}, pull: empty, wantErr: "missing earlier events"},
		{name: "cursor going back", push: ok, pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			return &pb.PullChangesResponse{NextCursor: 3}, nil
		}, wantErr: "behind ours"},
		{name: "change out of order", push: ok, pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			return &pb.PullChangesResponse{NextCursor: 9, Changes: []*pb.Change{
				{Seq: 9, Body: &pb.Change_Member{Member: &pb.MemberSnapshot{Id: "1", Name: "x"}}},
				{Seq: 8, Body: &pb.Change_Member{Member: &pb.MemberSnapshot{Id: "1", Name: "y"}}},
			}}, nil
		}, wantErr: "out of order"},
		{name: "member with a 1 KB name", push: ok, pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			return &pb.PullChangesResponse{NextCursor: 8, Changes: []*pb.Change{
				{Seq: 8, Body: &pb.Change_Member{Member: &pb.MemberSnapshot{Id: "1", Name: strings.Repeat("x", 1024)}}},
			}}, nil
		}, wantErr: "longer than"},
		{name: "more promised, none sent", push: ok, pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			return &pb.PullChangesResponse{NextCursor: 7, More: true}, nil
		}, wantErr: "sent none"},
		{name: "oversized answer", push: ok, pull: func(*pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
			return &pb.PullChangesResponse{NextCursor: 8, Changes: []*pb.Change{
				{Seq: 8, Body: &pb.Change_Member{Member: &pb.MemberSnapshot{Id: "1", Name: big}}},
			}}, nil
		}, wantErr: "larger than max", code: codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := grpc.NewServer(grpc.MaxSendMsgSize(64 << 20))
			pb.RegisterSyncServiceServer(srv, &fakeCloud{push: tt.push, pull: tt.pull})
			addr := serveGRPC(t, srv)
			checkRefused(t, addr, tt.wantErr, tt.code)
		})
	}
}

func TestGarbageFromTheCloud(t *testing.T) {
	t.Run("bytes that are not HTTP/2", func(t *testing.T) {
		lis := listen(t)
		go func() {
			for {
				c, err := lis.Accept()
				if err != nil {
					return
				}
				junk := make([]byte, 4096)
				rand.Read(junk)
				c.Write(junk)
				c.Close()
			}
		}()
		checkRefused(t, lis.Addr().String(), "", codes.Unavailable)
	})
	t.Run("a message that is not protobuf", func(t *testing.T) {
		srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			var req []byte
			if err := stream.RecvMsg(&req); err != nil {
				return err
			}
			junk := []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02}
			return stream.SendMsg(&junk)
		}))
		checkRefused(t, serveGRPC(t, srv), "unmarshal", codes.Internal)
	})
}

// checkRefused syncs a store holding an outbox against the cloud at addr
// and checks that the sync fails with a clear error, the outbox and the
// replica are as they were, and the counter can still record.
func checkRefused(t *testing.T, addr, wantErr string, code codes.Code) {
	t.Helper()
	db := agentWithOutbox(t, 5)
	conn, err := grpc.NewClient(addr, append(cloudsync.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := cloudsync.New(db, conn, slog.New(slog.DiscardHandler))
	s.CallTimeout = 5 * time.Second
	before, _ := db.State()
	err = s.SyncOnce(context.Background())
	if err == nil {
		t.Fatal("sync with a bad cloud succeeded")
	}
	if wantErr != "" && !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error %q does not say %q", err, wantErr)
	}
	if code != codes.OK && status.Code(errors.Unwrap(err)) != code && !strings.Contains(err.Error(), "code = "+code.String()) {
		t.Errorf("error %q: want gRPC code %s", err, code)
	}
	if cloudsync.Permanent(err) {
		t.Errorf("a bad answer is not a revoked device: %v", err)
	}
	after, _ := db.State()
	if after.Pending > before.Pending || after.Cursor != before.Cursor && after.Cursor != 7 {
		t.Errorf("state moved on a bad answer: before %+v after %+v", before, after)
	}
	if m, err := db.Member("1"); err != nil || m.Name != "王芳" {
		t.Errorf("replica damaged: %+v %v", m, err)
	}
	if _, err := db.Record(context.Background(), agent.Event{Kind: agent.EventVisit, MemberID: "1"}); err != nil {
		t.Errorf("the counter cannot record after a bad answer: %v", err)
	}
	t.Logf("refused with: %v", err)
}

// TestSlowCloudTakesTheOutboxInPieces: a cloud that cannot apply more than
// 40 events within the agent's call timeout (a loaded database) still
// drains the outbox, because each push it did not answer in time halves
// the next one; pushing the same 1,000 events again would never end.
func TestSlowCloudTakesTheOutboxInPieces(t *testing.T) {
	const fits = 40
	var mu sync.Mutex
	var largest int
	push := func(ctx context.Context, r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
		mu.Lock()
		largest = max(largest, len(r.GetEvents()))
		mu.Unlock()
		if len(r.GetEvents()) > fits {
			<-ctx.Done() // a commit that takes longer than the caller waits
			return nil, status.Error(codes.DeadlineExceeded, "took too long")
		}
		return &pb.PushEventsResponse{AckedSeq: r.GetEvents()[len(r.GetEvents())-1].GetSeq()}, nil
	}
	srv := grpc.NewServer()
	pb.RegisterSyncServiceServer(srv, &slowCloud{push: push})
	addr := serveGRPC(t, srv)
	db := agentWithOutbox(t, 300)
	conn, err := grpc.NewClient(addr, append(cloudsync.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := cloudsync.New(db, conn, slog.New(slog.DiscardHandler))
	s.CallTimeout = 200 * time.Millisecond
	failures := 0
	for {
		err := s.Push(context.Background())
		if err == nil {
			break
		}
		if failures++; failures > 10 {
			t.Fatalf("outbox not drained after %d timed-out pushes: %v", failures, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	st, err := db.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 0 || st.AckedSeq != 300 {
		t.Fatalf("outbox after pushes: pending %d, acked %d; want 0 and 300", st.Pending, st.AckedSeq)
	}
	if largest <= fits {
		t.Errorf("the largest push carried %d events; the test wants pushes the cloud cannot take", largest)
	}
}

// slowCloud answers pushes with the caller's context, so it can wait out
// the deadline; pulls are not expected.
type slowCloud struct {
	pb.UnimplementedSyncServiceServer
	push func(context.Context, *pb.PushEventsRequest) (*pb.PushEventsResponse, error)
}

func (f *slowCloud) PushEvents(ctx context.Context, r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
	return f.push(ctx, r)
}
