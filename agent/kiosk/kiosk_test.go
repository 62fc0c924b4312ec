package kiosk

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/agent/serialport"
	"github.com/memberpass/memberpass/agent/staff"
	"github.com/prometheus/client_golang/prometheus"
)

// The test roster: a cashier and a manager, with cheap PIN hashes.
const (
	cashierPIN = "2468"
	managerPIN = "135790"
)

func testDesk(t *testing.T) *staff.Desk {
	t.Helper()
	var b strings.Builder
	for _, p := range []struct{ id, role, pin, name string }{{"s01", "cashier", cashierPIN, "王芳"}, {"m01", "manager", managerPIN, "Li Lei"}} {
		h, err := staff.HashPIN(p.pin, 1000)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", p.id, p.role, h, p.name)
	}
	ro, err := staff.ParseRoster(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return staff.NewDesk(ro)
}

// client is a browser at the till: it keeps the session cookie.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar}}
}

// signIn signs in and fails the test if it does not work.
func (c *client) signIn(id, pin string) {
	c.t.Helper()
	if code := c.post("/api/session", fmt.Sprintf(`{"staff_id":%q,"pin":%q}`, id, pin), nil); code != http.StatusOK {
		c.t.Fatalf("sign in as %s: status %d", id, code)
	}
}

func (c *client) post(path, body string, v any) int {
	c.t.Helper()
	return c.do("POST", path, body, v)
}

func (c *client) get(path string, v any) int {
	c.t.Helper()
	return c.do("GET", path, "", v)
}

