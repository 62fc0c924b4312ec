// Package serialsim simulates serial devices on Linux pseudo-terminals, so
// tests and the demo drive the agent through its real serial path: the
// agent opens the pty's device file with tarm/serial exactly as it would
// open /dev/ttyUSB0.
package serialsim

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair. The device writes into the master; the
// agent opens Path, the slave side.
type PTY struct {
	master *os.File
	// hold keeps the slave open so that writes never fail while the agent
	// is between opens (a real device's UART buffers the same way).
	hold *os.File
	Path string

	mu   sync.Mutex
	baud int
}

// OpenPTY makes a new pseudo-terminal in raw mode.
func OpenPTY() (*PTY, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("pty number: %w", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := makeRaw(int(s.Fd())); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("raw mode on %s: %w", path, err)
	}
	return &PTY{master: m, hold: s, Path: path}, nil
}

// makeRaw is cfmakeraw(3): bytes pass through untouched (no CR->LF, no echo).
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// SetBaud paces writes as a line at this rate would (10 bits a byte, 8N1);
// 0 writes at once.
func (p *PTY) SetBaud(baud int) {
	p.mu.Lock()
	p.baud = baud
	p.mu.Unlock()
}

// Write sends raw bytes down the line, paced at the set baud rate.
func (p *PTY) Write(b []byte) (int, error) {
	p.mu.Lock()
	baud := p.baud
	p.mu.Unlock()
	if baud <= 0 {
		return p.master.Write(b)
	}
	const chunk = 16
	written := 0
	for len(b) > 0 {
		n := min(chunk, len(b))
		start := time.Now()
		w, err := p.master.Write(b[:n])
		written += w
		if err != nil {
			return written, err
		}
		b = b[n:]
		if d := time.Duration(n*10) * time.Second / time.Duration(baud); d > time.Since(start) {
			time.Sleep(d - time.Since(start))
		}
	}
	return written, nil
}

// Close removes the pseudo-terminal: the agent's reads fail as if the
// device were unplugged.
func (p *PTY) Close() error {
	p.hold.Close()
	return p.master.Close()
}

// Unread says how many bytes sent down the line the reading side has not
// read yet (TIOCINQ on the pty's slave).
func (p *PTY) Unread() (int, error) {
	return unix.IoctlGetInt(int(p.hold.Fd()), unix.TIOCINQ)
}

// Unplug removes the device after the host has taken in every byte it
// sent, as when a USB device that finished sending is pulled out: the
// kernel discards what a hung-up tty still holds unread, so waiting here
// is what "the device finished sending" means on a pty. It gives up
// waiting after timeout and unplugs anyway.
func (p *PTY) Unplug(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	empty := 0
	for empty < 2 && time.Now().Before(deadline) {
		n, err := p.Unread()
		if err != nil {
			break
		}
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p.Close()
}
