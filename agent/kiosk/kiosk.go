// Package kiosk serves the agent's local pages and HTTP endpoints on the
// POS box: the counter view (live scans over server-sent events, bill,
// redemptions, confirm), the manager view, the counter's status as JSON,
// a health check and Prometheus metrics. Every asset is embedded: the
// pages work offline.
package kiosk

import (
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
	"github.com/memberpass/memberpass/agent/staff"
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
	// Desk signs staff in with their PINs; nil: nobody can sign in, so
	// no money moves at this kiosk.
	Desk *staff.Desk
	// JoinURL is the cloud's join page for this store; its QR code is
	// the store's "scan to join".
	JoinURL string
	// Hosts are the names (or addresses) besides the loopback ones that
	// the kiosk answers to: the configured listen host, when it is not
	// loopback.
	Hosts []string
	// SessionIdle ends a sign-in after this long unused (default 15 min).
	SessionIdle time.Duration
	// ScanValidFor is how long after a member is identified at this till
	// a checkout or top-up may name them without a manager's approval
	// (default 5 min).
	ScanValidFor time.Duration
	// Now is the kiosk's clock (default time.Now).
	Now func() time.Time
	// Answered, if set, is told the seq of each event whose answer the
	// kiosk has written (the agent's answered mark).
	Answered func(seq uint64)
}

// Server is the kiosk's HTTP handler.
type Server struct {
	src      Sources
	log      *slog.Logger
	mux      *http.ServeMux
	handler  http.Handler
	sessions *sessions

	mu     sync.Mutex
	recent []counter.Result
	last   *ScanView
	// recovered are the events the last run recorded but never answered.
	recovered []RecoveredEvent
	// identified is when each member was last identified at this till
	// (a scan, or an enrolment here): what a checkout or top-up may name.
	identified map[string]time.Time
	subs       map[chan []byte]struct{}
	closed     chan struct{} // closed by Close: live streams end
	once       sync.Once
}

// keepRecent is how many scan results the kiosk remembers.
const keepRecent = 50

// New makes the kiosk handler.
func New(src Sources, log *slog.Logger) *Server {
	if src.SessionIdle <= 0 {
		src.SessionIdle = defaultSessionIdle
	}
	if src.ScanValidFor <= 0 {
		src.ScanValidFor = defaultScanValidFor
	}
	if src.Now == nil {
		src.Now = time.Now
	}
	s := &Server{src: src, log: log, mux: http.NewServeMux(), subs: map[chan []byte]struct{}{}, closed: make(chan struct{}),
		sessions: &sessions{byID: map[string]*session{}, idle: src.SessionIdle}, identified: map[string]time.Time{}}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /api/status", s.status)
	s.mux.HandleFunc("POST /api/replica/rebuild", s.need(staff.Manager, s.rebuild))
	if src.Metrics != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(src.Metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	}
	s.routes()
	s.handler = s.guard(s.mux)
	return s
}

// defaultScanValidFor is how long a scan stands for a member at the till.
const defaultScanValidFor = 5 * time.Minute

func (s *Server) now() time.Time { return s.src.Now() }

// identify notes a member identified at this till now; s.mu is held.
func (s *Server) identify(memberID string) {
	now := s.now()
	if len(s.identified) > 256 {
		for id, at := range s.identified {
			if now.Sub(at) > s.src.ScanValidFor {
				delete(s.identified, id)
			}
		}
	}
	s.identified[memberID] = now
}

// scannedHere says whether a member was identified at this till within
// ScanValidFor.
func (s *Server) scannedHere(memberID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.identified[memberID]
	return ok && s.now().Sub(at) <= s.src.ScanValidFor
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Observe takes a scan result (wired to counter.Counter.OnResult).
func (s *Server) Observe(r counter.Result) {
	s.mu.Lock()
	if r.Member != nil && r.Event != nil {
		s.identify(r.Member.ID)
	}
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
	Notice *checkout.Refusal `json:"notice,omitempty"`
	// Recent are the last scans; only a signed-in manager sees them (they
	// name members).
	Recent []counter.Result `json:"recent"`
	// Recovered are the events recorded just before the last restart and
	// never answered then (a manager sees them).
	Recovered []RecoveredEvent `json:"recovered"`
}

// RecoveredEvent is an event the last run recorded but never answered:
// the agent stopped (a crash, a power cut) between writing it to disk and
// showing it. It is recorded and will reach the cloud; the cashier should
// not enter it again.
type RecoveredEvent struct {
	Seq        uint64    `json:"seq"`
	EventID    string    `json:"event_id"`
	Kind       string    `json:"kind"`
	MemberID   string    `json:"member_id,omitempty"`
	MemberName string    `json:"member_name,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Recovered tells the kiosk what the last run recorded but never answered.
func (s *Server) Recovered(events []agent.Event) {
	out := make([]RecoveredEvent, 0, len(events))
	for _, ev := range events {
		r := RecoveredEvent{Seq: ev.Seq, EventID: ev.ID, Kind: string(ev.Kind), MemberID: ev.MemberID, OccurredAt: ev.OccurredAt}
		if s.src.Checkout != nil && ev.MemberID != "" {
			if a, err := s.src.Checkout.Account(ev.MemberID); err == nil {
				r.MemberName = a.Member.Name
			}
		}
		out = append(out, r)
	}
	s.mu.Lock()
	s.recovered = out
	s.mu.Unlock()
}

func (s *Server) rebuild(w http.ResponseWriter, r *http.Request) {
	if s.src.Rebuild == nil {
		writeJSON(w, http.StatusNotImplemented, problem{refusal(wordNoRebuild)})
		return
	}
	s.src.Rebuild()
	s.log.Warn("replica rebuild requested from the kiosk", "staff", signedIn(r.Context()).ID)
	writeJSON(w, http.StatusAccepted, refusal(wordRebuild))
}

// status answers the till's health for monitoring and the manager view:
// no member data unless a manager is signed in.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.src.State()
	if err != nil {
		s.fail(w, "read status", err)
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
		rep.Notice = refusal(wordRevoked)
	case rep.ReplicaStale:
		rep.Notice = refusal(wordStale(age))
	}
	rep.Recent, rep.Recovered = []counter.Result{}, []RecoveredEvent{}
	if sess, ok := s.sessionOf(r); ok && sess.person.Role == staff.Manager {
		s.mu.Lock()
		rep.Recent = append(rep.Recent, s.recent...)
		rep.Recovered = append(rep.Recovered, s.recovered...)
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, rep)
}
