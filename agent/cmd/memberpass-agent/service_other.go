//go:build !windows

package main

import (
	"errors"
	"io"
)

// runService refuses: services of the Windows service manager exist only
// there; on Linux the package's systemd unit runs the agent.
func runService(serviceCommand, io.Writer) error {
	return errors.New("service commands are for Windows; on Linux install the memberpass-agent package (systemd unit)")
}
