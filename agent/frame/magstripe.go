package frame

import "strings"

// Magnetic stripe tracks, ISO/IEC 7813 (financial cards; member cards
// follow it) with the character sets and LRC of ISO/IEC 7811-2:
//
//   - Track 1 (IATA, 210 bpi): 6-bit characters, ASCII 0x20-0x5F (value
//     = ASCII - 0x20). Start sentinel '%', format code ('B' on payment
//     cards), primary account number (PAN, up to 19 digits), '^', name,
//     '^', expiry YYMM, service code, discretionary data, end sentinel
//     '?', LRC. At most 79 characters, sentinels and LRC included.
//   - Track 2 (ABA, 75 bpi): 4-bit characters, ASCII 0x30-0x3F (value =
//     ASCII - 0x30). Start sentinel ';', PAN, '=', expiry, service code,
//     discretionary data, '?', LRC. At most 40 characters.
//   - Track 3 (THRIFT): track 2's character set, at most 107 characters;
//     its LRC is checked, its content not used.
//
// On the stripe each character carries an odd parity bit, and the LRC
// character's data bits make every bit column, from the start sentinel to
// the LRC itself, even: the LRC is the XOR of the characters' values from
// start to end sentinel. A reader in serial mode checks each character's
// parity as it decodes and sends the characters as ASCII, so parity is
// gone by the time a frame reaches the agent; what is left to check is the
// character set and the LRC, which the reader must be set to send (see
// firmware-notes/magstripe.md).
//
// A reader sends the tracks it read, in order, on one line; a track it
// could not read comes as its sentinels around "E" (e.g. ";E?", no LRC),
// the convention of MagTek and ID TECH readers: it is skipped, and a swipe
// with no track read is refused.

// Track is one decoded track.
type Track struct {
	Number int    // 1, 2 or 3
	Data   string // between the sentinels
}

// Track limits, sentinels and LRC included (ISO/IEC 7811-2 and 7813).
const (
	maxTrack1 = 79
	maxTrack2 = 40
	maxTrack3 = 107
	maxPAN    = 19
)

// ParseMagstripe reads a swipe (the tracks on one line) and returns the
// card number: the PAN of track 2, or of track 1 when track 2 is absent.
// Any track failing its LRC or character set refuses the whole swipe, as
// do tracks that disagree on the PAN.
func ParseMagstripe(f Frame) Frame {
	if f.Err != nil {
		return f
	}
	tracks, err := ParseTracks(f.Text)
	if err != nil {
		return Frame{Err: err}
	}
	var pan1, pan2 string
	for _, t := range tracks {
		switch t.Number {
		case 1:
			if pan1, err = track1PAN(t.Data); err != nil {
				return Frame{Err: err}
			}
		case 2:
			if pan2, err = track2PAN(t.Data); err != nil {
				return Frame{Err: err}
			}
		}
	}
	switch {
	case pan1 != "" && pan2 != "" && pan1 != pan2:
		return Frame{Err: wrapf(ErrMismatch, "track 1 %s, track 2 %s", hint(pan1), hint(pan2))}
	case pan2 != "":
		return Frame{Text: pan2, Card: true}
	case pan1 != "":
		return Frame{Text: pan1, Card: true}
	}
	return Frame{Err: wrapf(ErrMalformed, "no track 1 or track 2 in the swipe")}
}

// ParseTracks splits a swipe into tracks, verifying each one's character
// set and LRC.
func ParseTracks(text string) ([]Track, error) {
	var (
		tracks []Track
		unread []int
	)
	seen2 := false
	for i := 0; i < len(text); {
		var (
			num    int
			lo, hi byte
			limit  int
		)
		switch text[i] {
		case '%':
			num, lo, hi, limit = 1, 0x20, 0x5f, maxTrack1
		case ';':
			num, lo, hi, limit = 2, 0x30, 0x3f, maxTrack2
			if seen2 {
				num, limit = 3, maxTrack3
			}
			seen2 = true
		default:
			return nil, wrapf(ErrMalformed, "byte 0x%02x at %d where a start sentinel belongs", text[i], i)
		}
		end := strings.IndexByte(text[i+1:], '?')
		if end < 0 {
			return nil, wrapf(ErrMalformed, "track %d has no end sentinel", num)
		}
		end += i + 1
		data := text[i+1 : end]
		if data == "E" {
			// The reader's mark for a track it could not read; the other
			// tracks may still be good.
			unread = append(unread, num)
			i = end + 1
			continue
		}
		if end+1 >= len(text) {
			return nil, wrapf(ErrMalformed, "track %d has no LRC after its end sentinel", num)
		}
		if n := end + 2 - i; n > limit {
			return nil, wrapf(ErrMalformed, "track %d is %d characters, limit %d", num, n, limit)
		}
		var lrc byte
		for j := i; j <= end; j++ {
			c := text[j]
			if c < lo || c > hi {
				return nil, wrapf(ErrMalformed, "track %d: byte 0x%02x is outside its character set", num, c)
			}
			lrc ^= c - lo
		}
		got := text[end+1]
		if got < lo || got > hi {
			return nil, wrapf(ErrLRC, "track %d: LRC byte 0x%02x is outside its character set", num, got)
		}
		if got-lo != lrc {
			return nil, wrapf(ErrLRC, "track %d: got %q, computed %q", num, got, lrc+lo)
		}
		tracks = append(tracks, Track{Number: num, Data: data})
		i = end + 2
	}
	if len(tracks) == 0 && len(unread) > 0 {
		return nil, wrapf(ErrTrackRead, "tracks %v", unread)
	}
	if len(tracks) == 0 {
		return nil, wrapf(ErrMalformed, "empty swipe")
	}
	return tracks, nil
}

// track1PAN reads format code and PAN: "B" + digits up to '^' or the end.
func track1PAN(data string) (string, error) {
	if len(data) < 2 || data[0] < 'A' || data[0] > 'Z' {
		return "", wrapf(ErrMalformed, "track 1 does not start with a format code")
	}
	pan, _, _ := strings.Cut(data[1:], "^")
	return checkPAN(1, pan)
}

// track2PAN reads the digits up to '=' or the end.
func track2PAN(data string) (string, error) {
	pan, _, _ := strings.Cut(data, "=")
	return checkPAN(2, pan)
}

func checkPAN(track int, pan string) (string, error) {
	if len(pan) == 0 || len(pan) > maxPAN {
		return "", wrapf(ErrMalformed, "track %d: card number of %d digits, want 1 to %d", track, len(pan), maxPAN)
	}
	for i := 0; i < len(pan); i++ {
		if !isDigit(pan[i]) {
			return "", wrapf(ErrMalformed, "track %d: card number holds %q", track, pan[i])
		}
	}
	return pan, nil
}

// hint masks a card number in error text: the last 4 digits only.
func hint(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
