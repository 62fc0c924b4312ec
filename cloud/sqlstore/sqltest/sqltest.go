// Package sqltest opens the cloud's store for tests on both engines: SQLite
// in the test's temporary directory and PostgreSQL in a fresh schema of the
// test server (cloud/pgstore/pgtest; a test fails, never skips, when that
// server is down).
package sqltest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// OpenSQLite opens the store on a new SQLite file, closed when the test ends.
func OpenSQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "cloud.sqlite"))
	if err != nil {
		t.Fatalf("open the cloud store on SQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenPostgres opens the store on a fresh PostgreSQL schema.
func OpenPostgres(t testing.TB) *sqlstore.DB { return pgtest.Open(t) }

// Engines are the store on every engine, by name, for tests that run on
// each.
var Engines = map[string]func(testing.TB) cloud.Storage{
	"sqlite":   func(t testing.TB) cloud.Storage { return OpenSQLite(t) },
	"postgres": func(t testing.TB) cloud.Storage { return OpenPostgres(t) },
}
