package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Windows tills run the agent as a Windows service:
//
//	memberpass-agent service install --device kind=scanner,path=COM3 ...
//	memberpass-agent service uninstall
//	memberpass-agent service run ...   (what the service manager starts)
//
// install registers the service to start at boot and restart on failure,
// with the flags given after it; the service manager then runs
// `memberpass-agent service run <those flags>`.

// serviceName is the agent's name in the Windows service manager.
const serviceName = "memberpass-agent"

// serviceCommand is one `memberpass-agent service ...` invocation.
type serviceCommand struct {
	action string   // install, uninstall or run
	args   []string // the agent's flags (install, run)
}

// parseServiceCommand says whether args ask for a service command and
// which; flags for install and run are checked here, so a typo fails at
// install rather than at the first boot.
func parseServiceCommand(args []string) (cmd serviceCommand, ok bool, err error) {
	if len(args) == 0 || args[0] != "service" {
		return cmd, false, nil
	}
	if len(args) < 2 {
		return cmd, true, errors.New("service: want service install|uninstall|run [flags]")
	}
	cmd = serviceCommand{action: args[1], args: args[2:]}
	switch cmd.action {
	case "install", "run":
		if _, err := parseFlags(cmd.args, io.Discard); err != nil {
			return cmd, true, fmt.Errorf("service %s: %w", cmd.action, err)
		}
		return cmd, true, nil
	case "uninstall":
		if len(cmd.args) > 0 {
			return cmd, true, fmt.Errorf("service uninstall takes no arguments, got %s", strings.Join(cmd.args, " "))
		}
		return cmd, true, nil
	}
	return cmd, true, fmt.Errorf("service %q: want install, uninstall or run", cmd.action)
}

// defaultDataDir is where the agent keeps its database unless told:
// %ProgramData%\memberpass\agent on Windows (machine-wide, kept across
// user sessions and upgrades), data/agent elsewhere (the packages set
// /var/lib/memberpass-agent through the unit).
func defaultDataDir(goos string, getenv func(string) string) string {
	if goos != "windows" {
		return "data/agent"
	}
	base := strings.TrimRight(getenv("ProgramData"), `\/`)
	if base == "" {
		base = `C:\ProgramData`
	}
	return base + `\memberpass\agent`
}

// serviceLogPath is the file the Windows service logs to: a service has no
// console, and the data directory's parent is the agent's own.
func serviceLogPath(dataDir string) string {
	i := strings.LastIndexAny(strings.TrimRight(dataDir, `\/`), `\/`)
	if i < 0 {
		return "memberpass-agent.log"
	}
	return dataDir[:i+1] + "memberpass-agent.log"
}
