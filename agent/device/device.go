// Package device says which serial devices the agent drives and how each
// is set up: its kind (scanner, magstripe, em4100, uid), where it is
// plugged in, its baud rate and the options of its frame format. It turns
// that into the framer and parser for the device's protocol (package
// frame). Settings are written as one spec per device,
//
//	kind=scanner,path=/dev/serial/by-id/usb-*Honeywell*,baud=9600
//	kind=magstripe,path=/dev/ttyUSB0,name=msr
//
// and firmware-notes/ tells how to set up each device to match.
package device

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/memberpass/memberpass/agent/frame"
)

// Kind is a device class.
type Kind string

// Device classes.
const (
	Scanner   Kind = "scanner"   // barcode/QR scanner in serial mode
	Magstripe Kind = "magstripe" // magnetic stripe reader, ISO/IEC 7813 tracks
	EM4100    Kind = "em4100"    // 125 kHz reader, STX + hex + checksum + ETX
	UID       Kind = "uid"       // 13.56 MHz reader sending card UIDs on lines
)

// Kinds lists the device classes.
var Kinds = []Kind{Scanner, Magstripe, EM4100, UID}

// Config is one device.
type Config struct {
	Name string
	Kind Kind
	// Path is a device path or pattern (see package serialport).
	Path string
	Baud int
	// MaxFrame is the longest frame in bytes; longer ones are refused.
	MaxFrame int
	// Framing of a scanner: "lines" (CR, LF or CRLF suffix) or "stx"
	// (STX prefix, ETX suffix).
	Framing string
	// Number: how a card number is written. em4100: "dec" (10 digits,
	// default) or "hex"; uid: "hex" (default) or "dec".
	Number string
	// Reverse: a uid reader sends the UID's bytes last first.
	Reverse bool
}

// Parse reads one device spec: comma-separated key=value pairs. Keys:
// kind (required), path (required), name, baud, max-frame, framing,
// number, reverse.
func Parse(spec string) (Config, error) {
	var c Config
	for field := range strings.SplitSeq(spec, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return c, fmt.Errorf("device %q: %q is not key=value", spec, field)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var err error
		switch k {
		case "kind":
			c.Kind = Kind(v)
		case "path":
			c.Path = v
		case "name":
			c.Name = v
		case "baud":
			c.Baud, err = positive(v)
		case "max-frame":
			c.MaxFrame, err = positive(v)
		case "framing":
			c.Framing = v
		case "number":
			c.Number = v
		case "reverse":
			c.Reverse, err = strconv.ParseBool(v)
		default:
			err = errors.New("unknown key; want kind, path, name, baud, max-frame, framing, number or reverse")
		}
		if err != nil {
			return c, fmt.Errorf("device %q: %s: %w", spec, k, err)
		}
	}
	if err := c.fill(); err != nil {
		return c, fmt.Errorf("device %q: %w", spec, err)
	}
	return c, nil
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive number", v)
	}
	return n, nil
}

// fill checks c and gives defaults to what is not set.
func (c *Config) fill() error {
	if c.Path == "" {
		return errors.New("path is missing")
	}
	if c.Baud == 0 {
		c.Baud = 9600
	}
	if c.Name == "" {
		c.Name = string(c.Kind)
	}
	switch c.Kind {
	case Scanner:
		if c.MaxFrame == 0 {
			c.MaxFrame = 512
		}
		if c.Framing == "" {
			c.Framing = "lines"
		}
		if c.Framing != "lines" && c.Framing != "stx" {
			return fmt.Errorf("framing %q: want lines or stx", c.Framing)
		}
	case Magstripe:
		if c.MaxFrame == 0 {
			c.MaxFrame = 256 // tracks 1, 2 and 3 together are at most 226
		}
	case EM4100:
		if c.MaxFrame == 0 {
			c.MaxFrame = 32
		}
		if c.Number == "" {
			c.Number = "dec"
		}
	case UID:
		if c.MaxFrame == 0 {
			c.MaxFrame = 64
		}
		if c.Number == "" {
			c.Number = "hex"
		}
	default:
		return fmt.Errorf("kind %q: want one of %v", c.Kind, Kinds)
	}
	if c.Number != "" && c.Kind != EM4100 && c.Kind != UID {
		return fmt.Errorf("number is for em4100 and uid readers, not %s", c.Kind)
	}
	if c.Number != "" && c.Number != "dec" && c.Number != "hex" {
		return fmt.Errorf("number %q: want dec or hex", c.Number)
	}
	if c.Framing != "" && c.Kind != Scanner {
		return fmt.Errorf("framing is for scanners, not %s", c.Kind)
	}
	if c.Reverse && c.Kind != UID {
		return fmt.Errorf("reverse is for uid readers, not %s", c.Kind)
	}
	return nil
}

