package loyalty

import (
	"strconv"
	"strings"

	"github.com/memberpass/memberpass/cloud"
)

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// validSlug accepts lower-case letters, digits and dashes, 2 to 32 long.
func validSlug(what, s string) error {
	if len(s) < 2 || len(s) > 32 {
		return cloud.Errorf(cloud.Invalid, "%s %q must be 2 to 32 characters", what, s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return cloud.Errorf(cloud.Invalid, "%s %q may hold only a-z, 0-9 and '-'", what, s)
		}
	}
	return nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// NormalizePhone turns a mainland China mobile number as people type it
// (+86 138 0013 8000, 86-13800138000, 13800138000) into its 11 digits.
func NormalizePhone(raw string) (string, error) {
	var digits strings.Builder
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '+' || r == '(' || r == ')':
		default:
			return "", cloud.Errorf(cloud.Invalid, "phone %q has %q, which is not a digit", raw, r)
		}
	}
	d := digits.String()
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' {
		return "", cloud.Errorf(cloud.Invalid, "phone %q is not an 11-digit mobile number starting 13-19", raw)
	}
	return d, nil
}

// MaskPhone shows a phone number the way a counter may: 138****8000.
func MaskPhone(phone string) string {
	if len(phone) != 11 {
		return "****"
	}
	return phone[:3] + "****" + phone[7:]
}

// validCardNumber accepts 4 to 40 digits or upper-case hex characters, as
// magstripe and RFID readers produce.
func validCardNumber(n string) error {
	if len(n) < 4 || len(n) > 40 {
		return cloud.Errorf(cloud.Invalid, "card number %q must be 4 to 40 characters", n)
	}
	for _, r := range n {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'F') {
			return cloud.Errorf(cloud.Invalid, "card number %q may hold only digits and A-F", n)
		}
	}
	return nil
}

// maxMemberNameBytes bounds a member's name wherever it enters (HQ, an
// import, the join page, a counter's enrolment): 21 Chinese characters or
// 64 Latin letters.
const maxMemberNameBytes = 64

// validMemberName refuses a name too long to be one, or holding control
// characters (an ESC sequence would reach HQ's terminal raw).
func validMemberName(name string) error {
	if len(name) > maxMemberNameBytes {
		return cloud.Errorf(cloud.Invalid, "name is %d bytes; at most %d", len(name), maxMemberNameBytes)
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return cloud.Errorf(cloud.Invalid, "name holds control character %U", r)
		}
	}
	return nil
}
