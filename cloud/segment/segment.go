// Package segment defines the member segments HQ builds: rules combined
// with AND (recency, frequency and spend in a window, lifecycle stage,
// tier, tags, stores, join source, voucher batch, birthday month, consent,
// balances), saved by name, counted live, exported and handed to campaigns
// as audiences.
//
// The rules are plain data, checked here; a store compiles them to one SQL
// query with every value a parameter (cloud/sqlstore), so a segment is
// counted where the members are, never by loading them.
package segment

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
)

// Stage is where a member is in their life with the brand. Every member is
// in exactly one stage at a time, decided in the order listed (the first
// that fits).
type Stage string

// Lifecycle stages.
const (
	// Prospect: joined, never visited.
	Prospect Stage = "prospect"
	// New: joined within Settings.NewDays and has visited.
	New Stage = "new"
	// Returned: visited within ActiveDays after a gap of more than
	// LapsedDays without a visit (and had visited before the gap).
	Returned Stage = "returned"
	// Active: last visit within ActiveDays.
	Active Stage = "active"
	// Lapsing: last visit more than ActiveDays but at most LapsedDays ago.
	Lapsing Stage = "lapsing"
	// Lapsed: last visit more than LapsedDays ago.
	Lapsed Stage = "lapsed"
)

// Stages lists the stages in the order they are decided.
var Stages = []Stage{Prospect, New, Returned, Active, Lapsing, Lapsed}

// Settings are a brand's lifecycle thresholds in days (calendar days in
// the brand's time zone). HQ changes them; Defaults hold until it does.
type Settings struct {
	NewDays    int `json:"new_days"`
	ActiveDays int `json:"active_days"`
	LapsedDays int `json:"lapsed_days"`
}

// Defaults are the lifecycle thresholds of a brand that set none: new for
// 30 days after joining, active while the last visit is at most 60 days
// old, lapsed after 180.
var Defaults = Settings{NewDays: 30, ActiveDays: 60, LapsedDays: 180}

// Validate checks the thresholds are in order and bounded.
func (s Settings) Validate() error {
	if s.NewDays < 1 || s.ActiveDays < 1 || s.LapsedDays < 1 || s.NewDays > MaxDays || s.ActiveDays > MaxDays || s.LapsedDays > MaxDays {
		return cloud.Errorf(cloud.Invalid, "lifecycle days must be between 1 and %d", MaxDays)
	}
	if s.ActiveDays >= s.LapsedDays {
		return cloud.Errorf(cloud.Invalid, "active_days (%d) must be less than lapsed_days (%d)", s.ActiveDays, s.LapsedDays)
	}
	return nil
}

// Bounds on what a rule may hold.
const (
	MaxDays     = 3660
	MaxListLen  = 100
	MaxValueLen = 64
	MaxNameLen  = 64
)

// Range is an inclusive range of an integer; a nil end is open.
type Range struct {
	Min *int64 `json:"min,omitempty"`
	Max *int64 `json:"max,omitempty"`
}

// Set reports whether the range constrains anything.
func (r *Range) Set() bool { return r != nil && (r.Min != nil || r.Max != nil) }

func (r *Range) validate(field string) error {
	if r == nil {
		return nil
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		return cloud.Errorf(cloud.Invalid, "%s: min %d is above max %d", field, *r.Min, *r.Max)
	}
	return nil
}

// Rules select members: every rule given must hold (AND); a list rule
// holds when any of its values does (OR within the list). Empty Rules
// select every member (merged members never).
type Rules struct {
	// WindowDays is the window, in calendar days ending today, that
	// Visits, SpendFen and VisitedStores look at (default 90).
	WindowDays int    `json:"window_days,omitempty"`
	Visits     *Range `json:"visits,omitempty"`
	SpendFen   *Range `json:"spend_fen,omitempty"`
	// LastVisitWithinDays: last visited on or after the day that many days
	// ago (recency).
	LastVisitWithinDays int `json:"last_visit_within_days,omitempty"`
	// NoVisitForDays: no visit on or after the day that many days ago
	// (never visited included).
	NoVisitForDays int      `json:"no_visit_for_days,omitempty"`
	Stages         []Stage  `json:"stages,omitempty"`
	Tiers          []string `json:"tiers,omitempty"`
	// Tags: has any of them.
	Tags []string `json:"tags,omitempty"`
	// HomeStores: joined at one of these stores.
	HomeStores []string `json:"home_stores,omitempty"`
	// VisitedStores: visited one of them within the window.
	VisitedStores []string `json:"visited_stores,omitempty"`
	// JoinChannels: counter, join_page, import, hq, group_buy, referral.
	JoinChannels []string `json:"join_channels,omitempty"`
	// JoinStaff: enrolled by one of these staff.
	JoinStaff []string `json:"join_staff,omitempty"`
	// VoucherBatches: joined with a group-buy voucher of one of these
	// batches (the voucher's campaign).
	VoucherBatches []string `json:"voucher_batches,omitempty"`
	// VoucherPlatforms: joined with a voucher from one of these platforms.
	VoucherPlatforms []string `json:"voucher_platforms,omitempty"`
	// BirthdayMonths: 1-12.
	BirthdayMonths []int `json:"birthday_months,omitempty"`
	// Consent: the member's marketing consent is this.
	Consent *bool `json:"consent,omitempty"`
	// ConsentChannels: the member granted consent (messaging's record per
	// channel) on one of these channels: sms, wechat.
	ConsentChannels []string `json:"consent_channels,omitempty"`
	Points          *Range   `json:"points,omitempty"`
	StoredValueFen  *Range   `json:"stored_value_fen,omitempty"`
}

