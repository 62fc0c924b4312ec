package frame

import (
	"errors"
	"strings"
	"testing"
)

// Vectors computed independently of this package (by hand and with a
// separate script): the LRC is the XOR of the character values from the
// start sentinel through the end sentinel.
const (
	track1     = "%B8800000001^MEMBER/CARD^2912101?J"
	track2     = ";8800000001=2912101?0"
	track2Only = ";8800000001?5"
	visaT1     = "%B4111111111111111^DOE/JOHN^2512101000000000?;"
	visaT2     = ";4111111111111111=25121010000000000?8"
)

// want is a wanted frame: its text, or "!" and the sentinel error.
type want struct {
	text string
	err  error
	sym  string
}

func check(t *testing.T, got []Frame, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d frames %+v, want %d %+v", len(got), got, len(wants), wants)
	}
	for i, w := range wants {
		f := got[i]
		if w.err != nil {
			if !errors.Is(f.Err, w.err) {
				t.Errorf("frame %d = %+v, want error %v", i, f, w.err)
			}
			if f.Text != "" {
				t.Errorf("frame %d refused but carries text %q", i, f.Text)
			}
			continue
		}
		if f.Err != nil || f.Text != w.text || f.Symbology != w.sym {
			t.Errorf("frame %d = %+v, want %q sym %q", i, f, w.text, w.sym)
		}
	}
}

func feedAll(fr Framer, chunks []string, idle bool) []Frame {
	var got []Frame
	for _, c := range chunks {
		got = append(got, fr.Feed([]byte(c))...)
	}
	if idle {
		if f, ok := fr.Idle(); ok {
			got = append(got, f)
		}
	}
	return got
}

func TestSTXETX(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		idle   bool
		want   []want
	}{
		{"one frame", []string{"\x02ABC\x03"}, false, []want{{text: "ABC"}}},
		{"split and back to back", []string{"\x02AB", "C\x03\x02D", "EF\x03"}, false, []want{{text: "ABC"}, {text: "DEF"}}},
		{"CR LF kept inside, ignored outside", []string{"\r\n\x02AB\r\n\x03\r\n"}, false, []want{{text: "AB\r\n"}}},
		{"noise before STX", []string{"xyz\x02A\x03"}, false, []want{{err: ErrNoise}, {text: "A"}}},
		{"noise then quiet", []string{"xyz"}, true, []want{{err: ErrNoise}}},
		{"lost ETX costs one frame", []string{"\x02AB\x02CD\x03"}, false, []want{{err: ErrIncomplete}, {text: "CD"}}},
		{"half frame then quiet", []string{"\x02AB"}, true, []want{{err: ErrIncomplete}}},
		{"too long", []string{"\x02" + strings.Repeat("9", 40) + "\x03\x02OK\x03"}, false, []want{{err: ErrTooLong}, {text: "OK"}}},
		{"control byte", []string{"\x02A\x00B\x03"}, false, []want{{err: ErrControl}}},
		{"empty frame", []string{"\x02\x03"}, false, []want{{text: ""}}},
		{"quiet with nothing", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, feedAll(NewSTXETX(16), tt.chunks, tt.idle), tt.want)
		})
	}
}

func TestScanner(t *testing.T) {
	tests := []struct {
		in   string
		want want
	}{
		{"]Q1MCABCDEF", want{text: "MCABCDEF", sym: "]Q1"}},
		{"]E06901234567892", want{text: "6901234567892", sym: "]E0"}},
		{"]C0GB123456", want{text: "GB123456", sym: "]C0"}},
		{"]d2ABC", want{text: "ABC", sym: "]d2"}},
		{"8800000001", want{text: "8800000001"}},
		{"]", want{text: "]"}},
		{"]]1X", want{text: "]]1X"}},
		{"]Q1", want{err: ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			check(t, []Frame{ParseScanner(Frame{Text: tt.in})}, []want{tt.want})
		})
	}
}

func TestMagstripe(t *testing.T) {
	flip := func(s string, i int) string { b := []byte(s); b[i] ^= 0x01; return string(b) }
	tests := []struct {
		name string
		in   string
		want want
	}{
		{"track 1 and 2", track1 + track2, want{text: "8800000001"}},
		{"track 2 only", track2, want{text: "8800000001"}},
		{"track 2 without separator", track2Only, want{text: "8800000001"}},
		{"track 1 only", track1, want{text: "8800000001"}},
		{"payment card", visaT1 + visaT2, want{text: "4111111111111111"}},
		{"tracks 2 and 3", track2 + track2, want{text: "8800000001"}},
		{"bad LRC track 2", track2[:len(track2)-1] + "1", want{err: ErrLRC}},
		{"bad LRC track 1", track1[:len(track1)-1] + "K", want{err: ErrLRC}},
		{"flipped data bit track 2", flip(track2, 3), want{err: ErrLRC}},
		{"flipped data bit track 1", flip(track1, 5), want{err: ErrLRC}},
		{"one good, one bad track", track1 + flip(track2, 4), want{err: ErrLRC}},
		{"LRC out of character set", track2[:len(track2)-1] + "A", want{err: ErrLRC}},
		{"no LRC", track2[:len(track2)-1], want{err: ErrMalformed}},
		{"no end sentinel", ";8800000001=29", want{err: ErrMalformed}},
		{"truncated mid track", track1 + ";88000", want{err: ErrMalformed}},
		{"unreadable track", ";E?", want{err: ErrTrackRead}},
		{"unreadable tracks", "%E?;E?", want{err: ErrTrackRead}},
		{"track 1 unreadable, track 2 good", "%E?" + track2, want{text: "8800000001"}},
		{"tracks disagree", track1 + ";8800000002?6", want{err: ErrMismatch}},
		{"letters in track 2", ";88A0?" + "x", want{err: ErrMalformed}},
		{"noise before sentinel", "x" + track2, want{err: ErrMalformed}},
		{"empty PAN", ";=1?8", want{err: ErrMalformed}},
		{"too long track 2", ";" + strings.Repeat("1", 39) + "?1", want{err: ErrMalformed}},
		{"empty", "", want{err: ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseMagstripe(Frame{Text: tt.in})
			check(t, []Frame{got}, []want{tt.want})
			if tt.want.err == nil && !got.Card {
				t.Errorf("card reading not marked Card: %+v", got)
			}
		})
	}
}

