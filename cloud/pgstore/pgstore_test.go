package pgstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/pgstore"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
	"github.com/memberpass/memberpass/cloud/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cloud.Storage { return pgtest.Open(t) })
}

// TestMigrationsOnceUnderRace starts several processes' worth of Open on one
// empty schema at once, then once more: each migration is applied once and
// every Open succeeds.
func TestMigrationsOnceUnderRace(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := pgstore.Open(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent open: %v", err)
	}
	db, err := pgstore.Open(ctx, url)
	if err != nil {
		t.Fatalf("open again: %v", err)
	}
	db.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied int
	if err := conn.QueryRow(ctx, `select count(*) from schema_migrations where version = '0001_init'`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("0001_init recorded %d times, want once", applied)
	}
}

// TestScanPagesWithGets scans more records than one page while reading
// other records inside the callback, as records.Events does, and stops
// early in a later page.
func TestScanPagesWithGets(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t)
	const n = 1000
	key := func(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }
	err := db.Update(ctx, func(tx cloud.Tx) error {
		for i := range n {
			if err := tx.Put("b1", "log", key(i), []byte{byte(i)}); err != nil {
				return err
			}
			if err := tx.Put("b1", "item", key(i), []byte{byte(i), 1}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = db.View(ctx, func(tx cloud.Tx) error {
		return tx.Scan("b1", "log", key(10), func(k, v []byte) (bool, error) {
			if want := key(10 + seen); !bytes.Equal(k, want) {
				t.Fatalf("record %d: key %x, want %x", seen, k, want)
			}
			item, err := tx.Get("b1", "item", k)
			if err != nil {
				return false, err
			}
			if !bytes.Equal(item, []byte{v[0], 1}) {
				t.Fatalf("item %x = %x", k, item)
			}
			seen++
			return seen < 700, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 700 {
		t.Fatalf("scan saw %d records, want 700", seen)
	}
}

// TestContextCancelled checks that a done context stops a transaction.
func TestContextCancelled(t *testing.T) {
	db := pgtest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := db.Update(ctx, func(tx cloud.Tx) error { return tx.Put("b1", "k", nil, []byte("x")) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update with a cancelled context = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = db.View(ctx, func(tx cloud.Tx) error {
		<-ctx.Done()
		_, err := tx.Get("b1", "k", nil)
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get after the deadline = %v, want context.DeadlineExceeded", err)
	}
}

func TestPrefetchServesGets(t *testing.T) {
	db := pgtest.Open(t)
	ctx := context.Background()
	err := db.Update(ctx, func(tx cloud.Tx) error {
		for _, k := range []string{"a", "b"} {
			if err := tx.Put("b1", "event", []byte(k), []byte("stored-"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx cloud.Tx) error {
		// A write made before the prefetch must win over what it reads.
		if err := tx.Put("b1", "event", []byte("b"), []byte("mine")); err != nil {
			return err
		}
		if err := tx.(cloud.Prefetcher).Prefetch("b1", "event", [][]byte{[]byte("a"), []byte("b"), []byte("missing")}); err != nil {
			return err
		}
		for k, want := range map[string]string{"a": "stored-a", "b": "mine", "missing": ""} {
			v, err := tx.Get("b1", "event", []byte(k))
			if err != nil {
				return err
			}
			if string(v) != want || (want == "" && v != nil) {
				t.Errorf("Get %s after prefetch = %q, want %q", k, v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
