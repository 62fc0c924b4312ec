package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/memberpass/memberpass/cloud"
)

// scanPage is how many records Scan reads per query. Scan reads a page
// whole and closes it before calling fn, so fn may use the transaction
// (Get each event of a log) and memory stays bounded whatever the kind's
// size.
const scanPage = 256

// txn is one cloud.Tx. cloud.Tx's methods take no context, so the one given
// to Update or View is kept for the statements run inside it.
//
// Writes are buffered and sent in one pipelined batch: before a query that
// could see them (Scan, Count) and at commit. Reads go through the buffer
// and a cache of what this transaction already read, and sequences are
// taken with one locking read each and counted locally. A push of a
// thousand events thus costs a few round trips per event for what it must
// read, instead of one per record read and written.
type txn struct {
	ctx context.Context
	tx  pgx.Tx
	// failed is the first statement error: PostgreSQL aborts the whole
	// transaction on it, so runTx must not commit, and retries if it was a
	// serialization conflict.
	failed error

	pending map[recKey]cached // writes not yet sent; a nil value deletes
	order   []recKey          // pending keys in the order first written
	cache   map[recKey]cached // what this transaction read or wrote
	seqs    map[seqKey]*seqState
}

type recKey struct{ brand, kind, key string }

type seqKey struct{ brand, name string }

// cached is a record's value as this transaction knows it; ok is false for
// a record known to be absent.
type cached struct {
	value []byte
	ok    bool
}

type seqState struct {
	value uint64
	dirty bool
}

func newTxn(ctx context.Context, tx pgx.Tx) *txn {
	return &txn{ctx: ctx, tx: tx, pending: map[recKey]cached{}, cache: map[recKey]cached{}, seqs: map[seqKey]*seqState{}}
}

// fail remembers the first error of the transaction and wraps err with
// what was being done.
func (t *txn) fail(err error, format string, args ...any) error {
	if t.failed == nil {
		t.failed = err
	}
	return fmt.Errorf("pgstore: "+format+": %w", append(args, err)...)
}

