package memberpage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/proto/membercode"
)

func newPages(t *testing.T) (*loyalty.Service, *httptest.Server) {
	t.Helper()
	db := sqltest.OpenSQLite(t)
	svc := loyalty.New(db, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := svc.CreateBrand(ctx, "tea", "茶语", "CNY"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateStore(ctx, "tea", "shop-1", "一号店"); err != nil {
		t.Fatal(err)
	}
	svc.JoinCodeSender = &fakeSMS{}
	srv := httptest.NewServer(New(svc, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return svc, srv
}

// fakeSMS is the text message provider of the tests: it keeps the last
// code sent to each phone, as the member's phone would show it.
type fakeSMS struct {
	mu   sync.Mutex
	last map[string]string
}

func (f *fakeSMS) SendJoinCode(_ context.Context, brand, phone, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.last = map[string]string{}
	}
	f.last[brand+"/"+phone] = code
	return nil
}

// codeFor has a code sent to phone and returns it, as read off the phone.
func codeFor(t *testing.T, svc *loyalty.Service, phone string) string {
	t.Helper()
	if err := svc.SendJoinCode(context.Background(), "tea", phone); err != nil {
		t.Fatal(err)
	}
	p, err := loyalty.NormalizePhone(phone)
	if err != nil {
		t.Fatal(err)
	}
	f := svc.JoinCodeSender.(*fakeSMS)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last["tea/"+p]
}

func TestJoinThenCard(t *testing.T) {
	svc, srv := newPages(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"no consent", `{"phone":"13800138000","name":"李娜"}`, http.StatusBadRequest},
		{"bad phone", `{"phone":"1380013","consent":true}`, http.StatusBadRequest},
		{"malformed", `{"phone":`, http.StatusBadRequest},
	} {
		resp, err := http.Post(srv.URL+"/api/join/tea/shop-1", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		var p problem
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != tt.status || p.Zh == "" || p.En == "" {
			t.Errorf("%s: status %d %+v, want %d with sentences", tt.name, resp.StatusCode, p, tt.status)
		}
	}
	resp, err := http.Post(srv.URL+"/api/join/tea/shop-1", "application/json", strings.NewReader(`{"phone":"+86 138 0013 8000","name":"李娜","consent":true,"staff":"s01","code":"`+codeFor(t, svc, "13800138000")+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var j Joined
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(j.CardPath, "/card/tea/"+j.MemberID+"/") {
		t.Fatalf("join: %d %+v", resp.StatusCode, j)
	}
	m, err := svc.GetMember(ctx, "tea", j.MemberID, "")
	if err != nil || m.Source.Channel != "join_page" || m.Source.StoreID != "shop-1" || m.Source.StaffID != "s01" || !m.Consent {
		t.Fatalf("joined member %+v, %v", m, err)
	}

	resp, err = http.Get(srv.URL + "/api" + j.CardPath)
	if err != nil {
		t.Fatal(err)
	}
	var c Card
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || c.Name != "李娜" || c.PhoneMasked != "138****8000" || !strings.HasPrefix(c.QR, "data:image/png;base64,") || c.TTLSeconds != 60 {
		t.Fatalf("card: %d %+v", resp.StatusCode, c)
	}
	if !strings.HasPrefix(c.Code, membercode.Prefix) || !c.ExpiresAt.After(c.ServerTime) {
		t.Fatalf("card code %q expires %s (server %s)", c.Code, c.ExpiresAt, c.ServerTime)
	}

	// A link with another member's id or a changed token is not a card.
	parts := strings.Split(j.CardPath, "/")
	token := parts[len(parts)-1]
	for _, path := range []string{
		"/api/card/tea/" + j.MemberID + "/" + strings.Repeat("a", len(token)),
		"/api/card/tea/999/" + token,
		"/api/card/other/" + j.MemberID + "/" + token,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
	for _, page := range []string{j.CardPath, "/join/tea/shop-1", "/static/card.js"} {
		resp, err := http.Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", page, resp.Status)
		}
	}
}

// A walk-in who joins through a group-buy voucher's QR code has the
// voucher's campaign as their source.
func TestJoinWithVoucher(t *testing.T) {
	svc, srv := newPages(t)
	ctx := context.Background()
	csv := "code,platform,campaign,face_value_fen,expires,title\nMT2026ABC001,meituan,spring-tea,3990,2099-12-31,下午茶\n"
	if rep, err := svc.ImportVouchers(ctx, "tea", []byte(csv), false); err != nil || len(rep.Errors) > 0 {
		t.Fatalf("import vouchers: %+v %v", rep, err)
	}
	resp, err := http.Post(srv.URL+"/api/join/tea/shop-1", "application/json", strings.NewReader(`{"phone":"13900001111","consent":true,"staff":"s02","voucher":"MT2026ABC001","code":"`+codeFor(t, svc, "13900001111")+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var j Joined
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	m, err := svc.GetMember(ctx, "tea", j.MemberID, "")
	if err != nil || m.Source.Channel != "group_buy" || m.Source.CampaignID != "spring-tea" || m.Source.StaffID != "s02" {
		t.Fatalf("member who joined with a voucher: %+v, %v", m.Source, err)
	}
	// Joining again with the same proven phone answers as a first join
	// does, with the member's own card (no "already a member" oracle).
	resp, err = http.Post(srv.URL+"/api/join/tea/shop-1", "application/json", strings.NewReader(`{"phone":"13900001111","consent":true,"code":"`+codeFor(t, svc, "13900001111")+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var again Joined
	json.NewDecoder(resp.Body).Decode(&again)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || again.MemberID != j.MemberID {
		t.Fatalf("second join: %d %+v; want 200 with member %s", resp.StatusCode, again, j.MemberID)
	}
}

func TestJoinIsRateLimitedPerAddress(t *testing.T) {
	svc, srv := newPages(t)
	for i := range joinsPerWindow + 1 {
		phone := fmt.Sprintf("139%08d", i)
		body := fmt.Sprintf(`{"phone":%q,"name":"客%d","consent":true,"code":%q}`, phone, i, codeFor(t, svc, phone))
		resp, err := http.Post(srv.URL+"/api/join/tea/shop-1", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var p problem
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		want := http.StatusOK
		if i == joinsPerWindow {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("join %d: status %d %+v, want %d", i+1, resp.StatusCode, p, want)
		}
		if want == http.StatusTooManyRequests && (p.Code != "too_many" || p.Zh == "" || p.En == "") {
			t.Fatalf("refusal %+v, want too_many with sentences", p)
		}
	}
	st, err := svc.Stats(context.Background(), "tea")
	if err != nil {
		t.Fatal(err)
	}
	if st.Members != joinsPerWindow {
		t.Fatalf("%d members, want %d: the refused join must enrol no one", st.Members, joinsPerWindow)
	}
}

func TestJoinLimiterWindow(t *testing.T) {
	l := newJoinLimiter(2, time.Minute)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	req := func(addr string) *http.Request { return &http.Request{RemoteAddr: addr} }
	for i, tt := range []struct {
		addr string
		wait time.Duration
		want bool
	}{
		{"10.0.0.1:5000", 0, true},
		{"10.0.0.1:5001", 0, true},
		{"10.0.0.1:5002", 0, false}, // same host, third in the window
		{"10.0.0.2:5000", 0, true},  // another host has its own count
		{"10.0.0.1:5003", time.Minute, true},
	} {
		now = now.Add(tt.wait)
		if got := l.allow(req(tt.addr)); got != tt.want {
			t.Errorf("attempt %d from %s: allow = %v, want %v", i+1, tt.addr, got, tt.want)
		}
	}
}
