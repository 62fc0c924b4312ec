package groupbuy_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/groupbuy/cloudstore"
	"github.com/memberpass/memberpass/cloud/groupbuy/douyin"
	"github.com/memberpass/memberpass/cloud/groupbuy/douyin/douyintest"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan/meituantest"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

var ctx = context.Background()

var storages = sqltest.Engines

type fixture struct {
	db  cloud.Storage
	svc *groupbuy.Service
	mt  *meituantest.Platform
	dy  *douyintest.Platform
	mtc *meituan.Client
}

const (
	brand   = "tea"
	store   = "jingan"
	mtShop  = "mt-shop-jingan"
	dyPoi   = "dy-poi-jingan"
	mtCode  = "1000000001"
	mtMulti = "2000000001"
	dyCode  = "100000000001"
)

func forEach(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for name, open := range storages {
		t.Run(name, func(t *testing.T) { fn(t, newFixture(t, open(t))) })
	}
}

func newFixture(t *testing.T, db cloud.Storage) *fixture {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	ls := loyalty.New(db, log)
	if _, err := ls.CreateBrand(ctx, brand, "茶", "CNY"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{store, "xuhui"} {
		if _, _, err := ls.CreateStore(ctx, brand, s, s); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{db: db, mt: meituantest.New(t, mtShop, "mt-shop-xuhui"), dy: douyintest.New(t, dyPoi)}
	f.mt.Sell(mtShop, 501, "双人下午茶", "98.00", mtCode)
	f.mt.Sell(mtShop, 502, "四人套餐", "299.50", mtMulti, "2000000002", "2000000003")
	f.dy.Sell(dyPoi, "sku-1", "招牌双人餐", 16800, dyCode)
	hc := &http.Client{Timeout: 300 * time.Millisecond}
	var err error
	f.mtc, err = meituan.New(meituan.Config{BaseURL: f.mt.URL, AppKey: f.mt.AppKey, AppSecret: f.mt.Secret, Session: f.mt.Session}, hc)
	if err != nil {
		t.Fatal(err)
	}
	dyc, err := douyin.New(douyin.Config{BaseURL: f.dy.URL, ClientKey: f.dy.ClientKey, ClientSecret: f.dy.ClientSecret, AccountID: f.dy.AccountID}, hc)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = groupbuy.New(cloudstore.New(db), groupbuy.Registry{brand: {cloud.PlatformMeituan: f.mtc, cloud.PlatformDouyin: dyc}}, log)
	ok(f.svc.Bind(ctx, brand, store, cloud.PlatformMeituan, mtShop))(t)
	ok(f.svc.Bind(ctx, brand, store, cloud.PlatformDouyin, dyPoi))(t)
	return f
}

// ok fails the test on err, else yields v: ok(f())(t).
func ok[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func reason(err error) groupbuy.Reason {
	if r, ok := groupbuy.AsRefusal(err); ok {
		return r.Reason
	}
	return ""
}

func req(platform, code string, count int, key string) groupbuy.ConsumeRequest {
	return groupbuy.ConsumeRequest{BrandID: brand, StoreID: store, DeviceID: "jingan-d1", StaffID: "s01", Platform: platform, Code: code, Count: count, Key: key}
}

func TestBindingRefusesUnknownStoreAndPlatform(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		if _, err := f.svc.Bind(ctx, brand, "nowhere", cloud.PlatformMeituan, "x"); !cloud.IsNotFound(err) {
			t.Errorf("unknown store: %v", err)
		}
		if _, err := f.svc.Bind(ctx, brand, store, "ele.me", "x"); cloud.ErrorCode(err) != cloud.Invalid {
			t.Errorf("unknown platform: %v", err)
		}
		if _, err := f.svc.Bind(ctx, brand, store, cloud.PlatformDouyin, strings.Repeat("x", 200)); cloud.ErrorCode(err) != cloud.Invalid {
			t.Errorf("long shop id: %v", err)
		}
	})
}

func TestPrepareFindsThePlatformAndRoutesByBinding(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		d := ok(f.svc.Prepare(ctx, brand, store, "", dyCode))(t)
		if d.Platform != cloud.PlatformDouyin || d.PriceFen != 16800 || d.CountLeft != 1 {
			t.Fatalf("deal = %+v", d)
		}
		d = ok(f.svc.Prepare(ctx, brand, store, cloud.PlatformMeituan, mtMulti))(t)
		if d.Title != "四人套餐" || d.PriceFen != 29950 || d.CountLeft != 3 {
			t.Fatalf("deal = %+v", d)
		}
		if _, err := f.svc.Prepare(ctx, brand, "xuhui", cloud.PlatformMeituan, mtCode); reason(err) != groupbuy.ReasonNotBound {
			t.Errorf("unbound store: %v", err)
		}
		if _, err := f.svc.Prepare(ctx, "other", store, "", mtCode); reason(err) != groupbuy.ReasonNoPlatform {
			t.Errorf("brand without credentials: %v", err)
		}
		if _, err := f.svc.Prepare(ctx, brand, store, "", "12 34"); reason(err) != groupbuy.ReasonNotFound {
			t.Errorf("malformed code: %v", err)
		}
		// Bound to another shop: that shop's platform says the code is
		// not for it.
		ok(f.svc.Bind(ctx, brand, "xuhui", cloud.PlatformMeituan, "mt-shop-xuhui"))(t)
		if _, err := f.svc.Prepare(ctx, brand, "xuhui", cloud.PlatformMeituan, mtCode); reason(err) != groupbuy.ReasonWrongShop {
			t.Errorf("another store's voucher: %v", err)
		}
	})
}