func (c *client) do(method, path, body string, v any) int {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// scanned tells the kiosk a member was identified at the till, as the
// counter does after a scan.
func scanned(s *Server, memberID string) {
	m := agent.Member{ID: memberID}
	s.Observe(counter.Result{At: time.Now(), Scan: "card", Member: &m, Event: &agent.Event{Seq: 1, MemberID: memberID}})
}

type kioskOpts struct {
	now func() time.Time
}

func newKiosk(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	return newKioskWith(t, kioskOpts{})
}

func newKioskWith(t *testing.T, o kioskOpts) (*Server, *httptest.Server) {
	t.Helper()
	db, err := localstore.Open(filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.ApplyChanges([]agent.Change{
		{Seq: 1, Member: &agent.Member{ID: "7", Name: "李娜", PhoneMasked: "139****0000", StoredValueFen: 20000, TierID: "gold"}},
		{Seq: 2, Programme: &agent.Programme{Tiers: []agent.Tier{{ID: "gold", DiscountBP: 1000}}}},
	}, 2, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	id := agent.Identity{BrandID: "b", StoreID: "shop-1", StoreName: "一号店", DeviceID: "d1"}
	till := checkout.New(db, id, log, func(err error) bool { return errors.Is(err, localstore.ErrUnknown) })
	desk := testDesk(t)
	till.KnownStaff = desk.Roster().Known
	reg := prometheus.NewRegistry()
	s := New(Sources{
		Identity: id, State: db.State, Sync: func() cloudsync.Status { return cloudsync.Status{Online: true} },
		Devices: func() []serialport.Status { return nil }, Checkout: till, Desk: desk,
		JoinURL: "http://m.example.com/join/b/shop-1", Rebuild: func() {}, Metrics: reg, Now: o.now,
	}, log)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestCheckoutOnce(t *testing.T) {
	s, srv := newKiosk(t)
	c := newClient(t, srv.URL)
	c.signIn("s01", cashierPIN)
	scanned(s, "7")
	body := `{"txn_id":"t-0123456789","member_id":"7","bill_fen":10000,"stored_value_fen":5000}`
	var first, second checkout.Receipt
	if code := c.post("/api/checkout", body, &first); code != http.StatusOK {
		t.Fatalf("checkout: status %d", code)
	}
	if p := first.Event.Purchase; p == nil || p.TierDiscountFen != 1000 || p.StoredValueFen != 5000 || p.PaidOtherFen != 4000 || first.Event.StaffID != "s01" || first.Event.ApprovedBy != "" {
		t.Fatalf("recorded %+v", first.Event)
	}
	if code := c.post("/api/checkout", body, &second); code != http.StatusOK || second.Event.Seq != first.Event.Seq || !second.Again {
		t.Fatalf("second checkout: status %d, seq %d again %v; want seq %d again", code, second.Event.Seq, second.Again, first.Event.Seq)
	}
	var a checkout.Account
	c.get("/api/members/7", &a)
	if a.Member.StoredValueFen != 15000 || a.PendingEvents != 1 {
		t.Fatalf("account after checkout = %+v, want stored value 15000 with 1 pending event", a)
	}
}

func TestRefusalsAreSentences(t *testing.T) {
	s, srv := newKiosk(t)
	c := newClient(t, srv.URL)
	c.signIn("s01", cashierPIN)
	scanned(s, "7")
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"malformed", `{"txn_id":`, http.StatusBadRequest, "bad_request", ""},
		{"unknown field", `{"txn_id":"t-0123456789","amount":1}`, http.StatusBadRequest, "bad_request", ""},
		{"a staff id is not the page's to say", `{"txn_id":"t-0123456789","member_id":"7","staff_id":"m01","bill_fen":100}`, http.StatusBadRequest, "bad_request", ""},
		{"bad transaction id", `{"txn_id":"x","member_id":"7","bill_fen":100}`, http.StatusUnprocessableEntity, "txn_invalid", ""},
		{"no bill", `{"txn_id":"t-0123456789","member_id":"7","bill_fen":0}`, http.StatusUnprocessableEntity, "bill_invalid", "bill"},
		{"over balance", `{"txn_id":"t-0123456789","member_id":"7","bill_fen":90000,"stored_value_fen":20001}`, http.StatusUnprocessableEntity, "stored_value_over_balance", "stored_value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p struct{ Refusal checkout.Refusal }
			if code := c.post("/api/checkout", tt.body, &p); code != tt.status || p.Refusal.Code != tt.code || p.Refusal.Field != tt.field {
				t.Fatalf("status %d refusal %+v; want %d %s on %q", code, p.Refusal, tt.status, tt.code, tt.field)
			}
			if p.Refusal.Zh == "" || p.Refusal.En == "" {
				t.Fatalf("refusal lacks a sentence: %+v", p.Refusal)
			}
		})
	}
	var p struct{ Refusal checkout.Refusal }
	if code := c.post("/api/enrol", `{"txn_id":"t-0123456789","phone":"1234","consent":true}`, &p); code != http.StatusUnprocessableEntity || p.Refusal.Field != "phone" {
		t.Fatalf("enrol with a bad phone: %d %+v", code, p.Refusal)
	}
}

func TestScansStreamLive(t *testing.T) {
	s, srv := newKiosk(t)
	c := newClient(t, srv.URL)
	c.signIn("s01", cashierPIN)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/stream", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // the stream is open once its first line arrives
	m := agent.Member{ID: "7"}
	s.Observe(counter.Result{At: time.Now(), Scan: "card", Member: &m, Event: &agent.Event{Seq: 1}})
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var v ScanView
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatal(err)
		}
		if v.Account == nil || v.Account.Member.Name != "李娜" || v.Account.Tier == nil {
			t.Fatalf("streamed scan = %+v", v)
		}
		return
	}
	t.Fatalf("stream ended without the scan: %v", lines.Err())
}

