// Package ops serves what operators and their tools ask of a running
// cloud, beside the member pages on --http-listen:
//
//	/healthz  200 while the process serves (a liveness probe: restart it if not)
//	/readyz   200 when the database answers and its schema is the one this
//	          binary expects; 503 otherwise (take it out of the load balancer)
//	/metrics  Prometheus metrics, the fleet's gauges among them
package ops

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness check; an error means not ready.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Handler serves /healthz, /readyz and /metrics, and passes every other
// request to next (nil: 404).
func Handler(checks []Check, metrics prometheus.Gatherer, next http.Handler, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		failed := []string{}
		for _, c := range checks {
			if err := c.Run(ctx); err != nil {
				// The details are for the operator's log, not the prober.
				log.Warn("not ready", "check", c.Name, "err", err)
				failed = append(failed, c.Name)
			}
		}
		if len(failed) > 0 {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not_ready", "failed": failed})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	if next != nil {
		mux.Handle("/", next)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
