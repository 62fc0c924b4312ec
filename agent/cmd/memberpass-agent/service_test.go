package main

import (
	"testing"
)

func TestParseServiceCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		ok      bool
		action  string
		flags   int
		wantErr bool
	}{
		{name: "plain run", args: []string{"--scanner", "COM3"}},
		{name: "no args", args: nil},
		{name: "install with flags", args: []string{"service", "install", "--device", `kind=scanner,path=\\.\COM10`, "--kiosk-listen", "127.0.0.1:8080"}, ok: true, action: "install", flags: 4},
		{name: "install bare", args: []string{"service", "install"}, ok: true, action: "install"},
		{name: "run", args: []string{"service", "run", "--scanner", "COM3"}, ok: true, action: "run", flags: 2},
		{name: "uninstall", args: []string{"service", "uninstall"}, ok: true, action: "uninstall"},
		{name: "uninstall with args", args: []string{"service", "uninstall", "--force"}, ok: true, wantErr: true},
		{name: "install with a bad flag", args: []string{"service", "install", "--no-such-flag"}, ok: true, wantErr: true},
		{name: "install with a bad value", args: []string{"service", "install", "--sync-interval", "soon"}, ok: true, wantErr: true},
		{name: "unknown action", args: []string{"service", "start"}, ok: true, wantErr: true},
		{name: "missing action", args: []string{"service"}, ok: true, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, ok, err := parseServiceCommand(tc.args)
			if ok != tc.ok || (err != nil) != tc.wantErr {
				t.Fatalf("ok %v, err %v; want ok %v, error %v", ok, err, tc.ok, tc.wantErr)
			}
			if err == nil && ok && (cmd.action != tc.action || len(cmd.args) != tc.flags) {
				t.Errorf("got %q with %d flags, want %q with %d", cmd.action, len(cmd.args), tc.action, tc.flags)
			}
		})
	}
}

func TestDefaultDataDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"ProgramData": `C:\ProgramData`}, "data/agent"},
		{"windows", map[string]string{"ProgramData": `C:\ProgramData`}, `C:\ProgramData\memberpass\agent`},
		{"windows", map[string]string{"ProgramData": `D:\Data\`}, `D:\Data\memberpass\agent`},
		{"windows", nil, `C:\ProgramData\memberpass\agent`},
	} {
		if got := defaultDataDir(tc.goos, env(tc.env)); got != tc.want {
			t.Errorf("defaultDataDir(%s, %v) = %q, want %q", tc.goos, tc.env, got, tc.want)
		}
	}
	for dir, want := range map[string]string{
		`C:\ProgramData\memberpass\agent`:  `C:\ProgramData\memberpass\memberpass-agent.log`,
		`C:\ProgramData\memberpass\agent\`: `C:\ProgramData\memberpass\memberpass-agent.log`,
		"/var/lib/memberpass-agent":        "/var/lib/memberpass-agent.log",
		"agent":                            "memberpass-agent.log",
	} {
		if got := serviceLogPath(dir); got != want {
			t.Errorf("serviceLogPath(%q) = %q, want %q", dir, got, want)
		}
	}
}
