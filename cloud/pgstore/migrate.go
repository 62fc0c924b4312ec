package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations holds the schema, one file per step, applied in name order.
// A step, once released, is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockClass is the first half of the advisory lock key taken while
// migrating ("memb"); the second half is a hash of the schema, so processes
// sharing a schema take turns while different schemas (tests) do not wait
// for each other.
const migrationLockClass = 0x6d656d62

// migrate applies the migrations not yet recorded in schema_migrations, in
// order, in one transaction holding an advisory lock, so two processes
// starting at once do not both apply them. Running it again is a no-op.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("pgstore: list migrations: %w", err)
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The transaction-scoped lock is released by commit or rollback, so it
		// cannot be left behind on a pooled connection.
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`, int32(migrationLockClass)); err != nil {
			return fmt.Errorf("pgstore: take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `create table if not exists schema_migrations (
			version    text primary key,
			applied_at timestamptz not null default now()
		)`); err != nil {
			return fmt.Errorf("pgstore: create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `select version from schema_migrations`)
		if err != nil {
			return fmt.Errorf("pgstore: read schema_migrations: %w", err)
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("pgstore: read schema_migrations: %w", err)
		}
		done := make(map[string]bool, len(applied))
		for _, v := range applied {
			done[v] = true
		}
		for _, name := range names {
			version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
			if done[version] {
				continue
			}
			sql, err := migrations.ReadFile(name)
			if err != nil {
				return fmt.Errorf("pgstore: read migration %s: %w", version, err)
			}
			// No arguments: pgx sends it with the simple protocol, so a file
			// may hold several statements.
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("pgstore: apply migration %s: %w", version, err)
			}
			if _, err := tx.Exec(ctx, `insert into schema_migrations (version) values ($1)`, version); err != nil {
				return fmt.Errorf("pgstore: record migration %s: %w", version, err)
			}
		}
		return nil
	})
}
