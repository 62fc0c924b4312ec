package membercode

import (
	"crypto/ed25519"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// TestCodeSizeOnTheWire measures what a member code costs at the counter:
// characters (= bytes on a serial line), the time to send them at 9600
// baud 8N1 (10 bits a byte) with the scanner's CR LF suffix, and the QR
// version go-qrcode picks at medium error correction. The figures are in
// firmware-notes/member-codes.md.
func TestCodeSizeOnTheWire(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	t.Logf("%-12s %6s %6s %10s %10s", "member id", "raw", "chars", "9600 baud", "QR (M)")
	for _, member := range []uint64{1, 127, 128, 16_383, 16_384, 2_097_151, 1_000_000_000} {
		code, err := Sign(priv, member, now, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, signed, sig, err := Parse(code)
		if err != nil {
			t.Fatal(err)
		}
		raw := len(signed) + len(sig)
		wire := len(code) + 2 // CR LF
		ms := float64(wire*10) / 9600 * 1000
		q, err := qrcode.New(code, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-12d %6d %6d %8.1fms %7d (%dx%d)", member, raw, len(code), ms, q.VersionNumber, 17+4*q.VersionNumber, 17+4*q.VersionNumber)
		if q.VersionNumber > 7 {
			t.Errorf("member %d: QR version %d; a phone screen code should stay at 7 or below", member, q.VersionNumber)
		}
		if ms > 200 {
			t.Errorf("member %d: %.0f ms at 9600 baud; want under 200 ms", member, ms)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	code, _ := Sign(priv, 123456, now, time.Minute)
	v, _ := NewVerifier(time.Minute, pub)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(code, now); err != nil {
			b.Fatal(err)
		}
	}
}
