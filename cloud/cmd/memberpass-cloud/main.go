// Command memberpass-cloud is the central service: sync for store agents
// and administration for HQ, over gRPC.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	listen      string
	dataDir     string
	storage     string
	postgresURL string
	adminToken  string
	logLevel    string
	logFormat   string
	showVer     bool
	maintain    time.Duration
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "memberpass-cloud:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("memberpass-cloud", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:7070", "address for the gRPC API (sync for agents, admin for HQ)")
	fs.StringVar(&c.dataDir, "data-dir", "data/cloud", "directory for the embedded bbolt database and the generated HQ token")
	fs.StringVar(&c.storage, "storage", "bbolt", "where the cloud keeps its state: bbolt (a file in --data-dir) or postgres (--postgres-url)")
	fs.StringVar(&c.postgresURL, "postgres-url", "", "PostgreSQL connection string for --storage postgres, e.g. postgres://memberpass@db:5432/memberpass")
	fs.StringVar(&c.adminToken, "admin-token", "", "HQ token for the admin API; empty: read or create <data-dir>/admin.token")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.maintain, "maintenance-interval", time.Hour, "how often to review tiers and expire points and coupons for every brand (0: never)")
	fs.BoolVar(&c.showVer, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: memberpass-cloud [flags]\n\nThe central service of the memberpass loyalty system.\nEvery flag can also be set by the environment variable MEMBERPASS_<FLAG>\n(upper case, dashes as underscores), e.g. MEMBERPASS_DATA_DIR.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := envOverrides(fs); err != nil {
		return c, err
	}
	if err := c.checkStorage(); err != nil {
		return c, err
	}
	return c, nil
}

// envOverrides sets each flag not given on the command line from
// MEMBERPASS_<NAME>.
func envOverrides(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "MEMBERPASS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !given[f.Name] && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func run(args []string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if c.showVer {
		fmt.Fprintln(os.Stdout, "memberpass-cloud", version)
		return nil
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	token, err := adminToken(c, log)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	store, where, err := openStorage(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()

	svc := loyalty.New(store, log)
	srv, health := grpcapi.NewServer(grpcapi.Config{Service: svc, Log: log, AdminToken: token})
	lis, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.listen, err)
	}
	log.Info("cloud serving", "addr", lis.Addr().String(), "data_dir", c.dataDir, "storage", c.storage, "storage_at", where, "version", version)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	if c.maintain > 0 {
		go svc.RunSchedule(ctx, c.maintain, svc.BrandIDs)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		log.Warn("requests still running after 10s; stopping them")
		srv.Stop()
	}
	log.Info("stopped")
	return nil
}

// adminToken returns the configured HQ token, or the one kept in the data
// directory, making it on first start.
func adminToken(c config, log *slog.Logger) (string, error) {
	if c.adminToken != "" {
		return c.adminToken, nil
	}
	path := filepath.Join(c.dataDir, "admin.token")
	if raw, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(raw)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read HQ token: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write HQ token: %w", err)
	}
	log.Info("HQ token created", "path", path)
	return token, nil
}
