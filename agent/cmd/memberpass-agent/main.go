// Command memberpass-agent runs on a store's POS box: it reads the
// scanner, identifies members, records visits durably and syncs with the
// cloud, working on while the cloud is out of reach.
package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
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
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the shop's time zone, even on a box without tzdata

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/cloudtrust"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/frame"
	"github.com/memberpass/memberpass/agent/kiosk"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/agent/serialport"
	"github.com/memberpass/memberpass/proto/membercode"
	"github.com/memberpass/memberpass/proto/pairing"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if cmd, ok, err := parseServiceCommand(os.Args[1:]); ok {
		if err == nil {
			err = runService(cmd, os.Stderr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "memberpass-agent:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "memberpass-agent:", err)
		os.Exit(1)
	}
}

// run runs the agent until ctx ends or SIGINT/SIGTERM (under the Windows
// service manager, until the service is stopped).
func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "hash-pin" {
		return hashPIN(args[1:], os.Stdin, os.Stdout, stderr)
	}
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if c.showVersion {
		fmt.Println("memberpass-agent", version)
		return nil
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	deviceList, err := c.deviceList()
	if err != nil {
		return err
	}
	rules, err := c.scanRules()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db, err := localstore.Open(filepath.Join(c.dataDir, "agent.db"))
	if err != nil {
		return err
	}
	defer db.Close()

	id, err := identity(ctx, db, c, log)
	if err != nil {
		return err
	}
	keys := make([]ed25519.PublicKey, len(id.MemberCodeKeys))
	for i, k := range id.MemberCodeKeys {
		keys[i] = k
	}
	verifier, err := membercode.NewVerifier(c.clockSkew, keys...)
	if err != nil {
		return fmt.Errorf("brand keys from pairing: %w", err)
	}
	if n, err := db.PruneCodeRefs(time.Now().UTC()); err != nil {
		log.Warn("could not forget expired member codes", "err", err)
	} else if n > 0 {
		log.Debug("expired member codes forgotten", "count", n)
	}

	// The sync client sends the device's credentials on every call.
	cloudAddr := c.cloud
	if !c.cloudGiven && id.Cloud != "" {
		cloudAddr = id.Cloud
	}
	caPEM := id.CloudCAPEM
	if c.cloudCA != "" {
		if caPEM, err = os.ReadFile(c.cloudCA); err != nil {
			return fmt.Errorf("cloud CA: %w", err)
		}
	}
	transport, err := transportCreds(c, cloudAddr, caPEM, "", log)
	if err != nil {
		return err
	}
	syncConn, err := grpc.NewClient(cloudAddr, append(cloudsync.DialOptions(),
		// The connection redials the cloud at least as often as the syncer
		// retries, or a long outage would keep it offline after it ends.
		cloudsync.ReconnectBackoff(max(c.maxBackoff, 200*time.Millisecond)),
		grpc.WithTransportCredentials(transport),
		grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: id.BrandID, DeviceID: id.DeviceID, Secret: id.Secret, Insecure: c.insecure}),
	)...)
	if err != nil {
		return fmt.Errorf("cloud address %q: %w", cloudAddr, err)
	}
	defer syncConn.Close()
	syncer := cloudsync.New(db, syncConn, log)
	syncer.Interval = c.syncEvery
	syncer.CallTimeout = c.cloudTimeout
	syncer.MaxBackoff = max(c.maxBackoff, syncer.MinBackoff)
	syncer.StaleAfter = c.staleAfter
	if c.rebuildReplica {
		syncer.RequestRebuild()
	}
	var readers []*serialport.Reader
	syncer.Health = func() cloudsync.Health { return health(c.dataDir, readers) }

	desk, hosts, err := kioskAccess(c, log)
	if err != nil {
		return err
	}
	zone := cmp.Or(c.timezone, id.TimeZone, "Asia/Shanghai")
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fmt.Errorf("time zone %q (--timezone, or the brand's): %w", zone, err)
	}
	till := checkout.New(db, id, log, func(err error) bool { return errors.Is(err, localstore.ErrUnknown) })
	till.Location = loc
	till.OnRecord = func(agent.Event) { syncer.Wake() }
	till.Platforms = syncer
	till.KnownStaff = desk.Roster().Known

	deviceStatus := func() []serialport.Status {
		out := make([]serialport.Status, len(readers))
		for i, r := range readers {
			out[i] = r.Status()
		}
		return out
	}
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(kiosk.NewDeviceCollector(deviceStatus), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ks := kiosk.New(kiosk.Sources{
		Answered: db.MarkAnswered,
		Identity: id, State: db.State, Sync: syncer.Status, Devices: deviceStatus, Metrics: metrics,
		Rebuild: syncer.RequestRebuild, StaleAfter: c.staleAfter,
		Checkout: till, Desk: desk, JoinURL: c.joinURL, Hosts: hosts, SessionIdle: c.sessionIdle, ScanValidFor: c.scanValidFor,
	}, log)
	ctr := counter.New(db, id, verifier, log)
	ctr.Debounce = c.debounce
	ctr.Rules = rules
	ctr.OnResult = func(r counter.Result) {
		ks.Observe(r)
		if r.Event != nil {
			// Shown on the kiosk and logged: answered.
			db.MarkAnswered(r.Event.Seq)
			syncer.Wake()
		}
	}
	if err := recoverUnanswered(db, ctr, ks, c.debounce, log); err != nil {
		return err
	}
	for _, d := range deviceList {
		readers = append(readers, &serialport.Reader{
			Name: d.Name, Kind: string(d.Kind), Path: d.Path, Baud: d.Baud, Open: serialport.OpenTarm, Log: log,
			NewFramer: func() serialport.Framer { return d.NewFramer() },
			Handle:    func(ctx context.Context, f frame.Frame) { ctr.Handle(ctx, d.Name, f) },
		})
	}

	lis, err := net.Listen("tcp", c.kiosk)
	if err != nil {
		return fmt.Errorf("kiosk listen on %s: %w", c.kiosk, err)
	}
	httpSrv := &http.Server{Handler: ks, ReadHeaderTimeout: 5 * time.Second}
	httpSrv.RegisterOnShutdown(ks.Close)
	log.Info("agent serving", "brand", id.BrandID, "store", id.StoreID, "device", id.DeviceID,
		"kiosk", "http://"+lis.Addr().String(), "cloud", cloudAddr, "tls", !c.insecure, "devices", deviceList.String(), "version", version)

	// Devices stop first, so no scan starts during shutdown; a record in
	// flight finishes, because the database closes last.
	devCtx, stopDevices := context.WithCancel(ctx)
	var devices sync.WaitGroup
	for _, r := range readers {
		devices.Go(func() { r.Run(devCtx) })
	}
	syncCtx, stopSync := context.WithCancel(context.Background())
	syncDone := make(chan struct{})
	go func() { syncer.Run(syncCtx); close(syncDone) }()
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(lis) }()

	select {
	case <-ctx.Done():
	case err := <-httpErr:
		log.Error("kiosk server failed", "err", err)
	}
	log.Info("shutting down")
	stopDevices()
	devices.Wait()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	httpSrv.Shutdown(shutCtx)
	stopSync()
	<-syncDone
	// One last push, briefly: what does not make it stays in the outbox.
	if err := syncer.Push(shutCtx); err != nil {
		log.Warn("final push did not finish; events stay in the outbox for the next start", "err", err)
	}
	if st, err := db.State(); err == nil {
		log.Info("stopped", "pending", st.Pending, "acked_seq", st.AckedSeq)
	}
	return nil
}

