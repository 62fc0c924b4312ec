//go:build unix

package localstore

import "golang.org/x/sys/unix"

// FreeBytes is the space left to this process on dir's file system, for
// the agent's health report (a full disk stops recording).
func FreeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
