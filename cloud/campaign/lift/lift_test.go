package lift

import (
	"errors"
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Newcombe (1998), Table II, example (a): 56/70 vs 48/80 gives
// 0.2000 with the hybrid score interval 0.0524 to 0.3339.
func TestProportionsNewcombeExample(t *testing.T) {
	iv, err := Proportions(56, 70, 48, 80)
	if err != nil {
		t.Fatal(err)
	}
	if !near(iv.Estimate, 0.2, 1e-9) || !near(iv.Low, 0.0524, 5e-4) || !near(iv.High, 0.3339, 5e-4) {
		t.Fatalf("interval %+v, want 0.2000 (0.0524, 0.3339)", iv)
	}
}

func TestNotEnoughData(t *testing.T) {
	if _, err := Proportions(3, 10, 2, 10); !errors.Is(err, ErrNotEnoughData) {
		t.Fatalf("small groups: %v", err)
	}
	if _, err := Proportions(3, 100, 0, 0); !errors.Is(err, ErrNotEnoughData) {
		t.Fatalf("no holdout: %v", err)
	}
	if _, err := Means(Summary{N: 100, Mean: 1}, Summary{N: 5}); !errors.Is(err, ErrNotEnoughData) {
		t.Fatalf("small control: %v", err)
	}
	if _, err := Proportions(11, 100, 0, 100); err != nil {
		t.Fatalf("zero successes in a group is data: %v", err)
	}
}

func TestTQuantile(t *testing.T) {
	for _, tt := range []struct{ df, want float64 }{{10, 2.228}, {30, 2.042}, {100, 1.984}, {1e9, 1.960}} {
		if got := tQuantile975(tt.df); !near(got, tt.want, 2e-3) {
			t.Errorf("t(%v) = %.4f, want %.3f", tt.df, got, tt.want)
		}
	}
}

// Welch's interval by hand: means 10 and 8, variances 4 and 9, n 40 and 50.
func TestMeans(t *testing.T) {
	iv, err := Means(Summary{N: 40, Mean: 10, Variance: 4}, Summary{N: 50, Mean: 8, Variance: 9})
	if err != nil {
		t.Fatal(err)
	}
	a, b := 4.0/40, 9.0/50
	df := (a + b) * (a + b) / (a*a/39 + b*b/49)
	h := tQuantile975(df) * math.Sqrt(a+b)
	if !near(iv.Estimate, 2, 1e-9) || !near(iv.Low, 2-h, 1e-9) || !near(iv.High, 2+h, 1e-9) {
		t.Fatalf("interval %+v", iv)
	}
	if df < 80 || df > 88 {
		t.Fatalf("Welch df %.1f, want about 84", df)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]int64{2, 4, 4, 4, 5, 5, 7, 9})
	if s.N != 8 || !near(s.Mean, 5, 1e-12) || !near(s.Variance, 32.0/7, 1e-12) {
		t.Fatalf("summary %+v", s)
	}
}