// String writes c back as a spec.
func (c Config) String() string {
	s := fmt.Sprintf("kind=%s,name=%s,path=%s,baud=%d,max-frame=%d", c.Kind, c.Name, c.Path, c.Baud, c.MaxFrame)
	if c.Framing != "" {
		s += ",framing=" + c.Framing
	}
	if c.Number != "" {
		s += ",number=" + c.Number
	}
	if c.Reverse {
		s += ",reverse=true"
	}
	return s
}

// NewFramer makes a fresh framer and parser for the device's protocol.
func (c Config) NewFramer() frame.Framer {
	switch c.Kind {
	case Magstripe:
		return frame.Decoder{Framer: frame.NewLines(c.MaxFrame), Parse: frame.ParseMagstripe}
	case EM4100:
		n := frame.EMDecimal
		if c.Number == "hex" {
			n = frame.EMHex
		}
		return frame.Decoder{Framer: frame.NewSTXETX(c.MaxFrame), Parse: frame.ParseEM4100(n)}
	case UID:
		return frame.Decoder{Framer: frame.NewLines(c.MaxFrame), Parse: frame.ParseUID(frame.UIDFormat{Decimal: c.Number == "dec", Reverse: c.Reverse})}
	}
	if c.Framing == "stx" {
		return frame.Decoder{Framer: frame.NewSTXETX(c.MaxFrame), Parse: scannerSTX}
	}
	return frame.Decoder{Framer: frame.NewLines(c.MaxFrame), Parse: frame.ParseScanner}
}

// scannerSTX parses a scanner's STX/ETX frame; a CR or LF suffix some
// scanners add inside the frame is dropped.
func scannerSTX(f frame.Frame) frame.Frame {
	if f.Err == nil {
		f.Text = strings.TrimRight(f.Text, "\r\n")
		if f.Text == "" {
			return frame.Frame{Err: fmt.Errorf("%w: empty scan", frame.ErrMalformed)}
		}
	}
	return frame.ParseScanner(f)
}

// List is a repeatable flag of device specs. Set takes one spec, or
// several separated by ";" (as an environment variable holds them).
type List []Config

// Set adds the specs in s.
func (l *List) Set(s string) error {
	for spec := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(spec) == "" {
			continue
		}
		c, err := Parse(spec)
		if err != nil {
			return err
		}
		*l = append(*l, c)
	}
	return nil
}

// String writes the list as specs separated by ";".
func (l *List) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, c := range *l {
		s[i] = c.String()
	}
	return strings.Join(s, ";")
}

// Check refuses two devices with one name, and names unnamed duplicates
// of a kind "scanner-2", "scanner-3", ... (in place).
func (l List) Check() error {
	seen := map[string]bool{}
	count := map[Kind]int{}
	for i := range l {
		c := &l[i]
		count[c.Kind]++
		if c.Name == string(c.Kind) && count[c.Kind] > 1 {
			c.Name = fmt.Sprintf("%s-%d", c.Kind, count[c.Kind])
		}
		if seen[c.Name] {
			return fmt.Errorf("two devices named %q: give each a name=", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}
