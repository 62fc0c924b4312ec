package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/cloud/tlscert"
	"github.com/memberpass/memberpass/proto/pairing"
)

func TestHQOverTLS(t *testing.T) {
	dir := t.TempDir()
	bundle, err := tlscert.SelfSigned(filepath.Join(dir, "tls"), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: loyalty.New(db, log), Log: log, AdminToken: "tok",
		PublicAddr: addr, CAPEM: bundle.CAPEM, CAFingerprint: bundle.CAFingerprint},
		grpc.Creds(credentials.NewTLS(bundle.ServerConfig())))
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Stop(); db.Close() })
	ca := filepath.Join(dir, "tls", "ca.pem")
	png := filepath.Join(dir, "pair.png")

	var out bytes.Buffer
	base := []string{"--cloud", addr, "--token", "tok", "--ca", ca}
	if err := run(append(base, "brand", "create", "--id", "cha", "--name", "茶"), &out, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(append(base, "store", "create", "--brand", "cha", "--id", "sh-1", "--qr-png", png), &out, &out); err != nil {
		t.Fatal(err)
	}
	var uri string
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "'memberpass://") {
			uri = strings.Trim(f, "'")
		}
	}
	tk, err := pairing.Parse(uri)
	if err != nil {
		t.Fatalf("no pairing ticket in the output: %v\n%s", err, out.String())
	}
	if tk.Cloud != addr || tk.CASHA256 != bundle.CAFingerprint {
		t.Fatalf("ticket %+v, want cloud %s and the CA's fingerprint", tk, addr)
	}
	if !strings.Contains(out.String(), "█") {
		t.Errorf("no terminal QR code in the output")
	}
	if raw, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(raw, []byte("\x89PNG")) {
		t.Errorf("QR PNG: %v", err)
	}

	// Without the CA the HQ client refuses the self-signed cloud; in
	// plaintext it cannot talk to a TLS cloud at all.
	for _, args := range [][]string{
		{"--cloud", addr, "--token", "tok", "stats", "--brand", "cha"},
		{"--cloud", addr, "--token", "tok", "--insecure", "stats", "--brand", "cha"},
	} {
		out.Reset()
		if err := run(args, &out, &out); err == nil {
			t.Errorf("%v: reached the TLS cloud", args)
		}
	}
}
