package kiosk

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/agent/serialport"
)

func newKiosk(t *testing.T) (*Server, *httptest.Server) {
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
	s := New(Sources{
		Identity: id, State: db.State, Sync: func() cloudsync.Status { return cloudsync.Status{Online: true} },
		Devices: func() []serialport.Status { return nil }, Checkout: till, Staff: []Staff{{ID: "s01", Name: "王芳"}},
		JoinURL: "http://m.example.com/join/b/shop-1",
	}, log)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func post(t *testing.T, url, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestCheckoutOnce(t *testing.T) {
	_, srv := newKiosk(t)
	body := `{"txn_id":"t-0123456789","member_id":"7","staff_id":"s01","bill_fen":10000,"stored_value_fen":5000}`
	var first, second checkout.Receipt
	if code := post(t, srv.URL+"/api/checkout", body, &first); code != http.StatusOK {
		t.Fatalf("checkout: status %d", code)
	}
	if p := first.Event.Purchase; p == nil || p.TierDiscountFen != 1000 || p.StoredValueFen != 5000 || p.PaidOtherFen != 4000 || first.Event.StaffID != "s01" {
		t.Fatalf("recorded %+v", first.Event)
	}
	if code := post(t, srv.URL+"/api/checkout", body, &second); code != http.StatusOK || second.Event.Seq != first.Event.Seq || !second.Again {
		t.Fatalf("second checkout: status %d, seq %d again %v; want seq %d again", code, second.Event.Seq, second.Again, first.Event.Seq)
	}
	var a checkout.Account
	resp, err := http.Get(srv.URL + "/api/members/7")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if a.Member.StoredValueFen != 15000 || a.PendingEvents != 1 {
		t.Fatalf("account after checkout = %+v, want stored value 15000 with 1 pending event", a)
	}
}

func TestRefusalsAreSentences(t *testing.T) {
	_, srv := newKiosk(t)
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"malformed", `{"txn_id":`, http.StatusBadRequest, "bad_request", ""},
		{"unknown field", `{"txn_id":"t-0123456789","amount":1}`, http.StatusBadRequest, "bad_request", ""},
		{"bad transaction id", `{"txn_id":"x","member_id":"7","bill_fen":100}`, http.StatusUnprocessableEntity, "txn_invalid", ""},
		{"no bill", `{"txn_id":"t-0123456789","member_id":"7","bill_fen":0}`, http.StatusUnprocessableEntity, "bill_invalid", "bill"},
		{"over balance", `{"txn_id":"t-0123456789","member_id":"7","bill_fen":90000,"stored_value_fen":20001}`, http.StatusUnprocessableEntity, "stored_value_over_balance", "stored_value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p struct{ Refusal checkout.Refusal }
			if code := post(t, srv.URL+"/api/checkout", tt.body, &p); code != tt.status || p.Refusal.Code != tt.code || p.Refusal.Field != tt.field {
				t.Fatalf("status %d refusal %+v; want %d %s on %q", code, p.Refusal, tt.status, tt.code, tt.field)
			}
			if p.Refusal.Zh == "" || p.Refusal.En == "" {
				t.Fatalf("refusal lacks a sentence: %+v", p.Refusal)
			}
		})
	}
	var p struct{ Refusal checkout.Refusal }
	if code := post(t, srv.URL+"/api/enrol", `{"txn_id":"t-0123456789","phone":"1234","consent":true}`, &p); code != http.StatusUnprocessableEntity || p.Refusal.Field != "phone" {
		t.Fatalf("enrol with a bad phone: %d %+v", code, p.Refusal)
	}
}

func TestScansStreamLive(t *testing.T) {
	s, srv := newKiosk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/stream", nil)
	resp, err := http.DefaultClient.Do(req)
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

func TestForeignPagesRefused(t *testing.T) {
	_, srv := newKiosk(t)
	body := `{"txn_id":"t-0123456789","member_id":"7","bill_fen":100}`
	for _, tt := range []struct {
		name, contentType, origin, host string
	}{
		{"form post", "text/plain", "", ""},
		{"other origin", "application/json", "http://evil.example", ""},
		{"rebound name", "application/json", "", "evil.example:8080"},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/api/checkout", strings.NewReader(body))
		req.Header.Set("Content-Type", tt.contentType)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tt.name, resp.StatusCode)
		}
	}
	if ev, _ := http.Get(srv.URL + "/api/transactions/t-0123456789"); ev.StatusCode != http.StatusNotFound {
		t.Fatalf("a refused request recorded something: %s", ev.Status)
	}
}

func TestJoinQR(t *testing.T) {
	_, srv := newKiosk(t)
	resp, err := http.Get(srv.URL + "/join.png?staff=s01&voucher=MT123456")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	png, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("join QR: status %d, %d bytes", resp.StatusCode, len(png))
	}
	if u := resp.Header.Get("X-Join-URL"); u != "http://m.example.com/join/b/shop-1?staff=s01&voucher=MT123456" {
		t.Fatalf("join URL = %q", u)
	}
	for _, page := range []string{"/", "/manager", "/static/counter.js", "/static/style.css"} {
		r, err := http.Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", page, r.Status)
		}
		r.Body.Close()
	}
}
