// Package pgstore keeps the cloud's records in PostgreSQL, for brands that
// outgrow one machine. It implements cloud.Storage with the same behaviour
// as the embedded bbolt store (cloud/storetest checks both): records keyed
// by (brand, kind, key) in one table, per-brand sequences in another, every
// primary key starting with the brand so the schema can be distributed by
// tenant.
//
// Update runs at SERIALIZABLE isolation, so the service's read-modify-write
// logic, written for bbolt's single writer, sees the same serial order; a
// transaction that loses a serialization conflict or a deadlock is rolled
// back and its function run again, a bounded number of times. View runs in
// a read-only REPEATABLE READ transaction: one consistent snapshot.
//
// Open applies the embedded schema migrations (migrations/*.sql) before it
// returns.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/memberpass/memberpass/cloud"
)

// DB is a cloud.Storage on PostgreSQL.
type DB struct {
	pool *pgxpool.Pool
	// maxAttempts bounds how many times Update runs fn when transactions
	// keep losing serialization conflicts.
	maxAttempts int
	// backoff is the first retry's delay bound; it doubles up to maxBackoff,
	// and each delay is drawn at random below the bound (full jitter) so
	// conflicting writers do not retry in lockstep.
	backoff, maxBackoff time.Duration
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string; pool settings such as pool_max_conns and runtime
// parameters such as search_path may be given in it) and brings the schema
// up to date.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors leave out the password.
		return nil, fmt.Errorf("pgstore: connection string: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect to %s: %w", target(cfg), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect to %s: %w", target(cfg), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, maxAttempts: 20, backoff: 2 * time.Millisecond, maxBackoff: 200 * time.Millisecond}, nil
}

// Target says which server and database the store uses, without
// credentials, for logs.
func (d *DB) Target() string { return target(d.pool.Config()) }

func target(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// Close waits for connections in use to be returned and closes them all.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Update implements cloud.Storage. fn may run more than once (after a
// serialization failure or a deadlock); only the last run's writes are
// committed.
func (d *DB) Update(ctx context.Context, fn func(cloud.Tx) error) error {
	bound := d.backoff
	for attempt := 1; ; attempt++ {
		err := d.runTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, fn)
		if err == nil || !retryable(err) || attempt >= d.maxAttempts || ctx.Err() != nil {
			if err != nil && retryable(err) {
				return fmt.Errorf("pgstore: update gave up after %d attempts: %w", attempt, err)
			}
			return err
		}
		wait := time.Duration(rand.Int64N(int64(bound)) + 1)
		bound = min(2*bound, d.maxBackoff)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("pgstore: update: %w (while retrying after %v)", ctx.Err(), err)
		}
	}
}

// View implements cloud.Storage.
func (d *DB) View(ctx context.Context, fn func(cloud.Tx) error) error {
	return d.runTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// runTx runs fn once in a transaction, committing if it returns nil.
func (d *DB) runTx(ctx context.Context, opts pgx.TxOptions, fn func(cloud.Tx) error) (err error) {
	ptx, err := d.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("pgstore: begin transaction: %w", err)
	}
	defer func() {
		// After a commit this is a no-op. A rollback must be sent even when
		// ctx is done; if it cannot be, pgx closes the connection.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = ptx.Rollback(rctx)
	}()
	t := newTxn(ctx, ptx)
	if err := fn(t); err != nil {
		// fn may have replaced a conflict with its own error; the conflict
		// still decides whether to run fn again.
		if t.failed != nil && retryable(t.failed) && !retryable(err) {
			return fmt.Errorf("%w (after %w)", err, t.failed)
		}
		return err
	}
	if t.failed != nil {
		// fn went on after a failed statement: PostgreSQL has aborted the
		// transaction, so nothing it did can be committed.
		return fmt.Errorf("pgstore: transaction aborted by an earlier error that was not returned: %w", t.failed)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	return nil
}

// retryable reports whether a transaction failed only because it ran at the
// same time as another: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", // serialization_failure
		"40P01": // deadlock_detected
		return true
	}
	return false
}

var _ cloud.Storage = (*DB)(nil)
