package dist

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDebVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"v1.2.3-4-gabcdef0", "1.2.3+git4.abcdef0"},
		{"v1.2.3-4-gabcdef0-dirty", "1.2.3+git4.abcdef0~dirty"},
		{"1.2.3-dirty", "1.2.3~dirty"},
		{"90d3885", "0.0.0~90d3885"},
		{"90d3885-dirty", "0.0.0~90d3885.dirty"},
		{"dev", "0.0.0~dev"},
	} {
		if got := DebVersion(tc.in); got != tc.want {
			t.Errorf("DebVersion(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlatforms(t *testing.T) {
	want := map[string]string{"linux_amd64": "amd64", "linux_arm64": "arm64", "linux_armv7": "armhf", "windows_amd64": ""}
	for _, p := range Platforms {
		deb, ok := want[p.String()]
		if !ok {
			t.Errorf("unexpected platform %s", p)
		}
		if p.DebArch() != deb {
			t.Errorf("%s: Debian arch %q, want %q", p, p.DebArch(), deb)
		}
		delete(want, p.String())
	}
	if len(want) > 0 {
		t.Errorf("platforms missing: %v", want)
	}
	if got := BinaryName(Commands[0], "v1", Platform{GOOS: "windows", GOARCH: "amd64"}); got != "memberpass-agent_v1_windows_amd64.exe" {
		t.Errorf("windows binary name %q", got)
	}
}

func TestSHA256SUMS(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.deb": "one", "b": "two"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteSHA256SUMS(dir); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	want := "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed  a.deb\n3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3  b\n"
	if string(raw) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant\n%s", raw, want)
	}
	if err := CheckSHA256SUMS(dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "b"), []byte("changed"), 0o644)
	if err := CheckSHA256SUMS(dir); err == nil {
		t.Error("a changed file passed the check")
	}
}
