// Package serialport reads a serial device (a scanner or card reader on
// RS-232 or a USB virtual COM port), frames what it sends and hands each
// frame on. It reopens the device when it disappears, with backoff, and
// says whether it is connected.
//
// A device's path may be a pattern, resolved at every open, so that a
// device unplugged and plugged back in under another name is found again:
// candidates separated by "|", each a path or a glob
// ("/dev/serial/by-id/usb-*Honeywell*|/dev/ttyACM*"); the first candidate
// with a match wins, and among a glob's matches the first in order.
//
// Every frame read before the device failed is delivered before the
// reader reopens: a scan the agent received is never lost to a replug.
package serialport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tarm/serial"

	"github.com/memberpass/memberpass/agent/frame"
)

// Port is an open serial device.
type Port interface {
	io.Reader
	io.Closer
}

// Opener opens a device. ReadTimeout makes Read return (0, io.EOF) when
// nothing arrived in that time, so the reader can notice quiet lines.
type Opener func(path string, baud int, readTimeout time.Duration) (Port, error)

// OpenTarm opens a device with github.com/tarm/serial, 8 data bits, no
// parity, 1 stop bit.
func OpenTarm(path string, baud int, readTimeout time.Duration) (Port, error) {
	p, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, ReadTimeout: readTimeout, Size: 8, Parity: serial.ParityNone, StopBits: serial.Stop1})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Framer cuts bytes into frames (see package frame).
type Framer interface {
	Feed([]byte) []frame.Frame
	Idle() (frame.Frame, bool)
}

// Status is what the kiosk and metrics show of a device.
type Status struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
	// Path is the configured path or pattern; Device the file it
	// resolved to at the last open.
	Path      string `json:"path"`
	Device    string `json:"device,omitempty"`
	Connected bool   `json:"connected"`
	Frames    uint64 `json:"frames"`
	Refused   uint64 `json:"refused"`
	// RefusedBy counts refused frames by reason (frame.Reason).
	RefusedBy map[string]uint64 `json:"refused_by,omitempty"`
	LastError string            `json:"last_error,omitempty"`
	LastFrame time.Time         `json:"last_frame,omitzero"`
	// Reconnects counts opens after the first.
	Reconnects uint64 `json:"reconnects"`
	// Opens counts successful opens.
	Opens uint64 `json:"opens"`
}

// Reader runs one device.
type Reader struct {
	Name string
	// Kind is the device class (scanner, magstripe, ...), for status.
	Kind string
	// Path is a device path or a pattern (see the package comment).
	Path      string
	Baud      int
	Open      Opener
	NewFramer func() Framer
	// Handle receives every frame, refused ones too (Err set).
	Handle func(context.Context, frame.Frame)
	Log    *slog.Logger
	// IdleGap is how long the line may be quiet inside a frame before the
	// partial frame is refused.
	IdleGap time.Duration
	// MinBackoff and MaxBackoff bound the wait between reopen attempts.
	MinBackoff, MaxBackoff time.Duration

	mu     sync.Mutex
	status Status
}

const readTimeout = 100 * time.Millisecond

// Status returns the device's current state.
func (r *Reader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Name, s.Kind, s.Path = r.Name, r.Kind, r.Path
	if r.status.RefusedBy != nil {
		s.RefusedBy = make(map[string]uint64, len(r.status.RefusedBy))
		for k, v := range r.status.RefusedBy {
			s.RefusedBy[k] = v
		}
	}
	return s
}

func (r *Reader) update(fn func(*Status)) {
	r.mu.Lock()
	fn(&r.status)
	r.mu.Unlock()
}

