package groupbuy

import (
	"fmt"
	"strings"
)

// YuanToFen reads a decimal yuan amount as a platform writes it ("98",
// "98.5", "98.50") into fen exactly, without floating point. Amounts of
// 10 million yuan or more, negative ones and more than two decimals are
// refused.
func YuanToFen(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 8 || len(frac) > 2 {
		return 0, fmt.Errorf("amount %.20q is not a yuan amount below 100,000,000 with at most 2 decimals", s)
	}
	var fen int64
	for _, r := range whole + (frac + "00")[:2] {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("amount %.20q is not a decimal number", s)
		}
		fen = fen*10 + int64(r-'0')
	}
	return fen, nil
}
