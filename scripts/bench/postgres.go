package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	return backend{name: "PostgreSQL", dsn: dsn, open: func(ctx context.Context, _, name string) (cloud.Storage, func(), error) {
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

// copyCeiling is the baseline for applying events on PostgreSQL: the same
// events as rows of the cloud's events table, copied (COPY) into a staging
// table and moved with one INSERT ... SELECT ... ON CONFLICT DO NOTHING,
// the fastest idempotent way in (../shared/FACTS.md), in a fresh schema of
// the same server. It returns rows/s.
func copyCeiling(ctx context.Context, dsn string, events []cloud.Event) (float64, error) {
	db, closeDB, err := postgresBackend(dsn).open(ctx, "", "ceiling")
	if err != nil {
		return 0, err
	}
	defer closeDB()
	withSchema, err := searchPath(dsn, db.(*sqlstore.DB).Schema(ctx))
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, withSchema)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	cols := []string{"brand_id", "event_id", "log_seq", "device_id", "seq", "store_id", "member_id", "kind", "outcome", "occurred_at", "received_at", "detail"}
	now := time.Now().UTC()
	rows := make([][]any, len(events))
	for i, e := range events {
		detail, _ := json.Marshal(map[string]any{"Visit": e.Visit})
		rows[i] = []any{"bench", e.ID, int64(i + 1), "d1", int64(e.Seq), e.StoreID, e.MemberID, string(e.Kind), "applied", e.OccurredAt, now, string(detail)}
	}
	t0 := time.Now()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `create temp table staging (like events including defaults) on commit drop`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"staging"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `insert into events select * from staging on conflict do nothing`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("COPY-staging ceiling: %w", err)
	}
	return float64(len(rows)) / time.Since(t0).Seconds(), nil
}
