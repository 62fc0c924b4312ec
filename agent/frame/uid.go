package frame

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// 13.56 MHz readers (ISO/IEC 14443 type A: MIFARE Classic, Ultralight,
// NTAG, DESFire) in serial mode send the card's UID on a line, as hex
// ("04A1B2C3D4E580", sometimes with spaces, colons or dashes between the
// bytes, one between every two digits) or, on many cheap readers, as the
// decimal of a 4-byte UID padded to 10 digits ("2882343476", "0004198782"). ISO/IEC 14443-3 UIDs are 4 (single), 7 (double) or 10
// (triple size) bytes. The card number the agent uses is the UID in
// upper-case hex, first byte first, however the reader wrote it.
//
// The line has no checksum of its own (the reader checked the card's CRC
// on the air), so what is checked is the shape: a UID length, only hex
// digits, separators in their places, or exactly 10 decimal digits that
// fit 4 bytes. A damaged line of the right shape can still pass; the
// replica lookup is the next check (see firmware-notes/uid.md).

// UIDFormat says how a reader writes UIDs.
type UIDFormat struct {
	// Decimal: the reader writes a 4-byte UID as a decimal number.
	Decimal bool
	// Reverse: the reader writes the bytes last first (little-endian),
	// as some decimal readers do.
	Reverse bool
}

// separated checks a hex UID written with separators: one kind of
// separator, one between every two hex digits, so that a digit lost on
// the line shows as a misplaced separator.
func separated(text string) error {
	i := strings.IndexAny(text, " :-")
	if i < 0 {
		return nil
	}
	sep := text[i]
	for j := 0; j < len(text); j++ {
		want := j%3 == 2
		if (text[j] == sep) != want || !want && (text[j] == ' ' || text[j] == ':' || text[j] == '-') {
			return wrapf(ErrMalformed, "UID %q: separators not between every two hex digits", text)
		}
	}
	if len(text)%3 != 2 {
		return wrapf(ErrMalformed, "UID %q: separators not between every two hex digits", text)
	}
	return nil
}

// ParseUID returns a parser for UID lines written as u says.
func ParseUID(u UIDFormat) Parser {
	return func(f Frame) Frame {
		if f.Err != nil {
			return f
		}
		var uid []byte
		if u.Decimal {
			text := strings.TrimSpace(f.Text)
			if len(text) != 10 || strings.TrimLeft(text, "0123456789") != "" {
				return Frame{Err: wrapf(ErrMalformed, "UID %q is not a 10-digit decimal number", f.Text)}
			}
			v, err := strconv.ParseUint(text, 10, 32)
			if err != nil {
				return Frame{Err: wrapf(ErrMalformed, "UID %q does not fit 4 bytes", text)}
			}
			uid = []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		} else {
			if err := separated(f.Text); err != nil {
				return Frame{Err: err}
			}
			text := strings.Map(func(r rune) rune {
				if r == ' ' || r == ':' || r == '-' {
					return -1
				}
				return r
			}, f.Text)
			switch len(text) {
			case 8, 14, 20:
			default:
				return Frame{Err: wrapf(ErrMalformed, "UID %q is %d hex characters, want 8, 14 or 20 (4, 7 or 10 bytes)", f.Text, len(text))}
			}
			var err error
			if uid, err = hex.DecodeString(text); err != nil {
				return Frame{Err: wrapf(ErrMalformed, "UID %q is not hex", f.Text)}
			}
		}
		if u.Reverse {
			for i, j := 0, len(uid)-1; i < j; i, j = i+1, j-1 {
				uid[i], uid[j] = uid[j], uid[i]
			}
		}
		return Frame{Text: fmt.Sprintf("%X", uid), Card: true}
	}
}
