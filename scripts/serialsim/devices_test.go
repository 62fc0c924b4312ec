package serialsim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/memberpass/memberpass/agent/device"
	"github.com/memberpass/memberpass/agent/frame"
)

// kinds builds n frames of each device class and says the card number or
// text each should read as.
var kinds = []struct {
	spec  string
	frame func(i int) ([]byte, string)
}{
	{"kind=scanner,path=/x", func(i int) ([]byte, string) {
		s := fmt.Sprintf("88%08d", i)
		return ScanFrame("]C0", s, CRLF), s
	}},
	{"kind=magstripe,path=/x", func(i int) ([]byte, string) {
		s := fmt.Sprintf("88%08d", i)
		return MagstripeCard(s), s
	}},
	{"kind=em4100,path=/x", func(i int) ([]byte, string) {
		return EM4100Frame(EM4100Tag(0x1E, uint32(i*7919)), i%2 == 0), fmt.Sprintf("%010d", i*7919)
	}},
	{"kind=uid,path=/x", func(i int) ([]byte, string) {
		uid := []byte{0x04, byte(i), 0xB2, 0xC3, 0xD4, byte(i >> 8), 0x80}
		return UIDFrame(uid, ":"), fmt.Sprintf("%X", uid)
	}},
	{"kind=uid,path=/x,number=dec", func(i int) ([]byte, string) {
		uid := [4]byte{0xA1, byte(i), 0xC3, 0xD4}
		return UIDDecimalFrame(uid), fmt.Sprintf("%X", uid[:])
	}},
}

func decode(t *testing.T, spec string, line []byte) []frame.Frame {
	t.Helper()
	c, err := device.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	fr := c.NewFramer()
	got := fr.Feed(line)
	if f, ok := fr.Idle(); ok {
		got = append(got, f)
	}
	return got
}

// TestCleanLine: every frame a simulator sends in a burst reads back as
// sent, by the agent's own framer and parser for the kind.
func TestCleanLine(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.spec, func(t *testing.T) {
			var line bytes.Buffer
			var frames [][]byte
			var want []string
			for i := range 50 {
				f, w := k.frame(i)
				frames, want = append(frames, f), append(want, w)
			}
			if err := Burst(&line, frames...); err != nil {
				t.Fatal(err)
			}
			got := decode(t, k.spec, line.Bytes())
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			for i, f := range got {
				if f.Err != nil || f.Text != want[i] {
					t.Errorf("frame %d = %+v, want %q", i, f, want[i])
				}
			}
		})
	}
}

// TestNoisyLine: with bytes dropped and injected, nothing crashes, every
// frame read is one that was sent (never a guess), and the damaged ones
// are refused. Each seed is a fixed, repeatable line.
func TestNoisyLine(t *testing.T) {
	for _, k := range kinds {
		for seed := range uint64(5) {
			t.Run(fmt.Sprintf("%s/seed%d", k.spec, seed), func(t *testing.T) {
				var line bytes.Buffer
				noisy := NewNoise(&line, seed, 0.01, 0.01)
				sent := map[string]bool{}
				for i := range 200 {
					f, w := k.frame(i)
					sent[w] = true
					if _, err := noisy.Write(f); err != nil {
						t.Fatal(err)
					}
				}
				got := decode(t, k.spec, line.Bytes())
				read, refused, misread := 0, 0, 0
				for _, f := range got {
					if f.Err != nil {
						refused++
						continue
					}
					read++
					if !sent[f.Text] {
						misread++
					}
				}
				// Magstripe and EM4100 frames carry an LRC or checksum:
				// a damaged frame that passes would be a guess. Scanner
				// and UID lines carry none (the replica lookup is their
				// next check), so their misreads are only reported.
				if checked := strings.Contains(k.spec, "magstripe") || strings.Contains(k.spec, "em4100"); checked && misread > 0 {
					t.Errorf("%d frames read that were never sent", misread)
				} else if misread > 0 {
					t.Logf("%d of %d lines damaged into another well-formed value (no checksum on this line)", misread, read)
				}
				if noisy.Dropped+noisy.Injected > 0 && refused == 0 {
					t.Errorf("%d bytes dropped, %d injected, nothing refused", noisy.Dropped, noisy.Injected)
				}
				if read < 40 {
					t.Errorf("only %d of 200 frames read at 1%% noise", read)
				}
			})
		}
	}
}
