package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// tx is one cloud.Tx. cloud.Tx's methods take no context, so the one given
// to Update or View is kept for the statements run inside it.
type tx struct {
	ctx context.Context
	e   Engine
	sql *sql.Tx
	// failed is the first statement error: PostgreSQL aborts the whole
	// transaction on it, so runTx must not commit, and retries if it was a
	// serialization conflict.
	failed error
	// w holds rows not yet sent (buffer.go); c what the transaction knows
	// of rows it read or wrote (cache.go).
	w *writeBuffer
	c cache
}

func newTx(ctx context.Context, e Engine, stx *sql.Tx) *tx {
	return &tx{ctx: ctx, e: e, sql: stx, w: newWriteBuffer(), c: newCache()}
}

// fail remembers the first error of the transaction and wraps err with
// what was being done.
func (t *tx) fail(err error, what string) error {
	if t.failed == nil {
		t.failed = err
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

func (t *tx) exec(what, q string, args ...any) (sql.Result, error) {
	if err := t.flushWrites(); err != nil {
		return nil, err
	}
	res, err := t.sql.ExecContext(t.ctx, q, args...)
	if err != nil {
		return nil, t.fail(err, what)
	}
	return res, nil
}

// query runs q and calls scan for each row; the rows are closed before it
// returns, so scan must not run statements itself.
func (t *tx) query(what, q string, args []any, scan func(*sql.Rows) error) error {
	if err := t.flushWrites(); err != nil {
		return err
	}
	rows, err := t.sql.QueryContext(t.ctx, q, args...)
	if err != nil {
		return t.fail(err, what)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return t.fail(err, what)
		}
	}
	if err := rows.Err(); err != nil {
		return t.fail(err, what)
	}
	return nil
}

// one reads a single row into dest; found is false when there is none.
func (t *tx) one(what, q string, args []any, dest ...any) (found bool, err error) {
	if err := t.flushWrites(); err != nil {
		return false, err
	}
	err = t.sql.QueryRowContext(t.ctx, q, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.fail(err, what)
	}
	return true, nil
}

// flush sends what the transaction holds back before it commits.
func (t *tx) flush() error { return t.flushWrites() }

// notFound is the NotFound application error for a missing record.
func notFound(format string, args ...any) error {
	return cloud.Errorf(cloud.NotFound, format+" not found", args...)
}

// now is the time recorded by the store itself (migrations).
func now() time.Time { return ts(time.Now()) }

// ts is a time as stored: UTC, to the microsecond (PostgreSQL's precision),
// so what is read back equals what was written on both engines.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nts is an optional time as stored: NULL for the zero time.
func nts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// ns is an optional string as stored: NULL for "".
func ns(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// js is a value as a JSON column; NULL for nil.
func js(v any) any {
	raw, err := json.Marshal(v)
	if err != nil || string(raw) == "null" {
		return nil
	}
	return string(raw)
}

// str scans an optional text column: NULL is "".
type str struct{ p *string }

func (s str) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = ""
	case string:
		*s.p = x
	case []byte:
		*s.p = string(x)
	default:
		return fmt.Errorf("text column holds %T", v)
	}
	return nil
}

// tm scans an optional time column: NULL is the zero time; times are UTC.
type tm struct{ p *time.Time }

func (s tm) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = time.Time{}
	case time.Time:
		*s.p = x.UTC()
	case string:
		t, err := parseTime(x)
		if err != nil {
			return err
		}
		*s.p = t
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", time.DateOnly}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time column holds %q", s)
}

// boolean scans a boolean column (an integer on SQLite).
type boolean struct{ p *bool }

func (s boolean) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = false
	case bool:
		*s.p = x
	case int64:
		*s.p = x != 0
	default:
		return fmt.Errorf("boolean column holds %T", v)
	}
	return nil
}

// u64 scans a non-negative bigint into a uint64.
type u64 struct{ p *uint64 }

func (s u64) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = 0
	case int64:
		if x < 0 {
			return fmt.Errorf("negative count %d", x)
		}
		*s.p = uint64(x)
	default:
		return fmt.Errorf("bigint column holds %T", v)
	}
	return nil
}

// blob scans a bytea column.
type blob struct{ p *[]byte }

func (s blob) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = nil
	case []byte:
		*s.p = append([]byte(nil), x...)
	case string:
		*s.p = []byte(x)
	default:
		return fmt.Errorf("bytea column holds %T", v)
	}
	return nil
}

// jsonCol scans a JSON column into p; NULL leaves it as it is.
type jsonCol struct{ p any }

func (s jsonCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(x, s.p)
	case string:
		return json.Unmarshal([]byte(x), s.p)
	}
	return fmt.Errorf("json column holds %T", v)
}

// i64 scans a nullable bigint: NULL is 0.
type i64 struct{ p *int64 }

func (s i64) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.p = 0
	case int64:
		*s.p = x
	default:
		return fmt.Errorf("bigint column holds %T", v)
	}
	return nil
}

// ids turns strings into query arguments.
func ids(prefix []any, list []string) []any {
	out := append([]any(nil), prefix...)
	for _, s := range list {
		out = append(out, s)
	}
	return out
}

// chunks splits list into runs of at most n, so an IN list stays under
// both engines' parameter limits.
func chunks(list []string, n int) [][]string {
	var out [][]string
	for len(list) > n {
		out = append(out, list[:n])
		list = list[n:]
	}
	if len(list) > 0 {
		out = append(out, list)
	}
	return out
}

var _ cloud.Tx = (*tx)(nil)
