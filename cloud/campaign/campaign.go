// Package campaign is the brand's marketing engine: campaigns and member
// care rules, what triggers them (something a member did, a day in the
// brand's calendar, or HQ sending once), what they give (coupons, points,
// a points multiplier, stored-value bonus, a message, a lottery draw),
// within budget caps, and the holdout every campaign keeps so its lift can
// be shown with an interval.
//
// The package holds the domain and the engine's logic; it imports no
// database and no transport. Its state lives behind Store, the grants go
// through Books (the loyalty programme's own coupon, points and stored-value
// paths, so rewards reach the counters' replicas), and messages through
// Messenger (the messaging service, which applies consent, caps and quiet
// hours).
//
// Promise: each (brand, campaign, member, occurrence) acts once. The
// occurrence names which firing it is (an event id, a birthday's year, a
// holiday's year, a coupon's code); Books records the key in the same
// transaction as the grant, so a restart, a crash mid-run or a second cloud
// process repeats nothing and misses nothing.
package campaign

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
)

// Status is where a campaign is in its life.
type Status string

// Statuses. Only a running campaign between its start and end acts.
const (
	Draft   Status = "draft"
	Running Status = "running"
	Paused  Status = "paused"
	Ended   Status = "ended"
)

// DefaultHoldoutBP is the default holdout share: 10%.
const DefaultHoldoutBP = 1000

