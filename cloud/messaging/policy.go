package messaging

import (
	"fmt"
	"time"
)

// Caps bound how many messages one member gets on one channel, across all
// campaigns. Marketing and transactional messages are counted apart, so
// marketing can never use up what a balance notice needs.
type Caps struct {
	MarketingPerDay     int
	MarketingPerWeek    int
	TransactionalPerDay int
}

// DefaultCaps are what a brand gets until HQ sets its own: at most one
// marketing message a day and three a week per member per channel.
var DefaultCaps = Caps{MarketingPerDay: 1, MarketingPerWeek: 3, TransactionalPerDay: 20}

// QuietHours is a daily window, in the brand's time zone, when marketing
// waits. Start and End are minutes after midnight; Start > End spans
// midnight (21:00-09:00). Start == End means no quiet hours.
type QuietHours struct {
	Start int
	End   int
}

// DefaultQuietHours is 21:00 to 09:00.
var DefaultQuietHours = QuietHours{Start: 21 * 60, End: 9 * 60}

// ParseQuietHours reads "21:00-09:00"; "off" or "" means none.
func ParseQuietHours(s string) (QuietHours, error) {
	if s == "off" || s == "" {
		return QuietHours{}, nil
	}
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 < 0 || h1 > 23 || h2 < 0 || h2 > 23 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return QuietHours{}, invalidf(TextBadField, "quiet hours", fmt.Sprintf("%q, want HH:MM-HH:MM", s))
	}
	return QuietHours{Start: h1*60 + m1, End: h2*60 + m2}, nil
}

func (q QuietHours) String() string {
	if q.Start == q.End {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// contains reports whether minute-of-day m is inside the window.
func (q QuietHours) contains(m int) bool {
	switch {
	case q.Start == q.End:
		return false
	case q.Start < q.End:
		return m >= q.Start && m < q.End
	default:
		return m >= q.Start || m < q.End
	}
}

// Until returns when the quiet window holding t ends, or t itself when t is
// outside it. Times are read in loc, the brand's zone, so daylight saving
// and zones other than China's work.
func (q QuietHours) Until(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if !q.contains(m) {
		return t
	}
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.End/60, q.End%60, 0, 0, loc)
	if !end.After(lt) {
		end = time.Date(lt.Year(), lt.Month(), lt.Day()+1, q.End/60, q.End%60, 0, 0, loc)
	}
	return end.UTC()
}

// Policy is a brand's messaging settings.
type Policy struct {
	BrandID string
	// TimeZone is an IANA name; calendar days for caps and quiet hours are
	// counted in it. Empty (the default): the brand's own zone.
	TimeZone   string
	Caps       Caps
	QuietHours QuietHours
	// SMSSignName is the brand's approved SMS signature (签名), shown as
	// 【SignName】 before every SMS.
	SMSSignName string
	// OptOutText must appear in every marketing SMS template.
	OptOutText string
	// WebhookURL and WebhookSecret: the brand's own endpoint and the key
	// its requests are signed with.
	WebhookURL    string
	WebhookSecret string
	UpdatedAt     time.Time
	// loc is TimeZone loaded, when WithLocation did it: loading a zone
	// reads the time zone database.
	loc *time.Location
}

// WithLocation returns the policy with its zone loaded once, for the many
// messages of a batch: its own, or brandZone when it names none.
func (p Policy) WithLocation(brandZone string) Policy {
	if p.TimeZone == "" && brandZone != "" {
		if loc, err := time.LoadLocation(brandZone); err == nil {
			p.loc = loc
			return p
		}
	}
	p.loc = nil
	p.loc = p.Location()
	return p
}

// DefaultOptOutText is the opt-out line of marketing SMS: reply TD.
const DefaultOptOutText = "回TD退订"

// DefaultPolicy is a brand's policy until HQ sets one.
func DefaultPolicy(brand string) Policy {
	return Policy{BrandID: brand, Caps: DefaultCaps, QuietHours: DefaultQuietHours, OptOutText: DefaultOptOutText}
}

// Limits on settings HQ may enter.
const (
	maxCap        = 1000
	maxSignName   = 12
	maxOptOutText = 20
	maxURL        = 2048
	maxSecret     = 256
)

// Validate checks a policy HQ entered.
func (p Policy) Validate() error {
	if _, err := time.LoadLocation(p.TimeZone); p.TimeZone != "" && (err != nil || p.TimeZone == "Local") {
		return invalidf(TextBadField, "time zone", fmt.Sprintf("%q is not an IANA zone such as Asia/Shanghai", p.TimeZone))
	}
	for name, v := range map[string]int{"marketing per day": p.Caps.MarketingPerDay, "marketing per week": p.Caps.MarketingPerWeek, "transactional per day": p.Caps.TransactionalPerDay} {
		if v < 0 || v > maxCap {
			return invalidf(TextBadField, name, fmt.Sprintf("%d, want 0 to %d", v, maxCap))
		}
	}
	if p.Caps.MarketingPerWeek < p.Caps.MarketingPerDay {
		return invalidf(TextBadField, "marketing per week", "less than per day")
	}
	for _, m := range []int{p.QuietHours.Start, p.QuietHours.End} {
		if m < 0 || m >= 24*60 {
			return invalidf(TextBadField, "quiet hours", fmt.Sprint(m))
		}
	}
	if n := len([]rune(p.SMSSignName)); n > maxSignName || (n > 0 && n < 2) {
		return invalidf(TextBadField, "SMS sign name", fmt.Sprintf("%d characters, want 2 to %d", n, maxSignName))
	}
	if n := len([]rune(p.OptOutText)); n == 0 || n > maxOptOutText {
		return invalidf(TextBadField, "opt-out text", fmt.Sprintf("%d characters, want 1 to %d", n, maxOptOutText))
	}
	if len(p.WebhookURL) > maxURL || len(p.WebhookSecret) > maxSecret {
		return invalidf(TextBadField, "webhook", "URL or secret too long")
	}
	if p.WebhookURL != "" && len(p.WebhookSecret) < 16 {
		return invalidf(TextBadField, "webhook secret", "at least 16 characters")
	}
	return nil
}

// Location is the policy's zone: the one WithLocation loaded, its own, or
// Asia/Shanghai.
func (p Policy) Location() *time.Location {
	if p.loc != nil {
		return p.loc
	}
	if loc, err := time.LoadLocation(p.TimeZone); err == nil && p.TimeZone != "" {
		return loc
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Windows are the starts, in UTC, of the calendar day and of the 7-day
// window (today and the 6 days before) holding t in the brand's zone:
// caps count the messages reserved since.
func (p Policy) Windows(t time.Time) (dayStart, weekStart time.Time) {
	lt := t.In(p.Location())
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, lt.Location())
	return d.UTC(), time.Date(lt.Year(), lt.Month(), lt.Day()-6, 0, 0, 0, 0, lt.Location()).UTC()
}

// Limits returns the caps for a category: per day and per 7 days (0
// means no weekly cap). A cap of 0 per day blocks the category.
func (p Policy) Limits(c Category) (perDay, perWeek int) {
	if c == Transactional {
		return p.Caps.TransactionalPerDay, 0
	}
	return p.Caps.MarketingPerDay, p.Caps.MarketingPerWeek
}
