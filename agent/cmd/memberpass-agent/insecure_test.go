package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestInsecureOnlyOnLoopback: plaintext to a cloud off loopback is refused,
// not warned about.
func TestInsecureOnlyOnLoopback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := config{insecure: true}
	if _, err := transportCreds(c, "192.0.2.1:7070", nil, "", log); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("--insecure to 192.0.2.1: %v; want a refusal naming loopback", err)
	}
	if _, err := transportCreds(c, "127.0.0.1:7070", nil, "", log); err != nil {
		t.Fatalf("--insecure on loopback: %v", err)
	}
}
