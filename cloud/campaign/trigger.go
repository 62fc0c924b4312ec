package campaign

import (
	"fmt"
	"slices"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign/calendar"
)

// TriggerKind says what makes a campaign act for a member.
type TriggerKind string

// Event triggers act when loyalty applies a pushed event; time triggers
// when the daily run evaluates the brand's members in its time zone; a
// one-off acts once for its audience, now or at a time. Join acts on both
// paths (a join through the member page is not a pushed event).
const (
	TriggerVisit          TriggerKind = "visit"
	TriggerPurchase       TriggerKind = "purchase"      // a bill of at least MinFen
	TriggerNthVisit       TriggerKind = "nth_visit"     // the member's N-th visit
	TriggerSpendReached   TriggerKind = "spend_reached" // net spend reaching AmountFen within Period
	TriggerTopUp          TriggerKind = "top_up"        // a top-up of at least MinFen
	TriggerJoin           TriggerKind = "join"          // joining through one of Sources
	TriggerVoucherReturn  TriggerKind = "voucher_return"
	TriggerTierUpgrade    TriggerKind = "tier_upgrade"
	TriggerReferral       TriggerKind = "referral_first_purchase"
	TriggerBirthday       TriggerKind = "birthday"
	TriggerHoliday        TriggerKind = "holiday"
	TriggerCouponExpiring TriggerKind = "coupon_expiring"
	TriggerPointsExpiring TriggerKind = "points_expiring"
	TriggerLapsed         TriggerKind = "lapsed"
	TriggerOneOff         TriggerKind = "one_off"
)

// TriggerKinds lists every kind, for HQ's help.
var TriggerKinds = []TriggerKind{
	TriggerVisit, TriggerPurchase, TriggerNthVisit, TriggerSpendReached, TriggerTopUp, TriggerJoin,
	TriggerVoucherReturn, TriggerTierUpgrade, TriggerReferral, TriggerBirthday, TriggerHoliday,
	TriggerCouponExpiring, TriggerPointsExpiring, TriggerLapsed, TriggerOneOff,
}

// Periods for TriggerSpendReached, in the brand's calendar.
const (
	PeriodWeek  = "week" // Monday to Sunday
	PeriodMonth = "month"
	PeriodYear  = "year"
)

// Join sources (cloud.MemberSource.Channel).
var JoinSources = []string{"counter", "join_page", "group_buy", "referral", "hq", "import"}

// Trigger is what makes a campaign act; which fields count depends on Kind.
type Trigger struct {
	Kind TriggerKind
	// MinFen: purchase and top-up floors.
	MinFen int64 `json:",omitempty"`
	// N: the visit number for nth_visit.
	N int `json:",omitempty"`
	// AmountFen and Period: spend_reached.
	AmountFen int64  `json:",omitempty"`
	Period    string `json:",omitempty"`
	// Sources: join channels (none: any).
	Sources []string `json:",omitempty"`
	// ToTier: tier_upgrade to this tier only (empty: any upgrade).
	ToTier string `json:",omitempty"`
	// Days: birthday (days before), holiday (days before), coupon and
	// points expiring (within), lapsed (since the last visit).
	Days int `json:",omitempty"`
	// BirthdayMonth: birthday fires in the birthday month instead of Days
	// before the day.
	BirthdayMonth bool `json:",omitempty"`
	// Holiday: a calendar.Holidays id.
	Holiday string `json:",omitempty"`
	// At: a one-off's send time (zero: when started).
	At time.Time `json:",omitzero"`
}

// IsEvent reports whether the trigger acts on pushed events.
func (t Trigger) IsEvent() bool {
	switch t.Kind {
	case TriggerVisit, TriggerPurchase, TriggerNthVisit, TriggerSpendReached, TriggerTopUp, TriggerJoin,
		TriggerVoucherReturn, TriggerTierUpgrade, TriggerReferral:
		return true
	}
	return false
}

// IsDaily reports whether the daily run evaluates the trigger.
func (t Trigger) IsDaily() bool {
	switch t.Kind {
	case TriggerBirthday, TriggerHoliday, TriggerCouponExpiring, TriggerPointsExpiring, TriggerLapsed, TriggerJoin:
		return true
	}
	return false
}

const (
	maxDays = 366
	maxN    = 10000
)

