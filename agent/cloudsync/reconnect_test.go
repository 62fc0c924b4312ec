package cloudsync_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/memberpass/memberpass/agent/cloudsync"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// flakyListener drops every connection it accepts while down, as a shop
// line does that resets or stalls connections before their handshake
// completes, and counts them.
type flakyListener struct {
	net.Listener
	down    atomic.Bool
	dropped atomic.Int64
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.down.Load() {
			return c, err
		}
		l.dropped.Add(1)
		c.Close()
	}
}

// TestReconnectBackoffCapped: after many failed dials (a long outage) the
// connection keeps redialling at most ReconnectBackoff apart, so a push
// gets through soon after the cloud is reachable again. gRPC's default
// backoff (1 s growing 1.6-fold to 120 s) makes at most 7 dials in 30 s
// and, after a few minutes of outage, waits two minutes before the next.
func TestReconnectBackoffCapped(t *testing.T) {
	lis := &flakyListener{Listener: listen(t)}
	lis.down.Store(true)
	srv := grpc.NewServer()
	pb.RegisterSyncServiceServer(srv, &fakeCloud{push: func(r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
		return &pb.PushEventsResponse{AckedSeq: r.GetEvents()[len(r.GetEvents())-1].GetSeq()}, nil
	}})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(), append(cloudsync.DialOptions(),
		cloudsync.ReconnectBackoff(100*time.Millisecond),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := agentWithOutbox(t, 5)
	s := cloudsync.New(db, conn, slog.New(slog.DiscardHandler))
	s.CallTimeout = time.Second

	// The outage: the syncer keeps failing, the connection keeps dialling.
	const dials = 20
	if err := pollUntil(30*time.Second, func() (bool, error) {
		if err := s.Push(context.Background()); err == nil {
			return false, fmt.Errorf("push through a line that drops every connection succeeded")
		}
		return lis.dropped.Load() >= dials, nil
	}); err != nil {
		t.Fatalf("%v: %d dials, want %d (is the reconnect backoff capped?)", err, lis.dropped.Load(), dials)
	}

	// The line is back: the next dial connects and the outbox drains.
	lis.down.Store(false)
	if err := pollUntil(30*time.Second, func() (bool, error) {
		return s.Push(context.Background()) == nil, nil
	}); err != nil {
		t.Fatalf("push after the line came back: %v", err)
	}
	if st, err := db.State(); err != nil || st.AckedSeq != 5 {
		t.Fatalf("acked seq %d (%v), want 5", st.AckedSeq, err)
	}
}

// pollUntil calls cond every 20 ms until it is true, fails, or timeout
// passes.
func pollUntil(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done within %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
