package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/groupbuy/meituan/meituantest"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
)

const (
	mtShop     = "mt-shop-uuid-1"
	voucherA   = "6100000001" // two uses of 双人下午茶
	voucherB   = "6100000002"
	voucherOld = "6100000009" // already consumed at the platform
)

// voucherSystem is a system whose cloud verifies Meituan vouchers with a
// fake Meituan open platform, and whose store is bound to its shop there.
func voucherSystem(t *testing.T) (*system, *meituantest.Platform) {
	t.Helper()
	mt := meituantest.New(t, mtShop)
	mt.Sell(mtShop, 501, "双人下午茶", "98.00", voucherA, voucherB)
	mt.Sell(mtShop, 501, "双人下午茶", "98.00", voucherOld)
	mt.Set(voucherOld, func(r *meituantest.Receipt) { r.State = meituantest.Used; r.VerifiedAt = time.Now() })
	cfg := filepath.Join(t.TempDir(), "groupbuy.json")
	raw, _ := json.Marshal(map[string]any{"brands": map[string]any{"e2e-brand": map[string]any{
		"meituan": map[string]string{"base_url": mt.URL, "app_key": mt.AppKey, "app_secret": mt.Secret, "session": mt.Session, "account": "hq", "account_name": "总部"},
	}}})
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSystemOn(t, []string{"--groupbuy-config", cfg, "--voucher-claims-interval", "200ms"}, 1)
	if _, err := s.admin.BindVoucherShop(context.Background(), &pb.BindVoucherShopRequest{BrandId: s.brand, StoreId: "shop-1", Platform: "meituan", ShopId: mtShop}); err != nil {
		t.Fatal(err)
	}
	return s, mt
}

type voucherCheck struct {
	Code string `json:"code"`
	Deal *struct {
		Platform  string `json:"platform"`
		DealID    string `json:"deal_id"`
		Title     string `json:"title"`
		PriceFen  int64  `json:"price_fen"`
		CountLeft int    `json:"count_left"`
	} `json:"deal"`
	Offline          bool `json:"offline"`
	ProvisionalLeft  int  `json:"provisional_left"`
	ProvisionalDeals []struct {
		DealID string `json:"deal_id"`
	} `json:"provisional_deals"`
	Refusal *struct{ Code string } `json:"refusal"`
}

