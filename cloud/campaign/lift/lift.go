// Package lift estimates what a campaign did: the difference between the
// members who were treated and the holdout who were not, with a 95%
// interval, or "not enough data" when the groups are too small to say.
//
// Two estimates: a difference of proportions (return rate) by Newcombe's
// hybrid score interval (method 10 of Newcombe 1998, built from Wilson
// intervals, which behave near 0 and 1 where Wald's does not), and a
// difference of means (spend, visits) by Welch's interval, which does not
// assume equal variances. The reports use the same functions.
package lift

import (
	"errors"
	"math"
)

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// MinGroup is the smallest group either side may have for an estimate:
// below it the interval says little and reports show "not enough data".
const MinGroup = 30

// ErrNotEnoughData says a group is too small (or empty: a campaign without
// holdout has no proof).
var ErrNotEnoughData = errors.New("not enough data")

// Interval is an estimate of treated minus control with its 95% interval.
type Interval struct {
	Estimate float64
	Low      float64
	High     float64
}

// Contains reports whether x lies in the interval.
func (i Interval) Contains(x float64) bool { return i.Low <= x && x <= i.High }

// wilson is the Wilson score interval of k successes in n.
func wilson(k, n int64) (lo, hi float64) {
	p := float64(k) / float64(n)
	nn := float64(n)
	z2 := z95 * z95
	centre := (p + z2/(2*nn)) / (1 + z2/nn)
	half := z95 / (1 + z2/nn) * math.Sqrt(p*(1-p)/nn+z2/(4*nn*nn))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// Proportions is the difference of two proportions, treated (k1 of n1)
// minus control (k2 of n2), with Newcombe's hybrid score interval.
func Proportions(k1, n1, k2, n2 int64) (Interval, error) {
	if n1 < MinGroup || n2 < MinGroup {
		return Interval{}, ErrNotEnoughData
	}
	if k1 < 0 || k2 < 0 || k1 > n1 || k2 > n2 {
		return Interval{}, errors.New("lift: successes must be between 0 and the group size")
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	l1, u1 := wilson(k1, n1)
	l2, u2 := wilson(k2, n2)
	d := p1 - p2
	return Interval{
		Estimate: d,
		Low:      d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2)),
		High:     d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2)),
	}, nil
}

// Summary is what Welch's interval needs of a group: its size, mean and
// variance. Reports can keep these instead of every value.
type Summary struct {
	N        int64
	Mean     float64
	Variance float64 // sample variance (n-1)
}

// Summarize computes a group's summary in one pass (Welford).
func Summarize(values []int64) Summary {
	var s Summary
	var m2 float64
	for _, v := range values {
		s.N++
		x := float64(v)
		delta := x - s.Mean
		s.Mean += delta / float64(s.N)
		m2 += delta * (x - s.Mean)
	}
	if s.N > 1 {
		s.Variance = m2 / float64(s.N-1)
	}
	return s
}

// Means is the difference of means, treated minus control, with Welch's
// interval (Welch-Satterthwaite degrees of freedom).
func Means(treated, control Summary) (Interval, error) {
	if treated.N < MinGroup || control.N < MinGroup {
		return Interval{}, ErrNotEnoughData
	}
	a := treated.Variance / float64(treated.N)
	b := control.Variance / float64(control.N)
	d := treated.Mean - control.Mean
	se := math.Sqrt(a + b)
	if se == 0 {
		return Interval{Estimate: d, Low: d, High: d}, nil
	}
	df := (a + b) * (a + b) / (a*a/float64(treated.N-1) + b*b/float64(control.N-1))
	h := tQuantile975(df) * se
	return Interval{Estimate: d, Low: d - h, High: d + h}, nil
}

// tQuantile975 is Student's t 97.5% quantile for df degrees of freedom, by
// the Cornish-Fisher expansion around the normal quantile (error below
// 0.002 for df >= 5; groups here have at least MinGroup members).
func tQuantile975(df float64) float64 {
	z := z95
	z3, z5, z7 := z*z*z, z*z*z*z*z, z*z*z*z*z*z*z
	return z + (z3+z)/(4*df) + (5*z5+16*z3+3*z)/(96*df*df) + (3*z7+19*z5+17*z3-15*z)/(384*df*df*df)
}
