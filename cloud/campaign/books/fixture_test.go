package books_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/campaign/books"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

var ctx = context.Background()

func forEach(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { fn(t, newFixture(t, sqltest.Engines[name](t))) })
	}
}

// messenger records what the engine queues, as the messaging service
// would, deduplicating by its key.
type messenger struct {
	mu   sync.Mutex
	keys map[string]int
	all  []campaign.MessageRequest
}

func (m *messenger) Enqueue(_ context.Context, r campaign.MessageRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := r.CampaignID + "|" + r.MemberID + "|" + r.Occurrence + "|" + r.Channel
	m.keys[k]++
	if m.keys[k] == 1 {
		m.all = append(m.all, r)
	}
	return nil
}

// fixture: a brand in Shanghai with a store, a paired device, a coupon
// template, the loyalty service and the campaign engine on one storage.
type fixture struct {
	t     testing.TB
	db    cloud.Storage
	svc   *loyalty.Service
	eng   *campaign.Engine
	msg   *messenger
	now   time.Time
	brand string
	dev   cloud.Device
	seq   uint64
	mu    sync.Mutex
}

func newFixture(t testing.TB, db cloud.Storage) *fixture {
	f := &fixture{t: t, db: db, brand: "tea", now: time.Date(2026, 9, 20, 2, 0, 0, 0, time.UTC), msg: &messenger{keys: map[string]int{}}}
	f.svc = loyalty.New(db, slog.New(slog.DiscardHandler))
	f.svc.Now = f.clock
	f.eng = campaign.NewEngine(books.New(db), nil)
	f.eng.Now = f.clock
	f.eng.Messenger = f.msg
	f.eng.PageSize = 7 // several pages even for small brands
	f.svc.OnApplied, f.svc.WantsEvents = books.EventHook(f.eng), f.eng.WantsEvents
	must(f.svc.CreateBrand(ctx, f.brand, "茶", "CNY"))(t)
	_, p, err := f.svc.CreateStore(ctx, f.brand, "shop-a", "A")
	if err != nil {
		t.Fatal(err)
	}
	f.dev = must(f.svc.Pair(ctx, p.Code, "till"))(t).Device
	must(f.svc.CreateCouponTemplate(ctx, cloud.CouponTemplate{BrandID: f.brand, ID: "treat", Name: "生日礼", Kind: cloud.AmountOff, AmountOffFen: 2000, ValidDays: 30}))(t)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var phoneN int

func (f *fixture) member(nm loyalty.NewMember) cloud.Member {
	f.t.Helper()
	phoneN++
	if nm.Phone == "" {
		nm.Phone = fmt.Sprintf("139%08d", phoneN)
	}
	return must(f.svc.CreateMember(ctx, f.brand, nm))(f.t)
}

func (f *fixture) get(id string) cloud.Member {
	f.t.Helper()
	return must(f.svc.GetMember(ctx, f.brand, id, ""))(f.t)
}

func (f *fixture) push(ev cloud.Event) cloud.EventResult {
	f.t.Helper()
	f.seq++
	ev.ID = fmt.Sprintf("ev-%d", f.seq)
	ev.Seq = f.seq
	ev.StoreID = f.dev.StoreID
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = f.clock()
	}
	_, res, err := f.svc.PushEvents(ctx, f.dev, []cloud.Event{ev})
	if err != nil {
		f.t.Fatal(err)
	}
	if res[0].Outcome != cloud.Applied {
		f.t.Fatalf("event %s %s: %s", ev.ID, res[0].Outcome, res[0].Reason)
	}
	return res[0]
}

func visit(member string) cloud.Event {
	return cloud.Event{Kind: cloud.EventVisit, MemberID: member, Visit: &cloud.Visit{IdentifiedBy: cloud.ByCard}}
}

func purchase(member string, fen int64) cloud.Event {
	return cloud.Event{Kind: cloud.EventPurchase, MemberID: member, Purchase: &cloud.Purchase{BillFen: fen, PaidOtherFen: fen}}
}

// start creates and starts a campaign.
func (f *fixture) start(c campaign.Campaign) campaign.Campaign {
	f.t.Helper()
	c.BrandID = f.brand
	if c.Name == "" {
		c.Name = c.ID
	}
	must(f.eng.Create(ctx, c))(f.t)
	return must(f.eng.Start(ctx, f.brand, c.ID))(f.t)
}

// grants lists a campaign's grants.
func (f *fixture) grants(id string) []campaign.Grant {
	f.t.Helper()
	var out []campaign.Grant
	err := f.eng.Store.View(ctx, f.brand, func(r campaign.Reader) error {
		var err error
		out, err = r.Grants(id, "", "", 0)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// coupons lists a member's coupons of the test template.
func (f *fixture) coupons(memberID string) []cloud.Coupon {
	f.t.Helper()
	var out []cloud.Coupon
	for _, c := range must(f.svc.History(ctx, f.brand, memberID))(f.t).Coupons {
		out = append(out, c.Coupon)
	}
	return out
}

var coupon = []campaign.Action{{Kind: campaign.ActionCoupon, TemplateID: "treat"}}
