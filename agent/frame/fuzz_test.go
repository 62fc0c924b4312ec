package frame

import (
	"errors"
	"strings"
	"testing"
)

// refusedWell fails the fuzz run if a refused frame carries data or an
// error that is not one of the package's refusals.
func refusedWell(t *testing.T, f Frame) bool {
	t.Helper()
	if f.Err == nil {
		return false
	}
	if f.Text != "" || f.Symbology != "" || f.Card {
		t.Fatalf("refused frame carries data: %+v", f)
	}
	if Reason(f.Err) == "other" {
		t.Fatalf("refusal %v is not one of the package's errors", f.Err)
	}
	return true
}

// feedSplit feeds data in two reads split at split, then goes quiet.
func feedSplit(fr Framer, data []byte, split int) []Frame {
	if split <= 0 || split > len(data) {
		split = len(data)
	}
	out := fr.Feed(data[:split])
	out = append(out, fr.Feed(data[split:])...)
	if f, ok := fr.Idle(); ok {
		out = append(out, f)
	}
	return out
}

func FuzzSTXETX(f *testing.F) {
	f.Add([]byte("\x021E007B5D2119\r\n\x03"), 5)
	f.Add([]byte("noise\x02AB\x02CD\x03\x02"), 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		for _, fr := range feedSplit(NewSTXETX(32), data, split) {
			if refusedWell(t, fr) {
				continue
			}
			if len(fr.Text) > 32 || strings.ContainsAny(fr.Text, "\x02\x03") {
				t.Fatalf("bad frame %q", fr.Text)
			}
		}
		// Whatever came before, a good frame after a quiet line is read.
		s := NewSTXETX(32)
		s.Feed(data)
		s.Idle()
		if got := s.Feed([]byte("\x02OK\x03")); len(got) != 1 || got[0].Text != "OK" {
			t.Fatalf("framer did not recover: %+v", got)
		}
	})
}

func FuzzScanner(f *testing.F) {
	f.Add("]Q1MCABCDEF")
	f.Add("]E06901234567892")
	f.Add("]Q1")
	f.Fuzz(func(t *testing.T, text string) {
		got := ParseScanner(Frame{Text: text})
		if refusedWell(t, got) {
			return
		}
		if got.Symbology+got.Text != text {
			t.Fatalf("%q split into %q + %q", text, got.Symbology, got.Text)
		}
		if got.Symbology != "" && (len(got.Symbology) != 3 || got.Text == "") {
			t.Fatalf("bad AIM split of %q: %+v", text, got)
		}
	})
}

func FuzzMagstripe(f *testing.F) {
	f.Add(track1 + track2)
	f.Add(visaT1 + visaT2)
	f.Add("%E?" + track2)
	f.Add(track2[:len(track2)-1] + "1")
	f.Fuzz(func(t *testing.T, text string) {
		got := ParseMagstripe(Frame{Text: text})
		if refusedWell(t, got) {
			return
		}
		if !got.Card || len(got.Text) == 0 || len(got.Text) > maxPAN || strings.Trim(got.Text, "0123456789") != "" {
			t.Fatalf("%q read as card %+v", text, got)
		}
	})
}

func FuzzEM4100(f *testing.F) {
	f.Add([]byte("\x021E007B5D2119\r\n\x03"), 4, true)
	f.Add([]byte("\x021E007B5D2118\x03\x02"), 9, false)
	f.Fuzz(func(t *testing.T, data []byte, split int, hex bool) {
		n := EMDecimal
		if hex {
			n = EMHex
		}
		for _, fr := range feedSplit(Decoder{Framer: NewSTXETX(32), Parse: ParseEM4100(n)}, data, split) {
			if refusedWell(t, fr) {
				continue
			}
			if !fr.Card || len(fr.Text) != 10 {
				t.Fatalf("bad EM4100 reading %+v from %q", fr, data)
			}
		}
	})
}

func FuzzUID(f *testing.F) {
	f.Add("04:a1:b2:c3:d4:e5:80", false, false)
	f.Add("2712847316", true, true)
	f.Add("4294967296", true, false)
	f.Fuzz(func(t *testing.T, text string, dec, rev bool) {
		got := ParseUID(UIDFormat{Decimal: dec, Reverse: rev})(Frame{Text: text})
		if refusedWell(t, got) {
			return
		}
		switch len(got.Text) {
		case 8, 14, 20:
		default:
			t.Fatalf("UID %q read as %q", text, got.Text)
		}
		if strings.Trim(got.Text, "0123456789ABCDEF") != "" {
			t.Fatalf("UID %q read as %q", text, got.Text)
		}
	})
}

func TestRefusalsAreSentinels(t *testing.T) {
	for _, r := range reasons {
		if !errors.Is(wrapf(r.err, "x"), r.err) {
			t.Errorf("%v does not wrap", r.err)
		}
	}
}
