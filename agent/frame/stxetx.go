package frame

import "fmt"

// Framing bytes of STX/ETX devices.
const (
	STX = 0x02
	ETX = 0x03
)

// STXETX frames data sent between STX (0x02) and ETX (0x03), as 125 kHz
// readers and scanners set to an STX prefix and ETX suffix send it. CR and
// LF between frames are ignored; any other byte there is line noise,
// refused as one ErrNoise frame per run. An STX inside a frame cuts the
// frame short (refused) and starts a new one, so one lost ETX costs one
// frame, not the next as well. Inside a frame, CR and LF are kept (some
// readers put them before ETX) and other control bytes refuse the frame.
type STXETX struct {
	max      int
	in       bool
	buf      []byte
	overflow int
	bad      byte
	hasBad   bool
	noise    int
}

// NewSTXETX makes a framer refusing frames longer than max bytes.
func NewSTXETX(max int) *STXETX {
	return &STXETX{max: max, buf: make([]byte, 0, max)}
}

// Feed takes bytes as they arrive and returns the frames they complete.
func (s *STXETX) Feed(p []byte) []Frame {
	var out []Frame
	for _, c := range p {
		switch {
		case c == STX:
			if f, ok := s.noiseFrame(); ok {
				out = append(out, f)
			}
			if s.in {
				out = append(out, Frame{Err: fmt.Errorf("%w: STX before ETX after %q", ErrIncomplete, s.buf)})
			}
			s.reset()
			s.in = true
		case !s.in:
			if c != '\r' && c != '\n' {
				s.noise++
			}
		case c == ETX:
			out = append(out, s.end())
		case s.overflow > 0 || len(s.buf) >= s.max:
			s.overflow++
		default:
			if (c < 0x20 && c != '\r' && c != '\n' || c == 0x7f) && !s.hasBad {
				s.bad, s.hasBad = c, true
			}
			s.buf = append(s.buf, c)
		}
	}
	return out
}

func (s *STXETX) end() Frame {
	defer s.reset()
	switch {
	case s.overflow > 0:
		return Frame{Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(s.buf)+s.overflow, s.max)}
	case s.hasBad:
		return Frame{Err: fmt.Errorf("%w 0x%02x in %q", ErrControl, s.bad, s.buf)}
	}
	return Frame{Text: string(s.buf)}
}

func (s *STXETX) noiseFrame() (Frame, bool) {
	if s.noise == 0 {
		return Frame{}, false
	}
	f := Frame{Err: fmt.Errorf("%w: %d bytes before STX", ErrNoise, s.noise)}
	s.noise = 0
	return f, true
}

// Idle is called when the line has been quiet: a partial frame, or noise
// not yet reported, is refused.
func (s *STXETX) Idle() (Frame, bool) {
	if s.in {
		f := Frame{Err: fmt.Errorf("%w: no ETX after %q", ErrIncomplete, s.buf)}
		s.reset()
		return f, true
	}
	return s.noiseFrame()
}

func (s *STXETX) reset() {
	s.in, s.buf, s.overflow, s.hasBad = false, s.buf[:0], 0, false
}
