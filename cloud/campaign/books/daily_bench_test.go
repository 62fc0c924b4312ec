package books_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
)

// BenchmarkDailyTimeTriggers evaluates the daily time triggers (a birthday
// in 3 days and a 90-day win-back) over a brand's members on PostgreSQL.
// Members are loaded by one set-based insert (birthdays spread over the
// year, last visits over 200 days). The actions are a message, so what is
// timed is the evaluation and the once-only grant rows, not coupon issue.
// MEMBERPASS_CAMPAIGN_BENCH_MEMBERS sets the size (default 100,000; the
// issue's target is 1,000,000 in under 10 s).
func BenchmarkDailyTimeTriggers(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("MEMBERPASS_CAMPAIGN_BENCH_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	db := pgtest.Open(b)
	f := newFixture(b, db)
	start := time.Now()
	_, err := db.SQL().ExecContext(ctx, `insert into members (brand_id, member_id, phone, name, birthday, visits, created_at, last_visit_at, source_channel, tier_id)
		select 'tea', 'b' || lpad(i::text, 8, '0'), null, 'm', to_char(date '2000-01-01' + (i % 365), 'YYYY-MM-DD'), 1,
		timestamptz '2025-01-01', timestamptz '2026-09-20' - make_interval(days => i % 200), 'import', 'regular'
		from generate_series(1, $1) as i`, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `analyze members`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d members in %v", n, time.Since(start).Round(time.Millisecond))
	msg := []campaign.Action{{Kind: campaign.ActionMessage, TemplateID: "care", Channel: "sms"}}
	f.start(campaign.Campaign{ID: "bday", Trigger: campaign.Trigger{Kind: campaign.TriggerBirthday, Days: 3}, Actions: msg})
	f.start(campaign.Campaign{ID: "winback", Trigger: campaign.Trigger{Kind: campaign.TriggerLapsed, Days: 90}, Actions: msg})
	f.eng.PageSize = 5000
	f.eng.Messenger = nil
	day := 0
	for b.Loop() {
		f.set(time.Date(2026, 9, 20+day, 2, 0, 0, 0, time.UTC))
		day++
		r, err := f.eng.RunDaily(ctx, "tea")
		if err != nil {
			b.Fatal(err)
		}
		if r.Members < int64(n) {
			b.Fatalf("run saw %d members of %d", r.Members, n)
		}
		b.ReportMetric(float64(r.Firings), "firings")
	}
	b.ReportMetric(float64(n), "members")
}
