package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// postgresBackend opens each store on a fresh schema of the server at dsn,
// dropped on close, so runs never see each other's (or tests') data.
func postgresBackend(dsn string) backend {
	return backend{name: "PostgreSQL", open: func(ctx context.Context, _, name string) (cloud.Storage, func(), error) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("connect to PostgreSQL for the benchmark: %w", err)
		}
		defer conn.Close(ctx)
		raw := make([]byte, 6)
		rand.Read(raw)
		schema := "bench_" + name + "_" + hex.EncodeToString(raw)
		if _, err := conn.Exec(ctx, "create schema "+schema); err != nil {
			return nil, nil, fmt.Errorf("create schema %s: %w", schema, err)
		}
		drop := func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if c, err := pgx.Connect(ctx, dsn); err == nil {
				c.Exec(ctx, "drop schema "+schema+" cascade")
				c.Close(ctx)
			}
		}
		withSchema, err := searchPath(dsn, schema)
		if err != nil {
			drop()
			return nil, nil, err
		}
		db, err := sqlstore.OpenPostgres(ctx, withSchema)
		if err != nil {
			drop()
			return nil, nil, err
		}
		return db, func() { db.Close(); drop() }, nil
	}}
}

// searchPath adds search_path to a URL or key=value connection string.
func searchPath(dsn, schema string) (string, error) {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
