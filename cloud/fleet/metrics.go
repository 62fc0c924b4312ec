package fleet

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the fleet to Prometheus, read at each scrape, so that
// alerts need no state of their own:
//
//	memberpass_fleet_devices_stale > 0                          stores not seen for --fleet-stale-after
//	memberpass_fleet_device_last_seen_age_seconds > 900         any other threshold, per device
//	memberpass_fleet_device_outbox_pending > 1000               a backlog that does not drain
//	memberpass_fleet_devices_seq_behind > 0                     a store restored from an old backup
//
// Revoked devices are left out.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Service }

var (
	descDevices      = prometheus.NewDesc("memberpass_fleet_devices", "Paired, not revoked devices of a brand.", []string{"brand"}, nil)
	descStale        = prometheus.NewDesc("memberpass_fleet_devices_stale", "Devices not heard from (sync or health report) for the cloud's --fleet-stale-after.", []string{"brand"}, nil)
	descSeqBehind    = prometheus.NewDesc("memberpass_fleet_devices_seq_behind", "Devices whose sequence went backwards (restored from an old backup) and have not caught up.", []string{"brand"}, nil)
	descLastSeen     = prometheus.NewDesc("memberpass_fleet_device_last_seen_age_seconds", "Seconds since the device last synced or reported (absent: never).", []string{"brand", "store", "device"}, nil)
	descPending      = prometheus.NewDesc("memberpass_fleet_device_outbox_pending", "Events recorded at the device and not yet acknowledged, as last reported.", []string{"brand", "store", "device"}, nil)
	descReplicaAge   = prometheus.NewDesc("memberpass_fleet_device_replica_age_seconds", "Age of the device's replica when it last reported (absent: never caught up).", []string{"brand", "store", "device"}, nil)
	descDiskFree     = prometheus.NewDesc("memberpass_fleet_device_disk_free_bytes", "Free bytes on the device's data file system, as last reported.", []string{"brand", "store", "device"}, nil)
	descDisconnected = prometheus.NewDesc("memberpass_fleet_device_peripherals_disconnected", "Serial devices (scanners, card readers) the agent reported disconnected.", []string{"brand", "store", "device"}, nil)
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDevices, descStale, descSeqBehind, descLastSeen, descPending, descReplicaAge, descDiskFree, descDisconnected} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	brands, err := c.s.Brands(ctx)
	if err != nil {
		c.s.log.Warn("fleet metrics: list brands", "err", err)
		return
	}
	now := c.s.Now()
	for _, b := range brands {
		fleet, err := c.s.Fleet(ctx, b, 0)
		if err != nil {
			c.s.log.Warn("fleet metrics", "brand", b, "err", err)
			continue
		}
		var devices, stale, behind float64
		for _, h := range fleet {
			if h.Device.Revoked {
				continue
			}
			devices++
			if h.Stale {
				stale++
			}
			if h.SeqBehind {
				behind++
			}
			labels := []string{b, h.Device.StoreID, h.Device.ID}
			if !h.LastSeen.IsZero() {
				ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, now.Sub(h.LastSeen).Seconds(), labels...)
			}
			if h.Record == nil || h.Record.ReportedAt.IsZero() {
				continue
			}
			r := h.Record.Report
			ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(r.OutboxPending), labels...)
			ch <- prometheus.MustNewConstMetric(descDiskFree, prometheus.GaugeValue, float64(r.DiskFreeBytes), labels...)
			if !r.ReplicaSyncedAt.IsZero() {
				ch <- prometheus.MustNewConstMetric(descReplicaAge, prometheus.GaugeValue, h.Record.ReportedAt.Sub(r.ReplicaSyncedAt).Seconds(), labels...)
			}
			var down float64
			for _, p := range r.Devices {
				if !p.Connected {
					down++
				}
			}
			ch <- prometheus.MustNewConstMetric(descDisconnected, prometheus.GaugeValue, down, labels...)
		}
		ch <- prometheus.MustNewConstMetric(descDevices, prometheus.GaugeValue, devices, b)
		ch <- prometheus.MustNewConstMetric(descStale, prometheus.GaugeValue, stale, b)
		ch <- prometheus.MustNewConstMetric(descSeqBehind, prometheus.GaugeValue, behind, b)
	}
}
