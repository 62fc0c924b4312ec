package frame

import (
	"fmt"
)

// Lines frames CR, LF or CRLF terminated text.
type Lines struct {
	max      int
	buf      []byte
	overflow int // bytes dropped from the current over-long frame
	bad      byte
	hasBad   bool
}

// NewLines makes a line framer refusing frames longer than max bytes.
func NewLines(max int) *Lines {
	return &Lines{max: max, buf: make([]byte, 0, max)}
}

// Feed takes bytes as they arrive and returns the frames they complete.
func (l *Lines) Feed(p []byte) []Frame {
	var out []Frame
	for _, c := range p {
		switch {
		case c == '\r' || c == '\n':
			if f, ok := l.end(); ok {
				out = append(out, f)
			}
		case l.overflow > 0 || len(l.buf) >= l.max:
			l.overflow++
		default:
			if (c < 0x20 || c == 0x7f) && !l.hasBad {
				l.bad, l.hasBad = c, true
			}
			l.buf = append(l.buf, c)
		}
	}
	return out
}

// end closes the current frame; an empty one (the LF of a CRLF) is none.
func (l *Lines) end() (Frame, bool) {
	defer l.reset()
	switch {
	case l.overflow > 0:
		return Frame{Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(l.buf)+l.overflow, l.max)}, true
	case len(l.buf) == 0:
		return Frame{}, false
	case l.hasBad:
		return Frame{Err: fmt.Errorf("%w 0x%02x in %q", ErrControl, l.bad, l.buf)}, true
	}
	return Frame{Text: string(l.buf)}, true
}

// Idle is called when the line has been quiet: a partial frame is refused.
func (l *Lines) Idle() (Frame, bool) {
	if len(l.buf) == 0 && l.overflow == 0 {
		return Frame{}, false
	}
	f := Frame{Err: fmt.Errorf("%w: %q", ErrIncomplete, l.buf)}
	l.reset()
	return f, true
}

func (l *Lines) reset() {
	l.buf, l.overflow, l.hasBad = l.buf[:0], 0, false
}
