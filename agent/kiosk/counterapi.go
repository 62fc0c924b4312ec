package kiosk

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/scan"
	"github.com/memberpass/memberpass/agent/staff"
)

//go:embed web
var webFS embed.FS

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
	cashier := func(h http.HandlerFunc) http.HandlerFunc { return s.need(staff.Cashier, h) }
	manager := func(h http.HandlerFunc) http.HandlerFunc { return s.need(staff.Manager, h) }
	s.mux.HandleFunc("GET /{$}", page("counter.html"))
	s.mux.HandleFunc("GET /manager", s.managerPage(page("manager.html")))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	s.mux.HandleFunc("GET /api/staff", s.staffList)
	s.mux.HandleFunc("GET /api/session", s.getSession)
	s.mux.HandleFunc("POST /api/session", s.signIn)
	s.mux.HandleFunc("DELETE /api/session", s.signOut)
	s.mux.HandleFunc("GET /join.png", cashier(s.joinQR))
	s.mux.HandleFunc("GET /api/counter", cashier(s.counterState))
	s.mux.HandleFunc("GET /api/stream", cashier(s.stream))
	if s.src.Checkout == nil {
		return
	}
	s.mux.HandleFunc("GET /api/members/{id}", cashier(s.memberAccount))
	s.mux.HandleFunc("POST /api/quote", cashier(s.quote))
	s.mux.HandleFunc("POST /api/checkout", cashier(s.checkout))
	s.mux.HandleFunc("GET /api/transactions/{txn}", cashier(s.transaction))
	s.mux.HandleFunc("POST /api/topups", cashier(s.counterTopUp))
	s.mux.HandleFunc("POST /api/enrol", cashier(s.enrol))
	s.mux.HandleFunc("POST /api/vouchers/redeem", cashier(s.redeemVoucher))
	s.routeVouchers(cashier)
	s.mux.HandleFunc("GET /api/today", manager(s.today))
}

// managerPage serves the manager view to a signed-in manager and sends
// anyone else to the counter page's sign-in.
func (s *Server) managerPage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if sess, ok := s.sessionOf(r); !ok || sess.person.Role != staff.Manager {
			http.Redirect(w, r, "/?next=manager", http.StatusSeeOther)
			return
		}
		h(w, r)
	}
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
			v.Refusal = &counter.Refusal{Code: wordUnreadable.Code, Zh: wordUnreadable.Zh, En: wordUnreadable.En}
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
	Brand     string `json:"brand"`
	Store     string `json:"store"`
	StoreName string `json:"store_name"`
	// Staff is who is signed in at this browser.
	Staff   SessionView `json:"staff"`
	Last    *ScanView   `json:"last,omitempty"`
	Online  bool        `json:"online"`
	Pending uint64      `json:"pending"`
	// Recovered are what the last run recorded just before it stopped and
	// never showed: recorded, not to be entered again.
	Recovered []RecoveredEvent `json:"recovered"`
}

func (s *Server) counterState(w http.ResponseWriter, r *http.Request) {
	st := CounterState{Brand: s.src.Identity.BrandName, Store: s.src.Identity.StoreID, StoreName: s.src.Identity.StoreName, Staff: s.view(signedIn(r.Context()))}
	if s.src.Sync != nil {
		st.Online = s.src.Sync().Online
	}
	if sy, err := s.src.State(); err == nil {
		st.Pending = sy.Pending
	}
	s.mu.Lock()
	st.Last = s.last
	st.Recovered = append([]RecoveredEvent{}, s.recovered...)
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
			if _, ok := s.sessionOf(r); !ok {
				return // signed out or timed out: the page signs in again
			}
			fmt.Fprintf(w, "event: scan\ndata: %s\n\n", raw)
			fl.Flush()
		case <-ping.C:
			if _, ok := s.sessionOf(r); !ok {
				return
			}
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
		writeJSON(w, http.StatusNotFound, problem{refusal(wordNoJoin)})
		return
	}
	u, err := url.Parse(s.src.JoinURL)
	if err != nil {
		s.fail(w, "parse join URL", err)
		return
	}
	q := u.Query()
	q.Set("staff", signedIn(r.Context()).ID)
	if v := r.URL.Query().Get("voucher"); v != "" {
		if len(v) > 64 {
			writeJSON(w, http.StatusBadRequest, problem{refusal(wordTooLong)})
			return
		}
		q.Set("voucher", v)
	}
	u.RawQuery = q.Encode()
	png, err := qrcode.Encode(u.String(), qrcode.Medium, 320)
	if err != nil {
		s.fail(w, "draw QR code", err)
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

// refusal returns a copy of a kiosk sentence to answer with.
func refusal(w checkout.Refusal) *checkout.Refusal { return &w }

// decode reads a JSON request body (the guard checked its type and origin).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		ref := refusal(wordBadReq)
		ref.En = "The request was malformed (" + err.Error() + "). Reload the page and try again."
		writeJSON(w, http.StatusBadRequest, problem{ref})
		return false
	}
	return true
}

