package kiosk

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/memberpass/memberpass/agent/serialport"
)

// DeviceCollector exports each serial device's state to Prometheus, read
// from the readers' own Status at scrape time, so the numbers on /metrics
// and on /api/status are the same numbers.
type DeviceCollector struct {
	devices    func() []serialport.Status
	connected  *prometheus.Desc
	frames     *prometheus.Desc
	refused    *prometheus.Desc
	reconnects *prometheus.Desc
}

// NewDeviceCollector makes a collector over the devices' statuses.
func NewDeviceCollector(devices func() []serialport.Status) *DeviceCollector {
	labels := []string{"device", "kind"}
	return &DeviceCollector{
		devices:    devices,
		connected:  prometheus.NewDesc("memberpass_agent_device_connected", "1 while the serial device is open, 0 while it is missing.", labels, nil),
		frames:     prometheus.NewDesc("memberpass_agent_device_frames_total", "Frames read from the device and accepted by its parser.", labels, nil),
		refused:    prometheus.NewDesc("memberpass_agent_device_refused_total", "Frames refused, by reason (too_long, incomplete, bad_lrc, bad_checksum, ...).", append(labels, "reason"), nil),
		reconnects: prometheus.NewDesc("memberpass_agent_device_reconnects_total", "Times the device was opened again after it was lost.", labels, nil),
	}
}

// Describe sends the metrics' descriptions.
func (c *DeviceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.frames
	ch <- c.refused
	ch <- c.reconnects
}

// Collect sends each device's current numbers.
func (c *DeviceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.devices() {
		up := 0.0
		if d.Connected {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, up, d.Name, d.Kind)
		ch <- prometheus.MustNewConstMetric(c.frames, prometheus.CounterValue, float64(d.Frames), d.Name, d.Kind)
		ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(d.Reconnects), d.Name, d.Kind)
		for reason, n := range d.RefusedBy {
			ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(n), d.Name, d.Kind, reason)
		}
	}
}