// identity returns the stored identity, pairing first if there is none.
func identity(ctx context.Context, db *localstore.DB, c config, log *slog.Logger) (agent.Identity, error) {
	id, ok, err := db.Identity()
	if err != nil {
		return agent.Identity{}, err
	}
	if ok {
		return id, nil
	}
	if c.pairingCode == "" && c.pairingCodeFile != "" {
		raw, err := os.ReadFile(c.pairingCodeFile)
		if err != nil {
			return agent.Identity{}, fmt.Errorf("pairing code file: %w", err)
		}
		c.pairingCode = strings.TrimSpace(string(raw))
	}
	if c.pairingCode == "" {
		return agent.Identity{}, errors.New("this device is not paired yet: start it once with --pairing-code and the code or memberpass://pair ticket HQ got when it created the store")
	}
	ticket, err := pairing.Parse(c.pairingCode)
	if err != nil {
		return agent.Identity{}, err
	}
	addr := c.cloud
	if !c.cloudGiven && ticket.Cloud != "" {
		addr = ticket.Cloud
	}
	var caPEM []byte
	if c.cloudCA != "" {
		if caPEM, err = os.ReadFile(c.cloudCA); err != nil {
			return agent.Identity{}, fmt.Errorf("cloud CA: %w", err)
		}
	}
	transport, err := transportCreds(c, addr, caPEM, ticket.CASHA256, log)
	if err != nil {
		return agent.Identity{}, err
	}
	conn, err := grpc.NewClient(addr, append(cloudsync.DialOptions(), grpc.WithTransportCredentials(transport))...)
	if err != nil {
		return agent.Identity{}, fmt.Errorf("cloud address %q: %w", addr, err)
	}
	defer conn.Close()
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	id, err = cloudsync.Pair(pctx, conn, ticket.Code, c.deviceName)
	if err != nil {
		return agent.Identity{}, err
	}
	id.Cloud = addr
	if len(id.CloudCAPEM) > 0 && !c.insecure {
		// The CA handed over must be the one the ticket pinned; from now on
		// it alone is trusted.
		if _, err := cloudtrust.Config(addr, id.CloudCAPEM, ticket.CASHA256); err != nil {
			return agent.Identity{}, fmt.Errorf("pairing answer: %w", err)
		}
	}
	if err := db.SaveIdentity(id); err != nil {
		return agent.Identity{}, fmt.Errorf("save identity: %w", err)
	}
	log.Info("paired with the cloud", "brand", id.BrandID, "store", id.StoreID, "device", id.DeviceID, "cloud", addr,
		"cloud_ca_pinned", ticket.CASHA256 != "")
	return id, nil
}

// transportCreds says how the agent secures its connection to the cloud.
func transportCreds(c config, addr string, caPEM []byte, pin string, log *slog.Logger) (credentials.TransportCredentials, error) {
	if c.insecure {
		if host, _, err := net.SplitHostPort(addr); err != nil || !isLoopback(host) {
			return nil, fmt.Errorf("--insecure sends the device secret in the clear, which is for loopback only; the cloud at %s is not on loopback", addr)
		}
		return insecure.NewCredentials(), nil
	}
	cfg, err := cloudtrust.Config(addr, caPEM, pin)
	if err != nil {
		return nil, err
	}
	if len(caPEM) == 0 && pin == "" {
		log.Info("trusting the cloud's TLS certificate through the system's roots (no CA from pairing, no --cloud-ca)", "cloud", addr)
	}
	return credentials.NewTLS(cfg), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
