package ops_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/ops"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestProbesAndMetrics: liveness always, readiness while the database
// answers with its schema complete, and the fleet's gauges.
func TestProbesAndMetrics(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	for name, open := range sqltest.Engines {
		t.Run(name, func(t *testing.T) {
			storage := open(t)
			db := storage.(interface {
				fleet.Store
				Ready(context.Context) error
				Close() error
			})
			svc := loyalty.New(storage, log)
			fl := fleet.New(db, storage, log)
			reg := prometheus.NewRegistry()
			reg.MustRegister(fl.Collector())
			next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
			broken := false
			checks := []ops.Check{{Name: "database", Run: db.Ready}, {Name: "test", Run: func(context.Context) error {
				if broken {
					return errors.New("broken on purpose")
				}
				return nil
			}}}
			srv := httptest.NewServer(ops.Handler(checks, reg, next, log))
			defer srv.Close()

			if code, _ := get(t, srv, "/healthz"); code != http.StatusOK {
				t.Errorf("/healthz: %d", code)
			}
			if code, body := get(t, srv, "/readyz"); code != http.StatusOK {
				t.Errorf("/readyz: %d %s", code, body)
			}
			if code, _ := get(t, srv, "/card/x"); code != http.StatusTeapot {
				t.Errorf("member pages not reached: %d", code)
			}
			broken = true
			if code, body := get(t, srv, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"test"`) {
				t.Errorf("/readyz with a failing check: %d %s", code, body)
			}
			broken = false

			// Two tills: one reported now with a backlog, one never.
			if _, err := svc.CreateBrand(ctx, "b1", "B", "CNY"); err != nil {
				t.Fatal(err)
			}
			for i, store := range []string{"s1", "s2"} {
				_, p, err := svc.CreateStore(ctx, "b1", store, store)
				if err != nil {
					t.Fatal(err)
				}
				paired, err := svc.Pair(ctx, p.Code, "till")
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					if err := fl.Report(ctx, paired.Device, fleet.Report{Version: "v1", OutboxPending: 1500, DiskFreeBytes: 1 << 30, ReplicaSyncedAt: time.Now().Add(-time.Minute),
						Devices: []fleet.Peripheral{{Name: "scanner", Kind: "scanner"}}}); err != nil {
						t.Fatal(err)
					}
				}
			}
			code, body := get(t, srv, "/metrics")
			if code != http.StatusOK {
				t.Fatalf("/metrics: %d", code)
			}
			for _, want := range []string{
				`memberpass_fleet_devices{brand="b1"} 2`,
				`memberpass_fleet_devices_stale{brand="b1"} 1`,
				`memberpass_fleet_devices_seq_behind{brand="b1"} 0`,
				`memberpass_fleet_device_outbox_pending{brand="b1",device=`,
				`memberpass_fleet_device_peripherals_disconnected{brand="b1",device=`,
				`memberpass_fleet_device_disk_free_bytes{brand="b1",device=`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if !strings.Contains(body, `store="s1"} 1500`) {
				t.Errorf("/metrics lacks s1's backlog of 1500")
			}

			// A database that no longer answers is not ready.
			db.Close()
			if code, _ := get(t, srv, "/readyz"); code != http.StatusServiceUnavailable {
				t.Errorf("/readyz with the database closed: %d", code)
			}
		})
	}
}
