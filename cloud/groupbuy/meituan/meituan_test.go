package meituan_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan/meituantest"
)

const shop = "shop-uuid-jingan"

func setup(t *testing.T) (*meituantest.Platform, *meituan.Client) {
	t.Helper()
	p := meituantest.New(t, shop, "shop-uuid-other")
	p.Sell(shop, 501, "双人下午茶", "98.00", "1000000001")
	p.Sell(shop, 502, "四人套餐", "299.5", "2000000001", "2000000002", "2000000003")
	p.Sell("shop-uuid-other", 503, "别家店的券", "50", "3000000001")
	c, err := meituan.New(meituan.Config{BaseURL: p.URL, AppKey: p.AppKey, AppSecret: p.Secret, Session: p.Session, Account: "hq", AccountName: "总部"},
		&http.Client{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func TestSignIsMD5OfSecretSortedPairsSecret(t *testing.T) {
	v := url.Values{"b": {"2"}, "a": {"1"}, "sign": {"ignored"}}
	sum := md5.Sum([]byte("Sa1b2S"))
	if got := meituan.Sign("S", v); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("sign = %s", got)
	}
}

func TestWrongSecretOrSessionIsRefusedAsAuth(t *testing.T) {
	p, _ := setup(t)
	for name, cfg := range map[string]meituan.Config{
		"secret":  {BaseURL: p.URL, AppKey: p.AppKey, AppSecret: "wrong", Session: p.Session},
		"session": {BaseURL: p.URL, AppKey: p.AppKey, AppSecret: p.Secret, Session: "stale"},
		"app key": {BaseURL: p.URL, AppKey: "other", AppSecret: p.Secret, Session: p.Session},
	} {
		c, _ := meituan.New(cfg, nil)
		_, err := c.Prepare(context.Background(), shop, "1000000001")
		if r, ok := groupbuy.AsRefusal(err); !ok || r.Reason != groupbuy.ReasonAuth {
			t.Errorf("%s: err = %v, want %s", name, err, groupbuy.ReasonAuth)
		}
	}
}

func TestPrepareShowsTheDeal(t *testing.T) {
	_, c := setup(t)
	d, err := c.Prepare(context.Background(), shop, "2000000001")
	if err != nil {
		t.Fatal(err)
	}
	if d.DealID != "502" || d.Title != "四人套餐" || d.PriceFen != 29950 || d.CountLeft != 3 || d.ExpiresAt.IsZero() {
		t.Fatalf("deal = %+v", d)
	}
}

func TestRefusals(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	if _, err := c.Consume(ctx, shop, "1000000001", 1, "k1"); err != nil {
		t.Fatal(err)
	}
	p.Sell(shop, 504, "退款的券", "10", "4000000001")
	p.Set("4000000001", func(r *meituantest.Receipt) { r.State = meituantest.Refunded })
	p.Sell(shop, 505, "过期的券", "10", "5000000001")
	p.Set("5000000001", func(r *meituantest.Receipt) { r.EndDate = time.Now().Add(-time.Hour) })
	p.Fail("prepare", meituantest.RateLimit)
	cases := []struct {
		name, shop, code string
		want             groupbuy.Reason
	}{
		{"rate limited", shop, "2000000001", groupbuy.ReasonRateLimited},
		{"used", shop, "1000000001", groupbuy.ReasonUsed},
		{"refunded", shop, "4000000001", groupbuy.ReasonRefunded},
		{"expired", shop, "5000000001", groupbuy.ReasonExpired},
		{"another shop's voucher", shop, "3000000001", groupbuy.ReasonWrongShop},
		{"shop not authorised", "shop-uuid-unbound", "1000000001", groupbuy.ReasonWrongShop},
		{"unknown", shop, "9999999999", groupbuy.ReasonNotFound},
	}
	for _, tc := range cases {
		_, err := c.Prepare(ctx, tc.shop, tc.code)
		if r, ok := groupbuy.AsRefusal(err); !ok || r.Reason != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
	if _, err := c.Consume(ctx, shop, "2000000001", 4, "k2"); !isReason(err, groupbuy.ReasonCountLeft) {
		t.Errorf("4 of 3: err = %v", err)
	}
	if p.Consumes("2000000001") != 0 {
		t.Error("a refused consume consumed")
	}
}

func isReason(err error, want groupbuy.Reason) bool {
	r, ok := groupbuy.AsRefusal(err)
	return ok && r.Reason == want
}

func TestConsumeSeveralThenReverse(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	r, err := c.Consume(ctx, shop, "2000000001", 2, "k-two")
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 2 || len(r.Refs) != 2 || r.PriceFen != 29950 || r.DealID != "502" {
		t.Fatalf("receipt = %+v", r)
	}
	// The same request id again: the platform answers the first result.
	again, err := c.Consume(ctx, shop, "2000000001", 2, "k-two")
	if err != nil || again.Count != 2 || p.Consumes("2000000001")+p.Consumes("2000000002")+p.Consumes("2000000003") != 2 {
		t.Fatalf("again = %+v, %v; consumes %d %d %d", again, err, p.Consumes("2000000001"), p.Consumes("2000000002"), p.Consumes("2000000003"))
	}
	if d, err := c.Prepare(ctx, shop, "2000000003"); err != nil || d.CountLeft != 1 {
		t.Fatalf("after 2 of 3: %+v, %v", d, err)
	}
	if err := c.Reverse(ctx, shop, r); err != nil {
		t.Fatal(err)
	}
	if d, err := c.Prepare(ctx, shop, "2000000001"); err != nil || d.CountLeft != 3 {
		t.Fatalf("after reverse: %+v, %v", d, err)
	}
}

func TestReverseAfterTheWindowIsRefused(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	r, err := c.Consume(ctx, shop, "1000000001", 1, "k")
	if err != nil {
		t.Fatal(err)
	}
	p.ReverseWindow = 0
	if err := c.Reverse(ctx, shop, r); !isReason(err, groupbuy.ReasonNotReversible) {
		t.Fatalf("err = %v", err)
	}
	if p.State("1000000001") != meituantest.Used {
		t.Fatal("reversed after the window")
	}
}

func TestTimeoutIsUnsettledAndConsumedTellsTheOutcome(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()

	// The platform consumed, the answer was lost.
	p.Fail("consume", meituantest.TimeoutAfter)
	_, err := c.Consume(ctx, shop, "1000000001", 1, "k-lost")
	if !groupbuy.Unsettled(err) {
		t.Fatalf("err = %v, want unsettled", err)
	}
	got, ok, err := c.Consumed(ctx, shop, "1000000001")
	if err != nil || !ok || got.DealID != "501" || got.PriceFen != 9800 {
		t.Fatalf("consumed = %+v %v %v", got, ok, err)
	}

	// The request never got through.
	p.Sell(shop, 506, "单人套餐", "38", "6000000001")
	p.Fail("consume", meituantest.TimeoutBefore)
	if _, err := c.Consume(ctx, shop, "6000000001", 1, "k-cut"); !groupbuy.Unsettled(err) {
		t.Fatalf("err = %v, want unsettled", err)
	}
	if _, ok, err := c.Consumed(ctx, shop, "6000000001"); err != nil || ok {
		t.Fatalf("consumed = %v %v, want not consumed", ok, err)
	}
	if p.Consumes("1000000001") != 1 || p.Consumes("6000000001") != 0 {
		t.Fatalf("consumes %d %d", p.Consumes("1000000001"), p.Consumes("6000000001"))
	}
}

func TestSettlementListsTheDay(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	if _, err := c.Consume(ctx, shop, "1000000001", 1, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Consume(ctx, shop, "2000000001", 3, "b"); err != nil {
		t.Fatal(err)
	}
	lines, err := c.Settlement(ctx, shop, time.Now().In(meituan.China))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("lines = %+v", lines)
	}
	var total int64
	for _, l := range lines {
		total += l.PriceFen * int64(l.Count)
	}
	if total != 9800+3*29950 {
		t.Fatalf("total = %d", total)
	}
}
