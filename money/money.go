// Package money is the arithmetic on amounts of money (integer fen) and on
// what is multiplied with them (points, quantities, rates), shared by the
// cloud and the agent. No operation here can overflow silently: each either
// gives the exact result or says that it does not fit in an int64, so a
// bonus can never wrap to a huge balance (promise 5).
package money

import (
	"errors"
	"math"
	"math/bits"
)

// ErrOverflow means the exact result does not fit in an int64.
var ErrOverflow = errors.New("amount out of range")

// Add returns a+b, or ErrOverflow.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Mul returns a*b, or ErrOverflow.
func Mul(a, b int64) (int64, error) {
	neg, hi, lo := mul128(a, b)
	return fit(neg, hi, lo)
}

// MulDiv returns floor(a*b/d) computed exactly (the product is held in 128
// bits), or ErrOverflow when the quotient does not fit; d must be positive.
// Rounding is toward negative infinity, so a share of money is never
// rounded up out of nothing.
func MulDiv(a, b, d int64) (int64, error) {
	if d <= 0 {
		return 0, errors.New("money: divide by a non-positive number")
	}
	neg, hi, lo := mul128(a, b)
	if hi >= uint64(d) {
		return 0, ErrOverflow
	}
	q, r := bits.Div64(hi, lo, uint64(d))
	if neg && r != 0 {
		q++ // floor, not truncation, for a negative product
	}
	return fit(neg, 0, q)
}

// mul128 is |a*b| as 128 bits and its sign.
func mul128(a, b int64) (neg bool, hi, lo uint64) {
	neg = (a < 0) != (b < 0) && a != 0 && b != 0
	hi, lo = bits.Mul64(abs(a), abs(b))
	return neg, hi, lo
}

func abs(a int64) uint64 {
	if a < 0 {
		return uint64(^a) + 1
	}
	return uint64(a)
}

func fit(neg bool, hi, lo uint64) (int64, error) {
	if hi != 0 {
		return 0, ErrOverflow
	}
	if neg {
		if lo > uint64(math.MaxInt64)+1 {
			return 0, ErrOverflow
		}
		return int64(-lo), nil //nolint:gosec // checked above; -(1<<63) wraps to MinInt64 as wanted
	}
	if lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(lo), nil
}

// LineTotal is quantity × unit price for a bill's line. A quantity must be
// positive and a price not negative: a line of -5 × MaxInt64 is refused,
// never wrapped into a plausible total.
func LineTotal(quantity, unitPriceFen int64) (int64, error) {
	if quantity <= 0 {
		return 0, errors.New("quantity must be positive")
	}
	if unitPriceFen < 0 {
		return 0, errors.New("unit price is negative")
	}
	return Mul(quantity, unitPriceFen)
}
