//go:build windows

package localstore

import "golang.org/x/sys/windows"

// FreeBytes is the space left to this process on dir's volume, for the
// agent's health report (a full disk stops recording).
func FreeBytes(dir string) (uint64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, err
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
		return 0, err
	}
	return free, nil
}
