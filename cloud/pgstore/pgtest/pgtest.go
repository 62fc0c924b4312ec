// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server, dropped when the test ends, so tests of several packages can
// share one server and run in parallel; Open opens the cloud's store
// (cloud/sqlstore) on one.
//
// The server is MEMBERPASS_TEST_POSTGRES_URL, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. A test that
// cannot reach it fails, saying how to start it: it is never skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// DefaultURL is the test server when MEMBERPASS_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the test server's connection string.
func URL() string {
	if u := os.Getenv("MEMBERPASS_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

const howToStart = "start PostgreSQL with `make deps` or " +
	"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, " +
	"or point MEMBERPASS_TEST_POSTGRES_URL at a server where you may create schemas"

// Schema makes a fresh, empty schema, dropped when the test ends, and
// returns a connection string whose connections use it.
func Schema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := URL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL for tests is not reachable (%v): %s", err, howToStart)
	}
	defer conn.Close(ctx)
	raw := make([]byte, 8)
	rand.Read(raw)
	schema := "t_" + hex.EncodeToString(raw)
	if _, err := conn.Exec(ctx, "create schema "+schema); err != nil {
		t.Fatalf("create test schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "drop schema "+schema+" cascade"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath adds search_path to a URL or key=value connection string;
// pgx sends it as a run-time parameter on every connection.
func withSearchPath(t testing.TB, conn, schema string) string {
	t.Helper()
	if !strings.Contains(conn, "://") {
		return fmt.Sprintf("%s search_path=%s", conn, schema)
	}
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatalf("MEMBERPASS_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens the cloud's store on PostgreSQL in a fresh schema, closed when
// the test ends.
func Open(t testing.TB) *sqlstore.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlstore.OpenPostgres(ctx, Schema(t))
	if err != nil {
		t.Fatalf("open the cloud store on PostgreSQL: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
