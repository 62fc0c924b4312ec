package membercode

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func key(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func TestVerify(t *testing.T) {
	brand, other := key(t), key(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v, err := NewVerifier(30*time.Second, brand.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(priv ed25519.PrivateKey, at time.Time) string {
		code, err := Sign(priv, 123456, at, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	good := sign(brand, now)
	forged := []byte(good)
	// Flip a character inside the signature part.
	if forged[len(forged)-5] == 'A' {
		forged[len(forged)-5] = 'B'
	} else {
		forged[len(forged)-5] = 'A'
	}
	tests := []struct {
		name string
		code string
		at   time.Time
		want error
	}{
		{"fresh", good, now.Add(10 * time.Second), nil},
		{"within skew before issue", good, now.Add(-20 * time.Second), nil},
		{"within skew after expiry", good, now.Add(80 * time.Second), nil},
		{"expired", good, now.Add(2 * time.Minute), ErrExpired},
		{"from the future", good, now.Add(-time.Minute), ErrNotYet},
		{"other brand", sign(other, now), now, ErrUnknownKey},
		{"forged", string(forged), now, ErrForged},
		{"no prefix", good[2:], now, ErrMalformed},
		{"truncated", good[:40], now, ErrMalformed},
		{"lower case", strings.ToLower(good), now, ErrMalformed},
		{"empty", "", now, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(tt.code, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err == nil && c.MemberID != 123456 {
				t.Fatalf("member = %d, want 123456", c.MemberID)
			}
		})
	}
}

func TestCodeIsCompact(t *testing.T) {
	code, err := Sign(key(t), 1<<40, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) > 140 {
		t.Fatalf("code is %d characters, want at most 140: %s", len(code), code)
	}
	for _, r := range code {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", r) {
			t.Fatalf("code has %q, outside the QR alphanumeric set", r)
		}
	}
}

func FuzzParse(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(nil)
	code, _ := Sign(priv, 42, time.Unix(1_800_000_000, 0), time.Minute)
	f.Add(code)
	f.Add("MC")
	f.Add("MCAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		v, _ := NewVerifier(0, priv.Public().(ed25519.PublicKey))
		c, err := v.Verify(s, time.Unix(1_800_000_010, 0))
		if err == nil && c.MemberID != 42 {
			t.Fatalf("verified a code for member %d that was never signed", c.MemberID)
		}
	})
}

// FuzzParseRef: a reference from the wire is parsed or refused, never
// trusted half-way; a parsed one names the same code again.
func FuzzParseRef(f *testing.F) {
	f.Add("0a1b2c3d/42/1763812800/beef")
	f.Add("zz/1/2/3")
	f.Add("")
	f.Fuzz(func(t *testing.T, ref string) {
		c, err := ParseRef(ref)
		if err != nil {
			return
		}
		if again, err := ParseRef(c.Ref()); err != nil || again != c {
			t.Fatalf("ref %q -> %+v -> %q -> %+v, %v", ref, c, c.Ref(), again, err)
		}
	})
}
