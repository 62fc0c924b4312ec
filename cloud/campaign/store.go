package campaign

import (
	"context"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Grant is the record that a firing acted: what was given, or that the
// member was held out or over budget. Its key (brand, campaign, member,
// occurrence) is unique: the record is written in the same transaction as
// what it gives, so it acts once.
type Grant struct {
	BrandID    string
	CampaignID string
	MemberID   string
	Occurrence string
	At         time.Time
	// Holdout: the member is in the holdout; nothing was given or sent.
	Holdout bool `json:",omitempty"`
	// Skipped says why nothing was given to a treated member (over_budget).
	Skipped string `json:",omitempty"`
	Cost    Cost
	Coupons []string `json:",omitempty"`
	// Messages to send through the messaging service after the commit;
	// MessagesQueued once the service took them (it deduplicates by key).
	Messages       []MessageRequest  `json:",omitempty"`
	MessagesQueued bool              `json:",omitempty"`
	Vars           map[string]string `json:",omitempty"`
}

// Treated reports whether the grant gave its actions.
func (g Grant) Treated() bool { return !g.Holdout && g.Skipped == "" }

// MessageRequest is one message a grant sends, as the messaging service
// takes it (its idempotency key is campaign, member, occurrence, channel).
type MessageRequest struct {
	BrandID    string
	CampaignID string
	MemberID   string
	Occurrence string
	Channel    string
	TemplateID string
	Vars       map[string]string `json:",omitempty"`
}

// Messenger hands messages to the messaging service, which applies
// consent, caps and quiet hours. Sending the same request again must be
// harmless (the service deduplicates by its key).
type Messenger interface {
	Enqueue(ctx context.Context, m MessageRequest) error
}

// Run is the progress of one job over a brand's members: the daily
// evaluation of a day, or a one-off's send. Its cursor is written in the
// transaction of each page, so a run resumes where it stopped.
type Run struct {
	BrandID string
	// ID: "daily-YYYY-MM-DD" or "oneoff-<campaign>".
	ID         string
	Cursor     string
	Done       bool
	Members    int64
	Firings    int64
	StartedAt  time.Time
	FinishedAt time.Time `json:",omitzero"`
	// LeaseOwner and LeaseUntil: the process working on the run; another
	// takes it over only after the lease lapses.
	LeaseOwner string    `json:",omitempty"`
	LeaseUntil time.Time `json:",omitzero"`
}

// Reader is a consistent read of one brand's campaign state.
type Reader interface {
	Brand() (cloud.Brand, error)
	Campaign(id string) (Campaign, error)
	Campaigns() ([]Campaign, error)
	Grant(campaignID, memberID, occurrence string) (Grant, bool, error)
	// Grants lists a campaign's grants in (member, occurrence) order after the given one.
	Grants(campaignID, afterMember, afterOccurrence string, limit int) ([]Grant, error)
	// Members lists up to limit members' facts in id order after the id.
	Members(after string, limit int, need Needs) ([]MemberFacts, error)
	Member(id string) (cloud.Member, error)
	Run(id string) (Run, bool, error)
	// Activity sums a member's visits and spend in [from, to).
	Activity(memberID string, from, to time.Time) (visits int64, spendFen int64, err error)
	// PendingMessages lists grants whose messages wait to be queued.
	PendingMessages(limit int) ([]Grant, error)
	Lottery(id string) (Lottery, error)
	Lotteries() ([]Lottery, error)
	Draws(lotteryID string) ([]Draw, error)
	// DrawChances lists a member's unused draws.
	DrawChances(memberID string) ([]DrawChance, error)
	CouponTemplate(id string) (cloud.CouponTemplate, error)
}

// Needs says which facts beyond the member record a run reads.
type Needs struct {
	Coupons    bool
	PointsLots bool
}

// Ledger is one read-write transaction over a brand's campaign state and
// the loyalty books a grant touches. Grants go through loyalty's own
// coupon, points and stored-value paths, which write the change log, so
// rewards reach the counters' replicas.
type Ledger interface {
	Reader
	PutCampaign(c Campaign) error
	PutGrant(g Grant) error
	PutRun(r Run) error
	// IssueCoupon gives the member a coupon of a template, valid validDays
	// from now (0: as the template says); it returns the code and the
	// template's amount off (its face value).
	IssueCoupon(memberID, templateID string, validDays int, reason string, now time.Time) (code string, faceFen int64, err error)
	AwardPoints(memberID string, points int64, reason string, now time.Time) error
	AddBonus(memberID string, fen int64, reason string, now time.Time) error
	// BoostPoints makes the member earn at multiplierBP until the time.
	BoostPoints(memberID string, multiplierBP int, until time.Time, reason string) error
	PutLottery(l Lottery) error
	PutDraw(d Draw) error
	PutDrawChance(c DrawChance) error
	DeleteDrawChance(c DrawChance) error
}

// Store runs transactions over a brand's campaign state.
type Store interface {
	View(ctx context.Context, brandID string, fn func(Reader) error) error
	// Update runs fn in one transaction, committed if fn returns nil. The
	// store may run fn again after a serialization conflict.
	Update(ctx context.Context, brandID string, fn func(Ledger) error) error
	// BrandIDs lists every brand, for the daily run.
	BrandIDs(ctx context.Context) ([]string, error)
}

// PointsBoost makes a member earn points at a multiple until a time (the
// points multiplier action). The extra points are booked when a purchase
// is applied, by the campaigns' event hook, as a grant line of their own.
type PointsBoost struct {
	BrandID      string
	MemberID     string
	MultiplierBP int
	Until        time.Time
	Reason       string
}

// Tables is what a storage keeps for the campaigns, in the same
// transaction as the loyalty books (a cloud.Tx that also implements
// Tables): cloud/sqlstore does, in its campaign tables (migration 0300).
type Tables interface {
	Campaign(brand, id string) (Campaign, error)
	Campaigns(brand string) ([]Campaign, error)
	PutCampaign(c Campaign) error
	// Grant reads a grant; ok is false when the key has not acted.
	Grant(brand, campaignID, memberID, occurrence string) (g Grant, ok bool, err error)
	PutGrant(g Grant) error
	Grants(brand, campaignID, afterMember, afterOccurrence string, limit int) ([]Grant, error)
	PendingMessages(brand string, limit int) ([]Grant, error)
	Run(brand, id string) (r Run, ok bool, err error)
	PutRun(r Run) error
	// MembersAfter lists up to limit members in id order after the id.
	MembersAfter(brand, after string, limit int) ([]cloud.Member, error)
	// ActivityBetween sums a member's visits and spend on the days of
	// [from, to).
	ActivityBetween(brand, memberID string, from, to time.Time) (visits, spendFen int64, err error)
	Lottery(brand, id string) (Lottery, error)
	Lotteries(brand string) ([]Lottery, error)
	PutLottery(l Lottery) error
	Draws(brand, lotteryID string) ([]Draw, error)
	PutDraw(d Draw) error
	DrawChances(brand, memberID string) ([]DrawChance, error)
	PutDrawChance(c DrawChance) error
	DeleteDrawChance(c DrawChance) error
	PointsBoost(brand, memberID string) (b PointsBoost, ok bool, err error)
	PutPointsBoost(b PointsBoost) error
}
