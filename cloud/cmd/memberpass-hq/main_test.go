package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// startCloud serves the admin API on a loopback port.
func startCloud(t *testing.T) string {
	t.Helper()
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: loyalty.New(db, log), Log: log, AdminToken: "tok"})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Stop(); db.Close() })
	return lis.Addr().String()
}

func TestHQWorkflow(t *testing.T) {
	addr := startCloud(t)
	dir := t.TempDir()
	members := filepath.Join(dir, "members.csv")
	os.WriteFile(members, []byte("phone,name,card,tags\n13800000001,王芳,6100000001,vip\n13800000002,李雷,,\n"), 0o600)
	badMembers := filepath.Join(dir, "bad.csv")
	os.WriteFile(badMembers, []byte("phone,name\n12,坏\n"), 0o600)
	vouchers := filepath.Join(dir, "vouchers.csv")
	os.WriteFile(vouchers, []byte("code,platform,campaign,face_value_fen\nDP0000000001,dianping,dp-spring,2990\n"), 0o600)

	steps := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"brand", "create", "--id", "cha", "--name", "茶小满"}, "brand cha (茶小满) created", ""},
		{[]string{"store", "create", "--brand", "cha", "--id", "sh-1"}, "pairing code", ""},
		{[]string{"member", "import", "--brand", "cha", "--file", members, "--dry-run"}, "dry run: 2 would be created", ""},
		{[]string{"member", "import", "--brand", "cha", "--file", members}, "2 created, 0 unchanged", ""},
		{[]string{"member", "import", "--brand", "cha", "--file", members}, "0 created, 2 unchanged", ""},
		{[]string{"member", "import", "--brand", "cha", "--file", badMembers}, "line 2 phone:", "import refused"},
		{[]string{"member", "get", "--brand", "cha", "--phone", "13800000001"}, "tier regular", ""},
		{[]string{"coupon", "template", "--brand", "cha", "--id", "welcome", "--name", "新人券", "--amount-fen", "500"}, "coupon template welcome", ""},
		{[]string{"coupon", "issue", "--brand", "cha", "--template", "welcome", "--tag", "vip"}, "1 issued, 0 skipped", ""},
		{[]string{"voucher", "import", "--brand", "cha", "--file", vouchers}, "1 created", ""},
		{[]string{"member", "history", "--brand", "cha", "--id", "1"}, "coupon CP", ""},
		{[]string{"member", "merge", "--brand", "cha", "--keep", "1", "--merge", "2"}, "member 1", ""},
		{[]string{"member", "link", "--brand", "cha", "--id", "1"}, "/card/cha/1/", ""},
		{[]string{"programme", "get", "--brand", "cha"}, `"pointsPerYuan"`, ""},
		{[]string{"stats", "--brand", "cha"}, "members 2", ""},
		{[]string{"conflicts", "--brand", "cha"}, "resolution", ""},
		{[]string{"maintenance", "--brand", "cha"}, "tiers changed 0", ""},
		{[]string{"member", "create", "--brand", "cha", "--phone", "123"}, "", "11-digit"},
		{[]string{"member", "get", "--brand", "nope", "--id", "1"}, "", "not found"},
		{[]string{"store", "create", "--brand", "cha"}, "", "--id is required"},
		{[]string{"frobnicate"}, "", "unknown command"},
		{[]string{"stats", "--brand", "nosuch"}, "", "not found"},
		{[]string{"store", "pairing-code", "--brand", "cha", "--store", "sh-1"}, "pairing code", ""},
		{[]string{"store", "pairing-code", "--brand", "cha", "--store", "nosuch"}, "", "not found"},
		{[]string{"token", "create", "--brand", "cha", "--account", "alice", "--role", "marketing", "--expires", "720h"}, "shown this once", ""},
		{[]string{"token", "create", "--brand", "cha", "--account", "bob", "--role", "janitor"}, "", "role"},
		{[]string{"token", "list", "--brand", "cha"}, "alice", ""},
		{[]string{"token", "list"}, "platform-operator", ""},
		{[]string{"token", "revoke", "--brand", "cha", "--id", "nosuch"}, "", "not found"},
		{[]string{"member", "link", "revoke", "--brand", "cha", "--id", "1"}, "/card/cha/1/", ""},
		{[]string{"audit", "--brand", "cha"}, "RevokeMemberCardLinks", ""},
	}
	for _, s := range steps {
		var out, errOut bytes.Buffer
		err := run(append([]string{"--cloud", addr, "--token", "tok", "--insecure"}, s.args...), &out, &errOut)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("%v: error %v, want %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Errorf("%v: %v", s.args, err)
		case !strings.Contains(out.String(), s.want):
			t.Errorf("%v: output\n%s\nwant %q", s.args, out.String(), s.want)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"--cloud", addr, "--token", "wrong", "--insecure", "stats", "--brand", "cha"}, &out, &out); err == nil || !strings.Contains(err.Error(), "HQ token") {
		t.Fatalf("wrong token: %v", err)
	}
}

// TestHQRefusesPlaintextOffLoopback: the token would cross the network in
// the clear.
func TestHQRefusesPlaintextOffLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"--cloud", "192.0.2.1:7070", "--token", "tok", "--insecure", "stats", "--brand", "cha"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("--insecure to 192.0.2.1: %v; want a refusal naming loopback", err)
	}
}

// TestTerminalSafeOutput: ESC sequences and C1 controls in what the cloud
// sends (a name stored before the edge refused them) never reach the
// terminal raw; Chinese, newlines and tabs pass.
func TestTerminalSafeOutput(t *testing.T) {
	var b bytes.Buffer
	w := terminalSafe{&b}
	w.Write([]byte("王芳\x1b]0;owned\x07\x1b[2J\tok\u009b31m\n"))
	if got := b.String(); strings.ContainsAny(got, "\x1b\x07\u009b") || !strings.HasPrefix(got, "王芳") || !strings.HasSuffix(got, "\tok\uFFFD31m\n") {
		t.Fatalf("wrote %q", got)
	}
}
