package kiosk

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/scan"
)

//go:embed web
var webFS embed.FS

// Staff is a person who may be on duty at the counter.
type Staff struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ParseStaff reads "id:name,id:name" (a name may be left out).
func ParseStaff(s string) ([]Staff, error) {
	var out []Staff
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, name, _ := strings.Cut(part, ":")
		id = strings.TrimSpace(id)
		if id == "" || strings.ContainsAny(id, " /?&#") {
			return nil, fmt.Errorf("staff %q: want id:name with an id of letters and digits", part)
		}
		if name = strings.TrimSpace(name); name == "" {
			name = id
		}
		out = append(out, Staff{ID: id, Name: name})
	}
	return out, nil
}

// ScanView is a scan as the counter page shows it.
type ScanView struct {
	Seq     uint64            `json:"seq"`
	At      time.Time         `json:"at"`
	Scan    string            `json:"scan"`
	Account *checkout.Account `json:"account,omitempty"`
	Refusal *counter.Refusal  `json:"refusal,omitempty"`
	Voucher *agent.Voucher    `json:"voucher,omitempty"`
	// Notice says what a scan that is not a member was (a product
	// barcode, a coupon).
	Notice *counter.Notice `json:"notice,omitempty"`
	// JoinQR is the path of a QR code that enrols a walk-in with the
	// scanned voucher.
	JoinQR string `json:"join_qr,omitempty"`
}

// maxFormBody bounds a request body: the forms are tiny.
const maxFormBody = 16 << 10

func (s *Server) routes() {
	static, _ := fs.Sub(webFS, "web")
	files := http.FileServerFS(static)
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, static, name)
		}
	}
	s.mux.HandleFunc("GET /{$}", page("counter.html"))
	s.mux.HandleFunc("GET /manager", page("manager.html"))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	s.mux.HandleFunc("GET /join.png", s.joinQR)
	s.mux.HandleFunc("GET /api/counter", s.counterState)
	s.mux.HandleFunc("GET /api/stream", s.stream)
	if s.src.Checkout == nil {
		return
	}
	s.mux.HandleFunc("GET /api/members/{id}", s.memberAccount)
	s.mux.HandleFunc("POST /api/quote", s.quote)
	s.mux.HandleFunc("POST /api/checkout", s.checkout)
	s.mux.HandleFunc("GET /api/transactions/{txn}", s.transaction)
	s.mux.HandleFunc("POST /api/topups", s.counterTopUp)
	s.mux.HandleFunc("POST /api/enrol", s.enrol)
	s.mux.HandleFunc("POST /api/vouchers/redeem", s.redeemVoucher)
	s.routeVouchers()
	s.mux.HandleFunc("GET /api/today", s.today)
}

// announce turns a scan into what the page shows and tells every open page.
func (s *Server) announce(r counter.Result) {
	v := &ScanView{At: r.At, Scan: string(r.Scan), Refusal: r.Refusal, Voucher: r.Voucher}
	switch {
	case r.Voucher == nil && r.Scan == scan.Voucher && r.Code != "":
		// A voucher by its look that this replica does not hold: still
		// offer to join; redeeming it says what is wrong.
		v.Voucher = &agent.Voucher{Code: r.Code, Platform: r.Platform}
	case r.Voucher == nil && r.Notice != nil:
		v.Notice = r.Notice
	}
	if r.Member != nil && s.src.Checkout != nil {
		a, err := s.src.Checkout.Account(r.Member.ID)
		if err != nil {
			s.log.Error("kiosk: read member account", "member", r.Member.ID, "err", err)
			v.Refusal = &counter.Refusal{Code: "account_unreadable", Zh: "读取会员信息失败，请重扫；如仍失败请联系店长。", En: "Could not read the member's account. Scan again; if it keeps failing, call the manager."}
		} else {
			v.Account = &a
		}
	}
	if r.Voucher != nil {
		v.JoinQR = "/join.png?voucher=" + url.QueryEscape(r.Voucher.Code)
	}
	s.mu.Lock()
	if s.last != nil {
		v.Seq = s.last.Seq + 1
	} else {
		v.Seq = 1
	}
	s.last = v
	raw, _ := json.Marshal(v)
	for ch := range s.subs {
		select {
		case ch <- raw:
		default: // a stalled page catches up from /api/counter on reconnect
		}
	}
	s.mu.Unlock()
}

// CounterState is what a counter page loads first.
type CounterState struct {
	Brand     string    `json:"brand"`
	Store     string    `json:"store"`
	StoreName string    `json:"store_name"`
	Staff     []Staff   `json:"staff"`
	Last      *ScanView `json:"last,omitempty"`
	Online    bool      `json:"online"`
	Pending   uint64    `json:"pending"`
}

func (s *Server) counterState(w http.ResponseWriter, _ *http.Request) {
	st := CounterState{Brand: s.src.Identity.BrandName, Store: s.src.Identity.StoreID, StoreName: s.src.Identity.StoreName, Staff: s.src.Staff}
	if st.Staff == nil {
		st.Staff = []Staff{}
	}
	if s.src.Sync != nil {
		st.Online = s.src.Sync().Online
	}
	if sy, err := s.src.State(); err == nil {
		st.Pending = sy.Pending
	}
	s.mu.Lock()
	st.Last = s.last
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// stream sends each scan as a server-sent event "scan".
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, 8)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, "retry: 1000\n: connected\n\n")
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case raw := <-ch:
			fmt.Fprintf(w, "event: scan\ndata: %s\n\n", raw)
			fl.Flush()
		case <-ping.C:
			io.WriteString(w, ": ping\n\n")
			fl.Flush()
		}
	}
}

