package money

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestMulAndAddRefuseOverflow(t *testing.T) {
	for _, c := range []struct {
		a, b int64
		ok   bool
	}{
		{1e9, 1e9, true},
		{math.MaxInt64, 2, false},
		{-5, math.MaxInt64, false},
		{-5, 1e9, true},
		{math.MinInt64, -1, false},
		{math.MinInt64, 1, true},
		{1 << 32, 1 << 31, false},
	} {
		got, err := Mul(c.a, c.b)
		want := new(big.Int).Mul(big.NewInt(c.a), big.NewInt(c.b))
		if c.ok != (err == nil) || (c.ok && want.Cmp(big.NewInt(got)) != 0) {
			t.Errorf("Mul(%d, %d) = %d, %v; want %v (ok %v)", c.a, c.b, got, err, want, c.ok)
		}
	}
	if _, err := Add(math.MaxInt64, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("Add(MaxInt64, 1): %v", err)
	}
	if s, err := Add(-3, 5); s != 2 || err != nil {
		t.Errorf("Add(-3, 5) = %d, %v", s, err)
	}
}

// TestMulDivMatchesBigInts checks floor(a*b/d) against math/big, including
// products far beyond int64 (800 top-ups of 1e9 fen times a bonus).
func TestMulDivMatchesBigInts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, -1, 7, 1e9, 800e9, 12_000_000, math.MaxInt64, math.MinInt64 + 1, -800e9}
	for range 2000 {
		vals = append(vals, r.Int64N(math.MaxInt64)-r.Int64N(math.MaxInt64))
	}
	for i, a := range vals {
		b := vals[(i*7+3)%len(vals)]
		d := max(1, vals[(i*13+5)%len(vals)])
		if d < 0 {
			d = -d
		}
		got, err := MulDiv(a, b, d)
		q := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		q.Div(q, big.NewInt(d)) // Euclidean: floor for a positive divisor
		if !q.IsInt64() {
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("MulDiv(%d, %d, %d) = %d, %v; want overflow", a, b, d, got, err)
			}
			continue
		}
		if err != nil || got != q.Int64() {
			t.Fatalf("MulDiv(%d, %d, %d) = %d, %v; want %d", a, b, d, got, err, q.Int64())
		}
	}
	if v, err := MulDiv(12_000_000, 800e9, 800e9); v != 12_000_000 || err != nil {
		t.Fatalf("MulDiv(bonus, principal, principal) = %d, %v", v, err)
	}
}

func TestLineTotal(t *testing.T) {
	for _, c := range []struct {
		q, p int64
		ok   bool
	}{
		{2, 1500, true}, {-5, math.MaxInt64, false}, {0, 100, false}, {1, -1, false}, {3, math.MaxInt64 / 2, false},
	} {
		if _, err := LineTotal(c.q, c.p); (err == nil) != c.ok {
			t.Errorf("LineTotal(%d, %d): %v; want ok %v", c.q, c.p, err, c.ok)
		}
	}
}
