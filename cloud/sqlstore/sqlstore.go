// Package sqlstore keeps the cloud's state in a relational schema, one
// schema on two engines through database/sql: SQLite (modernc.org/sqlite,
// pure Go, a file in the data directory: the embedded default) and
// PostgreSQL (pgx). It implements cloud.Storage; cloud/storetest checks it
// on both engines.
//
// # Schema and migrations
//
// The schema is a list of numbered SQL files in migrations/, embedded in
// the binary and applied in number order when a store opens. A file is
// named NNNN_what.sql; the number is its version, recorded in the table
// schema_migrations once applied, so each file runs once per database. A
// released file is never edited: a change is a new file. Numbers are
// handed out in ranges so parallel work never collides:
//
//	0001-0099 store (this package's core tables)
//	0100-0199 trust (HQ accounts, roles, audit)
//	0200-0299 messaging
//	0300-0399 campaigns
//	0400-0499 vouchers
//	0500-0599 install
//	0600-0699 reports
//
// Files are written in PostgreSQL's dialect, kept to what SQLite also
// reads; the few type names that differ are rewritten for SQLite in one
// place (dialect.go: bytea -> blob, timestamptz -> timestamp, jsonb ->
// text), so one file serves both. Where a step truly differs, give it two
// files with the same number: NNNN_what.postgres.sql and
// NNNN_what.sqlite.sql; each engine applies only its own. Every table's
// key starts with brand_id and every query filters by it (docs/scale.md).
//
// Migrations run in one transaction under a lock, so several cloud
// processes starting at once apply each file once: on PostgreSQL a
// transaction-scoped advisory lock (keyed by the schema, so test schemas do
// not wait for each other); on SQLite the database's write lock (BEGIN
// IMMEDIATE). A database newer than the binary (a version recorded that no
// file has) is refused rather than used.
//
// # Transactions
//
// On PostgreSQL, Update runs at SERIALIZABLE isolation, so the service's
// read-modify-write logic sees one serial order; a transaction that loses
// a serialization conflict or a deadlock is rolled back and run again, a
// bounded number of times. View runs read-only at REPEATABLE READ. On
// SQLite, writes go through one connection (SQLite has one writer; one
// connection avoids SQLITE_BUSY) and reads through a pool of their own over
// WAL snapshots.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/memberpass/memberpass/cloud"
)

// DB is a cloud.Storage on SQLite or PostgreSQL.
type DB struct {
	engine Engine
	// write runs Update; read runs View. On PostgreSQL they are one pool.
	write, read *sql.DB
	target      string
	// maxAttempts bounds how many times Update runs fn when transactions
	// keep losing serialization conflicts.
	maxAttempts int
	// backoff is the first retry's delay bound; it doubles up to
	// maxBackoff, each delay drawn at random below it (full jitter) so
	// conflicting writers do not retry in lockstep.
	backoff, maxBackoff time.Duration
}

