package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/memberpass/memberpass/agent/device"
	"github.com/memberpass/memberpass/agent/scan"
)

type config struct {
	dataDir         string
	cloud           string
	cloudGiven      bool
	cloudCA         string
	insecure        bool
	cloudTimeout    time.Duration
	maxBackoff      time.Duration
	staleAfter      time.Duration
	rebuildReplica  bool
	pairingCode     string
	pairingCodeFile string
	deviceName      string
	scanner         string
	scannerBaud     int
	maxFrame        int
	devices         device.List
	vouchers        string
	cardPrefix      string
	kiosk           string
	syncEvery       time.Duration
	clockSkew       time.Duration
	debounce        time.Duration
	staffFile       string
	kioskRemote     bool
	kioskHosts      string
	sessionIdle     time.Duration
	scanValidFor    time.Duration
	joinURL         string
	timezone        string
	logLevel        string
	logFormat       string
	showVersion     bool
}

func parseFlags(args []string, out io.Writer) (config, error) {
	host, _ := os.Hostname()
	var c config
	fs := flag.NewFlagSet("memberpass-agent", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.dataDir, "data-dir", defaultDataDir(runtime.GOOS, os.Getenv), "directory for the agent's bbolt database (identity, replica, event log)")
	fs.StringVar(&c.cloud, "cloud", "127.0.0.1:7070", "address of the cloud's gRPC API")
	fs.StringVar(&c.pairingCode, "pairing-code", "", "one-time code or memberpass://pair?... ticket from HQ; needed only on the first start, to pair this device with its store (the ticket also names the cloud and pins its TLS CA); prefer MEMBERPASS_PAIRING_CODE or --pairing-code-file: other users see the command line")
	fs.StringVar(&c.pairingCodeFile, "pairing-code-file", "", "file holding the pairing code or ticket (instead of --pairing-code)")
	fs.StringVar(&c.cloudCA, "cloud-ca", "", "PEM file of the CA to trust for the cloud's TLS certificate, instead of the one got at pairing (e.g. after HQ rotated it)")
	fs.BoolVar(&c.insecure, "insecure", false, "talk to the cloud in plaintext, without TLS (loopback and tests only: the device secret travels in the clear)")
	fs.DurationVar(&c.cloudTimeout, "cloud-timeout", 10*time.Second, "longest wait for one call to the cloud")
	fs.DurationVar(&c.maxBackoff, "sync-max-backoff", 30*time.Second, "longest wait between sync attempts while the cloud fails")
	fs.DurationVar(&c.staleAfter, "replica-stale-after", 15*time.Minute, "warn (log and kiosk) when the replica has not caught up with the cloud for this long")
	fs.BoolVar(&c.rebuildReplica, "rebuild-replica", false, "rebuild the replica from scratch at start (the old one serves until the new one is complete)")
	fs.StringVar(&c.deviceName, "device-name", host, "a name for this device in HQ's lists")
	fs.StringVar(&c.scanner, "scanner", "", "serial device of the barcode/QR scanner, e.g. /dev/serial/by-id/usb-...; empty: none")
	fs.IntVar(&c.scannerBaud, "scanner-baud", 9600, "scanner baud rate (8 data bits, no parity, 1 stop bit)")
	fs.IntVar(&c.maxFrame, "max-frame", 512, "longest scan in bytes from --scanner; longer frames are refused")
	fs.Var(&c.devices, "device", "a serial device, repeatable: kind=scanner|magstripe|em4100|uid,path=PATH[,name=N][,baud=9600][,max-frame=N][,framing=lines|stx][,number=dec|hex][,reverse=true];\n"+
		"PATH may be a glob or candidates separated by |, resolved at every (re)open; several devices in the environment variable are separated by ;")
	fs.StringVar(&c.vouchers, "voucher-prefix", "", "prefixes marking group-buy voucher codes, PREFIX=platform separated by commas, e.g. DY=douyin,MT=meituan")
	fs.StringVar(&c.cardPrefix, "card-prefix", "", "prefixes of the brand's card numbers, separated by commas: such a number is a card, never a voucher")
	fs.StringVar(&c.kiosk, "kiosk-listen", "127.0.0.1:8080", "address of the local kiosk page and status API")
	fs.DurationVar(&c.syncEvery, "sync-interval", 5*time.Second, "time between syncs with the cloud when idle")
	fs.DurationVar(&c.clockSkew, "clock-skew", 2*time.Minute, "how far this till's clock may be off when checking member codes")
	fs.DurationVar(&c.debounce, "debounce", 2*time.Second, "ignore the same scan read again within this time")
	fs.StringVar(&c.staffFile, "staff-file", "", "the store's staff who may sign in on the kiosk, one \"id role pin-hash name\" line each (role cashier or manager; the hash from `memberpass-agent hash-pin`); default <data-dir>/staff.txt")
	fs.BoolVar(&c.kioskRemote, "kiosk-allow-remote", false, "allow --kiosk-listen on an address other than loopback (other machines on the network can then reach the sign-in page)")
	fs.StringVar(&c.kioskHosts, "kiosk-host", "", "names the kiosk answers to besides localhost and the listen address, separated by commas (the Host header is checked on every request)")
	fs.DurationVar(&c.sessionIdle, "kiosk-session-idle", 15*time.Minute, "sign a kiosk user out after this long without use")
	fs.DurationVar(&c.scanValidFor, "scan-valid-for", 5*time.Minute, "how long after a member is scanned at this till a checkout or top-up may name them without a manager's approval")
	fs.StringVar(&c.joinURL, "join-url", "", "the cloud's join page for this store (e.g. https://m.example.com/join/<brand>/<store>); its QR code is the store's \"scan to join\"")
	fs.StringVar(&c.timezone, "timezone", "", "the shop's time zone, for \"today\" and birthday months; empty: the brand's, as the cloud gave it at pairing (Asia/Shanghai for a device paired before)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: memberpass-agent [flags]\n\nThe store agent: reads the counter's scanner, identifies members from its\nlocal replica, records visits durably while offline, and syncs with the cloud.\nEvery flag can also be set by the environment variable MEMBERPASS_<FLAG>\n(upper case, dashes as underscores), e.g. MEMBERPASS_SCANNER.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := envOverrides(fs); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) { c.cloudGiven = c.cloudGiven || f.Name == "cloud" })
	if _, ok := os.LookupEnv("MEMBERPASS_CLOUD"); ok {
		c.cloudGiven = true
	}
	return c, nil
}

// deviceList is the devices to read: --scanner (a shorthand for a
// scanner device) first, then each --device.
func (c config) deviceList() (device.List, error) {
	var l device.List
	if c.scanner != "" {
		d, err := device.Parse(fmt.Sprintf("kind=scanner,name=scanner,path=%s,baud=%d,max-frame=%d", c.scanner, c.scannerBaud, c.maxFrame))
		if err != nil {
			return nil, fmt.Errorf("--scanner: %w", err)
		}
		l = append(l, d)
	}
	l = append(l, c.devices...)
	if err := l.Check(); err != nil {
		return nil, err
	}
	return l, nil
}

// scanRules are the rules for telling vouchers and cards apart.
func (c config) scanRules() (scan.Rules, error) {
	var r scan.Rules
	for field := range strings.SplitSeq(c.vouchers, ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		prefix, platform, ok := strings.Cut(field, "=")
		if !ok || prefix == "" || platform == "" {
			return r, fmt.Errorf("--voucher-prefix %q: want PREFIX=platform", field)
		}
		if r.VoucherPrefixes == nil {
			r.VoucherPrefixes = map[string]string{}
		}
		r.VoucherPrefixes[prefix] = platform
	}
	for p := range strings.SplitSeq(c.cardPrefix, ",") {
		if p = strings.TrimSpace(p); p != "" {
			r.CardPrefixes = append(r.CardPrefixes, p)
		}
	}
	return r, nil
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