// Campaign is one rule HQ runs: a trigger, the actions it takes for each
// member it fires for, an audience filter, caps and a holdout.
type Campaign struct {
	BrandID string
	ID      string
	Name    string
	Trigger Trigger
	// Actions are taken for each member the trigger fires for.
	Actions []Action
	// KnownActions replace Actions for a referral whose friend the brand
	// already knew (repeat customer); empty: the same as Actions.
	KnownActions []Action `json:",omitempty"`
	Audience     Audience
	Budget       Budget
	// HoldoutBP is the share of the audience held out, in basis points
	// (0-5000). 0 means no holdout: the campaign shows "no proof".
	HoldoutBP int
	// HoldoutSet says HoldoutBP was given (0 is a choice, not a default).
	HoldoutSet bool `json:",omitempty"`
	StartAt    time.Time
	EndAt      time.Time `json:",omitzero"`
	Status     Status
	Spent      Spent
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Audience narrows who a campaign may reach: every member by default.
type Audience struct {
	// Tags: a member must have at least one of these (none: no filter).
	Tags []string `json:",omitempty"`
	// Tiers: a member must be in one of these.
	Tiers []string `json:",omitempty"`
	// Stores: a member who joined at one of these stores.
	Stores []string `json:",omitempty"`
	// MinVisits and MinSpendFen are lifetime floors.
	MinVisits   uint64 `json:",omitempty"`
	MinSpendFen int64  `json:",omitempty"`
	// ConsentOnly keeps members who gave marketing consent.
	ConsentOnly bool `json:",omitempty"`
}

// Matches reports whether a member is in the audience.
func (a Audience) Matches(m cloud.Member) bool {
	if m.MergedInto != "" {
		return false
	}
	if len(a.Tags) > 0 && !slices.ContainsFunc(a.Tags, func(t string) bool { return slices.Contains(m.Tags, t) }) {
		return false
	}
	if len(a.Tiers) > 0 && !slices.Contains(a.Tiers, m.TierID) {
		return false
	}
	if len(a.Stores) > 0 && !slices.Contains(a.Stores, m.Source.StoreID) {
		return false
	}
	if m.Visits < a.MinVisits || m.TotalSpendFen < a.MinSpendFen {
		return false
	}
	return !a.ConsentOnly || m.Consent
}

// Budget caps what a campaign may give; 0 is no cap. A member whose grant
// would pass a cap is skipped (recorded as over budget), and the campaign
// goes on for members whose grant fits.
type Budget struct {
	MaxCoupons  int64 `json:",omitempty"`
	MaxPoints   int64 `json:",omitempty"`
	MaxMoneyFen int64 `json:",omitempty"`
}

// Spent is what a campaign has given so far.
type Spent struct {
	Coupons  int64
	Points   int64
	MoneyFen int64
	Members  int64
	Holdout  int64
	// OverBudget counts members skipped because a cap was reached.
	OverBudget int64
}

// Cost is what one member's grant gives.
type Cost struct {
	Coupons  int64
	Points   int64
	MoneyFen int64
}

// Add sums two costs, saturating instead of overflowing.
func (c Cost) Add(d Cost) Cost {
	return Cost{satAdd(c.Coupons, d.Coupons), satAdd(c.Points, d.Points), satAdd(c.MoneyFen, d.MoneyFen)}
}

// Times is n grants of c.
func (c Cost) Times(n int64) Cost {
	return Cost{satMul(c.Coupons, n), satMul(c.Points, n), satMul(c.MoneyFen, n)}
}

// Fits reports whether spending c more stays within the budget.
func (b Budget) Fits(s Spent, c Cost) bool {
	under := func(limit, spent, more int64) bool { return limit == 0 || more == 0 || satAdd(spent, more) <= limit }
	return under(b.MaxCoupons, s.Coupons, c.Coupons) && under(b.MaxPoints, s.Points, c.Points) && under(b.MaxMoneyFen, s.MoneyFen, c.MoneyFen)
}

// Charge records a grant of c.
func (s *Spent) Charge(c Cost) {
	s.Coupons = satAdd(s.Coupons, c.Coupons)
	s.Points = satAdd(s.Points, c.Points)
	s.MoneyFen = satAdd(s.MoneyFen, c.MoneyFen)
	s.Members++
}

const maxInt64 = int64(^uint64(0) >> 1)

func satAdd(a, b int64) int64 {
	if b > 0 && a > maxInt64-b {
		return maxInt64
	}
	return a + b
}

func satMul(a, n int64) int64 {
	if a == 0 || n == 0 {
		return 0
	}
	if a > maxInt64/n {
		return maxInt64
	}
	return a * n
}

// ActiveAt reports whether the campaign acts at t.
func (c Campaign) ActiveAt(t time.Time) bool {
	return c.Status == Running && !t.Before(c.StartAt) && (c.EndAt.IsZero() || t.Before(c.EndAt))
}

// ActionsFor is the actions for a firing: KnownActions for a referral of a
// known customer when given.
func (c Campaign) ActionsFor(f Firing) []Action {
	if f.KnownCustomer && len(c.KnownActions) > 0 {
		return c.KnownActions
	}
	return c.Actions
}

// Bounds on what HQ may give.
const (
	maxID        = 64
	maxName      = 128
	maxActions   = 8
	maxFilter    = 32
	maxHoldoutBP = 5000
)

// ValidID checks an identifier from HQ or a device.
func ValidID(what, id string) error {
	if id == "" || len(id) > maxID || !utf8.ValidString(id) || strings.ContainsAny(id, "/|\x00\n") {
		return textErr(cloud.Invalid, TextBadID, what, id, maxID)
	}
	return nil
}

// Validate checks a campaign as HQ sends it, before it is stored.
func (c *Campaign) Validate() error {
	if err := ValidID("campaign id", c.ID); err != nil {
		return err
	}
	if c.Name == "" || len(c.Name) > maxName || !utf8.ValidString(c.Name) {
		return textErr(cloud.Invalid, TextBadName, maxName)
	}
	if err := c.Trigger.Validate(); err != nil {
		return err
	}
	if len(c.Actions) == 0 || len(c.Actions) > maxActions || len(c.KnownActions) > maxActions {
		return textErr(cloud.Invalid, TextActionCount, maxActions)
	}
	if len(c.KnownActions) > 0 && c.Trigger.Kind != TriggerReferral {
		return textErr(cloud.Invalid, TextKnownActionsReferral)
	}
	for _, a := range append(slices.Clone(c.Actions), c.KnownActions...) {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	if !c.HoldoutSet && c.HoldoutBP == 0 {
		c.HoldoutBP = DefaultHoldoutBP
	}
	if c.HoldoutBP < 0 || c.HoldoutBP > maxHoldoutBP {
		return textErr(cloud.Invalid, TextBadHoldout, maxHoldoutBP)
	}
	if c.Budget.MaxCoupons < 0 || c.Budget.MaxPoints < 0 || c.Budget.MaxMoneyFen < 0 {
		return textErr(cloud.Invalid, TextBadBudget)
	}
	a := c.Audience
	if len(a.Tags) > maxFilter || len(a.Tiers) > maxFilter || len(a.Stores) > maxFilter {
		return textErr(cloud.Invalid, TextBadAudience, maxFilter)
	}
	for _, s := range slices.Concat(a.Tags, a.Tiers, a.Stores) {
		if err := ValidID("audience filter", s); err != nil {
			return err
		}
	}
	if a.MinSpendFen < 0 {
		return textErr(cloud.Invalid, TextBadAudience, maxFilter)
	}
	if !c.EndAt.IsZero() && !c.StartAt.IsZero() && !c.StartAt.Before(c.EndAt) {
		return textErr(cloud.Invalid, TextBadWindow)
	}
	return nil
}

// NoProof reports whether the campaign keeps no holdout, so its results
// cannot show what it earned.
func (c Campaign) NoProof() bool { return c.HoldoutBP == 0 }

// String names a campaign in logs.
func (c Campaign) String() string { return fmt.Sprintf("%s/%s", c.BrandID, c.ID) }
