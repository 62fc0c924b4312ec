package serialport

import (
	"strconv"
	"strings"
)

// COMPort turns a Windows serial port name as people write it ("COM3",
// "com3", "COM3:", `\\.\COM10`) into the one CreateFile opens for every port
// number: `\\.\COM10`. Windows opens COM1 to COM9 by their bare names, but
// COM10 and above only with the `\\.\` prefix, and USB-serial adapters are
// often numbered above 9. ok is false when name is no COM port.
func COMPort(name string) (port string, ok bool) {
	n := strings.TrimSpace(name)
	for _, p := range []string{`\\.\`, `//./`, `\\?\`} {
		n = strings.TrimPrefix(n, p)
	}
	n = strings.TrimSuffix(n, ":")
	if len(n) < 4 || !strings.EqualFold(n[:3], "COM") || n[3] == '0' {
		return "", false
	}
	num, err := strconv.Atoi(n[3:])
	if err != nil || num < 1 || num > 255 || strconv.Itoa(num) != n[3:] {
		return "", false
	}
	return `\\.\COM` + n[3:], true
}

// comDevice is a COM port's DOS device name (COM10), as QueryDosDevice
// takes it.
func comDevice(port string) string { return strings.TrimPrefix(port, `\\.\`) }

// resolveCOM resolves a candidate that names a COM port: such a name is
// no file (os.Stat cannot tell whether it is there), so exists asks the
// system for the port by its device name. ok is false when cand is no COM
// port or exists is nil (not Windows).
func resolveCOM(cand string, exists func(device string) bool) (port string, found, ok bool) {
	if exists == nil {
		return "", false, false
	}
	port, ok = COMPort(cand)
	if !ok {
		return "", false, false
	}
	return port, exists(comDevice(port)), true
}