func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, checkout.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, problem{refusal(wordNotFound)})
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("kiosk: "+what, "err", err)
	writeJSON(w, http.StatusInternalServerError, problem{refusal(wordInternal)})
}

// QuoteView is a quote with the account it was made on.
type QuoteView struct {
	Quote   checkout.Quote   `json:"quote"`
	Account checkout.Account `json:"account"`
}

func (s *Server) quote(w http.ResponseWriter, r *http.Request) {
	var req CheckoutRequest
	if !decode(w, r, &req) {
		return
	}
	q, a, ref, err := s.src.Checkout.Quote(req.checkout(signedIn(r.Context()).ID, ""))
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
		if s.src.Answered != nil {
			s.src.Answered(rec.Event.Seq)
		}
	}
}

// mayPay decides whether a request may spend or add money for a member:
// the member was identified at this till within ScanValidFor, or a
// manager approves with their PIN (returned, to be recorded in the
// event). A transaction already settled passes: settling it again only
// returns the first event. When it refuses, it has answered.
func (s *Server) mayPay(w http.ResponseWriter, txnID, memberID string, a *Approval) (approvedBy string, ok bool) {
	if _, err := s.src.Checkout.Transaction(txnID); err == nil {
		return "", true
	}
	if a != nil {
		p, ok := s.checkPIN(w, a.StaffID, a.PIN, wordApproval)
		if !ok {
			return "", false
		}
		if p.Role != staff.Manager {
			s.log.Warn("kiosk: approval by someone who is not a manager refused", "staff", p.ID)
			writeJSON(w, http.StatusForbidden, problem{refusal(wordApproval)})
			return "", false
		}
		return p.ID, true
	}
	if memberID != "" && s.scannedHere(memberID) {
		return "", true
	}
	s.log.Warn("kiosk: money for a member not scanned at this till refused", "member", memberID)
	writeJSON(w, refusalStatus, problem{refusal(wordNotScanned)})
	return "", false
}

func (s *Server) checkout(w http.ResponseWriter, r *http.Request) {
	var req CheckoutRequest
	if !decode(w, r, &req) {
		return
	}
	approvedBy, ok := s.mayPay(w, req.TxnID, req.MemberID, req.Approval)
	if !ok {
		return
	}
	rec, ref, err := s.src.Checkout.Checkout(r.Context(), req.checkout(signedIn(r.Context()).ID, approvedBy))
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
	var req TopUpRequest
	if !decode(w, r, &req) {
		return
	}
	approvedBy, ok := s.mayPay(w, req.TxnID, req.MemberID, req.Approval)
	if !ok {
		return
	}
	rec, ref, err := s.src.Checkout.TopUp(r.Context(), checkout.TopUpRequest{
		TxnID: req.TxnID, MemberID: req.MemberID, StaffID: signedIn(r.Context()).ID, ApprovedBy: approvedBy, AmountFen: req.AmountFen})
	s.settle(w, "top-up", rec, ref, err)
}

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	var req EnrolRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.Enrol(r.Context(), checkout.EnrolRequest{
		TxnID: req.TxnID, StaffID: signedIn(r.Context()).ID, Phone: req.Phone, Name: req.Name, Consent: req.Consent, VoucherCode: req.VoucherCode})
	if err == nil && ref == nil && rec.Event.Enrolment != nil {
		// Enrolled here, in front of the cashier: the new member may top
		// up or pay at once.
		s.mu.Lock()
		s.identify(checkout.LocalPrefix + rec.Event.Enrolment.LocalRef)
		s.mu.Unlock()
	}
	s.settle(w, "enrol", rec, ref, err)
}

func (s *Server) redeemVoucher(w http.ResponseWriter, r *http.Request) {
	var req VoucherRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.RedeemVoucher(r.Context(), checkout.VoucherRequest{
		TxnID: req.TxnID, StaffID: signedIn(r.Context()).ID, Code: req.Code, MemberID: req.MemberID})
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
