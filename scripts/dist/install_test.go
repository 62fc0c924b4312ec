package dist

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const moduleRoot = "../.."

// installRoot makes a throwaway root with an empty dpkg database and the
// host's users and groups (a base system has dialout), for dpkg --root.
func installRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc", "usr/sbin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"passwd", "group", "shadow", "gshadow"} {
		raw, err := os.ReadFile(filepath.Join("/etc", f))
		if err != nil {
			t.Fatalf("base system's /etc/%s: %v", f, err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc", f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// dpkg runs dpkg against root; the maintainer scripts run outside a chroot
// with DPKG_ROOT set, as on an image build.
func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	args = append([]string{"--root=" + root, "--force-script-chrootless", "--log=/dev/null"}, args...)
	out, err := exec.Command("dpkg", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAgentDebInstallsIntoARoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	work := t.TempDir()
	amd64 := Platform{GOOS: "linux", GOARCH: "amd64"}
	bin := filepath.Join(work, "memberpass-agent")
	if err := Build(ctx, moduleRoot, Commands[0], amd64, "v1.2.3", bin, false); err != nil {
		t.Fatal(err)
	}
	deb, err := Deb(moduleRoot, Agent, amd64, "v1.2.3", map[string]string{"memberpass-agent": bin}, work)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(deb) != "memberpass-agent_1.2.3_amd64.deb" {
		t.Errorf("package file %s, want memberpass-agent_1.2.3_amd64.deb", filepath.Base(deb))
	}
	root := installRoot(t)
	dpkg(t, root, "-i", deb)
	if st := dpkg(t, root, "-s", "memberpass-agent"); !strings.Contains(st, "Status: install ok installed") || !strings.Contains(st, "Version: 1.2.3") {
		t.Errorf("dpkg -s after install:\n%s", st)
	}

	// The files, with their modes.
	for path, mode := range map[string]fs.FileMode{
		"usr/bin/memberpass-agent":                        0o755,
		"usr/lib/systemd/system/memberpass-agent.service": 0o644,
		"usr/lib/sysusers.d/memberpass-agent.conf":        0o644,
		"usr/lib/udev/rules.d/70-memberpass.rules":        0o644,
		"etc/default/memberpass-agent":                    0o600,
		"usr/share/doc/memberpass-agent/operations.md":    0o644,
	} {
		fi, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Errorf("installed file: %v", err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	out, err := exec.CommandContext(ctx, filepath.Join(root, "usr/bin/memberpass-agent"), "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "memberpass-agent v1.2.3" {
		t.Errorf("installed binary --version: %q, %v", out, err)
	}
	if conf := dpkg(t, root, "--status", "memberpass-agent"); !strings.Contains(conf, "/etc/default/memberpass-agent") {
		t.Errorf("/etc/default/memberpass-agent is not a conffile:\n%s", conf)
	}

	// postinst made the system user, in dialout for the serial devices,
	// and enabled the unit at boot.
	user := lineStarting(t, filepath.Join(root, "etc/passwd"), "memberpass-agent:")
	f := strings.Split(user, ":")
	if len(f) != 7 || f[5] != "/var/lib/memberpass-agent" || f[6] != "/usr/sbin/nologin" {
		t.Errorf("passwd entry %q: want home /var/lib/memberpass-agent, shell /usr/sbin/nologin", user)
	}
	if uid := f[2]; len(uid) > 3 {
		t.Errorf("uid %s is not a system uid", uid)
	}
	lineStarting(t, filepath.Join(root, "etc/group"), "memberpass-agent:")
	if dialout := lineStarting(t, filepath.Join(root, "etc/group"), "dialout:"); !strings.Contains(dialout+",", ":memberpass-agent,") && !strings.Contains(dialout+",", ",memberpass-agent,") {
		t.Errorf("memberpass-agent is not in dialout: %q", dialout)
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/memberpass-agent.service")
	if target, err := os.Readlink(wants); err != nil || !strings.HasSuffix(target, "/memberpass-agent.service") {
		t.Errorf("unit not enabled at boot: %s -> %q, %v", wants, target, err)
	}

	// The unit as systemd reads it: against the installed root, so its
	// ExecStart resolves there, with the base system's units beside it.
	if out, err := exec.Command("cp", "-a", "--no-clobber", "/usr/lib/systemd/system/.", filepath.Join(root, "usr/lib/systemd/system/")).CombinedOutput(); err != nil {
		t.Fatalf("base system's units: %v\n%s", err, out)
	}
	verify := exec.CommandContext(ctx, "systemd-analyze", "verify", "--root="+root, "memberpass-agent.service")
	var stderr bytes.Buffer
	verify.Stderr = &stderr
	if err := verify.Run(); err != nil || strings.Contains(stderr.String(), "memberpass-agent.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}
	unit, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/memberpass-agent.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=memberpass-agent", "Restart=on-failure", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
		"StateDirectory=memberpass-agent", "ReadWritePaths=/var/lib/memberpass-agent", "EnvironmentFile=-/etc/default/memberpass-agent", "SupplementaryGroups=dialout"} {
		if !strings.Contains(string(unit), "\n"+want+"\n") {
			t.Errorf("unit lacks %s", want)
		}
	}

	// Removing the package keeps the user and forgets the unit.
	dpkg(t, root, "--remove", "memberpass-agent")
	if _, err := os.Stat(filepath.Join(root, "usr/bin/memberpass-agent")); !os.IsNotExist(err) {
		t.Errorf("binary still there after remove: %v", err)
	}
	if _, err := os.Lstat(wants); !os.IsNotExist(err) {
		t.Errorf("unit still enabled after remove: %v", err)
	}
	lineStarting(t, filepath.Join(root, "etc/passwd"), "memberpass-agent:")
}

func lineStarting(t *testing.T, path, prefix string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(raw)) {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l)
		}
	}
	t.Fatalf("%s has no line starting %q", path, prefix)
	return ""
}