// TestForeignPagesRefused: every endpoint, reads included, answers only
// to a loopback Host (no DNS rebinding, no other IP literal), and a state
// change only from the kiosk's own pages.
func TestForeignPagesRefused(t *testing.T) {
	s, srv := newKiosk(t)
	c := newClient(t, srv.URL)
	c.signIn("m01", managerPIN)
	scanned(s, "7")
	body := `{"txn_id":"t-0123456789","member_id":"7","bill_fen":100}`
	for _, tt := range []struct {
		name, method, path, contentType, origin, site, host string
	}{
		{"form post", "POST", "/api/checkout", "text/plain", "", "", ""},
		{"other origin", "POST", "/api/checkout", "application/json", "http://evil.example", "", ""},
		{"cross-site fetch", "POST", "/api/checkout", "application/json", "", "cross-site", ""},
		{"rebound name", "POST", "/api/checkout", "application/json", "", "", "evil.example:8080"},
		{"another IP literal", "POST", "/api/checkout", "application/json", "", "", "10.0.0.5:8080"},
		{"cross-site rebuild", "POST", "/api/replica/rebuild", "application/json", "http://evil.example", "cross-site", ""},
		{"cross-site sign-in", "POST", "/api/session", "application/json", "http://evil.example", "cross-site", ""},
		{"rebound member read", "GET", "/api/members/7", "", "", "", "evil.example:8080"},
		{"rebound today", "GET", "/api/today", "", "", "", "evil.example"},
		{"rebound status", "GET", "/api/status", "", "", "", "evil.example"},
		{"rebound stream", "GET", "/api/stream", "", "", "", "evil.example"},
		{"rebound metrics", "GET", "/metrics", "", "", "", "evil.example"},
		{"rebound manager page", "GET", "/manager", "", "", "", "evil.example"},
		{"IP literal read", "GET", "/api/members/7", "", "", "", "192.168.1.20:8080"},
		{"rebound rebuild", "POST", "/api/replica/rebuild", "application/json", "", "", "evil.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rd io.Reader
			if tt.method == "POST" {
				rd = strings.NewReader(body)
			}
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, rd)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.site != "" {
				req.Header.Set("Sec-Fetch-Site", tt.site)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	if code := c.get("/api/transactions/t-0123456789", nil); code != http.StatusNotFound {
		t.Fatalf("a refused request recorded something: %d", code)
	}
	// The kiosk's own page, by a loopback name, passes.
	for _, host := range []string{"localhost", "127.0.0.1"} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/members/7", nil)
		req.Host = host + ":8080"
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		// Go's client leaves the jar's cookies out when Host is not the
		// URL's: a browser at localhost:8080 would send its own.
		for _, ck := range c.http.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("read by %s: status %d", host, resp.StatusCode)
		}
	}
}

