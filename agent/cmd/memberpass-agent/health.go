package main

import (
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/agent/serialport"
)

// health is what this agent reports to the cloud about itself.
func health(dataDir string, readers []*serialport.Reader) cloudsync.Health {
	h := cloudsync.Health{Version: version}
	if free, err := localstore.FreeBytes(dataDir); err == nil {
		h.DiskFreeBytes = free
	}
	for _, r := range readers {
		st := r.Status()
		h.Devices = append(h.Devices, cloudsync.Peripheral{Name: r.Name, Kind: r.Kind, Connected: st.Connected, LastError: st.LastError, Frames: st.Frames})
	}
	return h
}
