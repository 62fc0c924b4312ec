package kiosk

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/serialport"
)

func TestMetrics(t *testing.T) {
	devices := func() []serialport.Status {
		return []serialport.Status{
			{Name: "scanner", Kind: "scanner", Connected: true, Frames: 12, Refused: 3, RefusedBy: map[string]uint64{"incomplete": 2, "too_long": 1}},
			{Name: "msr", Kind: "magstripe", Connected: false, Frames: 4, Reconnects: 2, RefusedBy: map[string]uint64{"bad_lrc": 1}},
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewDeviceCollector(devices))
	s := New(Sources{
		Identity: agent.Identity{}, State: func() (agent.SyncState, error) { return agent.SyncState{}, nil },
		Sync: func() cloudsync.Status { return cloudsync.Status{} }, Devices: devices, Metrics: reg,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost:8080/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`memberpass_agent_device_connected{device="scanner",kind="scanner"} 1`,
		`memberpass_agent_device_connected{device="msr",kind="magstripe"} 0`,
		`memberpass_agent_device_frames_total{device="scanner",kind="scanner"} 12`,
		`memberpass_agent_device_refused_total{device="scanner",kind="scanner",reason="incomplete"} 2`,
		`memberpass_agent_device_refused_total{device="msr",kind="magstripe",reason="bad_lrc"} 1`,
		`memberpass_agent_device_reconnects_total{device="msr",kind="magstripe"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s\n%s", want, body)
		}
	}
}
