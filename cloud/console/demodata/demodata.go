// Package demodata fills a brand with a month of plausible life for the
// HQ console: stores with paired devices, members who joined over the
// last three months, their visits, purchases and top-ups pushed through
// the real sync path (so the books are what a real month would make),
// one offline conflict, and an account per HQ role. make demo, the
// console's browser tests and its page benchmarks use it.
package demodata

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/console"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// Password is every demo account's password.
const Password = "memberpass-demo"

// Options size the data.
type Options struct {
	Brand   string
	Members int
	// Days of history up to Now.
	Days int
	Now  time.Time
}

// Demo says what was made.
type Demo struct {
	Brand  string
	Stores []cloud.Store
	// Accounts by role: login names, all with Password.
	Accounts map[hq.Role]string
	// ManagerStore is the store the store manager looks after.
	ManagerStore string
	// HomeMember is a member of ManagerStore; OtherMember one seen only at
	// another store.
	HomeMember, OtherMember cloud.Member
	Members                 int
	Events                  int
}

var stores = []struct{ id, name string }{
	{"sh-jingan", "上海静安店"}, {"sh-xuhui", "上海徐汇店"}, {"hz-xihu", "杭州西湖店"},
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
var given = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "桂英", "晓东", "雨萱", "子涵", "浩然", "欣怡"}

