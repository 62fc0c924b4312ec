package pgstore

import (
	"context"
	"errors"
	"fmt"

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
type txn struct {
	ctx context.Context
	tx  pgx.Tx
	// failed is the first statement error: PostgreSQL aborts the whole
	// transaction on it, so runTx must not commit, and retries if it was a
	// serialization conflict.
	failed error
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
	var v []byte
	err := t.tx.QueryRow(t.ctx, `select value from records where brand_id = $1 and kind = $2 and key = $3`,
		brand, kind, bytesArg(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(err, "get %s/%s/%x", brand, kind, key)
	}
	return bytesArg(v), nil
}

func (t *txn) Put(brand, kind string, key, value []byte) error {
	_, err := t.tx.Exec(t.ctx, `insert into records (brand_id, kind, key, value) values ($1, $2, $3, $4)
		on conflict (brand_id, kind, key) do update set value = excluded.value`,
		brand, kind, bytesArg(key), bytesArg(value))
	if err != nil {
		return t.fail(err, "put %s/%s/%x", brand, kind, key)
	}
	return nil
}

func (t *txn) Delete(brand, kind string, key []byte) error {
	_, err := t.tx.Exec(t.ctx, `delete from records where brand_id = $1 and kind = $2 and key = $3`,
		brand, kind, bytesArg(key))
	if err != nil {
		return t.fail(err, "delete %s/%s/%x", brand, kind, key)
	}
	return nil
}

type record struct {
	key, value []byte
}

func (t *txn) Scan(brand, kind string, from []byte, fn func(key, value []byte) (bool, error)) error {
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
			more, err := fn(r.key, r.value)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1].key
		query = `select key, value from records where brand_id = $1 and kind = $2 and key > $3 order by key limit $4`
	}
}

func (t *txn) Count(brand, kind string) (uint64, error) {
	var n int64
	err := t.tx.QueryRow(t.ctx, `select count(*) from records where brand_id = $1 and kind = $2`, brand, kind).Scan(&n)
	if err != nil {
		return 0, t.fail(err, "count %s/%s", brand, kind)
	}
	return uint64(n), nil
}

// NextSeq takes the next number with a row update, not a PostgreSQL
// SEQUENCE: a sequence's numbers are not rolled back with the transaction,
// and the service relies on numbers being taken only by committed work.
// Concurrent takers wait for the row lock, so none gets the same number.
func (t *txn) NextSeq(brand, sequence string) (uint64, error) {
	var n int64
	err := t.tx.QueryRow(t.ctx, `insert into sequences (brand_id, name, value) values ($1, $2, 1)
		on conflict (brand_id, name) do update set value = sequences.value + 1
		returning value`, brand, sequence).Scan(&n)
	if err != nil {
		return 0, t.fail(err, "next number of sequence %s/%s", brand, sequence)
	}
	return uint64(n), nil
}

var _ cloud.Tx = (*txn)(nil)
