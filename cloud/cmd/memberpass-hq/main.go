// Command memberpass-hq is HQ's command-line client of the cloud's admin
// API: brands, stores, the programme's rules, members, coupons, group-buy
// vouchers, conflicts and statistics.
//
//	memberpass-hq [global flags] <command> <subcommand> [flags]
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// command is one subcommand: "member import", say.
type command struct {
	name, usage string
	run         func(ctx context.Context, c *client, args []string) error
}

type client struct {
	admin  pb.AdminServiceClient
	access pb.AccessServiceClient
	out    io.Writer
	json   bool
}

type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}
func (tokenCreds) RequireTransportSecurity() bool { return false }

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if s, ok := status.FromError(err); ok {
			fmt.Fprintf(os.Stderr, "memberpass-hq: %s (%s)\n", s.Message(), s.Code())
		} else {
			fmt.Fprintln(os.Stderr, "memberpass-hq:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("memberpass-hq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("cloud", envOr("MEMBERPASS_CLOUD", "127.0.0.1:7070"), "cloud gRPC address (env MEMBERPASS_CLOUD)")
	token := fs.String("token", os.Getenv("MEMBERPASS_ADMIN_TOKEN"), "HQ token; prefer MEMBERPASS_ADMIN_TOKEN or --token-file: other users see the command line")
	tokenFile := fs.String("token-file", os.Getenv("MEMBERPASS_ADMIN_TOKEN_FILE"), "file holding the HQ token (env MEMBERPASS_ADMIN_TOKEN_FILE; the cloud writes its first one to <data-dir>/admin.token)")
	asJSON := fs.Bool("json", false, "print results as JSON")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for the call")
	caFile := fs.String("ca", os.Getenv("MEMBERPASS_CA"), "PEM file of the CA that signed the cloud's TLS certificate (env MEMBERPASS_CA; a self-signed cloud keeps it in <data-dir>/tls/ca.pem); empty: the system's roots")
	plaintext := fs.Bool("insecure", false, "talk to the cloud without TLS (a cloud started with --insecure, on loopback)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: memberpass-hq [flags] <command> [flags]\n\nCommands:\n")
		for _, c := range allCommands() {
			fmt.Fprintf(stderr, "  %-22s %s\n", c.name, c.usage)
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("no command given")
	}
	var cmd *command
	for _, c := range allCommands() {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			cmd, rest = &c, rest[len(words):]
			break
		}
	}
	if cmd == nil {
		fs.Usage()
		return fmt.Errorf("unknown command %q", strings.Join(rest, " "))
	}
	if *token == "" && *tokenFile != "" {
		raw, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("HQ token file: %w", err)
		}
		*token = strings.TrimSpace(string(raw))
	}
	if *token == "" {
		return errors.New("no HQ token: set MEMBERPASS_ADMIN_TOKEN or pass --token-file")
	}
	if *plaintext && !loopback(*addr) {
		return fmt.Errorf("--insecure sends the HQ token in the clear, which is for loopback only; %s is not a loopback address", *addr)
	}
	transport, err := transportCreds(*addr, *caFile, *plaintext)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(transport), grpc.WithPerRPCCredentials(tokenCreds(*token)))
	if err != nil {
		return fmt.Errorf("cloud address %q: %w", *addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return cmd.run(ctx, &client{admin: pb.NewAdminServiceClient(conn), access: pb.NewAccessServiceClient(conn), out: terminalSafe{stdout}, json: *asJSON}, rest)
}

// transportCreds secures the connection: TLS verified against the given CA
// or the system's roots, or plaintext when asked for.
func transportCreds(addr, caFile string, plaintext bool) (credentials.TransportCredentials, error) {
	if plaintext {
		return insecure.NewCredentials(), nil
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("cloud CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cloud CA %s holds no PEM certificate", caFile)
		}
	}
	return credentials.NewTLS(cfg), nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// flags makes a flag set for a subcommand that reports its own usage.
func flags(name string) *flag.FlagSet {
	return flag.NewFlagSet(name, flag.ContinueOnError)
}

// parse reads a subcommand's flags and fails when a required one is empty.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, n := range required {
		if fs.Lookup(n).Value.String() == "" {
			return fmt.Errorf("%s: --%s is required", fs.Name(), n)
		}
	}
	return nil
}

// loopback says whether a cloud address is on loopback.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// terminalSafe writes what the cloud sent with control characters (ESC
// sequences that would move the cursor, recolour or retitle HQ's
// terminal; C1 controls) replaced by U+FFFD; newlines and tabs stay.
type terminalSafe struct{ w io.Writer }

func (t terminalSafe) Write(p []byte) (int, error) {
	s := string(p)
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return t.w.Write(p)
	}
	_, err := io.WriteString(t.w, strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return '\uFFFD'
		}
		return r
	}, s))
	return len(p), err
}

func unsafeRune(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0)
}
