// Package scan tells what a scanned or swiped text is: a member code, a
// member card, a coupon, a group-buy voucher, a product barcode, or
// something the counter does not know. It is pure: the replica is asked
// through a function, so the rules can be tested and fuzzed alone.
//
// The rules, first match wins (firmware-notes/README.md explains them):
//
//  1. A card reader's number (magstripe, 125 kHz, 13.56 MHz) is a card.
//  2. "MC" + base32, longer than 60: a member code (proto/membercode).
//  3. "CP" + 8 to 32 characters of A-Z and 2-9: a coupon. The cloud
//     issues "CP" + 10 characters of ABCDEFGHJKLMNPQRSTUVWXYZ23456789
//     (cloud/loyalty); the rule also takes RFC 4648 base32 codes.
//  4. A configured voucher prefix (per group-buy platform): a voucher.
//  5. Card-shaped text that the replica knows as a card: a card. A
//     member's own card always wins over a guess by shape.
//  6. 8, 12 or 13 digits with a valid GS1 check digit (EAN-8, UPC-A,
//     EAN-13), and an AIM identifier that is EAN/UPC ("]E") or none: a
//     product barcode. With "]E" and a wrong check digit: unknown.
//  7. Card-shaped text starting with one of the brand's card prefixes: a
//     card (unknown to the replica, so the counter offers to enrol).
//  8. Bare digits of voucher length (10 to 12 by default): a voucher, the
//     shape of the codes group-buy platforms print.
//  9. Card-shaped text (4 to 40 digits or A-F): a card, which the counter
//     refuses as unknown.
//  10. Anything else: unknown.
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
	Coupon     Kind = "coupon"
	Voucher    Kind = "voucher"
	Product    Kind = "product"
	Unknown    Kind = "unknown"
)

// CouponPrefix starts every coupon code.
const CouponPrefix = "CP"

// Scan is a classified frame.
type Scan struct {
	Kind  Kind
	Value string
	// Symbology is the scanner's AIM identifier, if it sent one.
	Symbology string
	// Platform names the group-buy platform of a voucher matched by prefix.
	Platform string
}

// Input is one reading from a device.
type Input struct {
	Text      string
	Symbology string
	// FromCardReader: Text is a card number read from a card.
	FromCardReader bool
}

// Rules are the brand's and the shop's settings for telling scans apart.
type Rules struct {
	// VoucherPrefixes maps a prefix that marks a group-buy platform's
	// voucher codes to the platform's name, e.g. "DY" -> "douyin".
	VoucherPrefixes map[string]string
	// VoucherMinDigits and VoucherMaxDigits bound the length of bare-digit
	// voucher codes; zero means 10 and 12.
	VoucherMinDigits, VoucherMaxDigits int
	// CardPrefixes start the brand's card numbers: such a number is a
	// card even when the replica does not know it, never a voucher.
	CardPrefixes []string
}

// Classify tells what text is with the default rules and no replica.
func Classify(text string) Scan {
	return Rules{}.Classify(Input{Text: text}, nil)
}

// Classify tells what in is. knownCard, if not nil, says whether the
// replica holds a card with this number.
func (r Rules) Classify(in Input, knownCard func(string) bool) Scan {
	text := strings.TrimSpace(in.Text)
	s := Scan{Kind: Unknown, Value: text, Symbology: in.Symbology}
	switch {
	case text == "":
		return s
	case in.FromCardReader:
		s.Kind = Card
		return s
	case strings.HasPrefix(text, membercode.Prefix) && len(text) > 60:
		s.Kind = MemberCode
		return s
	case isCoupon(text):
		s.Kind = Coupon
		return s
	}
	if p, name, ok := r.voucherPrefix(text); ok && len(text) > len(p) {
		s.Kind, s.Platform = Voucher, name
		return s
	}
	cardShaped := isCardNumber(text)
	if cardShaped && knownCard != nil && knownCard(text) {
		s.Kind = Card
		return s
	}
	ean := strings.HasPrefix(in.Symbology, "]E")
	if ean || in.Symbology == "" {
		switch len(text) {
		case 8, 12, 13:
			if allDigits(text) {
				if ValidGTIN(text) {
					s.Kind = Product
					return s
				}
				if ean {
					return s // a scanner would not send a bad check digit
				}
			}
		}
	}
	lo, hi := r.voucherDigits()
	switch {
	case cardShaped && r.cardPrefix(text):
		s.Kind = Card
	case !ean && allDigits(text) && len(text) >= lo && len(text) <= hi:
		s.Kind = Voucher
	case cardShaped:
		s.Kind = Card
	}
	return s
}

func (r Rules) voucherPrefix(text string) (prefix, platform string, ok bool) {
	// The longest matching prefix wins, so "MT" and "MTX" can coexist.
	for p, name := range r.VoucherPrefixes {
		if p != "" && strings.HasPrefix(text, p) && len(p) > len(prefix) {
			prefix, platform, ok = p, name, true
		}
	}
	return prefix, platform, ok
}

func (r Rules) cardPrefix(text string) bool {
	for _, p := range r.CardPrefixes {
		if p != "" && strings.HasPrefix(text, p) {
			return true
		}
	}
	return false
}

func (r Rules) voucherDigits() (int, int) {
	lo, hi := r.VoucherMinDigits, r.VoucherMaxDigits
	if lo == 0 {
		lo = 10
	}
	if hi == 0 {
		hi = 12
	}
	return lo, hi
}

// ValidGTIN checks the GS1 check digit of an EAN-8, UPC-A (GTIN-12),
// EAN-13 or GTIN-14: from the right, digits other than the check digit
// are weighted 3, 1, 3, 1, ... and the check digit makes the sum a
// multiple of 10.
func ValidGTIN(s string) bool {
	if len(s) < 8 || len(s) > 14 || !allDigits(s) {
		return false
	}
	sum := 0
	for i := len(s) - 2; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

func isCoupon(s string) bool {
	rest, ok := strings.CutPrefix(s, CouponPrefix)
	if !ok || len(rest) < 8 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '9') {
			return false
		}
	}
	return true
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

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// Hint masks an identifier for logs and event records: the last 4
// characters only.
func Hint(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
