package kiosk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/agent/serialport"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeCloud stands in for the cloud's voucher RPCs.
type fakeCloud struct {
	mu       sync.Mutex
	down     bool
	consumes map[string]int // key -> calls
	used     map[string]bool
}

func (f *fakeCloud) PrepareVoucher(_ context.Context, platform, code string) (agent.PlatformDeal, string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return agent.PlatformDeal{}, "", "", errors.New("cloud unreachable")
	}
	if f.used[code] {
		return agent.PlatformDeal{}, "voucher_used", "used", nil
	}
	return agent.PlatformDeal{Platform: "meituan", Code: code, DealID: "501", Title: "双人下午茶", PriceFen: 9800, CountLeft: 2}, "", "", nil
}

func (f *fakeCloud) ConsumeVoucher(_ context.Context, req agent.ConsumeVoucher) (agent.PlatformConsumption, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return agent.PlatformConsumption{}, errors.New("cloud unreachable")
	}
	f.consumes[req.Key]++
	if f.consumes[req.Key] == 1 && f.used[req.Code] {
		return agent.PlatformConsumption{State: "refused", Refusal: "voucher_used"}, nil
	}
	f.used[req.Code] = true
	return agent.PlatformConsumption{State: "consumed", Count: req.Count, Deal: agent.PlatformDeal{DealID: "501", Title: "双人下午茶", PriceFen: 9800}}, nil
}

func newVoucherKiosk(t *testing.T) (*fakeCloud, *client, *localstore.DB) {
	t.Helper()
	db, err := localstore.Open(filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.ApplyChanges([]agent.Change{{Seq: 1, Programme: &agent.Programme{Offline: agent.OfflinePolicy{
		MaxProvisionalVouchersPerDay: 2,
		ProvisionalDeals:             []agent.ProvisionalDeal{{Platform: "meituan", DealID: "501", Title: "双人下午茶", PriceFen: 9800}},
	}}}}, 1, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	id := agent.Identity{BrandID: "b", StoreID: "shop-1", DeviceID: "d1"}
	till := checkout.New(db, id, log, func(err error) bool { return errors.Is(err, localstore.ErrUnknown) })
	fc := &fakeCloud{consumes: map[string]int{}, used: map[string]bool{}}
	till.Platforms = fc
	desk := testDesk(t)
	till.KnownStaff = desk.Roster().Known
	s := New(Sources{Identity: id, State: db.State, Sync: func() cloudsync.Status { return cloudsync.Status{Online: true} },
		Devices: func() []serialport.Status { return nil }, Checkout: till, Desk: desk, JoinURL: "http://m.example.com/join/b/shop-1",
		Rebuild: func() {}, Metrics: prometheus.NewRegistry()}, log)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	if code := c.post("/api/vouchers/check", `{"code":"1000000001"}`, nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Fatalf("voucher check without a signed-in cashier: status %d", code)
	}
	c.signIn("s01", cashierPIN)
	return fc, c, db
}

func TestPlatformVoucherDoubleConfirmConsumesOnce(t *testing.T) {
	fc, c, _ := newVoucherKiosk(t)
	var chk checkout.VoucherCheck
	if code := c.post("/api/vouchers/check", `{"code":"1000000001"}`, &chk); code != http.StatusOK || chk.Deal == nil || chk.Deal.PriceFen != 9800 || chk.Deal.CountLeft != 2 {
		t.Fatalf("check: %d %+v", code, chk)
	}
	body := `{"txn_id":"v-0123456789","code":"1000000001","platform":"meituan","count":2}`
	var wg sync.WaitGroup
	recs := make([]checkout.Receipt, 3)
	codes := make([]int, 3)
	for i := range recs {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = c.post("/api/vouchers/consume", body, &recs[i]) }()
	}
	wg.Wait()
	again := 0
	for i, r := range recs {
		if codes[i] != http.StatusOK || r.Event.Voucher == nil || r.Event.Voucher.Count != 2 || r.Event.Seq != recs[0].Event.Seq {
			t.Fatalf("confirm %d: %d %+v", i, codes[i], r.Event)
		}
		if r.Again {
			again++
		}
	}
	if again != 2 || fc.consumes["v-0123456789"] != 1 || recs[0].Event.StaffID != "s01" {
		t.Fatalf("again %d, cloud asked %d times", again, fc.consumes["v-0123456789"])
	}
	var p problem
	if code := c.post("/api/vouchers/check", `{"code":"1000000001"}`, &p); code != refusalStatus || p.Refusal.Code != "voucher_used" {
		t.Fatalf("check after use: %d %+v", code, p.Refusal)
	}
}

func TestPlatformVoucherOfflineWithinPolicy(t *testing.T) {
	fc, c, db := newVoucherKiosk(t)
	fc.down = true
	var chk checkout.VoucherCheck
	if code := c.post("/api/vouchers/check", `{"code":"1000000002","platform":"meituan"}`, &chk); code != http.StatusOK || !chk.Offline ||
		chk.ProvisionalLeft != 2 || len(chk.ProvisionalDeals) != 1 {
		t.Fatalf("offline check: %d %+v", code, chk)
	}
	var p problem
	if code := c.post("/api/vouchers/consume", `{"txn_id":"v-1000000001","code":"1000000002","platform":"meituan","count":1}`, &p); code != refusalStatus || p.Refusal.Code != "cloud_unreachable" {
		t.Fatalf("consume offline: %d %+v", code, p.Refusal)
	}
	for i, tc := range []struct {
		body string
		want string
	}{
		{`{"txn_id":"v-2000000001","code":"1000000002","platform":"meituan","deal_id":"999","count":1}`, "voucher_offline_refused"},
		{`{"txn_id":"v-2000000002","code":"1000000002","platform":"meituan","deal_id":"501","count":3}`, "voucher_offline_refused"},
		{`{"txn_id":"v-2000000003","code":"1000000002","platform":"meituan","deal_id":"501","count":1}`, ""},
		{`{"txn_id":"v-2000000004","code":"1000000002","platform":"meituan","deal_id":"501","count":1}`, "voucher_used"},
		{`{"txn_id":"v-2000000005","code":"1000000003","platform":"meituan","deal_id":"501","count":1}`, ""},
		{`{"txn_id":"v-2000000006","code":"1000000004","platform":"meituan","deal_id":"501","count":1}`, "voucher_offline_refused"},
		{`{"txn_id":"v-2000000007","code":"1 2","platform":"meituan","deal_id":"501","count":1}`, "voucher_code_invalid"},
	} {
		var rec checkout.Receipt
		var p problem
		if tc.want == "" {
			if code := c.post("/api/vouchers/provisional", tc.body, &rec); code != http.StatusOK || !rec.Event.Voucher.Provisional || rec.Event.Voucher.PriceFen != 9800 {
				t.Fatalf("case %d: %d %+v", i, code, rec.Event)
			}
			continue
		}
		if code := c.post("/api/vouchers/provisional", tc.body, &p); code != refusalStatus || p.Refusal.Code != tc.want {
			t.Fatalf("case %d: %d %+v, want %s", i, code, p.Refusal, tc.want)
		}
	}
	st, err := db.State()
	if err != nil || st.Pending != 2 {
		t.Fatalf("pending %d %v, want the 2 provisional vouchers", st.Pending, err)
	}
}