func TestDoubleConfirmConsumesOnce(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		a := ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtMulti, 2, "txn-1")))(t)
		b := ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtMulti, 2, "txn-1")))(t)
		if a.State != cloud.ConsumeDone || b.State != cloud.ConsumeDone || a.Count != 2 || a.AmountFen() != 59900 {
			t.Fatalf("a = %+v\nb = %+v", a, b)
		}
		if got := f.mt.Consumes(mtMulti) + f.mt.Consumes("2000000002") + f.mt.Consumes("2000000003"); got != 2 {
			t.Fatalf("platform consumed %d uses, want 2", got)
		}
		if f.mt.Calls("consume") != 1 {
			t.Fatalf("consume sent %d times", f.mt.Calls("consume"))
		}
		// The same key for another count is a mistake, not a new use.
		if _, err := f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtMulti, 1, "txn-1")); cloud.ErrorCode(err) != cloud.Conflict {
			t.Fatalf("same key, other count: %v", err)
		}
	})
}

func TestConcurrentConfirmsOfOneKeyConsumeOnce(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		var wg sync.WaitGroup
		recs := make([]cloud.VoucherConsumption, 6)
		errs := make([]error, 6)
		for i := range recs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs[i], errs[i] = f.svc.Consume(ctx, req(cloud.PlatformDouyin, dyCode, 1, "same-txn"))
			}()
		}
		wg.Wait()
		for i := range recs {
			if errs[i] != nil || recs[i].State != cloud.ConsumeDone {
				t.Fatalf("confirm %d: %+v %v", i, recs[i], errs[i])
			}
		}
		if f.dy.Verifies(dyCode) != 1 {
			t.Fatalf("verified %d times", f.dy.Verifies(dyCode))
		}
	})
}

func TestRefusalIsKeptForItsKey(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "first")))(t)
		_, err := f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "second"))
		if reason(err) != groupbuy.ReasonUsed {
			t.Fatalf("second use: %v", err)
		}
		calls := f.mt.Calls("consume")
		rec, err := f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "second"))
		if reason(err) != groupbuy.ReasonUsed || rec.State != cloud.ConsumeRefused || f.mt.Calls("consume") != calls {
			t.Fatalf("asked again: %+v %v (calls %d -> %d)", rec, err, calls, f.mt.Calls("consume"))
		}
	})
}

