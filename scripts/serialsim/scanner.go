package serialsim

import (
	"fmt"
	"io"
)

// Suffix ends each scan, as set in the scanner's configuration.
type Suffix string

// Suffixes scanners are commonly set to.
const (
	CR   Suffix = "\r"
	CRLF Suffix = "\r\n"
	LF   Suffix = "\n"
)

// ParseSuffix reads "CR", "CRLF" or "LF".
func ParseSuffix(s string) (Suffix, error) {
	switch s {
	case "CR", "cr":
		return CR, nil
	case "CRLF", "crlf":
		return CRLF, nil
	case "LF", "lf":
		return LF, nil
	}
	return "", fmt.Errorf("suffix %q: want CR, CRLF or LF", s)
}

// Scanner is a barcode/QR scanner in serial mode: each scan is the
// decoded data followed by the suffix.
type Scanner struct {
	Line   io.Writer
	Suffix Suffix
}

// Scan sends one decoded code as the scanner would.
func (s Scanner) Scan(data string) error {
	_, err := s.Line.Write([]byte(data + string(s.Suffix)))
	if err != nil {
		return fmt.Errorf("scanner write: %w", err)
	}
	return nil
}
