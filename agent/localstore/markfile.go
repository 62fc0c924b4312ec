package localstore

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"
)

// markFile is one uint64 in a file mapped into memory (MAP_SHARED): a
// store is an ordinary memory write, with no system call, and it is in the
// page cache the moment it is made, so it survives a process crash. An
// 8-byte aligned atomic store cannot be torn by a kill. The file is
// synced on close only.
type markFile struct {
	f   *os.File
	mem []byte
	p   *uint64
}

const markFileSize = 4096

// openMarkFile maps path, creating it (holding 0) if needed.
func openMarkFile(path string) (*markFile, bool, error) {
	_, statErr := os.Stat(path)
	existed := statErr == nil
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if st, err := f.Stat(); err != nil || st.Size() != markFileSize {
		if err := f.Truncate(markFileSize); err != nil {
			f.Close()
			return nil, false, err
		}
	}
	mem, err := mapFile(f, markFileSize)
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("map %s: %w", path, err)
	}
	return &markFile{f: f, mem: mem, p: (*uint64)(unsafe.Pointer(&mem[0]))}, existed, nil
}

func (m *markFile) load() uint64   { return atomic.LoadUint64(m.p) }
func (m *markFile) store(v uint64) { atomic.StoreUint64(m.p, v) }

func (m *markFile) close() error {
	m.p = nil
	err := m.f.Sync()
	if e := unmapFile(m.mem); err == nil {
		err = e
	}
	if e := m.f.Close(); err == nil {
		err = e
	}
	return err
}