func TestTimeoutIsSettledByAskingNeverByConsumingTwice(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		// Meituan consumed, the answer was lost: asking settles it.
		f.mt.Fail("consume", meituantest.TimeoutAfter)
		rec := ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "t1")))(t)
		if rec.State != cloud.ConsumeDone || f.mt.Consumes(mtCode) != 1 || f.mt.Calls("consume") != 1 || f.mt.Calls("getconsumed") != 1 {
			t.Fatalf("lost answer: %+v consumes=%d consume calls=%d", rec, f.mt.Consumes(mtCode), f.mt.Calls("consume"))
		}
		// Douyin never got the verify: asking says no, one more verify.
		f.dy.Fail("verify", douyintest.TimeoutBefore)
		rec = ok(f.svc.Consume(ctx, req(cloud.PlatformDouyin, dyCode, 1, "t2")))(t)
		if rec.State != cloud.ConsumeDone || f.dy.Verifies(dyCode) != 1 {
			t.Fatalf("cut request: %+v verifies=%d", rec, f.dy.Verifies(dyCode))
		}
		// Meituan lost twice and then could not be asked: pending; the
		// cashier's retry asks first and finds it consumed.
		f.mt.Fail("consume", meituantest.TimeoutAfter)
		f.mt.Fail("getconsumed", meituantest.TimeoutBefore)
		_, err := f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtMulti, 1, "t3"))
		if reason(err) != groupbuy.ReasonUnavailable {
			t.Fatalf("unreachable: %v", err)
		}
		uses := ok(cloudstore.New(f.db).Consumptions(ctx, brand, cloud.PlatformMeituan, mtMulti))(t)
		if len(uses) != 1 || uses[0].State != cloud.ConsumePending {
			t.Fatalf("uses = %+v", uses)
		}
		rec = ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtMulti, 1, "t3")))(t)
		if rec.State != cloud.ConsumeDone || f.mt.Consumes(mtMulti) != 1 || f.mt.Calls("consume") != 2 {
			t.Fatalf("retry: %+v consumes=%d calls=%d", rec, f.mt.Consumes(mtMulti), f.mt.Calls("consume"))
		}
	})
}

func TestRateLimitedLeavesItPendingAndRetryConsumes(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		f.mt.Fail("consume", meituantest.RateLimit)
		if _, err := f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "r")); reason(err) != groupbuy.ReasonRateLimited {
			t.Fatalf("err = %v", err)
		}
		rec := ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "r")))(t)
		if rec.State != cloud.ConsumeDone || f.mt.Consumes(mtCode) != 1 {
			t.Fatalf("rec = %+v", rec)
		}
	})
}

func TestReverse(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		ok(f.svc.Consume(ctx, req(cloud.PlatformDouyin, dyCode, 1, "k")))(t)
		rec := ok(f.svc.Reverse(ctx, brand, cloud.PlatformDouyin, dyCode, "k"))(t)
		if rec.State != cloud.ConsumeReversed {
			t.Fatalf("rec = %+v", rec)
		}
		if d := ok(f.svc.Prepare(ctx, brand, store, cloud.PlatformDouyin, dyCode))(t); d.CountLeft != 1 {
			t.Fatalf("after reverse: %+v", d)
		}
		if _, err := f.svc.Reverse(ctx, brand, cloud.PlatformDouyin, dyCode, "k"); cloud.ErrorCode(err) != cloud.Conflict {
			t.Fatalf("twice: %v", err)
		}
	})
}

func claim(event, platform, code, deal string, count int, priceFen int64) cloud.VoucherClaim {
	return cloud.VoucherClaim{BrandID: brand, EventID: event, StoreID: store, DeviceID: "jingan-d1", StaffID: "s01",
		Platform: platform, Code: code, DealID: deal, Count: count, PriceFen: priceFen, OccurredAt: time.Now()}
}

func TestProvisionalClaimsAreConsumedOrBecomeConflicts(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		st := cloudstore.New(f.db)
		// Another till used the Meituan code meanwhile.
		ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtCode, 1, "online")))(t)
		for _, c := range []cloud.VoucherClaim{
			claim("ev-ok", cloud.PlatformDouyin, dyCode, "sku-1", 1, 16800),
			claim("ev-used", cloud.PlatformMeituan, mtCode, "501", 1, 9800),
			claim("ev-busy", cloud.PlatformMeituan, mtMulti, "502", 2, 29950),
		} {
			if err := st.PutClaim(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		f.mt.Fail("consume", meituantest.RateLimit) // ev-busy is behind ev-used? order by key: ev-busy first
		n := ok(f.svc.ProcessClaims(ctx, 100))(t)
		if n != 2 {
			t.Fatalf("settled %d, want 2", n)
		}
		left := ok(st.Claims(ctx, 100))(t)
		if len(left) != 1 || left[0].EventID != "ev-busy" || left[0].Attempts != 1 {
			t.Fatalf("left = %+v", left)
		}
		var conflicts []cloud.ConflictRecord
		_ = f.db.View(ctx, func(tx cloud.Tx) (err error) { conflicts, err = tx.Conflicts(brand, 0, 100); return })
		if len(conflicts) != 1 || conflicts[0].Kind != "voucher_refused" || conflicts[0].AmountFen != 9800 || conflicts[0].EventID != "ev-used" {
			t.Fatalf("conflicts = %+v", conflicts)
		}
		if f.dy.Verifies(dyCode) != 1 {
			t.Fatal("provisional douyin voucher not consumed")
		}
		// The platform is back: the last claim is consumed, once.
		n = ok(f.svc.ProcessClaims(ctx, 100))(t)
		n2 := ok(f.svc.ProcessClaims(ctx, 100))(t)
		if n != 1 || n2 != 0 || f.mt.Consumes(mtMulti)+f.mt.Consumes("2000000002") != 2 {
			t.Fatalf("second run settled %d then %d", n, n2)
		}
	})
}

