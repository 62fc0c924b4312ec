// Package storetest is the conformance suite every cloud.Storage backend
// must pass: the same tests run against bbolt and PostgreSQL.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/memberpass/memberpass/cloud"
)

// Opener makes a fresh, empty storage for one test.
type Opener func(t *testing.T) cloud.Storage

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, cloud.Storage)
	}{
		{"GetMissing", testGetMissing},
		{"PutGetDelete", testPutGetDelete},
		{"EmptyKeyAndValue", testEmptyKeyAndValue},
		{"ScanOrderAndFrom", testScan},
		{"ScanStopsAndPropagates", testScanStop},
		{"Count", testCount},
		{"BrandsAreIsolated", testIsolation},
		{"NextSeq", testNextSeq},
		{"RollbackOnError", testRollback},
		{"ConcurrentUpdates", testConcurrent},
		{"ValuesOutliveTransaction", testValuesOutlive},
		{"TransactionSeesItsOwnWrites", testOwnWrites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.fn(t, s)
		})
	}
}

var ctx = context.Background()

func update(t *testing.T, s cloud.Storage, fn func(cloud.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s cloud.Storage, fn func(cloud.Tx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s cloud.Storage, brand, kind string, key []byte) []byte {
	t.Helper()
	var v []byte
	view(t, s, func(tx cloud.Tx) error {
		var err error
		v, err = tx.Get(brand, kind, key)
		return err
	})
	return v
}

func testGetMissing(t *testing.T, s cloud.Storage) {
	if v := get(t, s, "b1", "member", []byte("1")); v != nil {
		t.Fatalf("missing record = %q, want nil", v)
	}
}

func testPutGetDelete(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error { return tx.Put("b1", "member", []byte("1"), []byte(`{"a":1}`)) })
	if v := get(t, s, "b1", "member", []byte("1")); string(v) != `{"a":1}` {
		t.Fatalf("got %q", v)
	}
	update(t, s, func(tx cloud.Tx) error { return tx.Put("b1", "member", []byte("1"), []byte(`{"a":2}`)) })
	if v := get(t, s, "b1", "member", []byte("1")); string(v) != `{"a":2}` {
		t.Fatalf("after overwrite got %q", v)
	}
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.Delete("b1", "member", []byte("1")); err != nil {
			return err
		}
		return tx.Delete("b1", "member", []byte("never-there"))
	})
	if v := get(t, s, "b1", "member", []byte("1")); v != nil {
		t.Fatalf("after delete got %q", v)
	}
}

func testEmptyKeyAndValue(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.Put("b1", "brand", nil, []byte("x")); err != nil {
			return err
		}
		return tx.Put("b1", "flag", []byte("k"), nil)
	})
	if v := get(t, s, "b1", "brand", nil); string(v) != "x" {
		t.Fatalf("empty key: got %q", v)
	}
	if v := get(t, s, "b1", "flag", []byte("k")); v == nil || len(v) != 0 {
		t.Fatalf("empty value: got %v, want empty non-nil", v)
	}
}

func testScan(t *testing.T, s cloud.Storage) {
	keys := [][]byte{{0, 0, 0, 2}, {0, 0, 0, 1}, {0, 0, 1, 0}, {0xff}, []byte("a"), {0, 0, 0, 10}}
	update(t, s, func(tx cloud.Tx) error {
		for i, k := range keys {
			if err := tx.Put("b1", "change", k, []byte{byte(i)}); err != nil {
				return err
			}
		}
		return tx.Put("b1", "other", []byte{0}, []byte("x"))
	})
	var got [][]byte
	view(t, s, func(tx cloud.Tx) error {
		return tx.Scan("b1", "change", nil, func(k, v []byte) (bool, error) {
			got = append(got, bytes.Clone(k))
			return true, nil
		})
	})
	want := [][]byte{{0, 0, 0, 1}, {0, 0, 0, 2}, {0, 0, 0, 10}, {0, 0, 1, 0}, []byte("a"), {0xff}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("scan order %v, want %v", got, want)
	}
	got = nil
	view(t, s, func(tx cloud.Tx) error {
		return tx.Scan("b1", "change", []byte{0, 0, 0, 3}, func(k, v []byte) (bool, error) {
			got = append(got, bytes.Clone(k))
			return true, nil
		})
	})
	if fmt.Sprint(got) != fmt.Sprint(want[2:]) {
		t.Fatalf("scan from {0,0,0,3} = %v, want %v", got, want[2:])
	}
	view(t, s, func(tx cloud.Tx) error {
		return tx.Scan("b1", "nothing-here", nil, func(k, v []byte) (bool, error) {
			t.Errorf("scan of an empty kind saw %q", k)
			return true, nil
		})
	})
}

