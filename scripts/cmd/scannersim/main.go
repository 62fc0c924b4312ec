// Command scannersim is a barcode/QR scanner on a pseudo-terminal. It
// prints the device path to give the agent (--scanner), then sends each
// line read from standard input as one scan.
//
//	go run ./scripts/cmd/scannersim --suffix CRLF
//	/dev/pts/7
//	MC...            <- typed or piped lines become scans
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/memberpass/memberpass/scripts/serialsim"
)

func main() {
	suffix := flag.String("suffix", "CR", "what ends each scan: CR, CRLF or LF")
	baud := flag.Int("baud", 9600, "pace the line at this baud rate (0: no pacing)")
	flag.Parse()
	sfx, err := serialsim.ParseSuffix(*suffix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scannersim:", err)
		os.Exit(2)
	}
	pty, err := serialsim.OpenPTY()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scannersim:", err)
		os.Exit(1)
	}
	defer pty.Close()
	pty.SetBaud(*baud)
	fmt.Println(pty.Path)
	sc := serialsim.Scanner{Line: pty, Suffix: sfx}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if err := sc.Scan(in.Text()); err != nil {
			fmt.Fprintln(os.Stderr, "scannersim:", err)
			os.Exit(1)
		}
	}
}
