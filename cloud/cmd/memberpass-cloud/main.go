// Command memberpass-cloud is the central service: sync for store agents
// and administration for HQ, over gRPC.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/memberpass/memberpass/cloud/campaign"
	campaignkv "github.com/memberpass/memberpass/cloud/campaign/books"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/memberpass/memberpass/cloud/console"
	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/groupbuy/cloudstore"
	"github.com/memberpass/memberpass/cloud/groupbuy/platforms"
	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/memberpage"
	"github.com/memberpass/memberpass/cloud/ops"
	"github.com/memberpass/memberpass/cloud/segment"
	"github.com/memberpass/memberpass/cloud/tlscert"
	"github.com/memberpass/memberpass/proto/pairing"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	listen         string
	publicAddr     string
	tlsCert        string
	tlsKey         string
	tlsCA          string
	tlsSelfSigned  bool
	tlsHosts       string
	insecure       bool
	dataDir        string
	storage        string
	postgresURL    string
	adminToken     string
	adminTokenFile string
	reflection     bool
	joinCodesLog   bool
	httpListen     string
	consoleListen  string
	publicURL      string
	codeTTL        time.Duration
	logLevel       string
	logFormat      string
	showVer        bool
	maintain       time.Duration
	campaigns      time.Duration
	msg            messagingConfig
	fleetStale     time.Duration
	groupbuy       string
	claimsEvery    time.Duration
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
	fs.StringVar(&c.publicAddr, "public-addr", "", "address agents dial to reach this cloud, written into pairing tickets; empty: the listen address")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate chain for the gRPC API (with --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key for --tls-cert")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "PEM certificate of the CA that signed --tls-cert, handed to agents at pairing and pinned in pairing tickets; empty: agents use the system's roots")
	fs.BoolVar(&c.tlsSelfSigned, "tls-self-signed", false, "make (once) a private CA and a server certificate in <data-dir>/tls and serve TLS with them; the default when no --tls-cert is given")
	fs.StringVar(&c.tlsHosts, "tls-hosts", "", "comma-separated names and addresses for the self-signed server certificate; empty: localhost, 127.0.0.1 and the host of --public-addr")
	fs.BoolVar(&c.insecure, "insecure", false, "serve plaintext gRPC without TLS (loopback and tests only: device secrets and the HQ token travel in the clear)")
	fs.StringVar(&c.dataDir, "data-dir", "data/cloud", "directory for the embedded SQLite database (cloud.sqlite), the TLS files and the generated HQ token")
	fs.StringVar(&c.storage, "storage", "sqlite", "where the cloud keeps its state: sqlite (a file in --data-dir) or postgres (--postgres-url)")
	fs.StringVar(&c.postgresURL, "postgres-url", "", "PostgreSQL connection string for --storage postgres, e.g. postgres://memberpass@db:5432/memberpass")
	fs.StringVar(&c.adminToken, "admin-token", "", "the platform operator's first HQ token; set it by MEMBERPASS_ADMIN_TOKEN or --admin-token-file, not on the command line (other users see it in the process list); empty: read or create <data-dir>/admin.token")
	fs.StringVar(&c.adminTokenFile, "admin-token-file", "", "file holding the platform operator's first HQ token; empty: <data-dir>/admin.token, made on first start")
	fs.BoolVar(&c.reflection, "reflection", false, "serve gRPC reflection (for grpcurl); it answers without credentials")
	fs.BoolVar(&c.joinCodesLog, "join-codes-to-log", false, "demo and trials only: write the join page's one-time codes to the log instead of texting them (without a text message channel members cannot join on their phones)")
	fs.StringVar(&c.httpListen, "http-listen", "", "address for the member pages (card page, join page) and the operator's /healthz, /readyz and /metrics, e.g. 127.0.0.1:7080; empty: not served")
	fs.DurationVar(&c.fleetStale, "fleet-stale-after", fleet.DefaultStaleAfter, "a store device not heard from for this long is stale (memberpass-hq stores health, memberpass_fleet_devices_stale)")
	fs.StringVar(&c.consoleListen, "console-listen", "", "address for HQ's console in the browser, e.g. 127.0.0.1:7090; empty: not served. Serve it behind HTTPS (its cookie is Secure; browsers accept that on http://localhost only)")
	fs.StringVar(&c.publicURL, "public-url", "", "public address of the member pages as members reach them (e.g. https://m.example.com), for card links; default http://<http-listen>")
	fs.DurationVar(&c.codeTTL, "member-code-ttl", 60*time.Second, "how long a member QR code stays valid; the card page refreshes it half-way")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.maintain, "maintenance-interval", time.Hour, "how often to review tiers and expire points and coupons for every brand (0: never)")
	fs.StringVar(&c.groupbuy, "groupbuy-config", "", "JSON file with each brand's group-buy platform credentials (Meituan/Dianping app key, secret, session; Douyin client key, secret, account); empty: no platform, vouchers are refused as not configured")
	fs.DurationVar(&c.claimsEvery, "voucher-claims-interval", 10*time.Second, "how often to consume with their platforms the vouchers counters accepted offline")
	fs.DurationVar(&c.campaigns, "campaign-interval", time.Minute, "how often to look for due campaign work: today's birthday, holiday, expiry and win-back runs, one-off sends, pending messages (0: never)")
	fs.BoolVar(&c.showVer, "version", false, "print the version and exit")
	registerMessagingFlags(fs, &c.msg)
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
	if len(args) > 0 && args[0] == "console-account" {
		return runAccount(args[1:], os.Stdin, os.Stdout, stderr)
	}
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
	// A directory made before (by hand, by an older version) keeps its
	// mode; it holds the database, the TLS key and the HQ token.
	if err := os.Chmod(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if c.insecure && !loopback(c.listen) {
		return fmt.Errorf("--insecure serves plaintext, which is for loopback only; --listen %s is not a loopback address", c.listen)
	}
	if onCommandLine(args, "admin-token") {
		log.Warn("--admin-token on the command line is visible to every user in the process list; use MEMBERPASS_ADMIN_TOKEN or --admin-token-file")
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
	if c.codeTTL < 2*time.Second {
		return fmt.Errorf("--member-code-ttl %s: want at least 2s", c.codeTTL)
	}
	svc.MemberCodeTTL = c.codeTTL
	if c.joinCodesLog {
		log.Warn("--join-codes-to-log: join codes go to this log, not to phones; anyone reading it can join as any phone")
		svc.JoinCodeSender = loyalty.LogCodeSender{Log: log}
	}
	campaigns := campaign.NewEngine(campaignkv.New(store), log)
	svc.OnApplied, svc.WantsEvents = campaignkv.EventHook(campaigns), campaigns.WantsEvents
	publicURL := c.publicURL
	if publicURL == "" && c.httpListen != "" {
		publicURL = "http://" + c.httpListen
	}
	msg, err := startMessaging(c, store, svc, publicURL, log)
	if err != nil {
		return err
	}
	campaigns.Messenger = campaignMessenger{svc: msg.svc, log: log}
	// The TLS identity is ready before the port opens: whoever connects
	// first already meets the final certificate.
	var (
		opts   []grpc.ServerOption
		bundle tlscert.Bundle
	)
	security := "plaintext (--insecure)"
	if c.insecure {
		log.Warn("serving WITHOUT TLS: device secrets and the HQ token cross the network in the clear; use only on loopback or in tests")
	} else {
		var mode string
		if bundle, mode, err = tlsBundle(c, cmp.Or(c.publicAddr, c.listen)); err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(bundle.ServerConfig())))
		security = "tls " + mode
		if bundle.CAFingerprint != "" {
			log.Info("agents pin this cloud's CA from their pairing ticket", "ca_sha256", bundle.CAFingerprint)
		}
	}
	lis, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.listen, err)
	}
	public := cmp.Or(c.publicAddr, lis.Addr().String())
	if h, _, err := net.SplitHostPort(public); err == nil && (h == "" || net.ParseIP(h) != nil && net.ParseIP(h).IsUnspecified()) {
		log.Warn("pairing tickets would name an address agents cannot dial; set --public-addr (and --tls-hosts) to the name stores reach this cloud by", "public_addr", public)
	}
	fleetSvc := fleet.New(store, store, log)
	fleetSvc.StaleAfter = c.fleetStale
	adapters, err := platforms.Load(c.groupbuy)
	if err != nil {
		return err
	}
	gb := groupbuy.New(cloudstore.New(store), adapters, log)
	cfg := grpcapi.Config{Service: svc, Campaigns: campaigns, Messaging: msg.svc, Log: log, AdminToken: token, Reflection: c.reflection, PublicAddr: public, CAPEM: bundle.CAPEM, CAFingerprint: bundle.CAFingerprint, MemberPageURL: publicURL, Fleet: fleetSvc, GroupBuy: gb}
	cfg.Reports = store.Reports()
	cfg.Segments = &segment.Service{Store: store.Segments()}
	srv, health := grpcapi.NewServer(cfg, opts...)
	log.Info("cloud serving", "addr", lis.Addr().String(), "public_addr", public, "security", security,
		"data_dir", c.dataDir, "storage", c.storage, "storage_at", where, "version", version)

	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(lis) }()
	var pages *http.Server
	if c.httpListen != "" {
		hl, err := net.Listen("tcp", c.httpListen)
		if err != nil {
			return fmt.Errorf("member pages: listen on %s: %w", c.httpListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/callbacks/", msg.callbacks)
		mux.Handle("/wechat/link/", msg.callbacks)
		mux.Handle("/", memberpage.New(svc, log))
		metrics := prometheus.NewRegistry()
		metrics.MustRegister(fleetSvc.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		handler := ops.Handler([]ops.Check{{Name: "database", Run: store.Ready}}, metrics, mux, log)
		pages = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
		log.Info("member pages serving", "addr", "http://"+hl.Addr().String(), "public_url", publicURL)
		go func() { errc <- pages.Serve(hl) }()
	}
	var hqConsole *http.Server
	if c.consoleListen != "" {
		db := store
		cl, err := net.Listen("tcp", c.consoleListen)
		if err != nil {
			return fmt.Errorf("console: listen on %s: %w", c.consoleListen, err)
		}
		sessions, stopSessions := db.SessionStore(10 * time.Minute)
		defer stopSessions()
		caFP := bundle.CAFingerprint
		con, err := console.New(console.Config{Service: svc, Campaigns: campaigns, Store: db, Sessions: sessions, Log: log,
			Ticket: func(code string) pairing.Ticket { return pairing.Ticket{Code: code, Cloud: public, CASHA256: caFP} }})
		if err != nil {
			return err
		}
		hqConsole = &http.Server{Handler: con, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
		log.Info("HQ console serving", "addr", "http://"+cl.Addr().String())
		go func() { errc <- hqConsole.Serve(cl) }()
	}
	if c.maintain > 0 {
		go svc.RunSchedule(ctx, c.maintain, svc.BrandIDs)
	}
	if c.claimsEvery > 0 {
		go gb.RunClaims(ctx, c.claimsEvery)
	}
	if c.campaigns > 0 {
		go campaigns.RunSchedule(ctx, c.campaigns)
	}
	dispatched := make(chan struct{})
	if c.msg.dispatch {
		go func() { defer close(dispatched); msg.dispatcher.Run(ctx) }()
	} else {
		close(dispatched)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	for _, hs := range []*http.Server{pages, hqConsole} {
		if hs != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			hs.Shutdown(sctx)
			cancel()
		}
	}
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		log.Warn("requests still running after 10s; stopping them")
		srv.Stop()
	}
	<-dispatched
	log.Info("stopped")
	return nil
}

// tlsBundle loads the configured certificate, or the self-signed one.
func tlsBundle(c config, public string) (tlscert.Bundle, string, error) {
	if c.tlsCert != "" || c.tlsKey != "" {
		if c.tlsSelfSigned {
			return tlscert.Bundle{}, "", errors.New("--tls-self-signed and --tls-cert exclude each other")
		}
		if c.tlsCert == "" || c.tlsKey == "" {
			return tlscert.Bundle{}, "", errors.New("--tls-cert and --tls-key go together")
		}
		b, err := tlscert.Load(c.tlsCert, c.tlsKey, c.tlsCA)
		return b, "certificate " + c.tlsCert, err
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if c.tlsHosts != "" {
		hosts = strings.Split(c.tlsHosts, ",")
	} else if h, _, err := net.SplitHostPort(public); err == nil && h != "" && !slices.Contains(hosts, h) {
		hosts = append(hosts, h)
	}
	b, err := tlscert.SelfSigned(filepath.Join(c.dataDir, "tls"), hosts, time.Now())
	return b, "self-signed CA in " + filepath.Join(c.dataDir, "tls"), err
}

// adminToken returns the configured HQ token, or the one kept in the data
// directory, making it on first start.
func adminToken(c config, log *slog.Logger) (string, error) {
	if c.adminToken != "" {
		return c.adminToken, nil
	}
	path := filepath.Join(c.dataDir, "admin.token")
	if c.adminTokenFile != "" {
		raw, err := os.ReadFile(c.adminTokenFile)
		if err != nil {
			return "", fmt.Errorf("read HQ token: %w", err)
		}
		return strings.TrimSpace(string(raw)), nil
	}
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

// loopback says whether a listen address is on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// onCommandLine says whether a flag was given as an argument.
func onCommandLine(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