// bytesArg makes nil an empty bytea: pgx sends a nil slice as NULL.
func bytesArg(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (t *txn) Get(brand, kind string, key []byte) ([]byte, error) {
	k := recKey{brand, kind, string(key)}
	if c, ok := t.pending[k]; ok {
		return cloneIf(c), nil
	}
	if c, ok := t.cache[k]; ok {
		return cloneIf(c), nil
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, `select value from records where brand_id = $1 and kind = $2 and key = $3`,
		brand, kind, bytesArg(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		t.cache[k] = cached{}
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(err, "get %s/%s/%x", brand, kind, key)
	}
	t.cache[k] = cached{value: bytesArg(v), ok: true}
	return bytes.Clone(bytesArg(v)), nil
}

// Prefetch implements cloud.Prefetcher: one query for many keys; what it
// finds (and what it does not) is cached for the Gets that follow.
func (t *txn) Prefetch(brand, kind string, keys [][]byte) error {
	var want [][]byte
	for _, k := range keys {
		rk := recKey{brand, kind, string(k)}
		if _, ok := t.pending[rk]; ok {
			continue
		}
		if _, ok := t.cache[rk]; ok {
			continue
		}
		t.cache[rk] = cached{} // absent unless the query finds it
		want = append(want, bytesArg(k))
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := t.tx.Query(t.ctx, `select key, value from records where brand_id = $1 and kind = $2 and key = any($3)`, brand, kind, want)
	if err != nil {
		return t.fail(err, "prefetch %d records of %s/%s", len(want), brand, kind)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return t.fail(err, "prefetch %s/%s", brand, kind)
		}
		t.cache[recKey{brand, kind, string(k)}] = cached{value: bytesArg(v), ok: true}
	}
	if err := rows.Err(); err != nil {
		return t.fail(err, "prefetch %s/%s", brand, kind)
	}
	return nil
}

func cloneIf(c cached) []byte {
	if !c.ok {
		return nil
	}
	return bytes.Clone(c.value)
}

func (t *txn) write(k recKey, c cached) {
	if _, ok := t.pending[k]; !ok {
		t.order = append(t.order, k)
	}
	t.pending[k] = c
	t.cache[k] = c
}

func (t *txn) Put(brand, kind string, key, value []byte) error {
	t.write(recKey{brand, kind, string(key)}, cached{value: bytes.Clone(bytesArg(value)), ok: true})
	return nil
}

func (t *txn) Delete(brand, kind string, key []byte) error {
	t.write(recKey{brand, kind, string(key)}, cached{})
	return nil
}

// flushBatch bounds the statements sent in one batch.
const flushBatch = 2000

// flush sends the buffered writes and sequence values.
func (t *txn) flush() error {
	if t.failed != nil {
		return t.failed
	}
	b := &pgx.Batch{}
	send := func() error {
		if b.Len() == 0 {
			return nil
		}
		n := b.Len()
		res := t.tx.SendBatch(t.ctx, b)
		for range n {
			if _, err := res.Exec(); err != nil {
				res.Close()
				return t.fail(err, "write %d buffered records", n)
			}
		}
		if err := res.Close(); err != nil {
			return t.fail(err, "write %d buffered records", n)
		}
		b = &pgx.Batch{}
		return nil
	}
	for _, k := range t.order {
		c := t.pending[k]
		if c.ok {
			b.Queue(`insert into records (brand_id, kind, key, value) values ($1, $2, $3, $4)
				on conflict (brand_id, kind, key) do update set value = excluded.value`, k.brand, k.kind, []byte(k.key), bytesArg(c.value))
		} else {
			b.Queue(`delete from records where brand_id = $1 and kind = $2 and key = $3`, k.brand, k.kind, []byte(k.key))
		}
		if b.Len() == flushBatch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	for k, s := range t.seqs {
		if s.dirty {
			b.Queue(`insert into sequences (brand_id, name, value) values ($1, $2, $3)
				on conflict (brand_id, name) do update set value = excluded.value`, k.brand, k.name, int64(s.value))
			s.dirty = false
		}
	}
	if err := send(); err != nil {
		return err
	}
	clear(t.pending)
	t.order = t.order[:0]
	return nil
}

type record struct {
	key, value []byte
}

func (t *txn) Scan(brand, kind string, from []byte, fn func(key, value []byte) (bool, error)) error {
	// Buffered writes of this kind are merged into what the database
	// returns, so a scan needs no flush.
	var mine []recKey
	for _, k := range t.order {
		if k.brand == brand && k.kind == kind && k.key >= string(from) {
			mine = append(mine, k)
		}
	}
	slices.SortFunc(mine, func(a, b recKey) int { return strings.Compare(a.key, b.key) })
	// emitPending sends the buffered records with keys below limit (all
	// when limit is nil); it reports whether to go on.
	emitPending := func(limit []byte) (bool, error) {
		for len(mine) > 0 && (limit == nil || mine[0].key < string(limit)) {
			k := mine[0]
			mine = mine[1:]
			if c := t.pending[k]; c.ok {
				if more, err := fn([]byte(k.key), bytes.Clone(c.value)); err != nil || !more {
					return false, err
				}
			}
		}
		return true, nil
	}
	// The first page includes from itself; the next ones start after the
	// last key seen.
	query := `select key, value from records where brand_id = $1 and kind = $2 and key >= $3 order by key limit $4`
	after := bytesArg(from)
	page := make([]record, 0, scanPage)
	for {
		rows, err := t.tx.Query(t.ctx, query, brand, kind, after, scanPage)
		if err != nil {
			return t.fail(err, "scan %s/%s from %x", brand, kind, after)
		}
		page = page[:0]
		for rows.Next() {
			var r record
			if err := rows.Scan(&r.key, &r.value); err != nil {
				rows.Close()
				return t.fail(err, "scan %s/%s from %x", brand, kind, after)
			}
			page = append(page, record{key: bytesArg(r.key), value: bytesArg(r.value)})
		}
		if err := rows.Err(); err != nil {
			return t.fail(err, "scan %s/%s from %x", brand, kind, after)
		}
		for _, r := range page {
			if more, err := emitPending(r.key); err != nil || !more {
				return err
			}
			if len(mine) > 0 && mine[0].key == string(r.key) {
				continue // a buffered write or delete replaces it; dealt with by the next emitPending
			}
			if more, err := fn(r.key, r.value); err != nil || !more {
				return err
			}
		}
		if len(page) < scanPage {
			_, err := emitPending(nil)
			return err
		}
		after = page[len(page)-1].key
		query = `select key, value from records where brand_id = $1 and kind = $2 and key > $3 order by key limit $4`
	}
}

func (t *txn) Count(brand, kind string) (uint64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	var n int64
	err := t.tx.QueryRow(t.ctx, `select count(*) from records where brand_id = $1 and kind = $2`, brand, kind).Scan(&n)
	if err != nil {
		return 0, t.fail(err, "count %s/%s", brand, kind)
	}
	return uint64(n), nil
}

// NextSeq takes the next number from a row of the sequences table, not a
// PostgreSQL SEQUENCE: a sequence's numbers are not rolled back with the
// transaction, and the service relies on numbers being taken only by
// committed work. The first use in a transaction reads the row with a lock
// (FOR UPDATE), so concurrent takers wait rather than race; later numbers
// are counted here and the last one is written with the other writes. Two
// transactions that both find no row yet conflict when the second writes,
// and the serializable transaction is retried.
func (t *txn) NextSeq(brand, sequence string) (uint64, error) {
	k := seqKey{brand, sequence}
	s, ok := t.seqs[k]
	if !ok {
		var n int64
		err := t.tx.QueryRow(t.ctx, `select value from sequences where brand_id = $1 and name = $2 for update`, brand, sequence).Scan(&n)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, t.fail(err, "next number of sequence %s/%s", brand, sequence)
		}
		s = &seqState{value: uint64(n)}
		t.seqs[k] = s
	}
	s.value++
	s.dirty = true
	return s.value, nil
}

var (
	_ cloud.Tx         = (*txn)(nil)
	_ cloud.Prefetcher = (*txn)(nil)
)
