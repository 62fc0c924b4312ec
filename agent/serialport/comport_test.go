package serialport

import "testing"

func TestCOMPort(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"COM3", `\\.\COM3`, true},
		{"com3", `\\.\COM3`, true},
		{"COM3:", `\\.\COM3`, true},
		{" COM9 ", `\\.\COM9`, true},
		{"COM10", `\\.\COM10`, true},
		{`\\.\COM10`, `\\.\COM10`, true},
		{`\\.\com255`, `\\.\COM255`, true},
		{"//./COM12", `\\.\COM12`, true},
		{`\\?\COM4`, `\\.\COM4`, true},
		{"COM0", "", false},
		{"COM03", "", false},
		{"COM256", "", false},
		{"COM", "", false},
		{"COM1a", "", false},
		{"COM-1", "", false},
		{"/dev/ttyUSB0", "", false},
		{"COMPORT", "", false},
		{"LPT1", "", false},
	} {
		got, ok := COMPort(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("COMPort(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestResolveCOMPorts(t *testing.T) {
	present := map[string]bool{"COM4": true, "COM12": true}
	exists := func(device string) bool { return present[device] }
	for _, tc := range []struct {
		pattern, want string
	}{
		{"COM4", `\\.\COM4`},
		{"com12", `\\.\COM12`},
		{`\\.\COM12`, `\\.\COM12`},
		{"COM3|COM12", `\\.\COM12`}, // the first candidate present wins
		{"COM3|COM4|COM12", `\\.\COM4`},
	} {
		got, err := resolve(tc.pattern, exists)
		if err != nil || got != tc.want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tc.pattern, got, err, tc.want)
		}
	}
	if got, err := resolve("COM3|COM5", exists); err == nil {
		t.Errorf("absent ports resolved to %q", got)
	}
	// Off Windows (no COM lookup) a COM name is only a file name.
	if got, err := resolve("COM4", nil); err == nil {
		t.Errorf("COM4 resolved off Windows to %q", got)
	}
}
