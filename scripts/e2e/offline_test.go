package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
)

type kioskResult struct {
	Event *struct {
		Seq uint64
		ID  string
	} `json:"event"`
	Refusal *struct {
		Code, Zh, En string
	} `json:"refusal"`
	Detail string `json:"detail"`
}

func kioskPost(t *testing.T, k *harness.Kiosk, path string, body any) kioskResult {
	t.Helper()
	var res kioskResult
	if _, err := k.Do("POST", path, body, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func kioskMember(t *testing.T, k *harness.Kiosk, id string) (sv, points int64, coupons int) {
	t.Helper()
	var v struct {
		Member struct {
			StoredValueFen int64
			Points         int64
		} `json:"member"`
		Coupons []map[string]any `json:"coupons"`
	}
	if code, err := k.Do("GET", "/api/members/"+id, nil, &v); err != nil || code != http.StatusOK {
		return 0, 0, 0
	}
	return v.Member.StoredValueFen, v.Member.Points, len(v.Coupons)
}

// approval is the test manager's sign-off: these counters have no
// scanner, so the manager approves each transaction at the till.
var approval = map[string]string{"staff_id": harness.ManagerID, "pin": harness.ManagerPIN}

// TestOfflineRedemptionsConflictAtTheCloud: two stores, both offline, each
// approve within the brand's policy on their own replica: the same coupon
// twice and together more stored value than the member has. When they
// sync, nothing is dropped: the cloud applies both, records a coupon_reused
// and an overdraft conflict with their rules, and lists them for HQ. Each
// counter also refuses what its own pending events already used.
func TestOfflineRedemptionsConflictAtTheCloud(t *testing.T) {
	dir := t.TempDir()
	addr, _ := harness.FreeAddr()
	cloudOpts := harness.CloudOptions{DataDir: filepath.Join(dir, "cloud"), Addr: addr, Token: token}
	cloud, err := harness.StartCloud(bins, cloudOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Kill() })
	admin, err := harness.DialAdmin(addr, token)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	brand := "offline-brand"
	if _, err := admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: brand, Name: "离线"}); err != nil {
		t.Fatal(err)
	}
	m, err := admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: brand, Phone: "13600000001", Name: "王芳"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateCouponTemplate(ctx, &pb.CouponTemplate{BrandId: brand, Id: "five-off", Name: "立减5元", Kind: pb.CouponKind_COUPON_KIND_AMOUNT_OFF, AmountOffFen: 500, ValidDays: 30}); err != nil {
		t.Fatal(err)
	}
	issued, err := admin.IssueCoupons(ctx, &pb.IssueCouponsRequest{BrandId: brand, TemplateId: "five-off", MemberIds: []string{m.GetId()}})
	if err != nil || len(issued.GetCoupons()) != 1 {
		t.Fatalf("issue coupon: %v %v", issued, err)
	}
	coupon := issued.GetCoupons()[0].GetCode()

	var kiosks []*harness.Kiosk
	for i, shop := range []string{"shop-a", "shop-b"} {
		st, err := admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: brand, Id: shop})
		if err != nil {
			t.Fatal(err)
		}
		k, _ := harness.FreeAddr()
		a, err := harness.StartAgent(bins, harness.AgentOptions{DataDir: filepath.Join(dir, shop), Cloud: addr, PairingCode: st.GetPairingCode(), Kiosk: k,
			Extra: []string{"--sync-interval", "100ms", "--sync-max-backoff", "300ms", "--cloud-timeout", "1s"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a.Kill()
			if t.Failed() {
				t.Logf("agent %d log:\n%s", i, a.Log.String())
			}
		})
		cashier, err := harness.SignIn(k, harness.CashierID, harness.CashierPIN)
		if err != nil {
			t.Fatal(err)
		}
		kiosks = append(kiosks, cashier)
	}
	a, b := kiosks[0], kiosks[1]

	// 300 yuan of stored value bought at shop A reaches both replicas.
	if res := kioskPost(t, a, "/api/topups", map[string]any{"txn_id": "topup-a-1", "member_id": m.GetId(), "amount_fen": 30000, "approval": approval}); res.Event == nil {
		t.Fatalf("top-up: %+v", res)
	}
	for _, k := range kiosks {
		if err := harness.WaitFor(20*time.Second, "replica with the top-up and the coupon", func() (bool, error) {
			sv, _, coupons := kioskMember(t, k, m.GetId())
			return sv == 30000 && coupons == 1, nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// The cloud goes away; both counters decide alone.
	if err := cloud.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	txn := 0
	buy := func(k *harness.Kiosk, bill, sv int64, coupon string) kioskResult {
		txn++
		return kioskPost(t, k, "/api/checkout", map[string]any{"txn_id": fmt.Sprintf("purchase-%04d", txn), "member_id": m.GetId(), "bill_fen": bill, "stored_value_fen": sv, "coupon_code": coupon, "approval": approval})
	}
	if res := buy(a, 20000, 15000, coupon); res.Event == nil {
		t.Fatalf("shop A purchase refused: %+v", res)
	}
	if res := buy(a, 5000, 0, coupon); res.Refusal == nil || res.Refusal.Code != "coupon_used" {
		t.Fatalf("shop A reused its own coupon: %+v", res)
	}
	if res := buy(a, 30000, 20000, ""); res.Refusal == nil || res.Refusal.Code != "stored_value_over_balance" {
		t.Fatalf("shop A spent beyond replica + pending: %+v", res)
	}
	if res := buy(b, 25000, 20000, coupon); res.Event == nil {
		t.Fatalf("shop B purchase refused: %+v", res)
	}

	// Back online: both sync; the cloud keeps everything and says what clashed.
	if cloud, err = harness.StartCloud(bins, cloudOpts); err != nil {
		t.Fatal(err)
	}
	for _, k := range kiosks {
		if err := harness.WaitFor(30*time.Second, "the outbox to drain", func() (bool, error) {
			rep, err := harness.AgentStatus(strings.TrimPrefix(k.Base, "http://"))
			return err == nil && rep.Outbox.Pending == 0, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := admin.ListConflicts(ctx, &pb.ListConflictsRequest{BrandId: brand})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, c := range cs.GetConflicts() {
		kinds[c.GetKind()]++
		t.Logf("conflict %s at %s: %s — %s", c.GetKind(), c.GetStoreId(), c.GetDetail(), c.GetResolution())
	}
	if kinds["coupon_reused"] != 1 || kinds["overdraft"] != 1 || len(cs.GetConflicts()) != 2 {
		t.Fatalf("conflicts %v, want one coupon_reused and one overdraft", kinds)
	}
	st, err := admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: brand})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetEvents() != 3 || st.GetRejectedEvents() != 0 {
		t.Fatalf("cloud holds %d events (%d rejected), want the top-up and both purchases, none dropped", st.GetEvents(), st.GetRejectedEvents())
	}
	// The manager's approvals travel with the events.
	evs, err := admin.ListEvents(ctx, &pb.ListEventsRequest{BrandId: brand, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.GetEvents() {
		if e.GetEvent().GetApprovedBy() != harness.ManagerID || e.GetEvent().GetStaffId() != harness.CashierID {
			t.Errorf("event %s: staff %q approved by %q, want %s approved by %s", e.GetEvent().GetId(), e.GetEvent().GetStaffId(), e.GetEvent().GetApprovedBy(), harness.CashierID, harness.ManagerID)
		}
	}
	got, err := admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: brand, MemberId: m.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if sv := got.GetStoredValuePrincipalFen() + got.GetStoredValueBonusFen(); sv != 0 {
		t.Fatalf("stored value %d after an overdraft, want 0 (the shortfall is the conflict)", sv)
	}
}