func TestProvisionalClaimOfAnotherDealIsAConflict(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		st := cloudstore.New(f.db)
		if err := st.PutClaim(ctx, claim("ev-x", cloud.PlatformMeituan, mtMulti, "999", 1, 1000)); err != nil {
			t.Fatal(err)
		}
		ok(f.svc.ProcessClaims(ctx, 10))(t)
		var conflicts []cloud.ConflictRecord
		_ = f.db.View(ctx, func(tx cloud.Tx) (err error) { conflicts, err = tx.Conflicts(brand, 0, 100); return })
		if len(conflicts) != 1 || conflicts[0].Kind != "voucher_deal_mismatch" {
			t.Fatalf("conflicts = %+v", conflicts)
		}
	})
}

func TestReconcileNamesEveryMismatch(t *testing.T) {
	forEach(t, func(t *testing.T, f *fixture) {
		ok(f.svc.Consume(ctx, req(cloud.PlatformMeituan, mtMulti, 2, "a")))(t)
		// Consumed in the platform's own app, not through us.
		if _, err := f.mtc.Consume(ctx, mtShop, mtCode, 1, "by-hand"); err != nil {
			t.Fatal(err)
		}
		rep := ok(f.svc.Reconcile(ctx, brand, cloud.PlatformMeituan, store, time.Now(), nil))(t)
		if rep.HereUses != 2 || rep.PlatformUses != 3 || rep.Matched != 2 || len(rep.Mismatches) != 1 ||
			rep.Mismatches[0].Kind != groupbuy.MissingHere || rep.Mismatches[0].Code != mtCode || rep.Mismatches[0].PlatformFen != 9800 {
			t.Fatalf("report = %+v", rep)
		}
		// An imported statement that lacks one use and prices another
		// differently.
		day := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
		stmt := "ref,code,deal_id,title,price,count,consumed_at\n" +
			mtMulti + "," + mtMulti + ",502,四人套餐,289.50,1," + day + "\n"
		lines, err := groupbuy.ParseStatement(strings.NewReader(stmt), cloud.PlatformMeituan, mtShop)
		if err != nil {
			t.Fatal(err)
		}
		rep = ok(f.svc.Reconcile(ctx, brand, cloud.PlatformMeituan, store, time.Now(), lines))(t)
		kinds := map[string]int{}
		for _, m := range rep.Mismatches {
			kinds[m.Kind]++
		}
		if rep.Source != "statement" || kinds[groupbuy.AmountDiffers] != 1 || kinds[groupbuy.MissingAtPlatform] != 1 || len(rep.Mismatches) != 2 {
			t.Fatalf("report = %+v", rep)
		}
	})
}

func TestParseStatementNamesTheLine(t *testing.T) {
	for _, bad := range []string{
		"code,price\n1000000001,98\n",
		"ref,code,price,consumed_at\nr,1000000001,abc,2026-01-02 10:00:00\n",
		"ref,code,price,consumed_at\nr,1000000001,98,yesterday\n",
		"ref,code,price,consumed_at\nr,12,98,2026-01-02 10:00:00\n",
	} {
		if _, err := groupbuy.ParseStatement(strings.NewReader(bad), cloud.PlatformMeituan, mtShop); cloud.ErrorCode(err) != cloud.Invalid {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	_, err := groupbuy.ParseStatement(strings.NewReader("ref,code,price,consumed_at\nr,1000000001,abc,2026-01-02 10:00:00\n"), cloud.PlatformMeituan, mtShop)
	if err == nil || !strings.Contains(err.Error(), "line 2 price") {
		t.Fatalf("err = %v", err)
	}
}
