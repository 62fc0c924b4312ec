// Package kiosk serves the agent's local HTTP endpoints on the POS box:
// the counter's status as JSON, a health check, and Prometheus metrics.
package kiosk

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/serialport"
)

// Sources are where the kiosk reads the state it shows.
type Sources struct {
	Identity agent.Identity
	State    func() (agent.SyncState, error)
	Sync     func() cloudsync.Status
	Devices  func() []serialport.Status
	// Metrics, if set, is served on /metrics (a registry of the agent's
	// own, never the global default).
	Metrics prometheus.Gatherer
}

// Server is the kiosk's HTTP handler.
type Server struct {
	src Sources
	log *slog.Logger
	mux *http.ServeMux

	mu     sync.Mutex
	recent []counter.Result
}

// keepRecent is how many scan results the kiosk remembers.
const keepRecent = 50

// New makes the kiosk handler.
func New(src Sources, log *slog.Logger) *Server {
	s := &Server{src: src, log: log, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /api/status", s.status)
	if src.Metrics != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(src.Metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	}
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Observe takes a scan result (wired to counter.Counter.OnResult).
func (s *Server) Observe(r counter.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recent = append(s.recent, r)
	if len(s.recent) > keepRecent {
		s.recent = s.recent[len(s.recent)-keepRecent:]
	}
}

// StatusReport is what /api/status answers.
type StatusReport struct {
	Brand   string              `json:"brand"`
	Store   string              `json:"store"`
	Device  string              `json:"device"`
	Outbox  agent.SyncState     `json:"outbox"`
	Sync    cloudsync.Status    `json:"sync"`
	Devices []serialport.Status `json:"devices"`
	// ReplicaAgeSeconds is how old the replica is; -1 before the first sync.
	ReplicaAgeSeconds float64          `json:"replica_age_seconds"`
	Recent            []counter.Result `json:"recent"`
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	st, err := s.src.State()
	if err != nil {
		s.log.Error("kiosk status", "err", err)
		http.Error(w, "local database unreadable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	rep := StatusReport{
		Brand: s.src.Identity.BrandID, Store: s.src.Identity.StoreID, Device: s.src.Identity.DeviceID,
		Outbox: st, Sync: s.src.Sync(), Devices: s.src.Devices(), ReplicaAgeSeconds: -1,
	}
	if !st.ReplicaSyncedAt.IsZero() {
		rep.ReplicaAgeSeconds = time.Since(st.ReplicaSyncedAt).Seconds()
	}
	s.mu.Lock()
	rep.Recent = append([]counter.Result(nil), s.recent...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}
