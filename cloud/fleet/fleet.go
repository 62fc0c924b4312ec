// Package fleet keeps what every store's agents report about themselves
// (version, outbox backlog, replica age, serial devices and their last
// error, disk free) and turns it into HQ's view of the fleet: which stores
// are healthy, which are stale (not heard from for a while), which were
// restored from an old backup, and gauges Prometheus can alert on.
//
// The cloud keeps the latest report per device (cloud/sqlstore, table
// device_health); reports are advisory and never take part in sync.
package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Peripheral is one serial device of an agent (a scanner, a card reader).
type Peripheral struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Connected bool   `json:"connected"`
	LastError string `json:"last_error,omitempty"`
	Frames    uint64 `json:"frames"`
}

// Report is one health report of an agent.
type Report struct {
	Version       string
	OutboxPending uint64
	// LastSeq is the highest seq the agent has recorded; AckedSeq the
	// highest it holds as acknowledged.
	LastSeq, AckedSeq uint64
	// ReplicaSyncedAt is when the replica last caught up; zero: never.
	ReplicaSyncedAt time.Time
	Devices         []Peripheral
	DiskFreeBytes   uint64
	// AgentTime is the agent's clock when it sent the report.
	AgentTime     time.Time
	LastSyncError string
}

// Bounds on what an agent may report: a report is advisory, and a broken
// or hostile agent must not fill the database.
const (
	maxPeripherals = 16
	maxText        = 512
)

// Check bounds a report's sizes.
func (r Report) Check() error {
	if len(r.Devices) > maxPeripherals {
		return cloud.Errorf(cloud.Invalid, "health report: %d devices, at most %d", len(r.Devices), maxPeripherals)
	}
	if len(r.Version) > 64 {
		return cloud.Errorf(cloud.Invalid, "health report: version longer than 64 bytes")
	}
	if len(r.LastSyncError) > maxText {
		return cloud.Errorf(cloud.Invalid, "health report: last sync error longer than %d bytes", maxText)
	}
	for _, d := range r.Devices {
		if len(d.Name) > 64 || len(d.Kind) > 32 || len(d.LastError) > maxText {
			return cloud.Errorf(cloud.Invalid, "health report: device %.64q has over-long fields", d.Name)
		}
	}
	return nil
}

// Record is a device's latest report as the cloud keeps it.
type Record struct {
	BrandID, StoreID, DeviceID string
	// ReportedAt is the cloud's clock when the report arrived; zero when
	// the device never reported (only a seq regression was noted).
	ReportedAt time.Time
	Report     Report
	// SeqBehindAt is when a push of this device collided with events the
	// cloud already holds under the same seqs (restored from an old
	// backup); zero: never.
	SeqBehindAt time.Time
}

// Store keeps the latest record per device. Every call names the brand.
type Store interface {
	// PutHealth writes the report of r, keeping its SeqBehindAt.
	PutHealth(ctx context.Context, r Record) error
	// NoteSeqBehind records that a device's seq went backwards at at.
	NoteSeqBehind(ctx context.Context, brand, store, device string, at time.Time) error
	// Health lists the records of a brand's devices.
	Health(ctx context.Context, brand string) ([]Record, error)
}

// DeviceHealth is one device as HQ sees it.
type DeviceHealth struct {
	Device cloud.Device
	// Record is nil when the device never reported.
	Record *Record
	// LastSeen is the later of its last push and its last report.
	LastSeen time.Time
	Stale    bool
	// SeqBehind: the device's sequence went backwards and it has not
	// reported a seq past the cloud's since.
	SeqBehind bool
}

// DefaultStaleAfter is how long a device may stay silent before it is
// called stale: an agent syncs every few seconds and reports every minute.
const DefaultStaleAfter = 10 * time.Minute

// Service records reports and answers HQ's questions about the fleet.
type Service struct {
	store   Store
	devices cloud.Storage
	log     *slog.Logger
	// StaleAfter is the default for Fleet and the metrics.
	StaleAfter time.Duration
	Now        func() time.Time
}

// New returns a service keeping reports in store and reading devices from
// the cloud's storage.
func New(store Store, devices cloud.Storage, log *slog.Logger) *Service {
	return &Service{store: store, devices: devices, log: log, StaleAfter: DefaultStaleAfter, Now: time.Now}
}

// Report records a device's health report.
func (s *Service) Report(ctx context.Context, dev cloud.Device, r Report) error {
	if err := r.Check(); err != nil {
		return err
	}
	return s.store.PutHealth(ctx, Record{BrandID: dev.BrandID, StoreID: dev.StoreID, DeviceID: dev.ID, ReportedAt: s.Now().UTC(), Report: r})
}

// NoteSeqBehind records, and logs for the operator, that a device pushed
// an event new to the cloud under a seq the cloud already holds: its data
// directory was restored from an old backup. The event was not taken; the
// agent renumbers and pushes again.
func (s *Service) NoteSeqBehind(ctx context.Context, dev cloud.Device, seq, cloudSeq uint64) {
	s.log.Warn("device sequence went backwards: its data directory was probably restored from an old backup; the agent renumbers its new events after the cloud's, nothing is dropped or doubled",
		"brand", dev.BrandID, "store", dev.StoreID, "device", dev.ID, "pushed_seq", seq, "cloud_seq", cloudSeq)
	if err := s.store.NoteSeqBehind(ctx, dev.BrandID, dev.StoreID, dev.ID, s.Now().UTC()); err != nil {
		s.log.Error("could not record a device's sequence regression", "brand", dev.BrandID, "device", dev.ID, "err", err)
	}
}

// Fleet lists a brand's devices with their health, stale after staleAfter
// (0: the service's default), by store and device.
func (s *Service) Fleet(ctx context.Context, brand string, staleAfter time.Duration) ([]DeviceHealth, error) {
	if staleAfter <= 0 {
		staleAfter = s.StaleAfter
	}
	var devices []cloud.Device
	err := s.devices.View(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Brand(brand); err != nil {
			return err
		}
		var err error
		devices, err = tx.Devices(brand)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fleet of %s: %w", brand, err)
	}
	records, err := s.store.Health(ctx, brand)
	if err != nil {
		return nil, fmt.Errorf("fleet of %s: %w", brand, err)
	}
	byDevice := map[string]*Record{}
	for i := range records {
		byDevice[records[i].DeviceID] = &records[i]
	}
	now := s.Now()
	out := make([]DeviceHealth, 0, len(devices))
	for _, d := range devices {
		h := DeviceHealth{Device: d, Record: byDevice[d.ID], LastSeen: d.LastSeenAt}
		if h.Record != nil {
			if h.Record.ReportedAt.After(h.LastSeen) {
				h.LastSeen = h.Record.ReportedAt
			}
			reported := !h.Record.ReportedAt.IsZero()
			h.SeqBehind = reported && h.Record.Report.LastSeq < d.AckedSeq ||
				!h.Record.SeqBehindAt.IsZero() && !h.Record.ReportedAt.After(h.Record.SeqBehindAt)
		}
		h.Stale = !d.Revoked && (h.LastSeen.IsZero() || now.Sub(h.LastSeen) > staleAfter)
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b DeviceHealth) int {
		if a.Device.StoreID != b.Device.StoreID {
			return compare(a.Device.StoreID, b.Device.StoreID)
		}
		return compare(a.Device.ID, b.Device.ID)
	})
	return out, nil
}

// Brands lists every brand, for the metrics.
func (s *Service) Brands(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.devices.View(ctx, func(tx cloud.Tx) error {
		var err error
		ids, err = tx.BrandIDs()
		return err
	})
	return ids, err
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
