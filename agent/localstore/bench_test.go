package localstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
)

func benchVisit() agent.Event {
	return agent.Event{
		OccurredAt: time.Now().UTC(), StoreID: "s0001", MemberID: "12345", Kind: agent.EventVisit,
		Visit: &agent.Visit{IdentifiedBy: agent.ByMemberCode, IdentifierHint: "****ABCD"},
	}
}

// recorders are the concurrent callers each benchmark runs with.
var recorders = []int{1, 16, 64}

func parallelism(callers int) int { return max(1, callers/runtime.GOMAXPROCS(0)) }

// BenchmarkRecordGroupCommit is Record (fsynced, group commit) with 1, 16
// and 64 concurrent callers; compare events/s with
// BenchmarkRecordBoltUpdatePerEvent, the same writes one fsynced bbolt
// Update each. answered=true also moves the answered mark after each
// record, as the agent does once it has answered: its cost is the
// difference between the two.
func BenchmarkRecordGroupCommit(b *testing.B) {
	for _, answered := range []bool{false, true} {
		for _, n := range recorders {
			benchRecord(b, n, answered)
		}
	}
}

func benchRecord(b *testing.B, n int, answered bool) {
	b.Run(fmt.Sprintf("answered=%v/recorders=%d", answered, n), func(b *testing.B) {
		db, err := Open(filepath.Join(b.TempDir(), "agent.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		b.SetParallelism(parallelism(n))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ev, err := db.Record(ctx, benchVisit())
				if err != nil {
					b.Error(err)
					return
				}
				if answered {
					db.MarkAnswered(ev.Seq)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkRecordBoltUpdatePerEvent is the baseline: one fsynced bbolt
// Update of a 256-byte value per event, with the database's options.
func BenchmarkRecordBoltUpdatePerEvent(b *testing.B) {
	for _, n := range recorders {
		b.Run(fmt.Sprintf("recorders=%d", n), func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType, InitialMmapSize: 32 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bEvents); return err }); err != nil {
				b.Fatal(err)
			}
			var seq atomic.Uint64
			val := make([]byte, 256)
			b.SetParallelism(parallelism(n))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := binary.BigEndian.AppendUint64(nil, seq.Add(1))
					if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bEvents).Put(k, val) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkMarkAnswered is the answered mark's own cost per event (one
// pwrite of 8 bytes, no fsync), to set beside a Record's.
func BenchmarkMarkAnswered(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "agent.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var seq uint64
	for b.Loop() {
		seq++
		db.MarkAnswered(seq)
	}
}