// OpenSQLite opens (creating if need be) the SQLite database at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	dsn := func(extra ...string) string {
		params := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)"}, extra...) {
			params.Add("_pragma", p)
		}
		params.Set("_time_format", "sqlite")
		return params.Encode()
	}
	// Writes take the write lock when they begin (IMMEDIATE), so a
	// transaction never fails half-way upgrading a read lock.
	write, err := sql.Open("sqlite", "file:"+path+"?"+dsn()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1) // one writer: SQLite serialises writes anyway
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", "file:"+path+"?"+dsn("query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	d := newDB(SQLite, write, read, path)
	if err := d.start(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres://
// URL or a key=value string; runtime parameters such as search_path may be
// given in it) and brings its schema up to date.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors leave out the password.
		return nil, fmt.Errorf("sqlstore: connection string: %w", err)
	}
	target := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	d := newDB(Postgres, db, db, target)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect to %s: %w", target, err)
	}
	if err := d.start(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func newDB(e Engine, write, read *sql.DB, target string) *DB {
	return &DB{engine: e, write: write, read: read, target: target, maxAttempts: 60, backoff: 2 * time.Millisecond, maxBackoff: 500 * time.Millisecond}
}

func (d *DB) start(ctx context.Context) error {
	if err := d.migrate(ctx); err != nil {
		return err
	}
	return nil
}

// Engine says which database the store runs on.
func (d *DB) Engine() Engine { return d.engine }

// Target says where the store is (a file, or host:port/database without
// credentials), for logs.
func (d *DB) Target() string { return d.target }

// SQL returns the connection pool for writes, for tools (benchmarks,
// exports) that speak SQL to the schema directly.
func (d *DB) SQL() *sql.DB { return d.write }

// Close closes the database.
func (d *DB) Close() error {
	err := d.write.Close()
	if d.read != d.write {
		err = errors.Join(err, d.read.Close())
	}
	return err
}

// Update implements cloud.Storage. fn may run more than once (after a
// serialization failure or a deadlock); only the last run's writes are
// committed.
func (d *DB) Update(ctx context.Context, fn func(cloud.Tx) error) error {
	bound := d.backoff
	opts := &sql.TxOptions{}
	if d.engine == Postgres {
		opts.Isolation = sql.LevelSerializable
	}
	for attempt := 1; ; attempt++ {
		err := d.runTx(ctx, d.write, opts, fn)
		if err == nil || !retryable(err) || attempt >= d.maxAttempts || ctx.Err() != nil {
			if err != nil && retryable(err) {
				return fmt.Errorf("sqlstore: update gave up after %d attempts: %w", attempt, err)
			}
			return err
		}
		wait := time.Duration(rand.Int64N(int64(bound)) + 1)
		bound = min(2*bound, d.maxBackoff)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("sqlstore: update: %w (while retrying after %v)", ctx.Err(), err)
		}
	}
}

// View implements cloud.Storage.
func (d *DB) View(ctx context.Context, fn func(cloud.Tx) error) error {
	opts := &sql.TxOptions{}
	if d.engine == Postgres {
		opts.Isolation, opts.ReadOnly = sql.LevelRepeatableRead, true
	}
	return d.runTx(ctx, d.read, opts, fn)
}

// runTx runs fn once in a transaction, committing if it returns nil.
func (d *DB) runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(cloud.Tx) error) error {
	stx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlstore: begin transaction: %w", err)
	}
	t := newTx(ctx, d.engine, stx)
	if err := fn(t); err != nil {
		stx.Rollback()
		// fn may have replaced a conflict with its own error; the conflict
		// still decides whether to run fn again.
		if t.failed != nil && retryable(t.failed) && !retryable(err) {
			return fmt.Errorf("%w (after %w)", err, t.failed)
		}
		return err
	}
	if t.failed != nil && d.engine == Postgres {
		// fn went on after a failed statement: PostgreSQL has aborted the
		// transaction, so nothing it did can be committed.
		stx.Rollback()
		return fmt.Errorf("sqlstore: transaction aborted by an earlier error that was not returned: %w", t.failed)
	}
	if err := t.flush(); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// retryable reports whether a transaction failed only because it ran at
// the same time as another: a serialization failure or a deadlock on
// PostgreSQL, a busy database on SQLite.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", // serialization_failure
			"40P01": // deadlock_detected
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// isUniqueViolation reports whether err is a duplicate key.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return strings.Contains(err.Error(), "UNIQUE constraint")
}

var _ cloud.Storage = (*DB)(nil)

// Schema names the PostgreSQL schema the store's tables are in (the first
// of the search path); "" on SQLite.
func (d *DB) Schema(ctx context.Context) string {
	if d.engine != Postgres {
		return ""
	}
	var s string
	if err := d.write.QueryRowContext(ctx, `select current_schema()`).Scan(&s); err != nil {
		return ""
	}
	return s
}