// DefaultWindowDays is the window of Visits, SpendFen and VisitedStores
// when a segment names none.
const DefaultWindowDays = 90

// Window is the window in days the rules use.
func (r Rules) Window() int {
	if r.WindowDays <= 0 {
		return DefaultWindowDays
	}
	return r.WindowDays
}

var valueRE = regexp.MustCompile(`^[\p{L}\p{N}_.:@/-]+$`)

// Validate checks every value is bounded and makes sense.
func (r Rules) Validate() error {
	for _, d := range []struct {
		name string
		v    int
	}{{"window_days", r.WindowDays}, {"last_visit_within_days", r.LastVisitWithinDays}, {"no_visit_for_days", r.NoVisitForDays}} {
		if d.v < 0 || d.v > MaxDays {
			return cloud.Errorf(cloud.Invalid, "%s must be between 0 and %d", d.name, MaxDays)
		}
	}
	for name, rg := range map[string]*Range{"visits": r.Visits, "spend_fen": r.SpendFen, "points": r.Points, "stored_value_fen": r.StoredValueFen} {
		if err := rg.validate(name); err != nil {
			return err
		}
	}
	for name, list := range map[string][]string{"tiers": r.Tiers, "tags": r.Tags, "home_stores": r.HomeStores, "visited_stores": r.VisitedStores,
		"join_channels": r.JoinChannels, "join_staff": r.JoinStaff, "voucher_batches": r.VoucherBatches, "voucher_platforms": r.VoucherPlatforms,
		"consent_channels": r.ConsentChannels} {
		if len(list) > MaxListLen {
			return cloud.Errorf(cloud.Invalid, "%s: at most %d values", name, MaxListLen)
		}
		for _, v := range list {
			if v == "" || utf8.RuneCountInString(v) > MaxValueLen || !valueRE.MatchString(v) {
				return cloud.Errorf(cloud.Invalid, "%s: %q is not a valid value (1 to %d letters, digits or _.:@/-)", name, v, MaxValueLen)
			}
		}
	}
	for _, s := range r.Stages {
		if !slices.Contains(Stages, s) {
			return cloud.Errorf(cloud.Invalid, "stages: %q is not a stage (%v)", s, Stages)
		}
	}
	if len(r.BirthdayMonths) > 12 {
		return cloud.Errorf(cloud.Invalid, "birthday_months: at most 12")
	}
	for _, m := range r.BirthdayMonths {
		if m < 1 || m > 12 {
			return cloud.Errorf(cloud.Invalid, "birthday_months: %d is not a month", m)
		}
	}
	return nil
}

