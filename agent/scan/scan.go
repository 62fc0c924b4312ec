// Package scan tells what a scanned or swiped text is: a member code, a
// member card number, or something the counter does not know.
package scan

import (
	"strings"

	"github.com/memberpass/memberpass/proto/membercode"
)

// Kind is what a scan holds.
type Kind string

// Kinds of scan.
const (
	MemberCode Kind = "member_code"
	Card       Kind = "card"
	Unknown    Kind = "unknown"
)

// Scan is a classified frame.
type Scan struct {
	Kind  Kind
	Value string
}

// Classify tells what text is. Member codes carry their own prefix; a card
// number is 4 to 40 digits or upper-case hex characters, as printed on a
// card's barcode or read from its chip.
func Classify(text string) Scan {
	text = strings.TrimSpace(text)
	switch {
	case strings.HasPrefix(text, membercode.Prefix) && len(text) > 60:
		return Scan{Kind: MemberCode, Value: text}
	case isCardNumber(text):
		return Scan{Kind: Card, Value: text}
	}
	return Scan{Kind: Unknown, Value: text}
}

func isCardNumber(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// Hint masks an identifier for logs and event records: the last 4
// characters only.
func Hint(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
