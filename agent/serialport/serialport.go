// Package serialport reads a serial device (a scanner or card reader on
// RS-232 or a USB virtual COM port), frames what it sends and hands each
// frame on. It reopens the device when it disappears, with backoff, and
// says whether it is connected.
package serialport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
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
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	Connected  bool      `json:"connected"`
	Frames     uint64    `json:"frames"`
	Refused    uint64    `json:"refused"`
	LastError  string    `json:"last_error,omitempty"`
	LastFrame  time.Time `json:"last_frame,omitzero"`
	Reconnects uint64    `json:"reconnects"`
}

// Reader runs one device.
type Reader struct {
	Name      string
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
	s.Name, s.Path = r.Name, r.Path
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
		port, err := r.Open(r.Path, r.Baud, readTimeout)
		if err != nil {
			r.update(func(s *Status) { s.Connected, s.LastError = false, "open: "+err.Error() })
			r.Log.Warn("serial device not available", "device", r.Name, "path", r.Path, "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, r.MaxBackoff)
			continue
		}
		backoff = r.MinBackoff
		r.update(func(s *Status) { s.Connected, s.LastError = true, ""; s.Reconnects++ })
		r.Log.Info("serial device connected", "device", r.Name, "path", r.Path, "baud", r.Baud)
		err = r.read(ctx, port)
		port.Close()
		if ctx.Err() != nil {
			return
		}
		r.update(func(s *Status) { s.Connected, s.LastError = false, err.Error() })
		r.Log.Warn("serial device lost; reopening", "device", r.Name, "path", r.Path, "err", err)
		if !sleep(ctx, jitter(r.MinBackoff)) {
			return
		}
	}
}

// read reads until the port fails or ctx ends.
func (r *Reader) read(ctx context.Context, port Port) error {
	fr := r.NewFramer()
	buf := make([]byte, 512)
	lastByte := time.Now()
	for ctx.Err() == nil {
		n, err := port.Read(buf)
		if n > 0 {
			lastByte = time.Now()
			for _, f := range fr.Feed(buf[:n]) {
				r.deliver(ctx, f)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			// Nothing arrived within the read timeout.
			if time.Since(lastByte) >= r.IdleGap {
				if f, ok := fr.Idle(); ok {
					r.deliver(ctx, f)
				}
				if _, serr := os.Stat(r.Path); serr != nil {
					return fmt.Errorf("device path gone: %w", serr)
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

func (r *Reader) deliver(ctx context.Context, f frame.Frame) {
	r.update(func(s *Status) {
		if f.Err != nil {
			s.Refused++
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