// Validate checks a trigger's fields for its kind.
func (t Trigger) Validate() error {
	bad := func(field string, v any) error { return textErr(cloud.Invalid, TextBadTrigger, t.Kind, field, v) }
	switch t.Kind {
	case TriggerVisit, TriggerVoucherReturn, TriggerReferral, TriggerOneOff:
	case TriggerPurchase, TriggerTopUp:
		if t.MinFen < 0 || t.MinFen > maxAmountFen {
			return bad("min_fen", t.MinFen)
		}
	case TriggerNthVisit:
		if t.N < 1 || t.N > maxN {
			return bad("n", t.N)
		}
	case TriggerSpendReached:
		if t.AmountFen < 1 || t.AmountFen > maxAmountFen {
			return bad("amount_fen", t.AmountFen)
		}
		if !slices.Contains([]string{PeriodWeek, PeriodMonth, PeriodYear}, t.Period) {
			return bad("period", t.Period)
		}
	case TriggerJoin:
		for _, s := range t.Sources {
			if !slices.Contains(JoinSources, s) {
				return bad("sources", s)
			}
		}
	case TriggerTierUpgrade:
		if t.ToTier != "" {
			if err := ValidID("tier", t.ToTier); err != nil {
				return err
			}
		}
	case TriggerBirthday:
		if t.Days < 0 || t.Days > 31 || (t.BirthdayMonth && t.Days != 0) {
			return bad("days", t.Days)
		}
	case TriggerHoliday:
		if _, err := calendar.HolidayByID(t.Holiday); err != nil {
			return bad("holiday", t.Holiday)
		}
		if t.Days < 0 || t.Days > 60 {
			return bad("days", t.Days)
		}
	case TriggerCouponExpiring, TriggerPointsExpiring:
		if t.Days < 1 || t.Days > 90 {
			return bad("days", t.Days)
		}
	case TriggerLapsed:
		if t.Days < 1 || t.Days > maxDays*3 {
			return bad("days", t.Days)
		}
	default:
		return textErr(cloud.Invalid, TextBadTriggerKind, t.Kind)
	}
	return nil
}

// Firing is a trigger firing for one member: the unit that acts once.
type Firing struct {
	CampaignID string
	// MemberID is who gets the actions (for a referral, the referrer).
	MemberID string
	// Occurrence names which firing this is; (campaign, member,
	// occurrence) acts once.
	Occurrence string
	// KnownCustomer: a referral whose friend the brand already knew.
	KnownCustomer bool `json:",omitempty"`
	// Vars are for the message: what fired (coupon code, expiry date,
	// points, holiday name).
	Vars map[string]string `json:",omitempty"`
}

// Key is the firing's unique key within a brand.
func (f Firing) Key() string { return f.CampaignID + "|" + f.MemberID + "|" + f.Occurrence }

// MemberFacts is what the daily run knows of a member.
type MemberFacts struct {
	Member cloud.Member
	// Coupons the member holds in state issued.
	Coupons []cloud.Coupon
	// PointsLots with points left.
	PointsLots []cloud.PointsLot
}

// Day is one evaluation day in a brand's time zone, with what is costly to
// compute (lunar dates) worked out once for every member.
type Day struct {
	Date     calendar.Date
	Location *time.Location
	// Now is the instant of the run.
	Now   time.Time
	lunar calendar.LunarDate
	// lunarBirthdays memoises LunarBirthday(year, month, day).
	lunarBirthdays map[[3]int]calendar.Date
}

// NewDay prepares the evaluation of day now in loc.
func NewDay(now time.Time, loc *time.Location) (*Day, error) {
	d := &Day{Date: calendar.DateOf(now, loc), Location: loc, Now: now, lunarBirthdays: map[[3]int]calendar.Date{}}
	var err error
	if d.lunar, err = calendar.ToLunar(d.Date); err != nil {
		return nil, fmt.Errorf("evaluation day: %w", err)
	}
	return d, nil
}

func (d *Day) lunarBirthday(year, month, day int) (calendar.Date, bool) {
	k := [3]int{year, month, day}
	if v, ok := d.lunarBirthdays[k]; ok {
		return v, v.Year != 0
	}
	v, err := calendar.LunarBirthday(year, month, day)
	if err != nil {
		v = calendar.Date{}
	}
	d.lunarBirthdays[k] = v
	return v, err == nil
}

// Birthday parses a member's birthday (YYYY-MM-DD or MM-DD) to month and day.
func Birthday(s string) (month, day int, ok bool) {
	if len(s) == 10 {
		s = s[5:]
	}
	if len(s) != 5 || s[2] != '-' {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d-%02d", &month, &day); err != nil || month < 1 || month > 12 || day < 1 || day > 31 {
		return 0, 0, false
	}
	return month, day, true
}