func checkVoucher(t *testing.T, k *harness.Kiosk, code string) voucherCheck {
	t.Helper()
	var v voucherCheck
	if _, err := k.Do("POST", "/api/vouchers/check", map[string]string{"code": code}, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// cashier signs the test cashier in at the system's kiosk.
func (s *system) cashier() *harness.Kiosk {
	s.t.Helper()
	k, err := harness.SignIn(s.kiosk, harness.CashierID, harness.CashierPIN)
	if err != nil {
		s.t.Fatal(err)
	}
	return k
}

// scannedVoucher scans a code on the real pseudo-terminal and waits until
// the counter shows it as a voucher.
func (s *system) scannedVoucher(k *harness.Kiosk, code string) string {
	s.t.Helper()
	s.scan(code)
	var got string
	err := harness.WaitFor(10*time.Second, "the counter to show the voucher", func() (bool, error) {
		var st struct {
			Last *struct {
				Scan    string
				Voucher *struct{ Code string } `json:"voucher"`
			} `json:"last"`
		}
		if _, err := k.Do("GET", "/api/counter", nil, &st); err != nil {
			return false, err
		}
		if st.Last != nil && st.Last.Voucher != nil {
			got = st.Last.Voucher.Code
		}
		return got == code, nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

// TestVoucherConsumedOnceAndTheGuestJoins: a Meituan voucher scanned at the
// counter is checked with the platform (deal, price, uses left), consumed
// once although the cashier confirms twice, and the guest, enrolled at
// the counter with the voucher, becomes a member whose source is the
// voucher's platform, deal, store and staff.
func TestVoucherConsumedOnceAndTheGuestJoins(t *testing.T) {
	s, mt := voucherSystem(t)
	ctx := context.Background()
	k := s.cashier()
	code := s.scannedVoucher(k, voucherA)
	chk := checkVoucher(t, k, code)
	if chk.Deal == nil || chk.Deal.Title != "双人下午茶" || chk.Deal.PriceFen != 9800 || chk.Deal.CountLeft != 2 || chk.Deal.Platform != "meituan" {
		t.Fatalf("check: %+v", chk)
	}
	confirm := map[string]any{"txn_id": "voucher-txn-0001", "code": code, "platform": "meituan", "count": 1}
	first := kioskPost(t, k, "/api/vouchers/consume", confirm)
	second := kioskPost(t, k, "/api/vouchers/consume", confirm)
	if first.Event == nil || second.Event == nil || first.Event.ID != second.Event.ID {
		t.Fatalf("double confirm: %+v / %+v", first, second)
	}
	if n := mt.Consumes(voucherA) + mt.Consumes(voucherB); n != 1 || mt.Calls("consume") != 1 {
		t.Fatalf("the platform consumed %d uses in %d calls, want 1 in 1", n, mt.Calls("consume"))
	}
	// The order's other code has the one use left; this code is used.
	if again := checkVoucher(t, k, voucherB); again.Deal == nil || again.Deal.CountLeft != 1 {
		t.Fatalf("after one use: %+v", again)
	}
	if again := checkVoucher(t, k, code); again.Refusal == nil || again.Refusal.Code != "voucher_used" {
		t.Fatalf("after one use: %+v", again)
	}

	// The guest joins at the counter, the voucher's code carried along.
	enrol := kioskPost(t, k, "/api/enrol", map[string]any{"txn_id": "enrol-txn-0001", "phone": "13900001111", "name": "团购客", "consent": true, "voucher_code": code})
	if enrol.Event == nil {
		t.Fatalf("enrol: %+v", enrol)
	}
	var m *pb.Member
	if err := harness.WaitFor(20*time.Second, "the member in the cloud", func() (bool, error) {
		var err error
		m, err = s.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: s.brand, Phone: "13900001111"})
		return err == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	src := m.GetSource()
	if src.GetChannel() != "group_buy" || src.GetPlatform() != "meituan" || src.GetDealId() != "501" || src.GetStoreId() != "shop-1" || src.GetStaffId() != harness.CashierID {
		t.Fatalf("member source = %v", src)
	}
	// The day's reconciliation matches the platform's list.
	rep, err := s.admin.ReconcileVouchers(ctx, &pb.ReconcileVouchersRequest{BrandId: s.brand, Platform: "meituan", StoreId: "shop-1",
		Day: time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	// voucherOld was consumed at the platform outside this system.
	if rep.GetMatched() != 1 || rep.GetHereUses() != 1 || len(rep.GetMismatches()) != 1 || rep.GetMismatches()[0].GetKind() != "missing_here" {
		t.Fatalf("reconciliation = %v", rep)
	}
	st := s.stats()
	if st.GetRejectedEvents() != 0 {
		t.Fatalf("%d events rejected", st.GetRejectedEvents())
	}
}

// TestProvisionalVoucherRefusedByThePlatformIsAConflict: with the cloud
// down, the counter accepts a voucher provisionally as the brand's offline
// policy allows; when the cloud is back it consumes the voucher with the
// platform, which refuses it (already used), and HQ sees a conflict with
// the amount at risk. A second provisional voucher, valid, is consumed.
func TestProvisionalVoucherRefusedByThePlatformIsAConflict(t *testing.T) {
	s, mt := voucherSystem(t)
	ctx := context.Background()
	prog, err := s.admin.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: s.brand})
	if err != nil {
		t.Fatal(err)
	}
	prog.Offline.MaxProvisionalVouchersPerDay = 2
	prog.Offline.ProvisionalDeals = []*pb.ProvisionalDeal{{Platform: "meituan", DealId: "501", Title: "双人下午茶", PriceFen: 9800}}
	if _, err := s.admin.SetProgramme(ctx, &pb.SetProgrammeRequest{BrandId: s.brand, Programme: prog}); err != nil {
		t.Fatal(err)
	}
	// The counter learns the policy from its replica: wait for a pull
	// that caught up after the change.
	changed := time.Now()
	s.waitStatus("a replica pull after the policy changed", func(r statusReport) bool {
		return r.ReplicaAgeSeconds >= 0 && time.Duration(r.ReplicaAgeSeconds*float64(time.Second)) < time.Since(changed)
	})
	if err := s.cloud.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	k := s.cashier()
	for i, code := range []string{voucherOld, voucherB} {
		s.scannedVoucher(k, code)
		var chk voucherCheck
		if err := harness.WaitFor(20*time.Second, "the offline check to offer the policy's deal", func() (bool, error) {
			chk = checkVoucher(t, k, code)
			return chk.Offline && len(chk.ProvisionalDeals) == 1, nil
		}); err != nil {
			t.Fatalf("%v: %+v", err, chk)
		}
		res := kioskPost(t, k, "/api/vouchers/provisional", map[string]any{"txn_id": fmt.Sprintf("prov-txn-%04d", i), "code": code, "platform": "meituan", "deal_id": "501", "count": 1})
		if res.Event == nil {
			t.Fatalf("provisional %s: %+v", code, res)
		}
	}
	if chk := checkVoucher(t, k, "6100000777"); !chk.Offline || chk.ProvisionalLeft != 0 {
		t.Fatalf("after the day's allowance: %+v", chk)
	}

	cloud, err := harness.StartCloud(bins, harness.CloudOptions{DataDir: filepath.Join(s.dir, "cloud"), Addr: s.addr, Token: token, Extra: s.cloudFlags})
	if err != nil {
		t.Fatal(err)
	}
	s.cloud = cloud
	t.Cleanup(func() { cloud.Kill() })
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	var cs *pb.ListConflictsResponse
	if err := harness.WaitFor(20*time.Second, "the refused voucher to become a conflict", func() (bool, error) {
		var err error
		cs, err = s.admin.ListConflicts(ctx, &pb.ListConflictsRequest{BrandId: s.brand})
		return err == nil && len(cs.GetConflicts()) > 0 && mt.Consumes(voucherB) == 1, err
	}); err != nil {
		t.Fatal(err)
	}
	if len(cs.GetConflicts()) != 1 {
		t.Fatalf("conflicts = %v", cs.GetConflicts())
	}
	c := cs.GetConflicts()[0]
	if c.GetKind() != "voucher_refused" || c.GetAmountFen() != 9800 || c.GetStoreId() != "shop-1" {
		t.Fatalf("conflict = %v", c)
	}
	t.Logf("conflict %s: %s — %s", c.GetKind(), c.GetDetail(), c.GetResolution())
	if mt.Consumes(voucherOld) != 0 || mt.Consumes(voucherB) != 1 {
		t.Fatalf("platform consumes: old %d, valid %d", mt.Consumes(voucherOld), mt.Consumes(voucherB))
	}
}