func TestEM4100(t *testing.T) {
	dec, hx := ParseEM4100(EMDecimal), ParseEM4100(EMHex)
	tests := []struct {
		name  string
		parse Parser
		in    string // the bytes on the line
		want  []want
	}{
		{"ID-12 format, decimal", dec, "\x021E007B5D2119\r\n\x03", []want{{text: "0008084769"}}},
		{"RDM6300 format, hex", hx, "\x021E007B5D2119\x03", []want{{text: "1E007B5D21"}}},
		{"lower-case hex", hx, "\x021e007b5d2119\x03", []want{{text: "1E007B5D21"}}},
		{"bad checksum", dec, "\x021E007B5D2118\r\n\x03", []want{{err: ErrChecksum}}},
		{"flipped data", dec, "\x021E007B5D3119\r\n\x03", []want{{err: ErrChecksum}}},
		{"short", dec, "\x021E007B5D21\x03", []want{{err: ErrMalformed}}},
		{"not hex", dec, "\x021E007B5D2G19\x03", []want{{err: ErrMalformed}}},
		{"two reads back to back", hx, "\x021E007B5D2119\r\n\x03\x02000000000101\r\n\x03", []want{{text: "1E007B5D21"}, {text: "0000000001"}}},
		{"dropped ETX", dec, "\x021E007B5D2119\r\n\x021E007B5D2119\r\n\x03", []want{{err: ErrIncomplete}, {text: "0008084769"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Framer: NewSTXETX(32), Parse: tt.parse}
			check(t, feedAll(d, []string{tt.in}, true), tt.want)
		})
	}
}

func TestUID(t *testing.T) {
	tests := []struct {
		name string
		fmt  UIDFormat
		in   string
		want want
	}{
		{"4-byte hex", UIDFormat{}, "A1B2C3D4", want{text: "A1B2C3D4"}},
		{"7-byte hex with colons", UIDFormat{}, "04:a1:b2:c3:d4:e5:80", want{text: "04A1B2C3D4E580"}},
		{"10-byte hex with spaces", UIDFormat{}, "01 02 03 04 05 06 07 08 09 0A", want{text: "0102030405060708090A"}},
		{"reversed hex", UIDFormat{Reverse: true}, "D4C3B2A1", want{text: "A1B2C3D4"}},
		{"decimal", UIDFormat{Decimal: true}, "2712847316", want{text: "A1B2C3D4"}},
		{"decimal with spaces around", UIDFormat{Decimal: true}, " 2712847316 ", want{text: "A1B2C3D4"}},
		{"decimal reversed", UIDFormat{Decimal: true, Reverse: true}, "3569595041", want{text: "A1B2C3D4"}},
		{"decimal padded", UIDFormat{Decimal: true}, "0000000001", want{text: "00000001"}},
		{"wrong length", UIDFormat{}, "A1B2C3", want{err: ErrMalformed}},
		{"not hex", UIDFormat{}, "A1B2C3DZ", want{err: ErrMalformed}},
		{"decimal too big", UIDFormat{Decimal: true}, "4294967296", want{err: ErrMalformed}},
		{"decimal not padded", UIDFormat{Decimal: true}, "1", want{err: ErrMalformed}},
		{"separator misplaced", UIDFormat{}, "04:A1B:2C:3D", want{err: ErrMalformed}},
		{"mixed separators", UIDFormat{}, "04:A1-B2:C3", want{err: ErrMalformed}},
		{"trailing separator", UIDFormat{}, "04:A1:B2:C3:", want{err: ErrMalformed}},
		{"decimal with letters", UIDFormat{Decimal: true}, "12AB", want{err: ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, []Frame{ParseUID(tt.fmt)(Frame{Text: tt.in})}, []want{tt.want})
		})
	}
}

func TestReason(t *testing.T) {
	f := ParseMagstripe(Frame{Text: track2[:len(track2)-1] + "1"})
	if got := Reason(f.Err); got != "bad_lrc" {
		t.Errorf("Reason = %q, want bad_lrc", got)
	}
	if got := Reason(errors.New("x")); got != "other" {
		t.Errorf("Reason = %q, want other", got)
	}
}
