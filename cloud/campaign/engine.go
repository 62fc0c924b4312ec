package campaign

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// DefaultTimeZone is a brand's time zone until it names its own.
const DefaultTimeZone = cloud.DefaultTimeZone

// Engine runs the brands' campaigns on a Store.
type Engine struct {
	Store     Store
	Messenger Messenger // nil: messages wait as pending
	Log       *slog.Logger
	// Now is the engine's clock; tests replace it.
	Now func() time.Time
	// Location is a brand's time zone (default Asia/Shanghai).
	Location func(b cloud.Brand) *time.Location
	// PageSize is how many members one transaction of a run evaluates.
	PageSize int
	// Lease is how long a run is held by one process without progress
	// before another may take it over.
	Lease time.Duration
	// Owner names this process in run leases.
	Owner string
	// AfterPage, if set, runs after each committed page of a run (tests
	// use it as a crash point).
	AfterPage func(Run) error

	events eventCache
}

// NewEngine makes an engine with defaults.
func NewEngine(st Store, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	raw := make([]byte, 6)
	rand.Read(raw)
	return &Engine{
		Store: st, Log: log, Now: func() time.Time { return time.Now().UTC() },
		Location: BrandLocation, PageSize: 500, Lease: 2 * time.Minute, Owner: "engine-" + hex.EncodeToString(raw),
	}
}