// nextBirthday is the first celebration on or after today, and the
// occurrence naming its year.
func (d *Day) nextBirthday(m cloud.Member) (calendar.Date, string, bool) {
	month, day, ok := Birthday(m.Birthday)
	if !ok {
		return calendar.Date{}, "", false
	}
	if m.BirthdayLunar {
		if day > 30 {
			return calendar.Date{}, "", false
		}
		for y := d.lunar.Year - 1; y <= d.lunar.Year+1; y++ {
			at, ok := d.lunarBirthday(y, month, day)
			if ok && !at.Before(d.Date) {
				return at, fmt.Sprintf("birthday-%dL", y), true
			}
		}
		return calendar.Date{}, "", false
	}
	for y := d.Date.Year; y <= d.Date.Year+1; y++ {
		at, err := calendar.SolarBirthday(y, time.Month(month), day)
		if err != nil {
			return calendar.Date{}, "", false
		}
		if !at.Before(d.Date) {
			return at, fmt.Sprintf("birthday-%d", y), true
		}
	}
	return calendar.Date{}, "", false
}

// inBirthdayMonth reports whether today is in the member's birthday month
// (lunar: the ordinary lunar month of that number).
func (d *Day) inBirthdayMonth(m cloud.Member) (string, bool) {
	month, _, ok := Birthday(m.Birthday)
	if !ok {
		return "", false
	}
	if m.BirthdayLunar {
		if d.lunar.Leap || d.lunar.Month != month {
			return "", false
		}
		return fmt.Sprintf("birthday-%dL", d.lunar.Year), true
	}
	if int(d.Date.Month) != month {
		return "", false
	}
	return fmt.Sprintf("birthday-%d", d.Date.Year), true
}

// TimeFirings is what a daily-evaluated trigger fires for one member on
// day d: none, one, or several (one per expiring coupon). The audience and
// the campaign's window are checked by the caller.
func (c Campaign) TimeFirings(d *Day, f MemberFacts) []Firing {
	m := f.Member
	fire := func(occ string, vars map[string]string) []Firing {
		return []Firing{{CampaignID: c.ID, MemberID: m.ID, Occurrence: occ, Vars: vars}}
	}
	t := c.Trigger
	switch t.Kind {
	case TriggerBirthday:
		if t.BirthdayMonth {
			if occ, ok := d.inBirthdayMonth(m); ok {
				return fire(occ, nil)
			}
			return nil
		}
		at, occ, ok := d.nextBirthday(m)
		if ok && d.Date.DaysUntil(at) <= t.Days {
			return fire(occ, map[string]string{"birthday": at.String()})
		}
	case TriggerHoliday:
		h, err := calendar.HolidayByID(t.Holiday)
		if err != nil {
			return nil
		}
		at, err := h.Next(d.Date)
		if err == nil && d.Date.DaysUntil(at) <= t.Days {
			return fire(fmt.Sprintf("holiday-%s-%d", h.ID, at.Year), map[string]string{"holiday": h.ZH, "date": at.String()})
		}
	case TriggerLapsed:
		last := m.LastVisitAt
		if last.IsZero() {
			last = m.CreatedAt
		}
		lastDay := calendar.DateOf(last, d.Location)
		if lastDay.DaysUntil(d.Date) >= t.Days {
			return fire("lapsed-"+lastDay.String(), map[string]string{"last_visit": lastDay.String()})
		}
	case TriggerCouponExpiring:
		until := d.Date.AddDays(t.Days + 1).Time(d.Location)
		var out []Firing
		for _, cp := range f.Coupons {
			if cp.State == cloud.CouponIssued && !cp.ExpiresAt.Before(d.Now) && cp.ExpiresAt.Before(until) {
				out = append(out, fire("coupon-"+cp.Code, map[string]string{"coupon": cp.Code, "expires": calendar.DateOf(cp.ExpiresAt, d.Location).String()})...)
			}
		}
		return out
	case TriggerPointsExpiring:
		until := d.Date.AddDays(t.Days + 1).Time(d.Location)
		byDay := map[string]int64{}
		for _, l := range f.PointsLots {
			if l.Remaining > 0 && !l.ExpiresAt.IsZero() && !l.ExpiresAt.Before(d.Now) && l.ExpiresAt.Before(until) {
				byDay[calendar.DateOf(l.ExpiresAt, d.Location).String()] += l.Remaining
			}
		}
		var out []Firing
		for _, day := range sortedKeys(byDay) {
			out = append(out, fire("points-"+day, map[string]string{"points": fmt.Sprint(byDay[day]), "expires": day})...)
		}
		return out
	case TriggerJoin:
		if joinMatches(t, m) && !m.CreatedAt.Before(c.StartAt) {
			return fire("join", nil)
		}
	}
	return nil
}

func joinMatches(t Trigger, m cloud.Member) bool {
	return len(t.Sources) == 0 || slices.Contains(t.Sources, m.Source.Channel)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
