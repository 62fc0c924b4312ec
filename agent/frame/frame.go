// Package frame cuts the byte stream of a serial device into frames and
// parses each device class's frame format. It does no I/O: bytes go in,
// frames come out, which is what lets every parser here be fuzzed.
//
// Framers (Feed and Idle): Lines for CR/LF/CRLF-terminated text, STXETX
// for frames between STX (0x02) and ETX (0x03). A frame that grows past
// the limit, holds a control byte, or is left half-sent when the line goes
// quiet is refused with an error saying why; its bytes are never joined to
// the next frame.
//
// Parsers, one per device class: Scanner (barcode text with an optional
// AIM symbology identifier), Magstripe (ISO/IEC 7813 track 1 and 2, LRC
// verified), EM4100 (125 kHz ASCII-hex readers, XOR checksum verified)
// and UID (13.56 MHz readers). A frame that fails its check is refused,
// never guessed. Decoder puts a framer and a parser together.
//
// The formats are documented in firmware-notes/ at the repository root.
package frame

import "errors"

// Frame is one complete unit from a device, or the reason one was refused.
type Frame struct {
	// Text is the frame's data: the scanned text for a scanner (without
	// its AIM identifier), the card number for a card reader.
	Text string
	// Symbology is the AIM identifier a scanner sent before the data
	// ("]Q1", "]E0"), empty when the scanner sends none.
	Symbology string
	// Card is set by card-reader parsers: Text is a card number read from
	// a card, never a barcode.
	Card bool
	Err  error
}

// Errors for refused frames. Every refusal wraps exactly one of them, so
// that Reason can name it in metrics.
var (
	ErrTooLong    = errors.New("frame longer than the limit")
	ErrControl    = errors.New("frame holds a control byte")
	ErrIncomplete = errors.New("frame cut off: no suffix before the line went quiet")
	ErrNoise      = errors.New("bytes outside a frame")
	ErrChecksum   = errors.New("checksum does not match")
	ErrLRC        = errors.New("track LRC does not match")
	ErrMalformed  = errors.New("frame does not have the device's format")
	ErrTrackRead  = errors.New("reader could not read the track")
	ErrMismatch   = errors.New("tracks disagree on the card number")
)

// Reason names why a frame was refused, as a short label for metrics
// ("too_long", "bad_lrc", ...); "other" for an error not from this package.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

var reasons = []struct {
	err  error
	name string
}{
	{ErrTooLong, "too_long"},
	{ErrControl, "control_byte"},
	{ErrIncomplete, "incomplete"},
	{ErrNoise, "noise"},
	{ErrChecksum, "bad_checksum"},
	{ErrLRC, "bad_lrc"},
	{ErrMalformed, "malformed"},
	{ErrTrackRead, "track_read_error"},
	{ErrMismatch, "track_mismatch"},
}

// Framer cuts bytes into frames.
type Framer interface {
	// Feed takes bytes as they arrive and returns the frames they complete.
	Feed([]byte) []Frame
	// Idle is called when the line has been quiet: a partial frame is
	// refused.
	Idle() (Frame, bool)
}

// Parser turns a framed text into a device's reading; it returns the
// frame refused (Err set) when the text fails the format or its check.
type Parser func(Frame) Frame

// Decoder frames bytes and parses each frame. It is itself a Framer.
type Decoder struct {
	Framer Framer
	Parse  Parser
}

// Feed frames p and parses each complete frame.
func (d Decoder) Feed(p []byte) []Frame {
	out := d.Framer.Feed(p)
	for i, f := range out {
		if f.Err == nil {
			out[i] = d.Parse(f)
		}
	}
	return out
}

// Idle refuses a partial frame left when the line went quiet.
func (d Decoder) Idle() (Frame, bool) { return d.Framer.Idle() }
