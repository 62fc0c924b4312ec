package serialsim

import (
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// The frame builders below write each device class's format as the
// device would, independently of the agent's parsers (agent/frame), so
// that a test through a simulator checks the parser against a second
// reading of the standard, not against itself.

// ScanFrame is a scanner's frame: the AIM identifier if any ("]Q1"), the
// data, the suffix.
func ScanFrame(aim, data string, sfx Suffix) []byte {
	return []byte(aim + data + string(sfx))
}

// Track1 writes an ISO/IEC 7813 track 1 (data between the sentinels, e.g.
// "B8800000001^MEMBER/CARD^2912101") with sentinels and LRC.
func Track1(data string) string { return withLRC("%"+data+"?", 0x20) }

// Track2 writes a track 2 ("8800000001=2912101") with sentinels and LRC.
func Track2(data string) string { return withLRC(";"+data+"?", 0x30) }

// withLRC appends the LRC: each character's value is its ASCII code less
// the character set's base (0x20 for track 1's 6-bit set, 0x30 for track
// 2's 4-bit set), and the LRC makes every bit column's parity even, so it
// is the XOR of all values, start and end sentinel included.
func withLRC(track string, base byte) string {
	var lrc byte
	for i := 0; i < len(track); i++ {
		lrc ^= track[i] - base
	}
	return track + string(rune(lrc+base))
}

// MagstripeCard is a swipe of a member card numbered number: track 1 and
// track 2, then CR, as a reader in ASCII mode with LRC output sends it.
func MagstripeCard(number string) []byte {
	return []byte(Track1("B"+number+"^MEMBER/CARD^2912101") + Track2(number+"=2912101") + "\r")
}

// EM4100Frame is a 125 kHz reader's frame for a tag's 5 bytes: STX, 10 hex
// characters, the XOR of the bytes as 2 hex characters, CR LF if crlf
// (ID-12 style; RDM6300 style without), ETX.
func EM4100Frame(tag [5]byte, crlf bool) []byte {
	sum := tag[0] ^ tag[1] ^ tag[2] ^ tag[3] ^ tag[4]
	s := "\x02" + strings.ToUpper(hex.EncodeToString(tag[:])) + fmt.Sprintf("%02X", sum)
	if crlf {
		s += "\r\n"
	}
	return []byte(s + "\x03")
}

// EM4100Tag is a tag whose 10-digit decimal card number is n, with the
// version byte v.
func EM4100Tag(v byte, n uint32) [5]byte {
	return [5]byte{v, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

// UIDFrame is a 13.56 MHz reader's line: the UID in upper-case hex with
// sep between bytes ("", " " or ":"), then CR LF.
func UIDFrame(uid []byte, sep string) []byte {
	parts := make([]string, len(uid))
	for i, b := range uid {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return []byte(strings.Join(parts, sep) + "\r\n")
}

// UIDDecimalFrame is a decimal reader's line for a 4-byte UID, first byte
// most significant.
func UIDDecimalFrame(uid [4]byte) []byte {
	v := uint32(uid[0])<<24 | uint32(uid[1])<<16 | uint32(uid[2])<<8 | uint32(uid[3])
	return []byte(fmt.Sprintf("%010d\r\n", v))
}

// Noise is a line that damages what passes: each byte is dropped with
// probability Drop, and a random byte is put before it with probability
// Inject. It is deterministic for a seed.
type Noise struct {
	Line   io.Writer
	Drop   float64
	Inject float64
	rng    *rand.Rand
	// Dropped and Injected count the damage done.
	Dropped, Injected int
}

// NewNoise makes a noisy line over line.
func NewNoise(line io.Writer, seed uint64, drop, inject float64) *Noise {
	return &Noise{Line: line, Drop: drop, Inject: inject, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Write sends p damaged; it reports len(p) written when the line took
// everything it was given.
func (n *Noise) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+len(p)/8)
	for _, c := range p {
		if n.rng.Float64() < n.Inject {
			out = append(out, byte(n.rng.UintN(256)))
			n.Injected++
		}
		if n.rng.Float64() < n.Drop {
			n.Dropped++
			continue
		}
		out = append(out, c)
	}
	if _, err := n.Line.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Burst writes frames back to back in one write, as a reader with a
// backlog (or a scanner in continuous mode) sends them.
func Burst(line io.Writer, frames ...[]byte) error {
	var all []byte
	for _, f := range frames {
		all = append(all, f...)
	}
	if _, err := line.Write(all); err != nil {
		return fmt.Errorf("burst of %d frames: %w", len(frames), err)
	}
	return nil
}
