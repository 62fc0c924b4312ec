// Command devicesim is a serial device on a pseudo-terminal: a barcode
// scanner, a magnetic stripe reader, an EM4100 (125 kHz) reader or a
// 13.56 MHz UID reader. It prints the device path to give the agent, then
// sends one frame for each line read from standard input:
//
//	go run ./scripts/cmd/devicesim --kind magstripe --link /tmp/usb-Sim_MSR-if00
//	/tmp/usb-Sim_MSR-if00 -> /dev/pts/7
//	8800000001          <- a swipe of card 8800000001
//	!burst 20 8800000002 <- 20 swipes back to back
//	!replug             <- unplug, then plug in again as a new pty
//
// What a line means per kind: scanner, the scanned text (with --aim, the
// AIM identifier put before it); magstripe, the card number (tracks 1
// and 2 with LRC); em4100, the 10-digit card number (and --em-version);
// uid, the UID in hex ("04A1B2C3D4E580"), or with --uid-decimal a 4-byte
// UID sent as 10 decimal digits.
//
// --drop and --inject damage the line (probability per byte), with --seed
// for a repeatable run.
package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/scripts/serialsim"
)

type options struct {
	kind       string
	baud       int
	suffix     serialsim.Suffix
	aim        string
	emVersion  uint
	uidDecimal bool
	uidSep     string
	link       string
	drop       float64
	inject     float64
	seed       uint64
}

func main() {
	var o options
	suffix := flag.String("suffix", "CRLF", "scanner: what ends each scan: CR, CRLF or LF")
	flag.StringVar(&o.kind, "kind", "scanner", "device class: scanner, magstripe, em4100 or uid")
	flag.IntVar(&o.baud, "baud", 9600, "pace the line at this baud rate (0: no pacing)")
	flag.StringVar(&o.aim, "aim", "", "scanner: AIM symbology identifier to send before each scan, e.g. ]Q1")
	flag.UintVar(&o.emVersion, "em-version", 0x1E, "em4100: the tag's version/customer byte")
	flag.BoolVar(&o.uidDecimal, "uid-decimal", false, "uid: send 4-byte UIDs as 10 decimal digits")
	flag.StringVar(&o.uidSep, "uid-sep", "", "uid: separator between hex bytes: none, space or colon")
	flag.StringVar(&o.link, "link", "", "make this symlink to the pty (a stable name like /dev/serial/by-id/...), moved on !replug")
	flag.Float64Var(&o.drop, "drop", 0, "probability that each byte is lost on the line")
	flag.Float64Var(&o.inject, "inject", 0, "probability that a random byte is put on the line before each byte")
	flag.Uint64Var(&o.seed, "seed", 1, "seed for --drop and --inject")
	flag.Parse()
	var err error
	if o.suffix, err = serialsim.ParseSuffix(*suffix); err == nil {
		err = run(o, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devicesim:", err)
		os.Exit(1)
	}
}

// frameOf makes the frame a line of input stands for.
func frameOf(o options, text string) ([]byte, error) {
	switch o.kind {
	case "scanner":
		return serialsim.ScanFrame(o.aim, text, o.suffix), nil
	case "magstripe":
		if text == "" || strings.Trim(text, "0123456789") != "" || len(text) > 19 {
			return nil, fmt.Errorf("card number %q: want 1 to 19 digits", text)
		}
		return serialsim.MagstripeCard(text), nil
	case "em4100":
		n, err := strconv.ParseUint(text, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("card number %q: want a number below 4294967296", text)
		}
		return serialsim.EM4100Frame(serialsim.EM4100Tag(byte(o.emVersion), uint32(n)), true), nil
	case "uid":
		uid, err := hex.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("UID %q: want hex", text)
		}
		if o.uidDecimal {
			if len(uid) != 4 {
				return nil, fmt.Errorf("UID %q: decimal readers send 4-byte UIDs", text)
			}
			return serialsim.UIDDecimalFrame([4]byte(uid)), nil
		}
		sep := map[string]string{"": "", "none": "", "space": " ", "colon": ":"}[o.uidSep]
		return serialsim.UIDFrame(uid, sep), nil
	}
	return nil, fmt.Errorf("kind %q: want scanner, magstripe, em4100 or uid", o.kind)
}

// device is the simulated device, plugged in.
type simDevice struct {
	o    options
	pty  *serialsim.PTY
	line io.Writer
}

func (d *simDevice) plug(out io.Writer) error {
	p, err := serialsim.OpenPTY()
	if err != nil {
		return err
	}
	p.SetBaud(d.o.baud)
	d.pty, d.line = p, p
	if d.o.drop > 0 || d.o.inject > 0 {
		d.line = serialsim.NewNoise(p, d.o.seed, d.o.drop, d.o.inject)
	}
	if d.o.link == "" {
		fmt.Fprintln(out, p.Path)
		return nil
	}
	os.Remove(d.o.link)
	if err := os.Symlink(p.Path, d.o.link); err != nil {
		return fmt.Errorf("link %s: %w", d.o.link, err)
	}
	fmt.Fprintf(out, "%s -> %s\n", d.o.link, p.Path)
	return nil
}

func (d *simDevice) unplug() error {
	if d.o.link != "" {
		os.Remove(d.o.link)
	}
	return d.pty.Unplug(5 * time.Second)
}

func run(o options, in io.Reader, out io.Writer) error {
	if _, err := frameOf(o, "1"); err != nil && strings.HasPrefix(err.Error(), "kind") {
		return err
	}
	d := &simDevice{o: o}
	if err := d.plug(out); err != nil {
		return err
	}
	defer d.unplug()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		var err error
		switch fields := strings.Fields(line); {
		case line == "!replug":
			if err = d.unplug(); err == nil {
				err = d.plug(out)
			}
		case len(fields) == 3 && fields[0] == "!burst":
			var n int
			var f []byte
			if n, err = strconv.Atoi(fields[1]); err == nil {
				if f, err = frameOf(o, fields[2]); err == nil {
					frames := make([][]byte, n)
					for i := range frames {
						frames[i] = f
					}
					err = serialsim.Burst(d.line, frames...)
				}
			}
		case strings.HasPrefix(line, "!"):
			err = errors.New("commands: !burst N TEXT, !replug")
		default:
			var f []byte
			if f, err = frameOf(o, line); err == nil {
				_, err = d.line.Write(f)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "devicesim:", err)
		}
	}
	return sc.Err()
}
