package douyin_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/groupbuy/douyin"
	"github.com/memberpass/memberpass/cloud/groupbuy/douyin/douyintest"
)

const poi = "poi-jingan"

func setup(t *testing.T) (*douyintest.Platform, *douyin.Client) {
	t.Helper()
	p := douyintest.New(t, poi, "poi-other")
	p.Sell(poi, "sku-1", "招牌双人餐", 16800, "100000000001")
	p.Sell(poi, "sku-2", "三次卡", 5000, "200000000001", "200000000002", "200000000003")
	p.Sell("poi-other", "sku-3", "别家店", 1000, "300000000001")
	c, err := douyin.New(douyin.Config{BaseURL: p.URL, ClientKey: p.ClientKey, ClientSecret: p.ClientSecret, AccountID: p.AccountID},
		&http.Client{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func isReason(err error, want groupbuy.Reason) bool {
	r, ok := groupbuy.AsRefusal(err)
	return ok && r.Reason == want
}

func TestClientTokenIsFetchedOnceAndRefreshedWhenExpired(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	for range 3 {
		if _, err := c.Prepare(ctx, poi, "100000000001"); err != nil {
			t.Fatal(err)
		}
	}
	if p.Fetches() != 1 {
		t.Fatalf("token fetched %d times for 3 calls", p.Fetches())
	}
	p.ExpireTokens()
	if _, err := c.Prepare(ctx, poi, "100000000001"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if p.Fetches() != 2 {
		t.Fatalf("token fetched %d times, want a refresh", p.Fetches())
	}
}

func TestWrongSecretIsRefusedAsAuth(t *testing.T) {
	p, _ := setup(t)
	c, _ := douyin.New(douyin.Config{BaseURL: p.URL, ClientKey: p.ClientKey, ClientSecret: "wrong", AccountID: p.AccountID}, nil)
	if _, err := c.Prepare(context.Background(), poi, "100000000001"); !isReason(err, groupbuy.ReasonAuth) {
		t.Fatalf("err = %v", err)
	}
}

func TestPrepareShowsTheDeal(t *testing.T) {
	_, c := setup(t)
	d, err := c.Prepare(context.Background(), poi, "200000000001")
	if err != nil {
		t.Fatal(err)
	}
	if d.DealID != "sku-2" || d.Title != "三次卡" || d.PriceFen != 5000 || d.CountLeft != 3 {
		t.Fatalf("deal = %+v", d)
	}
}

func TestRefusals(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	if _, err := c.Consume(ctx, poi, "100000000001", 1, "k"); err != nil {
		t.Fatal(err)
	}
	p.Sell(poi, "sku-4", "退款", 100, "400000000001")
	p.Set("400000000001", func(ct *douyintest.Certificate) { ct.State = douyintest.Refunded })
	p.Sell(poi, "sku-5", "过期", 100, "500000000001")
	p.Set("500000000001", func(ct *douyintest.Certificate) { ct.Expire = time.Now().Add(-time.Minute) })
	p.Fail("prepare", douyintest.RateLimit)
	for _, tc := range []struct {
		name, poi, code string
		want            groupbuy.Reason
	}{
		{"rate limited", poi, "200000000001", groupbuy.ReasonRateLimited},
		{"used", poi, "100000000001", groupbuy.ReasonUsed},
		{"refunded", poi, "400000000001", groupbuy.ReasonRefunded},
		{"expired", poi, "500000000001", groupbuy.ReasonExpired},
		{"another shop's", poi, "300000000001", groupbuy.ReasonWrongShop},
		{"shop not authorised", "poi-unbound", "100000000001", groupbuy.ReasonWrongShop},
		{"unknown", poi, "999999999999", groupbuy.ReasonNotFound},
	} {
		if _, err := c.Prepare(ctx, tc.poi, tc.code); !isReason(err, tc.want) {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
	if _, err := c.Consume(ctx, poi, "200000000001", 4, "k4"); !isReason(err, groupbuy.ReasonCountLeft) {
		t.Errorf("4 of 3: %v", err)
	}
}

func TestConsumeTwoThenCancel(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	r, err := c.Consume(ctx, poi, "200000000001", 2, "k")
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 2 || len(r.Refs) != 2 || r.PriceFen != 5000 {
		t.Fatalf("receipt = %+v", r)
	}
	if d, err := c.Prepare(ctx, poi, "200000000003"); err != nil || d.CountLeft != 1 {
		t.Fatalf("left: %+v %v", d, err)
	}
	if err := c.Reverse(ctx, poi, r); err != nil {
		t.Fatal(err)
	}
	if d, err := c.Prepare(ctx, poi, "200000000001"); err != nil || d.CountLeft != 3 {
		t.Fatalf("after cancel: %+v %v", d, err)
	}
	if p.Verifies("200000000001") != 1 {
		t.Fatal("verified more than once")
	}
	p.CancelWindow = 0
	r, err = c.Consume(ctx, poi, "100000000001", 1, "k2")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reverse(ctx, poi, r); !isReason(err, groupbuy.ReasonNotReversible) {
		t.Fatalf("cancel after window: %v", err)
	}
}

func TestTimeoutIsUnsettledAndConsumedTellsTheOutcome(t *testing.T) {
	p, c := setup(t)
	ctx := context.Background()
	p.Fail("verify", douyintest.TimeoutAfter)
	if _, err := c.Consume(ctx, poi, "100000000001", 1, "k"); !groupbuy.Unsettled(err) {
		t.Fatalf("err = %v, want unsettled", err)
	}
	r, ok, err := c.Consumed(ctx, poi, "100000000001")
	if err != nil || !ok || r.Count != 1 || r.PriceFen != 16800 || len(r.Refs) != 1 {
		t.Fatalf("consumed = %+v %v %v", r, ok, err)
	}
	p.Fail("verify", douyintest.TimeoutBefore)
	if _, err := c.Consume(ctx, poi, "200000000001", 1, "k2"); !groupbuy.Unsettled(err) {
		t.Fatalf("err = %v, want unsettled", err)
	}
	if _, ok, err := c.Consumed(ctx, poi, "200000000001"); err != nil || ok {
		t.Fatalf("consumed = %v %v, want not", ok, err)
	}
	if p.Verifies("100000000001") != 1 || p.Verifies("200000000001") != 0 {
		t.Fatal("double or phantom verification")
	}
}

func TestSettlementListsTheDay(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	if _, err := c.Consume(ctx, poi, "200000000001", 3, "k"); err != nil {
		t.Fatal(err)
	}
	lines, err := c.Settlement(ctx, poi, time.Now())
	if err != nil || len(lines) != 3 {
		t.Fatalf("lines = %+v %v", lines, err)
	}
}
