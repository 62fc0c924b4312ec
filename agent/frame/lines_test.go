package frame

import (
	"errors"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		idle   bool
		want   []string // text, or "!" + the error's start
	}{
		{"CR", []string{"ABC\r"}, false, []string{"ABC"}},
		{"LF", []string{"ABC\n"}, false, []string{"ABC"}},
		{"CRLF", []string{"ABC\r\nDEF\r\n"}, false, []string{"ABC", "DEF"}},
		{"split across reads", []string{"AB", "C\r", "\nD", "EF\r\n"}, false, []string{"ABC", "DEF"}},
		{"empty lines ignored", []string{"\r\n\r\n\n"}, false, nil},
		{"too long then good", []string{strings.Repeat("X", 20) + "\r\nOK\r\n"}, false, []string{"!" + ErrTooLong.Error(), "OK"}},
		{"control byte", []string{"A\x00B\r"}, false, []string{"!" + ErrControl.Error()}},
		{"half line then quiet", []string{"ABC"}, true, []string{"!" + ErrIncomplete.Error()}},
		{"quiet with nothing", nil, true, nil},
		{"utf-8 passes", []string{"会员\r"}, false, []string{"会员"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLines(16)
			var got []Frame
			for _, c := range tt.chunks {
				got = append(got, l.Feed([]byte(c))...)
			}
			if tt.idle {
				if f, ok := l.Idle(); ok {
					got = append(got, f)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d frames %+v, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i, f := range got {
				if w, isErr := strings.CutPrefix(tt.want[i], "!"); isErr {
					if f.Err == nil || !strings.HasPrefix(f.Err.Error(), w) {
						t.Errorf("frame %d = %+v, want error %q", i, f, w)
					}
				} else if f.Err != nil || f.Text != w {
					t.Errorf("frame %d = %+v, want %q", i, f, w)
				}
			}
		})
	}
}

func FuzzLines(f *testing.F) {
	f.Add([]byte("MCABCDEF\r\n"), 3)
	f.Add([]byte("12345\r\x00\xff\n"), 1)
	f.Add([]byte(strings.Repeat("9", 100)+"\n"), 7)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		l := NewLines(32)
		if split <= 0 || split > len(data) {
			split = len(data)
		}
		var frames []Frame
		frames = append(frames, l.Feed(data[:split])...)
		frames = append(frames, l.Feed(data[split:])...)
		if f, ok := l.Idle(); ok {
			frames = append(frames, f)
		}
		for _, fr := range frames {
			if fr.Err != nil {
				if fr.Text != "" {
					t.Fatalf("refused frame carries text %q", fr.Text)
				}
				if !errors.Is(fr.Err, ErrTooLong) && !errors.Is(fr.Err, ErrControl) && !errors.Is(fr.Err, ErrIncomplete) {
					t.Fatalf("unexpected error %v", fr.Err)
				}
				continue
			}
			if fr.Text == "" || len(fr.Text) > 32 || strings.ContainsAny(fr.Text, "\r\n") {
				t.Fatalf("bad frame %q", fr.Text)
			}
			for _, c := range []byte(fr.Text) {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("frame %q holds control byte", fr.Text)
				}
			}
		}
	})
}