// Run reads the device until ctx ends, reopening it whenever it fails.
func (r *Reader) Run(ctx context.Context) {
	if r.IdleGap == 0 {
		r.IdleGap = 300 * time.Millisecond
	}
	if r.MinBackoff == 0 {
		r.MinBackoff = 100 * time.Millisecond
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = 5 * time.Second
	}
	backoff := r.MinBackoff
	for ctx.Err() == nil {
		dev, err := Resolve(r.Path)
		var port Port
		if err == nil {
			port, err = r.Open(dev, r.Baud, readTimeout)
			if err != nil {
				err = fmt.Errorf("open %s: %w", dev, err)
			}
		}
		if err != nil {
			r.update(func(s *Status) { s.Connected, s.LastError = false, err.Error() })
			r.Log.Warn("serial device not available", "device", r.Name, "path", r.Path, "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, r.MaxBackoff)
			continue
		}
		backoff = r.MinBackoff
		opened, _ := os.Stat(dev)
		r.update(func(s *Status) {
			s.Connected, s.LastError, s.Device = true, "", dev
			if s.Opens > 0 {
				s.Reconnects++
			}
			s.Opens++
		})
		r.Log.Info("serial device connected", "device", r.Name, "path", r.Path, "file", dev, "baud", r.Baud)
		err = r.read(ctx, port, dev, opened)
		port.Close()
		if ctx.Err() != nil {
			return
		}
		r.update(func(s *Status) { s.Connected, s.LastError = false, err.Error() })
		r.Log.Warn("serial device lost; reopening", "device", r.Name, "path", r.Path, "file", dev, "err", err)
		if !sleep(ctx, jitter(r.MinBackoff)) {
			return
		}
	}
}

// Resolve finds the device file a path or pattern names now. On Windows a
// candidate may be a COM port (COM3, `\\.\COM10`): it is found when the
// system has that port now.
func Resolve(pattern string) (string, error) { return resolve(pattern, comPortExists) }

func resolve(pattern string, comExists func(device string) bool) (string, error) {
	for _, cand := range strings.Split(pattern, "|") {
		cand = strings.TrimSpace(cand)
		if cand == "" {
			continue
		}
		if port, found, ok := resolveCOM(cand, comExists); ok {
			if found {
				return port, nil
			}
			continue
		}
		if !strings.ContainsAny(cand, "*?[") {
			if _, err := os.Stat(cand); err == nil {
				return cand, nil
			}
			continue
		}
		matches, err := filepath.Glob(cand)
		if err != nil {
			return "", fmt.Errorf("device pattern %q: %w", cand, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if _, err := os.Stat(m); err == nil {
				return m, nil
			}
		}
	}
	return "", fmt.Errorf("no device at %q", pattern)
}

// hungUpAfter is how many reads in a row may return nothing at once
// (rather than after the read timeout) before the line counts as hung up:
// a tty whose device is gone answers every read at once with nothing.
const hungUpAfter = 3

// read reads until the port fails, the device goes away, or ctx ends.
// dev is the file opened and opened its state then: a different file at
// the same name later means the device was replaced.
func (r *Reader) read(ctx context.Context, port Port, dev string, opened os.FileInfo) error {
	fr := r.NewFramer()
	buf := make([]byte, 512)
	lastByte := time.Now()
	lastCheck := time.Now()
	quick := 0
	for ctx.Err() == nil {
		start := time.Now()
		n, err := port.Read(buf)
		if n > 0 {
			lastByte = time.Now()
			quick = 0
			for _, f := range fr.Feed(buf[:n]) {
				r.deliver(ctx, f)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			// Nothing arrived within the read timeout, or the line hung up.
			if time.Since(start) < readTimeout/4 {
				quick++
			} else {
				quick = 0
			}
			if time.Since(lastByte) >= r.IdleGap {
				if f, ok := fr.Idle(); ok {
					r.deliver(ctx, f)
				}
			}
			if quick >= hungUpAfter || time.Since(lastCheck) >= r.IdleGap {
				lastCheck = time.Now()
				if err := stillThere(dev, opened); err != nil {
					if f, ok := fr.Idle(); ok {
						r.deliver(ctx, f)
					}
					return err
				}
				if quick >= hungUpAfter {
					if f, ok := fr.Idle(); ok {
						r.deliver(ctx, f)
					}
					return errors.New("device hung up: reads return nothing at once")
				}
			}
		default:
			if f, ok := fr.Idle(); ok {
				r.deliver(ctx, f)
			}
			return fmt.Errorf("read: %w", err)
		}
	}
	return nil
}

// stillThere checks that the device file opened is still at its name.
func stillThere(dev string, opened os.FileInfo) error {
	if _, found, ok := resolveCOM(dev, comPortExists); ok {
		if !found {
			return fmt.Errorf("COM port %s gone", dev)
		}
		return nil
	}
	now, err := os.Stat(dev)
	if err != nil {
		return fmt.Errorf("device path gone: %w", err)
	}
	if opened != nil && !os.SameFile(opened, now) {
		return fmt.Errorf("device %s replaced by another", dev)
	}
	return nil
}

func (r *Reader) deliver(ctx context.Context, f frame.Frame) {
	r.update(func(s *Status) {
		if f.Err != nil {
			s.Refused++
			if s.RefusedBy == nil {
				s.RefusedBy = map[string]uint64{}
			}
			s.RefusedBy[frame.Reason(f.Err)]++
			s.LastError = f.Err.Error()
		} else {
			s.Frames++
			s.LastFrame = time.Now().UTC()
		}
	})
	if f.Err != nil {
		r.Log.Warn("serial frame refused", "device", r.Name, "err", f.Err)
	}
	r.Handle(ctx, f)
}

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