// Seed makes the demo brand through svc (whose clock it moves through the
// days while it works, and puts back) and adds the accounts to store.
func Seed(ctx context.Context, svc *loyalty.Service, store hq.Store, o Options) (Demo, error) {
	if o.Brand == "" {
		o.Brand = "cha"
	}
	if o.Members <= 0 {
		o.Members = 240
	}
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	realNow := svc.Now
	defer func() { svc.Now = realNow }()
	at := func(t time.Time) { svc.Now = func() time.Time { return t } }
	rng := rand.New(rand.NewPCG(20261129, uint64(o.Members)))
	d := Demo{Brand: o.Brand, Accounts: map[hq.Role]string{}, ManagerStore: stores[0].id}

	start := o.Now.AddDate(0, 0, -90)
	at(start)
	if _, err := svc.CreateBrand(ctx, o.Brand, "茶里 Chali Tea", "CNY"); err != nil {
		return d, fmt.Errorf("demo brand: %w", err)
	}
	if _, err := svc.CreateCouponTemplate(ctx, cloud.CouponTemplate{BrandID: o.Brand, ID: "birthday-cake", Name: "生日蛋糕券 ¥30", Kind: cloud.AmountOff,
		AmountOffFen: 3000, MinSpendFen: 6000, ValidDays: 30}); err != nil {
		return d, fmt.Errorf("demo coupon template: %w", err)
	}
	devices := map[string]cloud.Device{}
	for _, s := range stores {
		st, p, err := svc.CreateStore(ctx, o.Brand, s.id, s.name)
		if err != nil {
			return d, fmt.Errorf("demo store %s: %w", s.id, err)
		}
		paired, err := svc.Pair(ctx, p.Code, "POS "+s.id)
		if err != nil {
			return d, fmt.Errorf("pair demo store %s: %w", s.id, err)
		}
		d.Stores = append(d.Stores, st)
		devices[s.id] = paired.Device
	}

	// Members: a fifth joined before the window, the rest across it.
	type person struct {
		m    cloud.Member
		home string
	}
	var people []person
	for i := range o.Members {
		home := stores[i%len(stores)].id
		joined := start.Add(time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
		if i%5 == 0 {
			joined = start.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		}
		at(joined)
		name := string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))]
		bd := fmt.Sprintf("%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28))
		if i == 1 {
			bd = o.Now.Format("01-02") // someone has a birthday today
		}
		m, err := svc.CreateMember(ctx, o.Brand, loyalty.NewMember{
			Phone: fmt.Sprintf("138%08d", 10000000+i), Name: name, Birthday: bd, Consent: i%4 != 0,
			Cards:  []string{fmt.Sprintf("8800%06d", i+1)},
			Source: cloud.MemberSource{Channel: "counter", StoreID: home},
		})
		if err != nil {
			return d, fmt.Errorf("demo member %d: %w", i, err)
		}
		people = append(people, person{m, home})
	}
	d.Members = len(people)
	d.HomeMember, d.OtherMember = people[0].m, people[1].m

	// Events, day by day, pushed as each store's device would.
	seq := map[string]uint64{}
	var batch map[string][]cloud.Event
	newID := func() string {
		return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	}
	add := func(p person, t time.Time, kind cloud.EventKind, fill func(*cloud.Event)) {
		dev := devices[p.home]
		seq[dev.ID]++
		ev := cloud.Event{ID: newID(), DeviceID: dev.ID, Seq: seq[dev.ID], OccurredAt: t, StoreID: p.home, MemberID: p.m.ID, StaffID: "s1", Kind: kind}
		fill(&ev)
		batch[dev.ID] = append(batch[dev.ID], ev)
	}
	today := o.Now.Truncate(24 * time.Hour)
	for day := o.Days - 1; day >= 0; day-- {
		batch = map[string][]cloud.Event{}
		dayStart := today.AddDate(0, 0, -day).Add(2 * time.Hour) // 10:00 in Shanghai
		last := dayStart
		weekend := dayStart.Weekday() == time.Saturday || dayStart.Weekday() == time.Sunday
		for _, p := range people {
			t := dayStart.Add(time.Duration(rng.Int64N(int64(11 * time.Hour))))
			if p.m.CreatedAt.After(t) || t.After(o.Now) {
				continue
			}
			chance := 10
			if weekend {
				chance = 16
			}
			if rng.IntN(100) >= chance {
				continue
			}
			add(p, t, cloud.EventVisit, func(e *cloud.Event) { e.Visit = &cloud.Visit{IdentifiedBy: cloud.ByCard, IdentifierHint: "card"} })
			bill := int64(1800 + rng.IntN(9000))
			add(p, t.Add(2*time.Minute), cloud.EventPurchase, func(e *cloud.Event) {
				e.Purchase = &cloud.Purchase{BillFen: bill, PaidOtherFen: bill}
			})
			if rng.IntN(100) < 4 {
				amount := []int64{20000, 50000, 100000}[rng.IntN(3)]
				add(p, t.Add(3*time.Minute), cloud.EventTopUp, func(e *cloud.Event) { e.TopUp = &cloud.TopUp{AmountFen: amount} })
			}
			if end := t.Add(3 * time.Minute); end.After(last) {
				last = end
			}
		}
		if day == 2 {
			// A counter offline spent stored value the member no longer had.
			p := people[2]
			t := dayStart.Add(time.Hour)
			add(p, t, cloud.EventPurchase, func(e *cloud.Event) {
				e.Purchase = &cloud.Purchase{BillFen: 9900, StoredValueFen: 9900}
			})
		}
		at(last.Add(time.Minute))
		for devID, evs := range batch {
			dev := devices[evs[0].StoreID]
			if dev.ID != devID {
				return d, fmt.Errorf("demo: events of device %s filed under %s", dev.ID, devID)
			}
			for len(evs) > 0 {
				n := min(len(evs), loyalty.MaxPushBatch)
				if _, _, err := svc.PushEvents(ctx, dev, evs[:n]); err != nil {
					return d, fmt.Errorf("push demo events of %s: %w", devID, err)
				}
				d.Events += n
				evs = evs[n:]
			}
		}
	}

	svc.Now = realNow
	accounts := []hq.Account{
		{Login: "wang", Name: "王总", Role: hq.RoleOwner},
		{Login: "li", Name: "李市场", Role: hq.RoleMarketing},
		{Login: "zhao", Name: "赵财务", Role: hq.RoleFinance},
		{Login: "chen", Name: "陈店长", Role: hq.RoleStoreManager, StoreIDs: []string{d.ManagerStore}},
		{Login: "sun", Name: "孙审计", Role: hq.RoleAuditor},
	}
	for _, a := range accounts {
		a.BrandID = o.Brand
		if err := console.CreateAccount(ctx, store, a, Password, realNow()); err != nil {
			return d, fmt.Errorf("demo account %s: %w", a.Login, err)
		}
		d.Accounts[a.Role] = a.Login
	}
	return d, nil
}
