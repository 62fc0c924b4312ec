package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"

	"github.com/memberpass/memberpass/agent/staff"
)

// kioskAccess reads who may sign in on the kiosk and which Host names it
// answers to. A listen address off loopback must be asked for with
// --kiosk-allow-remote, and is logged as a warning.
func kioskAccess(c config, log *slog.Logger) (*staff.Desk, []string, error) {
	host, _, err := net.SplitHostPort(c.kiosk)
	if err != nil {
		return nil, nil, fmt.Errorf("--kiosk-listen %q: %w", c.kiosk, err)
	}
	var hosts []string
	if !isLoopback(host) {
		if !c.kioskRemote {
			return nil, nil, fmt.Errorf("--kiosk-listen %q is not a loopback address: other machines could reach the kiosk; add --kiosk-allow-remote if that is meant", c.kiosk)
		}
		log.Warn("the kiosk listens beyond loopback: anyone on the network can reach its sign-in page", "kiosk", c.kiosk)
		if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
			hosts = append(hosts, host)
		}
	}
	for h := range strings.SplitSeq(c.kioskHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	path := c.staffFile
	if path == "" {
		path = filepath.Join(c.dataDir, "staff.txt")
	}
	ro, exists, err := staff.LoadRoster(path)
	if err != nil {
		return nil, nil, err
	}
	switch n := len(ro.People()); {
	case !exists:
		log.Warn("no staff file: nobody can sign in on the kiosk, so it takes no money; see firmware-notes/operations.md", "staff_file", path)
	case n == 0:
		log.Warn("the staff file names nobody: nobody can sign in on the kiosk", "staff_file", path)
	default:
		log.Info("kiosk staff loaded", "staff_file", path, "staff", n)
	}
	return staff.NewDesk(ro), hosts, nil
}

// hashPIN reads a PIN from stdin and prints its hash for the staff file.
func hashPIN(args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("memberpass-agent hash-pin", flag.ContinueOnError)
	fs.SetOutput(errOut)
	iter := fs.Int("iterations", staff.DefaultIterations, "PBKDF2 iterations")
	fs.Usage = func() {
		fmt.Fprintf(errOut, "Usage: echo PIN | memberpass-agent hash-pin\n\nReads a PIN (%d to %d digits) from standard input and prints the hash to put\nin the staff file: \"id role hash name\".\n", staff.MinPINLen, staff.MaxPINLen)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read PIN: %w", err)
	}
	h, err := staff.HashPIN(strings.TrimSpace(line), *iter)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, h)
	return nil
}
