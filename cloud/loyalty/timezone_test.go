package loyalty_test

import (
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// TestCalendarRulesRunInTheBrandsZone: a Tuesday double-points day is
// Tuesday in Shanghai (00:00 to 24:00 +08:00), not in UTC, and points
// expire at the end of the brand's calendar year.
func TestCalendarRulesRunInTheBrandsZone(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		p := ok(f.svc.Programme(ctx, f.brand))(t)
		p.BonusDays = []cloud.BonusDay{{Weekday: int(time.Tuesday), MultiplierPct: 200}}
		ok(f.svc.SetProgramme(ctx, f.brand, p))(t)
		m := f.member("13800000301")
		cases := []struct {
			at   time.Time
			want int64
		}{
			{time.Date(2026, 3, 2, 16, 30, 0, 0, time.UTC), 240}, // Tuesday 00:30 in Shanghai
			{time.Date(2026, 3, 3, 15, 59, 0, 0, time.UTC), 240}, // Tuesday 23:59
			{time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC), 120},  // Wednesday 07:00, still Tuesday in UTC
			{time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), 120},  // Monday 18:00
		}
		for _, c := range cases {
			ev := purchase(m.ID, cloud.Purchase{BillFen: 12000})
			ev.OccurredAt = c.at
			f.now = c.at // the cloud refuses events from its future
			before := ok(f.svc.GetMember(ctx, f.brand, m.ID, ""))(t).Points
			if res := f.push(0, ev); res.Outcome != cloud.Applied {
				t.Fatalf("purchase at %s: %s %s", c.at, res.Outcome, res.Reason)
			}
			if got := ok(f.svc.GetMember(ctx, f.brand, m.ID, ""))(t).Points - before; got != c.want {
				t.Errorf("purchase at %s (UTC) earned %d points, want %d", c.at.Format(time.RFC3339), got, c.want)
			}
		}
		// Earned at 02:00 on New Year's Day in Shanghai (still the old year
		// in UTC): the points belong to 2027 and expire at the end of 2028,
		// Shanghai time.
		ev := purchase(m.ID, cloud.Purchase{BillFen: 1000})
		ev.OccurredAt = time.Date(2026, 12, 31, 18, 0, 0, 0, time.UTC)
		f.now = ev.OccurredAt
		f.push(0, ev)
		h := ok(f.svc.History(ctx, f.brand, m.ID))(t)
		last := h.Points[len(h.Points)-1]
		if want := time.Date(2028, 12, 31, 16, 0, 0, 0, time.UTC); !last.ExpiresAt.Equal(want) {
			t.Errorf("points earned %s expire %s, want %s", ev.OccurredAt, last.ExpiresAt, want)
		}
		if _, err := f.svc.SetTimeZone(ctx, f.brand, "Mars/Olympus"); cloud.ErrorCode(err) != cloud.Invalid {
			t.Errorf("unknown zone: %v, want invalid", err)
		}
		b := ok(f.svc.SetTimeZone(ctx, f.brand, "UTC"))(t)
		if b.TimeZone != "UTC" {
			t.Errorf("zone %q", b.TimeZone)
		}
		ev = purchase(m.ID, cloud.Purchase{BillFen: 12000})
		ev.OccurredAt = time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC) // Tuesday in UTC
		f.now = ev.OccurredAt
		before := ok(f.svc.GetMember(ctx, f.brand, m.ID, ""))(t).Points
		f.push(0, ev)
		if got := ok(f.svc.GetMember(ctx, f.brand, m.ID, ""))(t).Points - before; got != 240 {
			t.Errorf("after moving the brand to UTC, a Tuesday (UTC) purchase earned %d points, want 240", got)
		}
	})
}
