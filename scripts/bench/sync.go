package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/scripts/localcloud"
)

const (
	benchBrand = "bench"
	benchStore = "s0001"
	// weekOffline is a busy store's week of visits.
	weekOffline = 20000
	syncMembers = 1000
)

// prepareBrand makes the bench brand with members and one store, and
// returns the store's pairing code.
func prepareBrand(ctx context.Context, svc *loyalty.Service, storage cloud.Storage, members int) (string, error) {
	if _, err := svc.CreateBrand(ctx, benchBrand, "Bench 茶饮", "CNY"); err != nil {
		return "", fmt.Errorf("create brand: %w", err)
	}
	if _, err := localcloud.SeedMembers(ctx, storage, benchBrand, members, 5000); err != nil {
		return "", err
	}
	_, p, err := svc.CreateStore(ctx, benchBrand, benchStore, "Bench store")
	if err != nil {
		return "", fmt.Errorf("create store: %w", err)
	}
	return p.Code, nil
}

// fillOutbox records n visits through localstore.Record, as a week of
// scans offline would.
func fillOutbox(ctx context.Context, db *localstore.DB, storeID string, n, members int) error {
	const workers = 64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				ev := sampleVisit()
				ev.StoreID, ev.MemberID = storeID, fmt.Sprint(i%members+1)
				if _, err := db.Record(ctx, ev); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func toCloud(e agent.Event) cloud.Event {
	out := cloud.Event{ID: e.ID, Seq: e.Seq, OccurredAt: e.OccurredAt, StoreID: e.StoreID, MemberID: e.MemberID, StaffID: e.StaffID, Kind: cloud.EventKind(e.Kind)}
	if e.Visit != nil {
		out.Visit = &cloud.Visit{IdentifiedBy: cloud.Identification(e.Visit.IdentifiedBy), IdentifierHint: e.Visit.IdentifierHint}
	}
	return out
}

// backend opens a fresh, empty cloud store; close releases it. quick
// backends run the baseline twice, around the real path.
type backend struct {
	name  string
	quick bool
	open  func(ctx context.Context, dir, name string) (storage cloud.Storage, close func(), err error)
	// dsn is the PostgreSQL server, for the COPY-staging ceiling.
	dsn string
}

func sqliteBackend() backend {
	return backend{name: "SQLite", quick: true, open: func(ctx context.Context, dir, name string) (cloud.Storage, func(), error) {
		db, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, name+".sqlite"))
		if err != nil {
			return nil, nil, err
		}
		return db, func() { db.Close() }, nil
	}}
}

// syncThroughput pushes a week of offline events from one agent to an
// in-process cloud over loopback gRPC, against the same events applied by
// the cloud's service directly (no gRPC, no agent), on bbolt and on
// PostgreSQL.
func syncThroughput(ctx context.Context, o Options) ([]Row, error) {
	rows, err := syncOn(ctx, o, sqliteBackend(), "sync-push.cpu.pprof")
	if err != nil {
		return rows, fmt.Errorf("SQLite: %w", err)
	}
	if o.Postgres == "" {
		return append(rows, Row{Measure: "sync throughput and catch-up, PostgreSQL", Figure: "not run (-postgres is empty)"}), nil
	}
	pg, err := syncOn(ctx, o, postgresBackend(o.Postgres), "sync-push-postgres.cpu.pprof")
	if err != nil {
		return rows, fmt.Errorf("PostgreSQL: %w", err)
	}
	return append(rows, pg...), nil
}

