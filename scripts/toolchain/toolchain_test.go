package toolchain

import (
	"os"
	"regexp"
	"runtime"
	"testing"
)

// TestRunningToolchainHasTheFixes fails when the tests run on a toolchain
// older than Minimum, as `go test` does on a machine whose default is
// GOTOOLCHAIN=local (go1.26.8): run them through make, or export
// GOTOOLCHAIN=go1.26.10.
func TestRunningToolchainHasTheFixes(t *testing.T) {
	ok, err := AtLeast(runtime.Version(), Minimum)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("running %s, which has known standard-library vulnerabilities; use GOTOOLCHAIN=%s (make test sets it)", runtime.Version(), Minimum)
	}
}

// TestMakefileAndCIExportTheToolchain keeps the Makefile, .ci/run and
// Minimum naming the same toolchain.
func TestMakefileAndCIExportTheToolchain(t *testing.T) {
	for file, pattern := range map[string]string{
		"../../Makefile": `(?m)^export GOTOOLCHAIN := (\S+)$`,
		"../../.ci/run":  `(?m)^export GOTOOLCHAIN=(\S+)$`,
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(pattern).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s does not export GOTOOLCHAIN", file)
			continue
		}
		if string(m[1]) != Minimum {
			t.Errorf("%s exports GOTOOLCHAIN=%s; want %s", file, m[1], Minimum)
		}
	}
}

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, min string
		want   bool
	}{
		{"go1.26.8", "go1.26.10", false},
		{"go1.26.10", "go1.26.10", true},
		{"go1.26.11", "go1.26.10", true},
		{"go1.27.3", "go1.26.10", true},
		{"go1.27", "go1.26.10", true},
		{"go1.27rc1", "go1.27.0", false},
		{"go1.25.99", "go1.26.10", false},
		{"go1.26.10 X:boringcrypto", "go1.26.10", true},
	} {
		got, err := AtLeast(c.v, c.min)
		if err != nil || got != c.want {
			t.Errorf("AtLeast(%q, %q) = %v, %v; want %v", c.v, c.min, got, err, c.want)
		}
	}
	if _, err := AtLeast("devel +abc", "go1.26.10"); err == nil {
		t.Error("a development version passed")
	}
}
