// Package msgsql keeps the messaging service's state in SQL tables, on
// SQLite (the embedded default) or PostgreSQL, through database/sql: one
// schema (migrations/), one set of queries written with ? placeholders and
// rebound for PostgreSQL.
//
// Leases make the dispatcher safe to run in several processes and to kill
// at any moment: a message is claimed with an owner and a deadline, every
// later write checks the owner, and a message whose deadline passed while
// it was sending is handed to the next dispatcher as in doubt.
package msgsql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/memberpass/memberpass/cloud/messaging"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Engine is the SQL engine behind a Store.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Store is messaging.Store on SQL.
type Store struct {
	db     *sql.DB
	engine Engine
}

var _ messaging.Store = (*Store)(nil)

// Open opens (creating if needed) the store: a SQLite file path, or a
// PostgreSQL connection string, and applies the schema.
func Open(ctx context.Context, engine Engine, dsn string) (*Store, error) {
	var db *sql.DB
	var err error
	switch engine {
	case SQLite:
		db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate")
		if err == nil {
			// One writer connection: SQLite takes one writer at a time and
			// a second would only wait for SQLITE_BUSY.
			db.SetMaxOpenConns(1)
		}
	case Postgres:
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(16)
		}
	default:
		return nil, fmt.Errorf("messaging store: unknown engine %q", engine)
	}
	if err != nil {
		return nil, fmt.Errorf("open messaging store: %w", err)
	}
	s := &Store{db: db, engine: engine}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// DB is the store's database, for tests and the benchmark.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// rebind turns ? placeholders into $1, $2 ... for PostgreSQL.
func (s *Store) rebind(q string) string {
	if s.engine != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate messaging: %w", err)
	}
	defer tx.Rollback()
	if s.engine == Postgres {
		// Cloud processes starting together apply the schema once.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(14200)"); err != nil {
			return fmt.Errorf("migrate messaging: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS msg_schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at_ms BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate messaging: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		var one int
		err := tx.QueryRowContext(ctx, s.rebind("SELECT 1 FROM msg_schema_migrations WHERE version = ?"), version).Scan(&one)
		if err == nil {
			continue
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("migrate messaging: %w", err)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if strings.TrimSpace(stripComments(stmt)) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %s: %w", version, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO msg_schema_migrations (version, applied_at_ms) VALUES (?, ?)"), version, ms(time.Now())); err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
	}
	return tx.Commit()
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
