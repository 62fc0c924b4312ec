package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/localstore"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// resendAll makes the outbox look as if nothing had been acknowledged.
type resendAll struct {
	*localstore.DB
	sent     bool
	outcomes []*pb.EventOutcome
}

func (r *resendAll) Pending(limit int) ([]agent.Event, error) {
	if r.sent {
		return nil, nil
	}
	r.sent = true
	return r.Events(1, 1<<62)
}

func (r *resendAll) Ack(uint64) error { return nil }

// pushAgain sends every event of a stopped agent's database to the cloud
// once more, with the agent's own credentials, and returns the outcomes.
func pushAgain(t *testing.T, dbPath, cloudAddr string) []*pb.EventOutcome {
	t.Helper()
	db, err := localstore.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, ok, err := db.Identity()
	if err != nil || !ok {
		t.Fatalf("identity: %v %v", ok, err)
	}
	events, err := db.Events(1, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(cloudAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: id.BrandID, DeviceID: id.DeviceID, Secret: id.Secret, Insecure: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Through the agent's own sync code, so the wire form is the real one.
	rec := &recordingConn{ClientConnInterface: conn}
	syncer := cloudsync.New(&resendAll{DB: db}, rec, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := syncer.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rec.outcomes) != len(events) {
		t.Fatalf("got %d outcomes for %d events", len(rec.outcomes), len(events))
	}
	return rec.outcomes
}

// recordingConn keeps the outcomes of PushEvents calls.
type recordingConn struct {
	grpc.ClientConnInterface
	outcomes []*pb.EventOutcome
}

func (c *recordingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	err := c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
	if r, ok := reply.(*pb.PushEventsResponse); ok && err == nil {
		c.outcomes = append(c.outcomes, r.GetOutcomes()...)
	}
	return err
}
