// Package localcloud runs the cloud service inside the calling process, on a
// loopback listener, for benchmarks and load drivers. It also seeds a
// brand's members straight into the storage, many per transaction, so a
// cloud holding 100,000 members is ready in seconds.
package localcloud

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// Cloud is a running in-process cloud.
type Cloud struct {
	Addr    string
	Service *loyalty.Service
	Storage cloud.Storage
	// Fleet keeps health reports when the storage can (cloud/sqlstore).
	Fleet *fleet.Service
	srv   *grpc.Server
	done  chan error
}

// Start serves svc's gRPC API on a free loopback port. The caller keeps
// ownership of storage (Stop does not close it).
func Start(storage cloud.Storage, adminToken string, log *slog.Logger) (*Cloud, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	svc := loyalty.New(storage, log)
	var fleetSvc *fleet.Service
	if fs, ok := storage.(fleet.Store); ok {
		fleetSvc = fleet.New(fs, storage, log)
	}
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: svc, Log: log, AdminToken: adminToken, Fleet: fleetSvc})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	c := &Cloud{Addr: lis.Addr().String(), Service: svc, Storage: storage, Fleet: fleetSvc, srv: srv, done: make(chan error, 1)}
	go func() { c.done <- srv.Serve(lis) }()
	return c, nil
}

// Stop ends the server, letting calls in flight finish.
func (c *Cloud) Stop() {
	c.srv.GracefulStop()
	<-c.done
}

// CardOf is the card number seeded for member i (1-based).
func CardOf(i int) string { return fmt.Sprintf("77%08d", i) }

// SeedMembers adds members 1..n to a brand that has none yet, each with a
// phone and one card, perTx members per transaction. Member i gets ID
// strconv.Itoa(i) and card CardOf(i). It returns the brand's last change
// seq, which a replica holding every member has reached.
func SeedMembers(ctx context.Context, storage cloud.Storage, brandID string, n, perTx int) (uint64, error) {
	if perTx <= 0 {
		perTx = 5000
	}
	var last uint64
	now := time.Now().UTC()
	for start := 1; start <= n; start += perTx {
		end := min(start+perTx-1, n)
		err := storage.Update(ctx, func(tx cloud.Tx) error {
			b, err := tx.Brand(brandID)
			if err != nil {
				return err
			}
			tier := b.Programme.BaseTier().ID
			for i := start; i <= end; i++ {
				id, err := tx.NextSeq(brandID, "member")
				if err != nil {
					return err
				}
				if id != uint64(i) {
					return fmt.Errorf("brand %s already has members: next id %d, want %d", brandID, id, i)
				}
				m := cloud.Member{
					BrandID: brandID, ID: strconv.Itoa(i), Phone: fmt.Sprintf("139%08d", i),
					Name: "会员 " + strconv.Itoa(i), Cards: []string{CardOf(i)}, CreatedAt: now,
					TierID: tier, TierSince: now,
				}
				if err := tx.PutMember(m); err != nil {
					return err
				}
				if _, err := tx.AppendChange(brandID, cloud.ChangeMember, m.ID); err != nil {
					return err
				}
				if err := tx.PutCard(cloud.Card{BrandID: brandID, Number: CardOf(i), MemberID: m.ID}); err != nil {
					return err
				}
				if last, err = tx.AppendChange(brandID, cloud.ChangeCard, CardOf(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("seed members %d..%d of brand %s: %w", start, end, brandID, err)
		}
	}
	return last, nil
}
