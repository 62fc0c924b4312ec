//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// runService carries out a service command.
func runService(cmd serviceCommand, stderr io.Writer) error {
	switch cmd.action {
	case "install":
		return installService(cmd.args, stderr)
	case "uninstall":
		return uninstallService(stderr)
	case "run":
		return runAsService(cmd.args)
	}
	return fmt.Errorf("service %q: want install, uninstall or run", cmd.action)
}

func installService(args []string, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("install service: connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		return fmt.Errorf("install service: %s is already installed; uninstall it first", serviceName)
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName: "memberpass store agent",
		Description: "Reads the counter's scanners and card readers, records visits and bills while offline, syncs with the memberpass cloud.",
		StartType:   mgr.StartAutomatic,
	}, append([]string{"service", "run"}, args...)...)
	if err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	defer s.Close()
	// Restart on failure, as systemd's Restart=on-failure does on Linux.
	actions := []mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 2 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 10 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
	}
	if err := s.SetRecoveryActions(actions, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("install service: recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("install service: recovery on errors: %w", err)
	}
	fmt.Fprintf(stderr, "service %s installed (starts at boot); start it now with: sc start %s\n", serviceName, serviceName)
	return nil
}

func uninstallService(stderr io.Writer) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("uninstall service: connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("uninstall service: %s is not installed: %w", serviceName, err)
	}
	defer s.Close()
	if _, err := s.Control(svc.Stop); err != nil {
		fmt.Fprintf(stderr, "service %s was not running\n", serviceName)
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("uninstall service: %w", err)
	}
	fmt.Fprintf(stderr, "service %s removed; its data stays in %s\n", serviceName, defaultDataDir("windows", os.Getenv))
	return nil
}

// runAsService runs the agent under the service manager, logging to a file
// beside the data directory.
func runAsService(args []string) error {
	c, err := parseFlags(args, io.Discard)
	if err != nil {
		return err
	}
	logPath := serviceLogPath(c.dataDir)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return fmt.Errorf("service log: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("service log: %w", err)
	}
	defer logFile.Close()
	return svc.Run(serviceName, &service{args: args, log: logFile})
}

// service is the agent as the Windows service manager drives it.
type service struct {
	args []string
	log  io.Writer
}

func (s *service) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, s.args, s.log) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			return s.exit(err)
		case r := <-requests:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				return s.exit(<-done)
			}
		}
	}
}

// exit reports how the agent ended: an error is a service-specific exit
// code, which the recovery actions restart.
func (s *service) exit(err error) (bool, uint32) {
	if err == nil || errors.Is(err, context.Canceled) {
		return false, 0
	}
	fmt.Fprintln(s.log, "memberpass-agent:", err)
	return true, 1
}
