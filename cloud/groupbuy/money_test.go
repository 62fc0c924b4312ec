package groupbuy

import "testing"

func TestYuanToFen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"98", 9800, true}, {"98.5", 9850, true}, {"98.50", 9850, true}, {"0.01", 1, true},
		{"0.1", 10, true}, {"99999999.99", 9999999999, true},
		{"", 0, false}, {"-1", 0, false}, {"1.234", 0, false}, {"1e3", 0, false}, {"100000000", 0, false}, {".5", 0, false},
	} {
		got, err := YuanToFen(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("YuanToFen(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
