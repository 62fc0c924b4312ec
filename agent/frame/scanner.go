package frame

// ParseScanner takes a scanner's text and splits off the AIM symbology
// identifier (ISO/IEC 15424), "]" + code character + modifier character,
// which a scanner set to transmit it puts before the data: "]Q1" QR Code,
// "]E0" EAN-13 or UPC-A, "]E4" EAN-8, "]C0" Code 128, "]d2" Data Matrix.
// Text without one passes as it is. A frame that is only an identifier,
// with no data, is refused.
func ParseScanner(f Frame) Frame {
	if f.Err != nil {
		return f
	}
	sym, data, ok := SplitAIM(f.Text)
	if !ok {
		return f
	}
	if data == "" {
		return Frame{Err: wrapf(ErrMalformed, "AIM identifier %q with no data", sym)}
	}
	f.Symbology, f.Text = sym, data
	return f
}

// SplitAIM splits a leading AIM identifier off text. The code character
// is a letter (A-Z, a-z) and the modifier a digit or letter.
func SplitAIM(text string) (sym, data string, ok bool) {
	if len(text) < 3 || text[0] != ']' || !isLetter(text[1]) || !(isLetter(text[2]) || isDigit(text[2])) {
		return "", text, false
	}
	return text[:3], text[3:], true
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' }
