package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// fill gives a store one brand with one member; the backup must carry it.
func fill(t *testing.T, db *sqlstore.DB, brand string) {
	t.Helper()
	svc := loyalty.New(db, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := svc.CreateBrand(ctx, brand, "Brand "+brand, "CNY"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateMember(ctx, brand, loyalty.NewMember{Phone: "13700000001", Name: "王芳"}); err != nil {
		t.Fatal(err)
	}
}

func members(t *testing.T, db *sqlstore.DB, brand string) uint64 {
	t.Helper()
	st, err := loyalty.New(db, slog.New(slog.DiscardHandler)).Stats(context.Background(), brand)
	if cloud.IsNotFound(err) {
		return 0 // the brand itself is not there (made after the backup)
	}
	if err != nil {
		t.Fatalf("stats of %s: %v", brand, err)
	}
	return st.Members
}

func command(t *testing.T, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (make deps installs it): %v", name, err)
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestSQLiteOnlineBackup runs the documented backup (sqlite3's VACUUM INTO)
// while the cloud's store is open and written, then restores the copy: it
// opens, is ready and holds what was there at the backup.
func TestSQLiteOnlineBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "cloud.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	fill(t, live, "before")
	backup := filepath.Join(dir, "cloud-backup.sqlite")
	command(t, "sqlite3", filepath.Join(dir, "cloud.sqlite"), "VACUUM INTO '"+backup+"'")
	fill(t, live, "after") // still serving while and after the backup ran

	restored, err := sqlstore.OpenSQLite(ctx, backup)
	if err != nil {
		t.Fatalf("open the restored backup: %v", err)
	}
	defer restored.Close()
	if err := restored.Ready(ctx); err != nil {
		t.Errorf("restored backup not ready: %v", err)
	}
	if n := members(t, restored, "before"); n != 1 {
		t.Errorf("restored backup holds %d members of brand before, want 1", n)
	}
	if n := members(t, live, "after"); n != 1 {
		t.Fatalf("live store holds %d members of brand after, want 1", n)
	}
	if n := members(t, restored, "after"); n != 0 {
		t.Errorf("restored backup holds %d members made after the backup", n)
	}
}

// TestPostgresDumpRestore runs the documented pg_dump -Fc / pg_restore
// into a new database and opens the cloud's store on it.
func TestPostgresDumpRestore(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	live, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	fill(t, live, "b1")
	var schema string
	if err := live.SQL().QueryRowContext(ctx, `select current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	host, port, user := base.Hostname(), base.Port(), base.User.Username()
	dump := filepath.Join(t.TempDir(), "memberpass.dump")
	command(t, "pg_dump", "-h", host, "-p", port, "-U", user, "-d", strings.TrimPrefix(base.Path, "/"), "-n", schema, "-Fc", "-f", dump)

	raw := make([]byte, 6)
	rand.Read(raw)
	restoreDB := "restore_" + hex.EncodeToString(raw)
	admin, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "create database "+restoreDB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, pgtest.URL()); err == nil {
			c.Exec(ctx, "drop database if exists "+restoreDB+" with (force)")
			c.Close(ctx)
		}
	})
	command(t, "pg_restore", "-h", host, "-p", port, "-U", user, "-d", restoreDB, "--exit-on-error", dump)

	target := *base
	target.Path = "/" + restoreDB
	q := target.Query()
	q.Set("search_path", schema)
	target.RawQuery = q.Encode()
	restored, err := sqlstore.OpenPostgres(ctx, target.String())
	if err != nil {
		t.Fatalf("open the restored database: %v", err)
	}
	defer restored.Close()
	if err := restored.Ready(ctx); err != nil {
		t.Errorf("restored database not ready: %v", err)
	}
	if n := members(t, restored, "b1"); n != 1 {
		t.Errorf("restored database holds %d members, want 1", n)
	}
}
