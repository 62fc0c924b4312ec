// Package toolchain names the Go toolchain the project is built and tested
// with, and checks the one running against it. go1.26.8, the machines' local
// default, has reachable standard-library vulnerabilities (net/http,
// crypto/x509, html/template) that go1.26.10 fixes; the Makefile and .ci/run
// export GOTOOLCHAIN so every build and test runs on the fixed one.
package toolchain

import (
	"fmt"
	"strconv"
	"strings"
)

// Minimum is the oldest toolchain with every known standard-library fix the
// code relies on; the Makefile's GOTOOLCHAIN names it.
const Minimum = "go1.26.10"

// AtLeast reports whether version (as runtime.Version prints it, e.g.
// "go1.26.10" or "go1.27.3 X:nocoverageredesign") is min or newer.
// Development and unparsable versions are not.
func AtLeast(version, min string) (bool, error) {
	v, err := parse(version)
	if err != nil {
		return false, err
	}
	m, err := parse(min)
	if err != nil {
		return false, err
	}
	for i := range v {
		if v[i] != m[i] {
			return v[i] > m[i], nil
		}
	}
	return true, nil
}

// parse reads goMAJOR.MINOR[.PATCH] into three numbers; a release
// candidate (go1.27rc1) counts as older than any patch of its minor.
func parse(version string) ([3]int, error) {
	var out [3]int
	s, ok := strings.CutPrefix(strings.Fields(version + " ")[0], "go")
	if !ok {
		return out, fmt.Errorf("toolchain version %q does not start with go", version)
	}
	if i := strings.IndexAny(s, "rb"); i >= 0 { // rc or beta: before .0
		s = s[:i]
		out[2] = -1
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return out, fmt.Errorf("toolchain version %q is not goMAJOR.MINOR[.PATCH]", version)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, fmt.Errorf("toolchain version %q: %w", version, err)
		}
		out[i] = n
	}
	return out, nil
}
