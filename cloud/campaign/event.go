package campaign

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign/calendar"
)

// EventFacts is what an event trigger sees of one applied event: the event,
// the member before and after it, and what the books add.
type EventFacts struct {
	Event  cloud.Event
	Before cloud.Member
	After  cloud.Member
	// TierUpgraded: the event moved the member to a higher tier.
	TierUpgraded bool
	// PeriodSpendFen gives the member's net spend from a period's start
	// (this event included); nil when no campaign needs it.
	PeriodSpendFen func(start time.Time) (int64, error)
	// Location is the brand's time zone.
	Location *time.Location
}

// PeriodStart is the start of the period containing t in loc.
func PeriodStart(period string, t time.Time, loc *time.Location) (time.Time, string) {
	d := calendar.DateOf(t, loc)
	switch period {
	case PeriodWeek:
		wd := int(d.Time(loc).Weekday()+6) % 7 // Monday 0
		s := d.AddDays(-wd)
		return s.Time(loc), "w" + s.String()
	case PeriodYear:
		return time.Date(d.Year, 1, 1, 0, 0, 0, 0, loc), fmt.Sprintf("y%d", d.Year)
	default:
		return time.Date(d.Year, d.Month, 1, 0, 0, 0, 0, loc), fmt.Sprintf("m%04d-%02d", d.Year, d.Month)
	}
}

// EventFiring is what an event trigger fires for one applied event, if
// anything. The audience and the campaign's window are checked by the
// caller (the audience against the member who gets the actions).
func (c Campaign) EventFiring(f EventFacts) (Firing, bool, error) {
	t, ev, m := c.Trigger, f.Event, f.After
	fire := func(member, occ string, vars map[string]string) (Firing, bool, error) {
		return Firing{CampaignID: c.ID, MemberID: member, Occurrence: occ, Vars: vars}, true, nil
	}
	switch t.Kind {
	case TriggerVisit:
		if ev.Kind == cloud.EventVisit {
			return fire(m.ID, "ev-"+ev.ID, nil)
		}
	case TriggerPurchase:
		if ev.Kind == cloud.EventPurchase && ev.Purchase != nil && ev.Purchase.NetFen() >= t.MinFen {
			return fire(m.ID, "ev-"+ev.ID, nil)
		}
	case TriggerNthVisit:
		if ev.Kind == cloud.EventVisit && f.Before.Visits < uint64(t.N) && m.Visits >= uint64(t.N) {
			return fire(m.ID, fmt.Sprintf("visit-%d", t.N), map[string]string{"visits": fmt.Sprint(t.N)})
		}
	case TriggerSpendReached:
		if ev.Kind != cloud.EventPurchase || ev.Purchase == nil || f.PeriodSpendFen == nil {
			return Firing{}, false, nil
		}
		start, label := PeriodStart(t.Period, ev.OccurredAt, f.Location)
		spent, err := f.PeriodSpendFen(start)
		if err != nil {
			return Firing{}, false, fmt.Errorf("spend in period: %w", err)
		}
		if spent >= t.AmountFen {
			return fire(m.ID, "spend-"+label, nil)
		}
	case TriggerTopUp:
		if ev.Kind == cloud.EventTopUp && ev.TopUp != nil && ev.TopUp.AmountFen >= t.MinFen {
			return fire(m.ID, "ev-"+ev.ID, nil)
		}
	case TriggerJoin:
		// Only a member the enrolment made (not a phone that was already a member).
		if ev.Kind == cloud.EventEnrolment && f.Before.ID == "" && SameInstant(m.CreatedAt, ev.OccurredAt) && joinMatches(t, m) {
			return fire(m.ID, "join", nil)
		}
	case TriggerVoucherReturn:
		// A member who came through a group-buy voucher, back on a later day.
		if (ev.Kind == cloud.EventVisit || ev.Kind == cloud.EventPurchase) && m.Source.Channel == "group_buy" &&
			calendar.DateOf(m.CreatedAt, f.Location).Before(calendar.DateOf(ev.OccurredAt, f.Location)) {
			return fire(m.ID, "voucher-return", nil)
		}
	case TriggerTierUpgrade:
		if f.TierUpgraded && (t.ToTier == "" || t.ToTier == m.TierID) {
			return fire(m.ID, "tier-"+m.TierID, map[string]string{"tier": m.TierID})
		}
	case TriggerReferral:
		// The friend's first purchase pays the referrer, once per friend. A
		// friend the brand already knew (spend before this purchase, or
		// imported from the brand's old records) is a known customer.
		if ev.Kind == cloud.EventPurchase && m.Source.ReferrerID != "" && m.Source.ReferrerID != m.ID {
			f2, ok, err := fire(m.Source.ReferrerID, "referral-"+m.ID, map[string]string{"friend": m.Name})
			f2.KnownCustomer = f.Before.TotalSpendFen > 0 || m.Source.Channel == "import"
			return f2, ok, err
		}
	}
	return Firing{}, false, nil
}

// SameInstant compares times as the store keeps them (to the microsecond).
func SameInstant(a, b time.Time) bool {
	return !a.IsZero() && a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}
