package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procMemory is a process's memory from /proc/<pid>/status, in KiB.
type procMemory struct {
	RSS, HWM, Anon, File int64
}

func readProcMemory(pid int) (procMemory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMemory{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	var m procMemory
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			m.RSS = n
		case "VmHWM":
			m.HWM = n
		case "RssAnon":
			m.Anon = n
		case "RssFile":
			m.File = n
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("process %d: no VmRSS in /proc status", pid)
	}
	return m, nil
}

func (m procMemory) String() string {
	return fmt.Sprintf("%s (anon %s, file %s)", mib(m.RSS), mib(m.Anon), mib(m.File))
}