// Close ends the live streams, so that a server shutdown need not wait
// for open pages (they reconnect to the next server by themselves).
func (s *Server) Close() { s.once.Do(func() { close(s.closed) }) }

// joinQR draws the store's "scan to join" code, carrying the staff member
// and a group-buy voucher when given.
func (s *Server) joinQR(w http.ResponseWriter, r *http.Request) {
	if s.src.JoinURL == "" {
		http.Error(w, "no join page configured: start the agent with --join-url", http.StatusNotFound)
		return
	}
	u, err := url.Parse(s.src.JoinURL)
	if err != nil {
		http.Error(w, "join URL is not valid: "+err.Error(), http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for _, k := range []string{"staff", "voucher"} {
		if v := r.URL.Query().Get(k); v != "" {
			if len(v) > 64 {
				http.Error(w, k+" is too long", http.StatusBadRequest)
				return
			}
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	png, err := qrcode.Encode(u.String(), qrcode.Medium, 320)
	if err != nil {
		http.Error(w, "draw QR code: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Join-URL", u.String())
	w.Write(png)
}

func (s *Server) memberAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.src.Checkout.Account(r.PathValue("id"))
	if err != nil {
		s.fail(w, "read member", err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// refusalStatus is the HTTP status of a refused request: the page shows
// the refusal's sentence.
const refusalStatus = http.StatusUnprocessableEntity

type problem struct {
	Refusal *checkout.Refusal `json:"refusal"`
}

// sameOrigin guards the money endpoints against other web pages open in
// the POS box's browser: a request must be JSON (which a foreign page
// cannot send without a CORS preflight this server never grants), come
// from this server's own pages if it says where it comes from, and name
// the kiosk by an IP address or localhost (no DNS rebinding).
func sameOrigin(r *http.Request) string {
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mt) != "application/json" {
		return "requests must be application/json"
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	if host != "localhost" && net.ParseIP(strings.Trim(host, "[]")) == nil {
		return "the kiosk must be reached by IP address or localhost, not " + host
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		return "requests from " + o + " are not allowed"
	}
	return ""
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if why := sameOrigin(r); why != "" {
		writeJSON(w, http.StatusForbidden, problem{&checkout.Refusal{Code: "forbidden",
			Zh: "请求被拒绝：请在收银机本机的收银页面操作。", En: "Refused: use the counter page on this till (" + why + ")."}})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, problem{&checkout.Refusal{Code: "bad_request",
			Zh: "请求格式有误，请刷新页面后重试。", En: "The request was malformed (" + err.Error() + "). Reload the page and try again."}})
		return false
	}
	return true
}

func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, checkout.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, problem{&checkout.Refusal{Code: "not_found", Zh: "未找到。", En: "Not found."}})
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("kiosk: "+what, "err", err)
	writeJSON(w, http.StatusInternalServerError, problem{&checkout.Refusal{Code: "internal",
		Zh: "本机出错，未记录。请重试；如仍失败请联系店长。", En: "Something failed on this till and nothing was recorded. Try again; if it keeps failing, call the manager."}})
}

// QuoteView is a quote with the account it was made on.
type QuoteView struct {
	Quote   checkout.Quote   `json:"quote"`
	Account checkout.Account `json:"account"`
}

func (s *Server) quote(w http.ResponseWriter, r *http.Request) {
	var req checkout.Request
	if !decode(w, r, &req) {
		return
	}
	q, a, ref, err := s.src.Checkout.Quote(req)
	switch {
	case err != nil:
		s.fail(w, "quote", err)
	case ref != nil:
		writeJSON(w, refusalStatus, problem{ref})
	default:
		writeJSON(w, http.StatusOK, QuoteView{Quote: q, Account: a})
	}
}

// settle answers a money request once the event is durable.
func (s *Server) settle(w http.ResponseWriter, what string, rec checkout.Receipt, ref *checkout.Refusal, err error) {
	switch {
	case err != nil:
		s.fail(w, what, err)
	case ref != nil:
		writeJSON(w, refusalStatus, problem{ref})
	default:
		// The event is fsynced: only now may the page say "recorded".
		writeJSON(w, http.StatusOK, rec)
	}
}

func (s *Server) checkout(w http.ResponseWriter, r *http.Request) {
	var req checkout.Request
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.Checkout(r.Context(), req)
	s.settle(w, "checkout", rec, ref, err)
}

func (s *Server) transaction(w http.ResponseWriter, r *http.Request) {
	ev, err := s.src.Checkout.Transaction(r.PathValue("txn"))
	if err != nil {
		s.fail(w, "read transaction", err)
		return
	}
	writeJSON(w, http.StatusOK, checkout.Receipt{Event: ev, Again: true})
}

func (s *Server) counterTopUp(w http.ResponseWriter, r *http.Request) {
	var req checkout.TopUpRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.TopUp(r.Context(), req)
	s.settle(w, "top-up", rec, ref, err)
}

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	var req checkout.EnrolRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.Enrol(r.Context(), req)
	s.settle(w, "enrol", rec, ref, err)
}

func (s *Server) redeemVoucher(w http.ResponseWriter, r *http.Request) {
	var req checkout.VoucherRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.RedeemVoucher(r.Context(), req)
	s.settle(w, "redeem voucher", rec, ref, err)
}

func (s *Server) today(w http.ResponseWriter, _ *http.Request) {
	d, err := s.src.Checkout.Today()
	if err != nil {
		s.fail(w, "today", err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
