package scan

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	rules := Rules{VoucherPrefixes: map[string]string{"DY": "douyin", "MT": "meituan"}, CardPrefixes: []string{"61"}}
	known := func(s string) bool { return s == "8800000001" || s == "036000291452" }
	code := "MC" + strings.Repeat("A", 70)
	tests := []struct {
		name     string
		in       Input
		kind     Kind
		platform string
	}{
		{"member code", Input{Text: code}, MemberCode, ""},
		{"member code with AIM QR", Input{Text: code, Symbology: "]Q1"}, MemberCode, ""},
		{"short MC text is not a member code", Input{Text: "MC12"}, Unknown, ""},
		{"card reader number", Input{Text: "4111111111111111", FromCardReader: true}, Card, ""},
		{"card reader number shaped like EAN-13", Input{Text: "6901234567892", FromCardReader: true}, Card, ""},
		{"coupon", Input{Text: "CPABCDEFGH234567"}, Coupon, ""},
		{"coupon too short", Input{Text: "CPABC"}, Unknown, ""},
		{"coupon with a character outside A-Z 2-9", Input{Text: "CPABCDEFGH1"}, Unknown, ""},
		{"coupon as the cloud issues it", Input{Text: "CPK8M9Q2WXYZ"}, Coupon, ""},
		{"voucher by platform prefix", Input{Text: "DY123456789012"}, Voucher, "douyin"},
		{"voucher by platform prefix, AIM QR", Input{Text: "MT9876543210", Symbology: "]Q1"}, Voucher, "meituan"},
		{"prefix alone is no voucher", Input{Text: "DY"}, Unknown, ""},
		{"known card", Input{Text: "8800000001"}, Card, ""},
		{"known card wins over UPC-A shape", Input{Text: "036000291452"}, Card, ""},
		{"EAN-13", Input{Text: "6901234567892"}, Product, ""},
		{"EAN-13 with AIM", Input{Text: "4006381333931", Symbology: "]E0"}, Product, ""},
		{"EAN-8", Input{Text: "96385074", Symbology: "]E4"}, Product, ""},
		{"UPC-A", Input{Text: "012345678905"}, Product, ""},
		{"EAN-13 bad check digit, AIM EAN", Input{Text: "6901234567893", Symbology: "]E0"}, Unknown, ""},
		{"13 digits bad check, no AIM", Input{Text: "6901234567893"}, Card, ""},
		{"valid EAN shape in a QR is not a product", Input{Text: "6901234567892", Symbology: "]Q1"}, Card, ""},
		{"unknown card with brand prefix", Input{Text: "6199999999"}, Card, ""},
		{"10 digits: voucher", Input{Text: "7712345678"}, Voucher, ""},
		{"12 digits, bad UPC check: voucher", Input{Text: "123456789013"}, Voucher, ""},
		{"12 digits in QR: voucher", Input{Text: "012345678905", Symbology: "]Q1"}, Voucher, ""},
		{"9 digits: card", Input{Text: "123456789"}, Card, ""},
		{"hex card", Input{Text: "04A1B2C3"}, Card, ""},
		{"text", Input{Text: "HELLO-1234"}, Unknown, ""},
		{"blank", Input{Text: "  "}, Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules.Classify(tt.in, known)
			if got.Kind != tt.kind || got.Platform != tt.platform {
				t.Errorf("Classify(%+v) = %+v, want %s %q", tt.in, got, tt.kind, tt.platform)
			}
			if got.Symbology != tt.in.Symbology {
				t.Errorf("symbology %q lost: %+v", tt.in.Symbology, got)
			}
		})
	}
}

func TestVoucherLengths(t *testing.T) {
	r := Rules{VoucherMinDigits: 14, VoucherMaxDigits: 16}
	if k := r.Classify(Input{Text: "12345678901234"}, nil).Kind; k != Voucher {
		t.Errorf("14 digits = %s, want voucher", k)
	}
	if k := r.Classify(Input{Text: "7712345678"}, nil).Kind; k != Card {
		t.Errorf("10 digits = %s, want card", k)
	}
}

func TestValidGTIN(t *testing.T) {
	for s, want := range map[string]bool{
		"6901234567892": true, "5901234123457": true, "036000291452": true, "96385074": true,
		"6901234567890": false, "1234567": false, "12345678A": false, "": false,
	} {
		if got := ValidGTIN(s); got != want {
			t.Errorf("ValidGTIN(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("6901234567892", "]E0", false)
	f.Add("DY123456789012", "", false)
	f.Add("CPABCDEFGH234567", "]Q1", false)
	f.Add("8800000001", "", true)
	rules := Rules{VoucherPrefixes: map[string]string{"DY": "douyin"}, CardPrefixes: []string{"61"}}
	f.Fuzz(func(t *testing.T, text, sym string, card bool) {
		got := rules.Classify(Input{Text: text, Symbology: sym, FromCardReader: card}, func(s string) bool { return strings.HasPrefix(s, "88") })
		switch got.Kind {
		case MemberCode, Card, Coupon, Voucher, Product, Unknown:
		default:
			t.Fatalf("kind %q", got.Kind)
		}
		if got.Value != strings.TrimSpace(text) {
			t.Fatalf("value %q from %q", got.Value, text)
		}
		if got.Kind == Product && !ValidGTIN(got.Value) {
			t.Fatalf("product %q without a valid check digit", got.Value)
		}
		if card && got.Value != "" && got.Kind != Card {
			t.Fatalf("card reader's %q classified %s", text, got.Kind)
		}
	})
}
