package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInsecureRefusedOffLoopback: plaintext is for loopback only; and a
// data directory that already exists is narrowed to 0700 on start.
func TestInsecureRefusedOffLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cloud")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, listen := range []string{"0.0.0.0:0", "192.0.2.1:7070", "[::]:0"} {
		err := run([]string{"--insecure", "--listen", listen, "--data-dir", dir}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Fatalf("--insecure --listen %s: %v; want a refusal naming loopback", listen, err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %o; want 700", fi.Mode().Perm())
	}
	for _, addr := range []string{"127.0.0.1:7070", "localhost:0", "[::1]:1"} {
		if !loopback(addr) {
			t.Errorf("%s is loopback", addr)
		}
	}
}
