// Package loadgen drives one cloud with many simulated store agents. Each
// simulated agent is paired through the real Pair RPC, holds its own gRPC
// connection and credentials, and pushes visits at a steady rate with
// consecutive seqs, resending whatever the cloud did not acknowledge, as a
// real agent's outbox does. It reports the sustained acknowledged events
// per second and the acknowledgement latency of each push.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/agent/cloudsync"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// Config says what load to make.
type Config struct {
	// Addr is the cloud's gRPC address; AdminToken its HQ token.
	Addr, AdminToken string
	// Brand is created for the run; it must not exist yet.
	Brand string
	// Stores is the number of simulated agents, one store each.
	Stores int
	// Members is how many members the brand gets (through the admin API).
	Members int
	// Rate is each store's events per second; Batch the events per push.
	Rate  float64
	Batch int
	// Duration is how long the stores push, after they are all paired.
	Duration time.Duration
	// SetupWorkers bounds the concurrent admin and pairing calls.
	SetupWorkers int
	Log          *slog.Logger
	// OnPushStart, if set, is called once setup is done, just before the
	// stores start pushing (to start a profile, say).
	OnPushStart func()
}

// Result is what a run measured.
type Result struct {
	Stores   int
	Pushes   int
	Events   uint64 // acknowledged during the run
	Failures int
	Elapsed  time.Duration
	// Offered is the events per second the stores tried to send.
	Offered float64
	// Latencies of successful pushes, sorted.
	Latencies []time.Duration
	Setup     time.Duration
}

// EventsPerSecond is the sustained acknowledged rate.
func (r Result) EventsPerSecond() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// Percentile returns the q-quantile (0 < q <= 1) of the push latencies.
func (r Result) Percentile(q float64) time.Duration { return Percentile(r.Latencies, q) }

// Percentile returns the q-quantile of sorted durations (nearest rank).
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}
func (tokenCreds) RequireTransportSecurity() bool { return false }

// store is one simulated agent.
type store struct {
	id      string
	conn    *grpc.ClientConn
	client  pb.SyncServiceClient
	nextSeq uint64
	pending []*pb.Event // sent or to send, not yet acknowledged
}

// Run pairs cfg.Stores agents, then has them push for cfg.Duration.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Stores <= 0 || cfg.Rate <= 0 || cfg.Duration <= 0 {
		return Result{}, errors.New("loadgen: stores, rate and duration must be positive")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1
	}
	if cfg.Members <= 0 {
		cfg.Members = 100
	}
	if cfg.SetupWorkers <= 0 {
		cfg.SetupWorkers = 16
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	setupStart := time.Now()
	stores, members, err := setup(ctx, cfg)
	defer func() {
		for _, s := range stores {
			if s != nil && s.conn != nil {
				s.conn.Close()
			}
		}
	}()
	if err != nil {
		return Result{}, err
	}
	res := Result{Stores: cfg.Stores, Offered: cfg.Rate * float64(cfg.Stores), Setup: time.Since(setupStart)}
	cfg.Log.Info("stores paired; pushing", "stores", cfg.Stores, "setup", res.Setup.Round(time.Millisecond), "offered_events_per_s", res.Offered)

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	interval := time.Duration(float64(cfg.Batch) / cfg.Rate * float64(time.Second))
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		acked     atomic.Uint64
		wg        sync.WaitGroup
	)
	if cfg.OnPushStart != nil {
		cfg.OnPushStart()
	}
	start := time.Now()
	for _, s := range stores {
		wg.Go(func() {
			// A random phase, so stores do not push in step.
			next := start.Add(rand.N(interval))
			var lat []time.Duration
			fails := 0
			for {
				if !sleepUntil(runCtx, next) {
					break
				}
				next = next.Add(interval)
				for range cfg.Batch {
					s.nextSeq++
					s.pending = append(s.pending, visit(s, members))
				}
				batch := s.pending[:min(len(s.pending), 500)]
				t0 := time.Now()
				cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
				resp, err := s.client.PushEvents(cctx, &pb.PushEventsRequest{Events: batch})
				ccancel()
				d := time.Since(t0)
				if err != nil {
					fails++
					continue
				}
				lat = append(lat, d)
				n := 0
				for n < len(s.pending) && s.pending[n].GetSeq() <= resp.GetAckedSeq() {
					n++
				}
				s.pending = s.pending[n:]
				if runCtx.Err() == nil {
					acked.Add(uint64(n))
				}
				if now := time.Now(); next.Before(now) {
					next = now // the cloud is slower than the offered rate: push back to back
				}
			}
			mu.Lock()
			latencies = append(latencies, lat...)
			failures += fails
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = min(time.Since(start), cfg.Duration)
	slices.Sort(latencies)
	res.Latencies, res.Pushes, res.Failures, res.Events = latencies, len(latencies), failures, acked.Load()
	return res, nil
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

func visit(s *store, members []string) *pb.Event {
	id, _ := uuid.NewV7()
	return &pb.Event{
		Id: id.String(), Seq: s.nextSeq, OccurredAt: timestamppb.Now(), StoreId: s.id,
		MemberId: members[rand.N(len(members))],
		Body:     &pb.Event_Visit{Visit: &pb.Visit{IdentifiedBy: pb.Identification_IDENTIFICATION_CARD, IdentifierHint: "****0001"}},
	}
}

// setup creates the brand, its members and stores, and pairs one agent per
// store.
func setup(ctx context.Context, cfg Config) ([]*store, []string, error) {
	adminConn, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(tokenCreds(cfg.AdminToken)))
	if err != nil {
		return nil, nil, fmt.Errorf("cloud address %q: %w", cfg.Addr, err)
	}
	defer adminConn.Close()
	admin := pb.NewAdminServiceClient(adminConn)
	if _, err := admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: cfg.Brand, Name: "Load " + cfg.Brand, Currency: "CNY"}); err != nil {
		return nil, nil, fmt.Errorf("create brand %s: %w", cfg.Brand, err)
	}
	members := make([]string, cfg.Members)
	err = parallel(ctx, cfg.SetupWorkers, cfg.Members, func(i int) error {
		m, err := admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: cfg.Brand, Phone: fmt.Sprintf("137%08d", i+1), Name: "load " + strconv.Itoa(i+1)})
		if err != nil {
			return fmt.Errorf("create member %d: %w", i+1, err)
		}
		members[i] = m.GetId()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	stores := make([]*store, cfg.Stores)
	err = parallel(ctx, cfg.SetupWorkers, cfg.Stores, func(i int) error {
		id := fmt.Sprintf("s%04d", i+1)
		cs, err := admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: cfg.Brand, Id: id, Name: "Store " + id})
		if err != nil {
			return fmt.Errorf("create store %s: %w", id, err)
		}
		plain, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		ident, err := cloudsync.Pair(ctx, plain, cs.GetPairingCode(), "load-"+id)
		plain.Close()
		if err != nil {
			return fmt.Errorf("store %s: %w", id, err)
		}
		conn, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: ident.BrandID, DeviceID: ident.DeviceID, Secret: ident.Secret, Insecure: true}))
		if err != nil {
			return err
		}
		stores[i] = &store{id: ident.StoreID, conn: conn, client: pb.NewSyncServiceClient(conn)}
		// Connect now, so the first measured push does not pay for it.
		conn.Connect()
		for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
			if st == connectivity.TransientFailure || !conn.WaitForStateChange(ctx, st) {
				return fmt.Errorf("store %s: connect to %s: %s", id, cfg.Addr, st)
			}
		}
		return nil
	})
	return stores, members, err
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
