package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockClass is the first half of the PostgreSQL advisory lock key
// taken while migrating ("memb"); the second half is a hash of the schema.
const migrationLockClass = 0x6d656d62

// migration is one numbered step for one engine.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+(\.(postgres|sqlite))?\.sql$`)

// migrations lists the steps for e in version order: every NNNN_x.sql,
// plus NNNN_x.<engine>.sql for e only.
func migrations(e Engine) ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int]string{}
	for _, path := range names {
		name := strings.TrimPrefix(path, "migrations/")
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("sqlstore: migration file %s: want NNNN_name.sql or NNNN_name.<postgres|sqlite>.sql", name)
		}
		if m[3] != "" && Engine(m[3]) != e {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		raw, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: schemaFor(e, string(raw))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the migrations not yet recorded in schema_migrations, in
// order, in one transaction holding the lock (see the package doc).
func (d *DB) migrate(ctx context.Context) error {
	steps, err := migrations(d.engine)
	if err != nil {
		return err
	}
	return d.apply(ctx, steps)
}

// apply applies steps not yet recorded, all or none: a step that fails
// rolls back every step of this start, leaving the schema as it was for
// the previous binary (a failed upgrade never strands the old one).
func (d *DB) apply(ctx context.Context, steps []migration) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if d.engine == Postgres {
		// Released by commit or rollback, so it cannot be left behind on
		// a pooled connection.
		if _, err := tx.ExecContext(ctx, `select pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`, int32(migrationLockClass)); err != nil {
			return fmt.Errorf("sqlstore: take the migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, schemaFor(d.engine, `create table if not exists schema_migrations (
		version    integer primary key,
		name       text not null,
		applied_at timestamptz not null
	)`)); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `select version from schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	known := map[int]bool{}
	for _, m := range steps {
		known[m.version] = true
	}
	for v := range done {
		if !known[v] {
			return fmt.Errorf("sqlstore: the database has migration %04d, which this binary does not know: it was written by a newer version", v)
		}
	}
	for _, m := range steps {
		if done[m.version] {
			continue
		}
		// No arguments: several statements may run in one call on both
		// drivers.
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("sqlstore: apply migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `insert into schema_migrations (version, name, applied_at) values ($1, $2, $3)`, m.version, m.name, now()); err != nil {
			return fmt.Errorf("sqlstore: record migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: commit: %w", err)
	}
	return nil
}

// Ready says whether the store can serve: the database answers and every
// migration this binary knows is applied (a restore may have brought back
// an older schema under a running process).
func (d *DB) Ready(ctx context.Context) error {
	if err := d.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: database %s does not answer: %w", d.target, err)
	}
	if d.read != d.write {
		if err := d.read.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: database %s does not answer reads: %w", d.target, err)
		}
	}
	steps, err := migrations(d.engine)
	if err != nil {
		return err
	}
	rows, err := d.read.QueryContext(ctx, `select version from schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	for _, m := range steps {
		if !applied[m.version] {
			return fmt.Errorf("sqlstore: migration %s is not applied", m.name)
		}
	}
	return nil
}
