package cloudtrust_test

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent/cloudtrust"
	"github.com/memberpass/memberpass/cloud/tlscert"
)

// serve answers TLS handshakes with the bundle on a loopback port.
func serve(t *testing.T, b tlscert.Bundle) string {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", b.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return lis.Addr().String()
}

func TestTrust(t *testing.T) {
	now := time.Now()
	cloud, err := tlscert.SelfSigned(filepath.Join(t.TempDir(), "tls"), []string{"127.0.0.1", "localhost"}, now)
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := tlscert.SelfSigned(filepath.Join(t.TempDir(), "tls"), []string{"127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	addr, fake := serve(t, cloud), serve(t, impostor)
	_, port, _ := net.SplitHostPort(addr)

	tests := []struct {
		name    string
		addr    string
		caPEM   []byte
		pin     string
		wantErr string
	}{
		{name: "pinned CA at pairing", addr: addr, pin: cloud.CAFingerprint},
		{name: "CA kept from pairing", addr: addr, caPEM: cloud.CAPEM},
		{name: "CA kept and pin agree", addr: addr, caPEM: cloud.CAPEM, pin: cloud.CAFingerprint},
		{name: "by name", addr: "localhost:" + port, caPEM: cloud.CAPEM},
		{name: "impostor, pinned", addr: fake, pin: cloud.CAFingerprint, wantErr: "no CA with the fingerprint"},
		{name: "impostor, CA kept", addr: fake, caPEM: cloud.CAPEM, wantErr: "certificate"},
		{name: "no pin, no CA: system roots refuse a private CA", addr: addr, wantErr: "certificate"},
		{name: "CA handed over does not match the pin", addr: addr, caPEM: impostor.CAPEM, pin: cloud.CAFingerprint, wantErr: "does not match the fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := cloudtrust.Config(tt.addr, tt.caPEM, tt.pin)
			if err == nil {
				var c *tls.Conn
				c, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tt.addr, cfg)
				if err == nil {
					c.Close()
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSelfSignedIsKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	a, err := tlscert.SelfSigned(dir, []string{"127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tlscert.SelfSigned(dir, []string{"127.0.0.1", "cloud.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.CAFingerprint != b.CAFingerprint {
		t.Fatal("a restart with a new host name made a new CA: paired agents would stop trusting the cloud")
	}
	if string(a.Cert.Certificate[0]) == string(b.Cert.Certificate[0]) {
		t.Fatal("the server certificate was not remade for the new host name")
	}
}
