package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/localstore"
)

// bareBolt is the baseline for every durable write: a bbolt file with the
// agent's options, one 256-byte value per fsynced Update.
type bareBolt struct {
	db  *bolt.DB
	seq atomic.Uint64
	val []byte
}

var bareBucket = []byte("bench")

func openBareBolt(path string) (*bareBolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType, InitialMmapSize: 32 << 20})
	if err != nil {
		return nil, fmt.Errorf("open baseline bbolt %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bareBucket); return err })
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create baseline bucket: %w", err)
	}
	return &bareBolt{db: db, val: make([]byte, 256)}, nil
}

// put writes one value in its own transaction, fsynced.
func (b *bareBolt) put() error {
	k := binary.BigEndian.AppendUint64(nil, b.seq.Add(1))
	return b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bareBucket).Put(k, b.val) })
}

func (b *bareBolt) Close() error { return b.db.Close() }

// timeEach runs fn n times in a row and returns the sorted latencies.
func timeEach(n int, fn func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	slices.Sort(out)
	return out, nil
}

// throughput runs fn on workers goroutines for d and returns calls per
// second.
func throughput(workers int, d time.Duration, fn func() error) (float64, error) {
	var (
		n     atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := fn(); err != nil {
					once.Do(func() { first = err })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), first
}

func sampleVisit() agent.Event {
	return agent.Event{
		OccurredAt: time.Now().UTC(), StoreID: "s0001", MemberID: "12345", Kind: agent.EventVisit,
		Visit: &agent.Visit{IdentifiedBy: agent.ByMemberCode, IdentifierHint: "****ABCD"},
	}
}

// durableWrites measures the confirm -> recorded latency and the group
// commit's throughput, each against one fsynced bbolt write per event.
func durableWrites(ctx context.Context, o Options) ([]Row, error) {
	dir, err := scratch(o, "durable")
	if err != nil {
		return nil, err
	}
	bare, err := openBareBolt(filepath.Join(dir, "bare.db"))
	if err != nil {
		return nil, err
	}
	defer bare.Close()
	db, err := localstore.Open(filepath.Join(dir, "agent.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()

	n := pick(o.Quick, 200, 1000)
	// Interleave the two in rounds so both see the same disk weather.
	var recLat, bareLat []time.Duration
	for range 4 {
		l, err := timeEach(n/4, bare.put)
		if err != nil {
			return nil, fmt.Errorf("baseline write: %w", err)
		}
		bareLat = append(bareLat, l...)
		l, err = timeEach(n/4, func() error { _, err := db.Record(ctx, sampleVisit()); return err })
		if err != nil {
			return nil, err
		}
		recLat = append(recLat, l...)
	}
	slices.Sort(recLat)
	slices.Sort(bareLat)
	rows := []Row{{
		Measure:  fmt.Sprintf("confirm → recorded (localstore.Record, fsynced), 1 caller, p50 / p99 (n=%d)", len(recLat)),
		Figure:   ms(percentile(recLat, 0.5)) + " / " + ms(percentile(recLat, 0.99)),
		Baseline: "bare bbolt Update of 256 B: " + ms(percentile(bareLat, 0.5)) + " / " + ms(percentile(bareLat, 0.99)),
		Ratio:    ratio(float64(percentile(recLat, 0.99)) / float64(percentile(bareLat, 0.99))),
	}}

	// Three alternating rounds of each, so both see the same disk weather.
	const rounds = 3
	d := pick(o.Quick, 300*time.Millisecond, time.Second)
	for _, workers := range []int{16, 64} {
		var base, gc float64
		for range rounds {
			b, err := throughput(workers, d, bare.put)
			if err != nil {
				return rows, fmt.Errorf("baseline writes: %w", err)
			}
			g, err := throughput(workers, d, func() error { _, err := db.Record(ctx, sampleVisit()); return err })
			if err != nil {
				return rows, err
			}
			base, gc = base+b/rounds, gc+g/rounds
		}
		rows = append(rows, Row{
			Measure:  fmt.Sprintf("durable events/s, group commit, %d concurrent recorders", workers),
			Figure:   perSec(gc),
			Baseline: fmt.Sprintf("one fsynced Update per event, %d writers: %s", workers, perSec(base)),
			Ratio:    ratio(gc / base), Target: "≥ 10x", Met: met(gc/base >= 10),
		})
	}
	return rows, nil
}
