// Package kiosk serves the agent's local pages and HTTP endpoints on the
// POS box: the counter view (live scans over server-sent events, bill,
// redemptions, confirm), the manager view, the counter's status as JSON,
// a health check and Prometheus metrics. Every asset is embedded: the
// pages work offline.
package kiosk

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
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
	// Rebuild asks for the replica to be rebuilt from scratch.
	Rebuild func()
	// StaleAfter is the replica age the kiosk calls stale.
	StaleAfter time.Duration
	// Metrics, if set, is served on /metrics (a registry of the agent's
	// own, never the global default).
	Metrics prometheus.Gatherer
	// Checkout settles transactions; nil serves the status API only.
	Checkout *checkout.Service
	// Staff are the people who may be on duty at the counter.
	Staff []Staff
	// JoinURL is the cloud's join page for this store; its QR code is
	// the store's "scan to join".
	JoinURL string
}

// Server is the kiosk's HTTP handler.
type Server struct {
	src Sources
	log *slog.Logger
	mux *http.ServeMux

	mu     sync.Mutex
	recent []counter.Result
	last   *ScanView
	subs   map[chan []byte]struct{}
	closed chan struct{} // closed by Close: live streams end
	once   sync.Once
}

// keepRecent is how many scan results the kiosk remembers.
const keepRecent = 50

// New makes the kiosk handler.
func New(src Sources, log *slog.Logger) *Server {
	s := &Server{src: src, log: log, mux: http.NewServeMux(), subs: map[chan []byte]struct{}{}, closed: make(chan struct{})}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /api/status", s.status)
	s.mux.HandleFunc("POST /api/replica/rebuild", s.rebuild)
	if src.Metrics != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(src.Metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Observe takes a scan result (wired to counter.Counter.OnResult).
func (s *Server) Observe(r counter.Result) {
	s.mu.Lock()
	s.recent = append(s.recent, r)
	if len(s.recent) > keepRecent {
		s.recent = s.recent[len(s.recent)-keepRecent:]
	}
	s.mu.Unlock()
	s.announce(r)
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
	ReplicaAgeSeconds float64 `json:"replica_age_seconds"`
	// ReplicaStale says the replica is older than the configured limit (or
	// was never synced): decisions rest on old data.
	ReplicaStale bool `json:"replica_stale"`
	// Notice says, in Chinese and English, what the manager should know.
	Notice *counter.Refusal `json:"notice,omitempty"`
	Recent []counter.Result `json:"recent"`
}

var noticeRefused = counter.Refusal{Code: "device_refused",
	Zh: "总部已停用本设备的凭证，收银照常记录但无法同步；请联系总部获取新的配对码。",
	En: "HQ has revoked this device's credentials. Visits are still recorded but cannot sync; ask HQ for a new pairing code."}

func (s *Server) rebuild(w http.ResponseWriter, _ *http.Request) {
	if s.src.Rebuild == nil {
		http.Error(w, "replica rebuild is not available", http.StatusNotImplemented)
		return
	}
	s.src.Rebuild()
	s.log.Warn("replica rebuild requested from the kiosk")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{
		"zh": "已开始重建会员数据；完成前沿用现有数据。", "en": "Replica rebuild started; the current data serves until it completes."})
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
	age := time.Duration(rep.ReplicaAgeSeconds * float64(time.Second))
	rep.ReplicaStale = st.ReplicaSyncedAt.IsZero() || s.src.StaleAfter > 0 && age > s.src.StaleAfter
	switch {
	case rep.Sync.Refused:
		rep.Notice = &noticeRefused
	case rep.ReplicaStale:
		rep.Notice = &counter.Refusal{Code: "replica_stale",
			Zh: fmt.Sprintf("会员数据已 %s 未与总部同步，显示可能不是最新；收银照常，网络恢复后自动同步。", age.Round(time.Minute)),
			En: fmt.Sprintf("Member data has not synced with HQ for %s and may be out of date. The counter keeps working; it syncs when the network is back.", age.Round(time.Minute))}
	}
	s.mu.Lock()
	rep.Recent = append([]counter.Result(nil), s.recent...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}