func testScanStop(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error {
		for i := range 5 {
			if err := tx.Put("b1", "k", []byte{byte(i)}, []byte{byte(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	n := 0
	view(t, s, func(tx cloud.Tx) error {
		return tx.Scan("b1", "k", nil, func(k, v []byte) (bool, error) {
			n++
			return n < 2, nil
		})
	})
	if n != 2 {
		t.Fatalf("scan went on after false: %d calls", n)
	}
	boom := errors.New("boom")
	err := s.View(ctx, func(tx cloud.Tx) error {
		return tx.Scan("b1", "k", nil, func(k, v []byte) (bool, error) { return true, boom })
	})
	if !errors.Is(err, boom) {
		t.Fatalf("scan error = %v, want boom", err)
	}
}

func testCount(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error {
		for i := range 7 {
			if err := tx.Put("b1", "member", []byte{byte(i)}, []byte("m")); err != nil {
				return err
			}
		}
		return tx.Delete("b1", "member", []byte{3})
	})
	view(t, s, func(tx cloud.Tx) error {
		n, err := tx.Count("b1", "member")
		if err != nil {
			return err
		}
		if n != 6 {
			t.Errorf("count = %d, want 6", n)
		}
		if n, err = tx.Count("b2", "member"); err != nil || n != 0 {
			t.Errorf("count of another brand = %d, %v; want 0", n, err)
		}
		return nil
	})
}

func testIsolation(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.Put("b1", "member", []byte("1"), []byte("one")); err != nil {
			return err
		}
		if err := tx.Put("b2", "member", []byte("1"), []byte("two")); err != nil {
			return err
		}
		return tx.Put("", "pairing", []byte("1"), []byte("global"))
	})
	for brand, want := range map[string]string{"b1": "one", "b2": "two", "": "global"} {
		kind := "member"
		if brand == "" {
			kind = "pairing"
		}
		if v := get(t, s, brand, kind, []byte("1")); string(v) != want {
			t.Errorf("brand %q: got %q, want %q", brand, v, want)
		}
	}
	var seen []string
	view(t, s, func(tx cloud.Tx) error {
		return tx.Scan("b1", "member", nil, func(k, v []byte) (bool, error) {
			seen = append(seen, string(v))
			return true, nil
		})
	})
	if len(seen) != 1 || seen[0] != "one" {
		t.Fatalf("scan of b1 saw %v", seen)
	}
}

func testNextSeq(t *testing.T, s cloud.Storage) {
	var got []uint64
	update(t, s, func(tx cloud.Tx) error {
		for _, spec := range []struct{ brand, seq string }{{"b1", "member"}, {"b1", "member"}, {"b1", "change"}, {"b2", "member"}, {"b1", "member"}} {
			n, err := tx.NextSeq(spec.brand, spec.seq)
			if err != nil {
				return err
			}
			got = append(got, n)
		}
		return nil
	})
	if fmt.Sprint(got) != "[1 2 1 1 3]" {
		t.Fatalf("sequences %v, want [1 2 1 1 3]", got)
	}
}

func testRollback(t *testing.T, s cloud.Storage) {
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx cloud.Tx) error {
		if err := tx.Put("b1", "member", []byte("1"), []byte("x")); err != nil {
			return err
		}
		if _, err := tx.NextSeq("b1", "member"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if v := get(t, s, "b1", "member", []byte("1")); v != nil {
		t.Fatalf("rolled-back write is visible: %q", v)
	}
	update(t, s, func(tx cloud.Tx) error {
		n, err := tx.NextSeq("b1", "member")
		if n != 1 {
			t.Errorf("sequence after rollback = %d, want 1", n)
		}
		return err
	})
}

func testConcurrent(t *testing.T, s cloud.Storage) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, func(tx cloud.Tx) error {
					n, err := tx.NextSeq("b1", "ticket")
					if err != nil {
						return err
					}
					raw, err := tx.Get("b1", "counter", []byte("c"))
					if err != nil {
						return err
					}
					c := 0
					if raw != nil {
						fmt.Sscan(string(raw), &c)
					}
					if err := tx.Put("b1", "counter", []byte("c"), []byte(fmt.Sprint(c+1))); err != nil {
						return err
					}
					return tx.Put("b1", "ticket", []byte(fmt.Sprintf("%08d", n)), []byte("t"))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v := get(t, s, "b1", "counter", []byte("c")); string(v) != fmt.Sprint(workers*each) {
		t.Fatalf("counter = %s, want %d: lost updates", v, workers*each)
	}
	view(t, s, func(tx cloud.Tx) error {
		n, err := tx.Count("b1", "ticket")
		if n != workers*each {
			t.Errorf("%d distinct tickets, want %d: a sequence number was given twice", n, workers*each)
		}
		return err
	})
}

func testValuesOutlive(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error { return tx.Put("b1", "k", []byte("1"), []byte("value")) })
	v := get(t, s, "b1", "k", []byte("1"))
	update(t, s, func(tx cloud.Tx) error { return tx.Put("b1", "k", []byte("1"), bytes.Repeat([]byte("z"), 4096)) })
	if string(v) != "value" {
		t.Fatalf("value read earlier changed to %q", v[:8])
	}
}

func testOwnWrites(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error {
		for _, k := range []string{"b", "d", "f"} {
			if err := tx.Put("b1", "k", []byte(k), []byte("old-"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx cloud.Tx) error {
		// Overwrite one, delete one, add two around them, then read back
		// before committing.
		for _, w := range []struct{ k, v string }{{"d", "new-d"}, {"a", "new-a"}, {"e", "new-e"}, {"g", "new-g"}} {
			if err := tx.Put("b1", "k", []byte(w.k), []byte(w.v)); err != nil {
				return err
			}
		}
		if err := tx.Delete("b1", "k", []byte("f")); err != nil {
			return err
		}
		var got []string
		err := tx.Scan("b1", "k", []byte("b"), func(k, v []byte) (bool, error) {
			got = append(got, string(k)+"="+string(v))
			return true, nil
		})
		if err != nil {
			return err
		}
		if want := "[b=old-b d=new-d e=new-e g=new-g]"; fmt.Sprint(got) != want {
			t.Errorf("scan inside the transaction = %v, want %s", got, want)
		}
		if v, err := tx.Get("b1", "k", []byte("f")); err != nil || v != nil {
			t.Errorf("deleted record reads %q, %v", v, err)
		}
		if v, err := tx.Get("b1", "k", []byte("a")); err != nil || string(v) != "new-a" {
			t.Errorf("new record reads %q, %v", v, err)
		}
		n, err := tx.Count("b1", "k")
		if n != 5 {
			t.Errorf("count inside the transaction = %d, want 5", n)
		}
		return err
	})
	var got []string
	view(t, s, func(tx cloud.Tx) error {
		return tx.Scan("b1", "k", nil, func(k, v []byte) (bool, error) {
			got = append(got, string(k))
			return true, nil
		})
	})
	if fmt.Sprint(got) != "[a b d e g]" {
		t.Fatalf("after commit: %v", got)
	}
}