// TestSignInAndRoles: the counter's reads and money need a signed-in
// cashier, the manager view and rebuild a manager; the cookie is HttpOnly
// and SameSite=Strict; repeated wrong PINs lock sign-in; an idle session
// ends.
func TestSignInAndRoles(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s, srv := newKioskWith(t, kioskOpts{now: clock})
	scanned(s, "7")

	anon := newClient(t, srv.URL)
	cashierOnly := []struct{ method, path, body string }{
		{"GET", "/api/counter", ""}, {"GET", "/api/stream", ""}, {"GET", "/api/members/7", ""}, {"GET", "/join.png", ""},
		{"GET", "/api/transactions/t-0123456789", ""},
		{"POST", "/api/quote", `{"member_id":"7","bill_fen":100}`},
		{"POST", "/api/checkout", `{"txn_id":"t-0123456789","member_id":"7","bill_fen":100}`},
		{"POST", "/api/topups", `{"txn_id":"t-0123456789","member_id":"7","amount_fen":100}`},
		{"POST", "/api/enrol", `{"txn_id":"t-0123456789","phone":"13800138000","consent":true}`},
		{"POST", "/api/vouchers/redeem", `{"txn_id":"t-0123456789","code":"MT1"}`},
	}
	managerOnly := []struct{ method, path, body string }{{"GET", "/api/today", ""}, {"POST", "/api/replica/rebuild", ""}}
	for _, e := range append(cashierOnly, managerOnly...) {
		var p struct{ Refusal checkout.Refusal }
		if code := anon.do(e.method, e.path, e.body, &p); code != http.StatusUnauthorized || p.Refusal.Code != "sign_in_required" {
			t.Errorf("%s %s signed out: %d %s, want 401 sign_in_required", e.method, e.path, code, p.Refusal.Code)
		}
	}
	var st StatusReport
	if code := anon.get("/api/status", &st); code != http.StatusOK || st.Store != "shop-1" || len(st.Recent) != 0 {
		t.Errorf("status signed out: %d, %d recent scans; want the till's health without member data", code, len(st.Recent))
	}
	noRedirect := &http.Client{Jar: anon.http.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noRedirect.Get(srv.URL + "/manager"); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager page signed out: %v %v, want a redirect to sign in", resp.Status, err)
	}

	// Wrong PINs: refused, then locked, even for the right PIN.
	var p struct{ Refusal checkout.Refusal }
	for i := 0; i < 4; i++ {
		if code := anon.post("/api/session", `{"staff_id":"s01","pin":"0000"}`, &p); code != http.StatusForbidden || p.Refusal.Code != "wrong_pin" {
			t.Fatalf("wrong PIN %d: %d %+v", i, code, p.Refusal)
		}
	}
	if code := anon.post("/api/session", `{"staff_id":"s01","pin":"0000"}`, &p); code != http.StatusTooManyRequests || p.Refusal.Code != "locked" {
		t.Fatalf("fifth wrong PIN: %d %+v, want 429 locked", code, p.Refusal)
	}
	if code := anon.post("/api/session", `{"staff_id":"s01","pin":"`+cashierPIN+`"}`, &p); code != http.StatusTooManyRequests {
		t.Fatalf("right PIN while locked: %d", code)
	}
	advance(5 * time.Minute)

	cashier := newClient(t, srv.URL)
	req, _ := http.NewRequest("POST", srv.URL+"/api/session", strings.NewReader(`{"staff_id":"s01","pin":"`+cashierPIN+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := cashier.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusOK || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Name != sessionCookie {
		t.Fatalf("sign-in: %s, cookies %+v", resp.Status, cookies)
	}
	var who SessionView
	if code := cashier.get("/api/session", &who); code != http.StatusOK || who.StaffID != "s01" || who.Role != staff.Cashier {
		t.Fatalf("session: %d %+v", code, who)
	}
	for _, e := range cashierOnly[:4] {
		if e.path == "/api/stream" {
			continue
		}
		if code := cashier.do(e.method, e.path, e.body, nil); code != http.StatusOK {
			t.Errorf("cashier %s %s: %d", e.method, e.path, code)
		}
	}
	for _, e := range managerOnly {
		if code := cashier.do(e.method, e.path, e.body, &p); code != http.StatusForbidden || p.Refusal.Code != "manager_required" {
			t.Errorf("cashier %s %s: %d %s, want 403 manager_required", e.method, e.path, code, p.Refusal.Code)
		}
	}
	noRedirect.Jar = cashier.http.Jar
	if resp, err := noRedirect.Get(srv.URL + "/manager"); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager page for a cashier: %v %v, want a redirect", resp.Status, err)
	}

	manager := newClient(t, srv.URL)
	manager.signIn("m01", managerPIN)
	for _, e := range managerOnly {
		if code := manager.do(e.method, e.path, e.body, nil); code/100 != 2 {
			t.Errorf("manager %s %s: %d", e.method, e.path, code)
		}
	}
	if code := manager.get("/manager", nil); code != http.StatusOK {
		t.Errorf("manager page: %d", code)
	}
	if code := manager.get("/api/status", &st); code != http.StatusOK || len(st.Recent) != 1 {
		t.Errorf("status for the manager: %d, %d recent scans, want 1", code, len(st.Recent))
	}

	// Idle past the timeout: signed out. Signing out ends it at once.
	advance(defaultSessionIdle - time.Second)
	if code := cashier.get("/api/session", nil); code != http.StatusOK {
		t.Fatalf("session used within the idle timeout: %d", code)
	}
	advance(defaultSessionIdle)
	if code := cashier.get("/api/counter", nil); code != http.StatusUnauthorized {
		t.Fatalf("after %s idle: %d, want 401", defaultSessionIdle, code)
	}
	if code := manager.do("DELETE", "/api/session", "", nil); code != http.StatusNoContent {
		t.Fatalf("sign out: %d", code)
	}
	if code := manager.get("/api/today", nil); code != http.StatusUnauthorized {
		t.Fatalf("after signing out: %d", code)
	}
}

// TestMoneyOnlyForScannedMembers: a checkout or top-up names a member
// scanned at this till within the window, or carries a manager's
// approval, which the event records; top-ups for members the till does
// not know, and by staff it does not know, are refused.
func TestMoneyOnlyForScannedMembers(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, srv := newKioskWith(t, kioskOpts{now: clock})
	c := newClient(t, srv.URL)
	c.signIn("s01", cashierPIN)
	balance := func() int64 {
		var a checkout.Account
		c.get("/api/members/7", &a)
		return a.Member.StoredValueFen
	}

	var p struct{ Refusal checkout.Refusal }
	spend := `{"txn_id":"t-spend-0001","member_id":"7","bill_fen":10000,"stored_value_fen":5000}`
	if code := c.post("/api/checkout", spend, &p); code != http.StatusUnprocessableEntity || p.Refusal.Code != "member_not_scanned" {
		t.Fatalf("checkout for a member never scanned: %d %+v", code, p.Refusal)
	}
	if code := c.post("/api/topups", `{"txn_id":"t-top-0001","member_id":"7","amount_fen":5000}`, &p); code != http.StatusUnprocessableEntity || p.Refusal.Code != "member_not_scanned" {
		t.Fatalf("top-up for a member never scanned: %d %+v", code, p.Refusal)
	}
	if b := balance(); b != 20000 {
		t.Fatalf("stored value %d after refusals, want 20000 untouched", b)
	}
	// A cashier cannot approve; a wrong manager PIN cannot either.
	for _, a := range []string{`{"staff_id":"s01","pin":"` + cashierPIN + `"}`, `{"staff_id":"m01","pin":"0000"}`} {
		body := `{"txn_id":"t-spend-0001","member_id":"7","bill_fen":10000,"stored_value_fen":5000,"approval":` + a + `}`
		if code := c.post("/api/checkout", body, &p); code != http.StatusForbidden || p.Refusal.Code != "approval_refused" {
			t.Fatalf("approval %s: %d %+v", a, code, p.Refusal)
		}
	}
	// A manager's approval lets it through and is recorded.
	var rec checkout.Receipt
	body := `{"txn_id":"t-spend-0001","member_id":"7","bill_fen":10000,"stored_value_fen":5000,"approval":{"staff_id":"m01","pin":"` + managerPIN + `"}}`
	if code := c.post("/api/checkout", body, &rec); code != http.StatusOK || rec.Event.ApprovedBy != "m01" || rec.Event.StaffID != "s01" {
		t.Fatalf("approved checkout: %d %+v", code, rec.Event)
	}

	// Scanned: allowed within the window, refused after it.
	scanned(s, "7")
	rec = checkout.Receipt{}
	if code := c.post("/api/topups", `{"txn_id":"t-top-0002","member_id":"7","amount_fen":5000}`, &rec); code != http.StatusOK || rec.Event.ApprovedBy != "" {
		t.Fatalf("top-up after a scan: %d %+v", code, rec.Event)
	}
	mu.Lock()
	now = now.Add(defaultScanValidFor + time.Second)
	mu.Unlock()
	c.signIn("s01", cashierPIN)
	if code := c.post("/api/topups", `{"txn_id":"t-top-0003","member_id":"7","amount_fen":5000}`, &p); code != http.StatusUnprocessableEntity || p.Refusal.Code != "member_not_scanned" {
		t.Fatalf("top-up after the scan's window: %d %+v", code, p.Refusal)
	}
	// A repeat of a settled transaction answers the first event, window or not.
	if code := c.post("/api/topups", `{"txn_id":"t-top-0002","member_id":"7","amount_fen":5000}`, &rec); code != http.StatusOK || !rec.Again {
		t.Fatalf("repeat of a settled top-up: %d again %v", code, rec.Again)
	}

	// A genuine member code for a member this replica does not know:
	// scanned, but no stored value is sold to them.
	scanned(s, "99")
	if code := c.post("/api/topups", `{"txn_id":"t-top-0004","member_id":"99","amount_fen":5000}`, &p); code != http.StatusUnprocessableEntity || p.Refusal.Code != "member_unknown" {
		t.Fatalf("top-up for an unknown member: %d %+v", code, p.Refusal)
	}
	// Staff the store does not know cannot take money, whatever calls the till.
	for _, who := range []string{"", "ghost"} {
		_, ref, err := s.src.Checkout.TopUp(context.Background(), checkout.TopUpRequest{TxnID: "t-top-0005", MemberID: "7", StaffID: who, AmountFen: 5000})
		if err != nil || ref == nil || ref.Code != "staff_unknown" {
			t.Fatalf("top-up by staff %q: %v %+v", who, err, ref)
		}
	}
}

func TestJoinQR(t *testing.T) {
	_, srv := newKiosk(t)
	c := newClient(t, srv.URL)
	c.signIn("s01", cashierPIN)
	resp, err := c.http.Get(srv.URL + "/join.png?staff=m01&voucher=MT123456")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	png, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("join QR: status %d, %d bytes", resp.StatusCode, len(png))
	}
	// The staff member is the one signed in, whatever the page says.
	if u := resp.Header.Get("X-Join-URL"); u != "http://m.example.com/join/b/shop-1?staff=s01&voucher=MT123456" {
		t.Fatalf("join URL = %q", u)
	}
	for _, page := range []string{"/", "/static/counter.js", "/static/style.css"} {
		if code := c.get(page, nil); code != http.StatusOK {
			t.Fatalf("GET %s: %d", page, code)
		}
	}
}