// BrandLocation is the brand's time zone (cloud.Brand.TimeZone), in which
// its calendar triggers run; a zone that cannot be loaded falls back to
// China's UTC+8, which has kept no DST since 1991.
func BrandLocation(b cloud.Brand) *time.Location {
	loc, err := b.Location()
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Create stores a new campaign as a draft.
func (e *Engine) Create(ctx context.Context, c Campaign) (Campaign, error) {
	if err := c.Validate(); err != nil {
		return Campaign{}, err
	}
	now := e.Now()
	c.Status, c.CreatedAt, c.UpdatedAt, c.Spent = Draft, now, now, Spent{}
	if c.StartAt.IsZero() {
		c.StartAt = now
	}
	err := e.Store.Update(ctx, c.BrandID, func(l Ledger) error {
		if _, err := l.Brand(); err != nil {
			return err
		}
		if _, err := l.Campaign(c.ID); err == nil {
			return textErr(cloud.Conflict, TextExists, c.ID)
		} else if !cloud.IsNotFound(err) {
			return err
		}
		for _, a := range append(slices.Clone(c.Actions), c.KnownActions...) {
			switch a.Kind {
			case ActionCoupon:
				if _, err := l.CouponTemplate(a.TemplateID); err != nil {
					return cloud.Errorf(cloud.Invalid, "coupon template %q does not exist", a.TemplateID)
				}
			case ActionLottery:
				if _, err := l.Lottery(a.LotteryID); err != nil {
					return cloud.Errorf(cloud.Invalid, "lottery %q does not exist", a.LotteryID)
				}
			}
		}
		return l.PutCampaign(c)
	})
	if err != nil {
		return Campaign{}, err
	}
	e.Log.Info("campaign created", "brand", c.BrandID, "campaign", c.ID, "trigger", c.Trigger.Kind, "holdout_bp", c.HoldoutBP)
	return c, nil
}

// Get reads a campaign.
func (e *Engine) Get(ctx context.Context, brandID, id string) (Campaign, error) {
	var c Campaign
	err := e.Store.View(ctx, brandID, func(r Reader) error {
		var err error
		c, err = r.Campaign(id)
		return err
	})
	return c, err
}

// List lists a brand's campaigns.
func (e *Engine) List(ctx context.Context, brandID string) ([]Campaign, error) {
	var out []Campaign
	err := e.Store.View(ctx, brandID, func(r Reader) error {
		var err error
		out, err = r.Campaigns()
		return err
	})
	return out, err
}

// transitions says which status each command moves from and to.
var transitions = map[string]struct {
	from []Status
	to   Status
}{
	"started": {[]Status{Draft}, Running},
	"paused":  {[]Status{Running}, Paused},
	"resumed": {[]Status{Paused}, Running},
	"ended":   {[]Status{Draft, Running, Paused}, Ended},
}

// Start, Pause, Resume and End move a campaign through its life.
func (e *Engine) Start(ctx context.Context, brandID, id string) (Campaign, error) {
	return e.move(ctx, brandID, id, "started")
}

// Pause stops a running campaign acting until it is resumed.
func (e *Engine) Pause(ctx context.Context, brandID, id string) (Campaign, error) {
	return e.move(ctx, brandID, id, "paused")
}

// Resume lets a paused campaign act again.
func (e *Engine) Resume(ctx context.Context, brandID, id string) (Campaign, error) {
	return e.move(ctx, brandID, id, "resumed")
}

// End stops a campaign for good.
func (e *Engine) End(ctx context.Context, brandID, id string) (Campaign, error) {
	return e.move(ctx, brandID, id, "ended")
}

func (e *Engine) move(ctx context.Context, brandID, id, verb string) (Campaign, error) {
	tr := transitions[verb]
	var c Campaign
	err := e.Store.Update(ctx, brandID, func(l Ledger) error {
		var err error
		if c, err = l.Campaign(id); err != nil {
			return err
		}
		if !slices.Contains(tr.from, c.Status) {
			return textErr(cloud.Conflict, TextBadState, c.Status, verb)
		}
		c.Status, c.UpdatedAt = tr.to, e.Now()
		return l.PutCampaign(c)
	})
	e.forgetEvents(brandID)
	if err != nil {
		return Campaign{}, err
	}
	e.Log.Info("campaign "+verb, "brand", brandID, "campaign", id)
	return c, nil
}

// Preview is what a campaign would do, before it starts.
type Preview struct {
	// Audience is how many members it would reach (today, for a daily
	// trigger; all matching members for an event trigger or a one-off).
	Audience int64
	Holdout  int64
	Treated  int64
	// PerMember is one treated member's cost; Cost all treated members'.
	PerMember Cost
	Cost      Cost
	// WithinBudget says the cost fits the budget caps.
	WithinBudget bool
	NoProof      bool
}

// DryRunLine is who would get what.
type DryRunLine struct {
	MemberID   string
	Occurrence string
	Holdout    bool
	Actions    []Action
	Cost       Cost
}

// Preview sizes the audience and its cost without giving anything.
func (e *Engine) Preview(ctx context.Context, brandID, id string) (Preview, error) {
	var p Preview
	err := e.dry(ctx, brandID, id, func(c Campaign, line DryRunLine) bool {
		p.Audience++
		if line.Holdout {
			p.Holdout++
		} else {
			p.Treated++
			p.Cost = p.Cost.Add(line.Cost)
			p.PerMember = line.Cost
		}
		return true
	}, func(c Campaign) {
		p.NoProof = c.NoProof()
		p.WithinBudget = c.Budget.Fits(c.Spent, p.Cost)
	})
	return p, err
}

// DryRun lists who would get what (at most limit lines; 0: all).
func (e *Engine) DryRun(ctx context.Context, brandID, id string, limit int) ([]DryRunLine, error) {
	var out []DryRunLine
	err := e.dry(ctx, brandID, id, func(_ Campaign, line DryRunLine) bool {
		out = append(out, line)
		return limit == 0 || len(out) < limit
	}, nil)
	return out, err
}

// dry walks the members a campaign would reach now, in one read.
func (e *Engine) dry(ctx context.Context, brandID, id string, fn func(Campaign, DryRunLine) bool, done func(Campaign)) error {
	return e.Store.View(ctx, brandID, func(r Reader) error {
		c, err := r.Campaign(id)
		if err != nil {
			return err
		}
		b, err := r.Brand()
		if err != nil {
			return err
		}
		day, err := NewDay(e.Now(), e.Location(b))
		if err != nil {
			return err
		}
		need := needsOf([]Campaign{c})
		after := ""
		for {
			page, err := r.Members(after, e.PageSize, need)
			if err != nil {
				return err
			}
			for _, mf := range page {
				if !c.Audience.Matches(mf.Member) {
					continue
				}
				var firings []Firing
				if c.Trigger.IsDaily() {
					firings = c.TimeFirings(day, mf)
				} else {
					firings = []Firing{{CampaignID: c.ID, MemberID: mf.Member.ID, Occurrence: occurrenceHint(c)}}
				}
				for _, f := range firings {
					if _, acted, err := r.Grant(c.ID, f.MemberID, f.Occurrence); err != nil {
						return err
					} else if acted {
						continue
					}
					line := DryRunLine{MemberID: f.MemberID, Occurrence: f.Occurrence, Holdout: InHoldout(brandID, c.ID, f.MemberID, c.HoldoutBP)}
					if !line.Holdout {
						line.Actions = c.ActionsFor(f)
						if line.Cost, err = EstimateCost(r, line.Actions); err != nil {
							return err
						}
					}
					if !fn(c, line) {
						return nil
					}
				}
			}
			if len(page) < e.PageSize {
				break
			}
			after = page[len(page)-1].Member.ID
		}
		if done != nil {
			done(c)
		}
		return nil
	})
}

func occurrenceHint(c Campaign) string {
	if c.Trigger.Kind == TriggerOneOff {
		return "once"
	}
	return "(on " + string(c.Trigger.Kind) + ")"
}

func needsOf(cs []Campaign) Needs {
	var n Needs
	for _, c := range cs {
		n.Coupons = n.Coupons || c.Trigger.Kind == TriggerCouponExpiring
		n.PointsLots = n.PointsLots || c.Trigger.Kind == TriggerPointsExpiring
	}
	return n
}

// errLeaseLost stops a run whose lease another process took over.
var errLeaseLost = fmt.Errorf("run lease lost")

// RunDaily evaluates the brand's running daily campaigns for today in the
// brand's time zone, resuming where an earlier run of the day stopped.
// A run is named by the day and the set of campaigns it evaluates, so a
// campaign started later in the day gets a run of its own. Several
// processes may call it at once: one holds the run's lease; and whoever
// acts, each (campaign, member, occurrence) acts once.
func (e *Engine) RunDaily(ctx context.Context, brandID string) (Run, error) {
	var loc *time.Location
	var ids []string
	now := e.Now()
	err := e.Store.View(ctx, brandID, func(r Reader) error {
		b, err := r.Brand()
		if err != nil {
			return err
		}
		loc = e.Location(b)
		cs, err := r.Campaigns()
		for _, c := range cs {
			if c.Trigger.IsDaily() && c.ActiveAt(now) {
				ids = append(ids, c.ID)
			}
		}
		return err
	})
	if err != nil || len(ids) == 0 {
		return Run{}, err
	}
	day, err := NewDay(now, loc)
	if err != nil {
		return Run{}, err
	}
	return e.run(ctx, brandID, "daily-"+day.Date.String()+"-"+setHash(ids), func(c Campaign) bool {
		return slices.Contains(ids, c.ID) && c.ActiveAt(now)
	}, func(c Campaign, mf MemberFacts) []Firing { return c.TimeFirings(day, mf) })
}

func setHash(ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// RunOneOff sends a one-off campaign to its audience, once. A campaign
// not running (or whose time has not come) is left alone.
func (e *Engine) RunOneOff(ctx context.Context, brandID, id string) (Run, error) {
	now := e.Now()
	active := func(c Campaign) bool {
		return c.ID == id && c.Trigger.Kind == TriggerOneOff && c.ActiveAt(now) && !now.Before(c.Trigger.At)
	}
	c, err := e.Get(ctx, brandID, id)
	if err != nil || !active(c) {
		return Run{}, err
	}
	return e.run(ctx, brandID, "oneoff-"+id, active, func(c Campaign, mf MemberFacts) []Firing {
		return []Firing{{CampaignID: c.ID, MemberID: mf.Member.ID, Occurrence: "once"}}
	})
}

// run pages through a brand's members, each page one transaction that
// acts and moves the run's cursor.
func (e *Engine) run(ctx context.Context, brandID, runID string, pick func(Campaign) bool, firings func(Campaign, MemberFacts) []Firing) (Run, error) {
	var run Run
	claimed := false
	err := e.Store.Update(ctx, brandID, func(l Ledger) error {
		now := e.Now()
		r, ok, err := l.Run(runID)
		if err != nil {
			return err
		}
		if !ok {
			r = Run{BrandID: brandID, ID: runID, StartedAt: now}
		}
		run, claimed = r, false
		if r.Done || (r.LeaseOwner != "" && r.LeaseOwner != e.Owner && now.Before(r.LeaseUntil)) {
			return nil
		}
		r.LeaseOwner, r.LeaseUntil = e.Owner, now.Add(e.Lease)
		run, claimed = r, true
		return l.PutRun(r)
	})
	if err != nil || !claimed {
		return run, err
	}
	for !run.Done {
		if err := ctx.Err(); err != nil {
			return run, err
		}
		err := e.Store.Update(ctx, brandID, func(l Ledger) error {
			now := e.Now()
			r, _, err := l.Run(runID)
			if err != nil {
				return err
			}
			if r.LeaseOwner != e.Owner || r.Done {
				return errLeaseLost
			}
			all, err := l.Campaigns()
			if err != nil {
				return err
			}
			var cs []*Campaign
			for i := range all {
				if pick(all[i]) {
					cs = append(cs, &all[i])
				}
			}
			changed := map[string]*Campaign{}
			page, err := l.Members(r.Cursor, e.PageSize, needsOf(all))
			if err != nil {
				return err
			}
			for _, mf := range page {
				for _, c := range cs {
					if !c.Audience.Matches(mf.Member) {
						continue
					}
					for _, f := range firings(*c, mf) {
						if _, acted, err := act(l, c, f, now); err != nil {
							return err
						} else if acted {
							r.Firings++
							changed[c.ID] = c
						}
					}
				}
			}
			for _, c := range changed {
				if err := l.PutCampaign(*c); err != nil {
					return err
				}
			}
			r.Members += int64(len(page))
			if len(page) > 0 {
				r.Cursor = page[len(page)-1].Member.ID
			}
			if len(page) < e.PageSize {
				r.Done, r.FinishedAt, r.LeaseOwner = true, now, ""
			} else {
				r.LeaseUntil = now.Add(e.Lease)
			}
			run = r
			return l.PutRun(r)
		})
		if err == errLeaseLost {
			e.Log.Warn("campaign run taken over by another process", "brand", brandID, "run", runID)
			return run, nil
		}
		if err != nil {
			return run, fmt.Errorf("campaign run %s of %s: %w", runID, brandID, err)
		}
		if e.AfterPage != nil {
			if err := e.AfterPage(run); err != nil {
				return run, err
			}
		}
	}
	e.Log.Info("campaign run finished", "brand", brandID, "run", runID, "members", run.Members, "firings", run.Firings)
	if err := e.SendPending(ctx, brandID); err != nil {
		return run, err
	}
	return run, nil
}

// SendPending hands the messages of committed grants to the messaging
// service and marks them queued. A crash between the two sends them again,
// which the service's idempotency key makes harmless.
func (e *Engine) SendPending(ctx context.Context, brandID string) error {
	if e.Messenger == nil {
		return nil
	}
	for {
		var pending []Grant
		if err := e.Store.View(ctx, brandID, func(r Reader) error {
			var err error
			pending, err = r.PendingMessages(200)
			return err
		}); err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		for _, g := range pending {
			for _, m := range g.Messages {
				if err := e.Messenger.Enqueue(ctx, m); err != nil {
					return fmt.Errorf("queue message of campaign %s to %s: %w", g.CampaignID, g.MemberID, err)
				}
			}
			err := e.Store.Update(ctx, brandID, func(l Ledger) error {
				cur, ok, err := l.Grant(g.CampaignID, g.MemberID, g.Occurrence)
				if err != nil || !ok {
					return err
				}
				cur.MessagesQueued = true
				return l.PutGrant(cur)
			})
			if err != nil {
				return err
			}
		}
	}
}

// Tick does what is due for every brand: today's daily run, the one-offs
// whose time has come, and pending messages. The cloud calls it on a
// timer; every step is safe to repeat and to run in several processes.
func (e *Engine) Tick(ctx context.Context) error {
	brands, err := e.Store.BrandIDs(ctx)
	if err != nil {
		return err
	}
	now := e.Now()
	for _, b := range brands {
		cs, err := e.List(ctx, b)
		if err != nil {
			return err
		}
		daily := false
		for _, c := range cs {
			if !c.ActiveAt(now) {
				continue
			}
			daily = daily || c.Trigger.IsDaily()
			if c.Trigger.Kind == TriggerOneOff && !now.Before(c.Trigger.At) {
				if _, err := e.RunOneOff(ctx, b, c.ID); err != nil {
					return err
				}
			}
		}
		if daily {
			if _, err := e.RunDaily(ctx, b); err != nil {
				return err
			}
		}
		if err := e.SendPending(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// RunSchedule calls Tick every interval until ctx ends.
func (e *Engine) RunSchedule(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := e.Tick(ctx); err != nil && ctx.Err() == nil {
			e.Log.Error("campaign tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