// Segment is a named, saved set of rules.
type Segment struct {
	BrandID   string
	Name      string
	Rules     Rules
	CreatedAt time.Time
	UpdatedAt time.Time
}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_ .-]*$`)

// ValidateName checks a segment's name.
func ValidateName(name string) error {
	if utf8.RuneCountInString(name) > MaxNameLen || !nameRE.MatchString(name) {
		return cloud.Errorf(cloud.Invalid, "segment name %q: 1 to %d letters, digits, spaces or _.-", name, MaxNameLen)
	}
	return nil
}

// Member is one row of a segment's export.
type Member struct {
	ID             string
	Name           string
	Phone          string
	TierID         string
	Stage          Stage
	Visits         int64
	LastVisitAt    time.Time
	Points         int64
	StoredValueFen int64
	TotalSpendFen  int64
}

// Clock is the point in time a segment is evaluated at, with the brand's
// zone: windows are whole calendar days there.
type Clock struct {
	Now time.Time
	Loc *time.Location
}

// DayStart is the start (UTC) of the calendar day daysAgo days before
// today in the brand's zone.
func (c Clock) DayStart(daysAgo int) time.Time {
	l := c.Now.In(c.Loc)
	return time.Date(l.Year(), l.Month(), l.Day()-daysAgo, 0, 0, 0, 0, c.Loc).UTC()
}

// Day is the date daysAgo days before today in the brand's zone.
func (c Clock) Day(daysAgo int) string {
	l := c.Now.In(c.Loc)
	return time.Date(l.Year(), l.Month(), l.Day()-daysAgo, 0, 0, 0, 0, c.Loc).Format(time.DateOnly)
}

// Store keeps segments and evaluates rules against a brand's members. Every
// call names the brand first.
type Store interface {
	PutSegment(ctx context.Context, s Segment) error
	Segment(ctx context.Context, brand, name string) (Segment, error)
	Segments(ctx context.Context, brand string) ([]Segment, error)
	DeleteSegment(ctx context.Context, brand, name string) error
	// Count counts the members the rules select now.
	Count(ctx context.Context, brand string, r Rules, st Settings, now time.Time) (int64, error)
	// Members calls fn with the members the rules select now, in id order,
	// until fn returns false.
	Members(ctx context.Context, brand string, r Rules, st Settings, now time.Time, fn func(Member) bool) error
	// Page lists at most limit members the rules select now with ids
	// after after, in id order (an export a page at a time).
	Page(ctx context.Context, brand string, r Rules, st Settings, now time.Time, after string, limit int) ([]Member, error)
	Settings(ctx context.Context, brand string) (Settings, error)
	PutSettings(ctx context.Context, brand string, st Settings) error
}

// Service is what HQ and campaigns use.
type Service struct {
	Store Store
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Save creates or replaces a segment.
func (s *Service) Save(ctx context.Context, brand, name string, r Rules) (Segment, error) {
	if err := ValidateName(name); err != nil {
		return Segment{}, err
	}
	if err := r.Validate(); err != nil {
		return Segment{}, err
	}
	now := s.now().UTC()
	seg := Segment{BrandID: brand, Name: name, Rules: r, CreatedAt: now, UpdatedAt: now}
	if old, err := s.Store.Segment(ctx, brand, name); err == nil {
		seg.CreatedAt = old.CreatedAt
	} else if !cloud.IsNotFound(err) {
		return Segment{}, err
	}
	if err := s.Store.PutSegment(ctx, seg); err != nil {
		return Segment{}, fmt.Errorf("save segment %s: %w", name, err)
	}
	return seg, nil
}

// Count counts a saved segment's members now.
func (s *Service) Count(ctx context.Context, brand, name string) (int64, error) {
	seg, err := s.Store.Segment(ctx, brand, name)
	if err != nil {
		return 0, err
	}
	return s.CountRules(ctx, brand, seg.Rules)
}

// CountRules counts the members rules select now, saved or not.
func (s *Service) CountRules(ctx context.Context, brand string, r Rules) (int64, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	st, err := s.Store.Settings(ctx, brand)
	if err != nil {
		return 0, err
	}
	return s.Store.Count(ctx, brand, r, st, s.now())
}

// Members calls fn with each member of a saved segment as of now, in id
// order, until fn returns false.
func (s *Service) Members(ctx context.Context, brand, name string, fn func(Member) bool) error {
	seg, err := s.Store.Segment(ctx, brand, name)
	if err != nil {
		return err
	}
	st, err := s.Store.Settings(ctx, brand)
	if err != nil {
		return err
	}
	return s.Store.Members(ctx, brand, seg.Rules, st, s.now(), fn)
}

// MaxPage bounds a page of a segment's members.
const MaxPage = 5000

// Page lists a saved segment's members after a member id, as of now.
func (s *Service) Page(ctx context.Context, brand, name, after string, limit int) ([]Member, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	seg, err := s.Store.Segment(ctx, brand, name)
	if err != nil {
		return nil, err
	}
	st, err := s.Store.Settings(ctx, brand)
	if err != nil {
		return nil, err
	}
	return s.Store.Page(ctx, brand, seg.Rules, st, s.now(), after, limit)
}

// Audience returns the ids of a saved segment's members as of now: what a
// campaign targets when its audience is a segment.
func (s *Service) Audience(ctx context.Context, brand, name string) ([]string, error) {
	var ids []string
	err := s.Members(ctx, brand, name, func(m Member) bool {
		ids = append(ids, m.ID)
		return true
	})
	return ids, err
}
