//go:build windows

package serialport

import "golang.org/x/sys/windows"

// comPortExists asks Windows whether a COM port is there now: a USB-serial
// adapter's port disappears when it is unplugged.
func comPortExists(device string) bool {
	name, err := windows.UTF16PtrFromString(device)
	if err != nil {
		return false
	}
	buf := make([]uint16, 512)
	n, err := windows.QueryDosDevice(name, &buf[0], uint32(len(buf)))
	return err == nil && n > 0
}