func syncOn(ctx context.Context, o Options, be backend, profile string) ([]Row, error) {
	dir, err := scratch(o, "sync-"+be.name)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)

	// The agent, paired with the real Pair RPC, and its week offline.
	cloudDB, closeCloud, err := be.open(ctx, dir, "cloud")
	if err != nil {
		return nil, err
	}
	defer closeCloud()
	lc, err := localcloud.Start(cloudDB, "bench", quiet)
	if err != nil {
		return nil, err
	}
	defer lc.Stop()
	code, err := prepareBrand(ctx, lc.Service, cloudDB, syncMembers)
	if err != nil {
		return nil, err
	}
	plain, err := grpc.NewClient(lc.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	id, err := cloudsync.Pair(ctx, plain, code, "bench-counter")
	plain.Close()
	if err != nil {
		return nil, err
	}
	db, err := localstore.Open(filepath.Join(dir, "agent.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.SaveIdentity(id); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := fillOutbox(ctx, db, id.StoreID, weekOffline, syncMembers); err != nil {
		return nil, fmt.Errorf("fill the outbox: %w", err)
	}
	o.Log.Info("outbox filled", "events", weekOffline, "took", time.Since(t0).Round(time.Millisecond))

	// Baseline: the same events straight into a fresh cloud's service, once
	// before the real path and (where it is quick) once after, so both see
	// the same disk weather.
	events, err := db.Events(1, weekOffline)
	if err != nil {
		return nil, err
	}
	cev := make([]cloud.Event, len(events))
	for i, e := range events {
		cev[i] = toCloud(e)
	}
	batch := cloudsync.New(db, nil, quiet).BatchSize
	var baseTimes []time.Duration
	baseline := func(name string) error {
		took, err := applyDirect(ctx, be, dir, name, cev, batch)
		baseTimes = append(baseTimes, took)
		return err
	}
	if err := baseline("baseline1"); err != nil {
		return nil, err
	}

	// The real path: cloudsync.Syncer.Push over gRPC until the outbox is empty.
	conn, err := grpc.NewClient(lc.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: id.BrandID, DeviceID: id.DeviceID, Secret: id.Secret, Insecure: true}))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	syncer := cloudsync.New(db, conn, quiet)
	prof, err := os.Create(profilePath(o, profile))
	if err != nil {
		return nil, fmt.Errorf("profile file: %w", err)
	}
	defer prof.Close()
	if err := pprof.StartCPUProfile(prof); err != nil {
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	// As the agent's sync loop does, a failed push (a call past the
	// agent's 10 s timeout on a slow cloud) is tried again; the retries
	// count in the catch-up time.
	t0 = time.Now()
	failures := 0
	for {
		err = syncer.Push(ctx)
		if err == nil || ctx.Err() != nil || failures == 20 {
			break
		}
		failures++
		o.Log.Warn("push failed; retrying as the agent would", "backend", be.name, "err", err)
	}
	syncTime := time.Since(t0)
	pprof.StopCPUProfile()
	if err != nil {
		return nil, fmt.Errorf("after %d failed pushes: %w", failures, err)
	}
	retried := ""
	if failures > 0 {
		retried = fmt.Sprintf("; %d pushes failed and were retried", failures)
	}
	st, err := db.State()
	if err != nil {
		return nil, err
	}
	if st.Pending != 0 {
		return nil, fmt.Errorf("outbox still holds %d events after the push", st.Pending)
	}
	if be.quick {
		if err := baseline("baseline2"); err != nil {
			return nil, err
		}
	}
	var baseTime time.Duration
	for _, t := range baseTimes {
		baseTime += t / time.Duration(len(baseTimes))
	}
	rate, baseRate := float64(weekOffline)/syncTime.Seconds(), float64(weekOffline)/baseTime.Seconds()
	var ceiling []Row
	if be.dsn != "" {
		c, err := copyCeiling(ctx, be.dsn, cev)
		if err != nil {
			return nil, err
		}
		ceiling = append(ceiling, Row{
			Measure:  fmt.Sprintf("sync throughput, one agent, %s, against the COPY-staging ceiling", be.name),
			Figure:   perSec(rate),
			Baseline: "the same events COPYed into a staging table and moved into events with INSERT ... SELECT ... ON CONFLICT DO NOTHING (no programme logic): " + perSec(c),
			Ratio:    ratio(rate / c),
		})
	}
	return append(ceiling, []Row{
		{
			Measure:  fmt.Sprintf("sync throughput, one agent → cloud over loopback gRPC, %s (%s events, batches of %s)", be.name, thousands(weekOffline), thousands(int64(syncer.BatchSize))),
			Figure:   perSec(rate),
			Baseline: fmt.Sprintf("same events into the cloud's store via loyalty.Service.PushEvents, no gRPC (mean of %d runs): %s", len(baseTimes), perSec(baseRate)),
			Ratio:    ratio(rate / baseRate), Target: "≥ 20,000 events/s", Met: met(rate >= 20000),
		},
		{
			Measure:  fmt.Sprintf("catch-up after a week offline (%s pending → outbox empty), %s%s", thousands(weekOffline), be.name, retried),
			Figure:   ms(syncTime),
			Baseline: "same events written straight into the cloud's store: " + ms(baseTime),
			Ratio:    ratio(float64(syncTime) / float64(baseTime)), Target: "< 2 s", Met: met(syncTime < 2*time.Second),
		},
	}...), nil
}

// applyDirect applies events through loyalty.Service.PushEvents on a fresh
// store of the backend, in batches, and returns how long it took.
func applyDirect(ctx context.Context, be backend, dir, name string, events []cloud.Event, batch int) (time.Duration, error) {
	quiet := slog.New(slog.DiscardHandler)
	store, closeStore, err := be.open(ctx, dir, name)
	if err != nil {
		return 0, err
	}
	defer closeStore()
	svc := loyalty.New(store, quiet)
	code, err := prepareBrand(ctx, svc, store, syncMembers)
	if err != nil {
		return 0, err
	}
	paired, err := svc.Pair(ctx, code, "bench-baseline")
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	for i := 0; i < len(events); i += batch {
		end := min(i+batch, len(events))
		acked, _, err := svc.PushEvents(ctx, paired.Device, events[i:end])
		if err != nil {
			return 0, fmt.Errorf("baseline push: %w", err)
		}
		if acked != uint64(end) {
			return 0, fmt.Errorf("baseline push acknowledged %d, want %d", acked, end)
		}
	}
	return time.Since(t0), nil
}
