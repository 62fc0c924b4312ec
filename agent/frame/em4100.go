package frame

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// EM4100 readers (125 kHz, EM Microelectronic EM4100/EM4102 tags) in ASCII
// serial mode, 9600 baud 8N1, send one frame per tag read:
//
//	STX (0x02)
//	10 ASCII hex characters: the tag's 5 data bytes, version/customer byte first
//	2 ASCII hex characters: XOR of those 5 bytes
//	CR LF (optional: ID Innovations ID-12/ID-20 send it, RDM6300 does not)
//	ETX (0x03)
//
// Framed by STXETX, the text is the part between STX and ETX.

// EMNumber says how an EM4100 tag's number is written as a card number.
type EMNumber int

const (
	// EMDecimal is the low 4 bytes as a 10-digit decimal number, the
	// number printed on most EM4100 cards and key fobs ("0012345678").
	EMDecimal EMNumber = iota
	// EMHex is all 5 bytes as 10 upper-case hex characters.
	EMHex
)

// ParseEM4100 returns a parser for EM4100 frames writing numbers as n.
func ParseEM4100(n EMNumber) Parser {
	return func(f Frame) Frame {
		if f.Err != nil {
			return f
		}
		text := strings.TrimSuffix(f.Text, "\r\n")
		if len(text) != 12 {
			return Frame{Err: wrapf(ErrMalformed, "EM4100 frame of %d characters, want 12 hex characters (and CR LF)", len(f.Text))}
		}
		var b [6]byte
		if _, err := hex.Decode(b[:], []byte(text)); err != nil {
			return Frame{Err: wrapf(ErrMalformed, "EM4100 frame %q is not hex", text)}
		}
		sum := b[0] ^ b[1] ^ b[2] ^ b[3] ^ b[4]
		if sum != b[5] {
			return Frame{Err: wrapf(ErrChecksum, "EM4100 tag %X: got %02X, computed %02X", b[:5], b[5], sum)}
		}
		if n == EMHex {
			return Frame{Text: fmt.Sprintf("%X", b[:5]), Card: true}
		}
		low := uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
		return Frame{Text: fmt.Sprintf("%010d", low), Card: true}
	}
}
