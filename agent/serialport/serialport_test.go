package serialport_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent/frame"
	"github.com/memberpass/memberpass/agent/serialport"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

// collected gathers what a Reader hands on.
type collected struct {
	mu     sync.Mutex
	frames []frame.Frame
}

func (c *collected) handle(_ context.Context, f frame.Frame) {
	c.mu.Lock()
	c.frames = append(c.frames, f)
	c.mu.Unlock()
}

func (c *collected) snapshot() []frame.Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]frame.Frame(nil), c.frames...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// plug makes a pty and a by-id style symlink to it named name.
func plug(t *testing.T, dir, name string) *serialsim.PTY {
	t.Helper()
	p, err := serialsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := os.Symlink(p.Path, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReplug unplugs a scanner right after it finished sending a burst of
// scans and half of another, and plugs it back in under another name: every
// finished scan is delivered, the half one is refused alone, and the scans
// after the replug arrive.
func TestReplug(t *testing.T) {
	dir := t.TempDir()
	first := plug(t, dir, "usb-Acme_Scanner_0001-if00")
	var got collected
	r := &serialport.Reader{
		Name: "scanner", Kind: "scanner", Path: filepath.Join(dir, "usb-Acme_Scanner_*") + "|/nonexistent/ttyACM*",
		Baud: 9600, Open: serialport.OpenTarm,
		NewFramer:  func() serialport.Framer { return frame.NewLines(64) },
		Handle:     got.handle,
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the scanner to connect", func() bool { return r.Status().Connected })

	const n = 40
	var burst []byte
	for i := range n {
		burst = append(burst, fmt.Sprintf("SCAN-%03d\r\n", i)...)
	}
	burst = append(burst, "SCAN-HA"...) // the scan being sent when the cable came out
	if _, err := first.Write(burst); err != nil {
		t.Fatal(err)
	}
	if err := first.Unplug(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "usb-Acme_Scanner_0001-if00"))
	waitFor(t, "the reader to notice the unplug", func() bool { return !r.Status().Connected })

	second := plug(t, dir, "usb-Acme_Scanner_0001-if01")
	waitFor(t, "the reader to reconnect", func() bool { return r.Status().Connected })
	if _, err := second.Write([]byte("SCAN-AFTER\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the scan after the replug", func() bool { return len(got.snapshot()) == n+2 })

	frames := got.snapshot()
	for i := range n {
		if want := fmt.Sprintf("SCAN-%03d", i); frames[i].Err != nil || frames[i].Text != want {
			t.Errorf("frame %d = %+v, want %s", i, frames[i], want)
		}
	}
	if f := frames[n]; f.Err == nil {
		t.Errorf("half-sent scan delivered as %+v, want refused", f)
	}
	if f := frames[n+1]; f.Err != nil || f.Text != "SCAN-AFTER" {
		t.Errorf("scan after replug = %+v", f)
	}
	st := r.Status()
	if st.Reconnects != 1 || st.Opens != 2 || st.Frames != n+1 || st.Refused != 1 || st.RefusedBy["incomplete"] != 1 {
		t.Errorf("status %+v", st)
	}
	if filepath.Base(st.Device) != "usb-Acme_Scanner_0001-if01" {
		t.Errorf("device %q, want the new name", st.Device)
	}
}

// TestReplacedUnderTheSameName: the name comes back for a new device
// while the old one's handle is still open; the reader moves to the new.
func TestReplacedUnderTheSameName(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "ttyScanner")
	first := plug(t, dir, "ttyScanner")
	var got collected
	r := &serialport.Reader{
		Name: "scanner", Path: link, Baud: 9600, Open: serialport.OpenTarm,
		NewFramer: func() serialport.Framer { return frame.NewLines(64) },
		Handle:    got.handle, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the scanner to connect", func() bool { return r.Status().Connected })

	second, err := serialsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(second.Path, link); err != nil {
		t.Fatal(err)
	}
	_ = first // still open: only the name moved
	waitFor(t, "the reader to move to the new device", func() bool { return r.Status().Opens == 2 })
	if _, err := second.Write([]byte("NEW\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a scan from the new device", func() bool { f := got.snapshot(); return len(f) == 1 && f[0].Text == "NEW" })
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"usb-B-if00", "usb-A-if00"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ pattern, want string }{
		{filepath.Join(dir, "usb-*"), "usb-A-if00"},
		{filepath.Join(dir, "none") + "|" + filepath.Join(dir, "usb-B*"), "usb-B-if00"},
		{filepath.Join(dir, "usb-B-if00"), "usb-B-if00"},
	}
	for _, tt := range tests {
		got, err := serialport.Resolve(tt.pattern)
		if err != nil || filepath.Base(got) != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %s", tt.pattern, got, err, tt.want)
		}
	}
	if _, err := serialport.Resolve(filepath.Join(dir, "nothing*")); err == nil {
		t.Error("Resolve of a pattern matching nothing did not fail")
	}
}
