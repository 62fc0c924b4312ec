// Command reportscale measures segments and reports on PostgreSQL at scale:
// it loads a synthetic brand (members, their events and daily activity,
// in the cloud's own schema, by COPY) into a schema of its own, runs
// ANALYZE, then times a segment count, the dashboard, the retention
// cohorts and the RFM grid through the same code HQ's API calls.
//
//	go run ./scripts/cmd/reportscale -members 1000000 -events-per-member 10
//
// Add -keep to leave the schema (and -reuse SCHEMA to measure it again
// without loading).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/report"
	"github.com/memberpass/memberpass/cloud/segment"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

const brand = "bench"

func main() {
	base := flag.String("postgres", envOr("MEMBERPASS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server")
	members := flag.Int("members", 100_000, "members to load")
	perMember := flag.Int("events-per-member", 10, "events per member on average (visits and purchases)")
	keep := flag.Bool("keep", false, "keep the schema afterwards")
	reuse := flag.String("reuse", "", "measure this schema (left by -keep) without loading")
	runs := flag.Int("runs", 3, "times each query runs (the median is printed)")
	flag.Parse()
	ctx := context.Background()

	schema := *reuse
	if schema == "" {
		schema = fmt.Sprintf("scale_%d", time.Now().Unix())
		conn, err := pgx.Connect(ctx, *base)
		if err != nil {
			log.Fatalf("connect: %v", err)
		}
		if _, err := conn.Exec(ctx, "create schema "+schema); err != nil {
			log.Fatalf("create schema: %v", err)
		}
		conn.Close(ctx)
		if !*keep {
			defer func() {
				conn, err := pgx.Connect(ctx, *base)
				if err == nil {
					conn.Exec(ctx, "drop schema "+schema+" cascade")
					conn.Close(ctx)
				}
			}()
		}
	}
	dsn := withSearchPath(*base, schema)
	db, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		log.Fatalf("open: %v", err)
	}
	defer db.Close()
	if *reuse == "" {
		start := time.Now()
		nEvents, err := load(ctx, db, dsn, *members, *perMember)
		if err != nil {
			log.Fatalf("load: %v", err)
		}
		fmt.Printf("loaded %d members and %d events into %s in %s\n", *members, nEvents, schema, time.Since(start).Round(time.Second))
	}
	measure(ctx, db, *runs)
	if *keep {
		fmt.Println("schema kept:", schema)
	}
}

// now is the instant the synthetic data ends.
var now = time.Date(2026, 11, 29, 12, 0, 0, 0, shanghai)

var shanghai, _ = time.LoadLocation(cloud.DefaultTimeZone)

// load writes the synthetic brand: members joined over two years, each
// with about perMember events (a visit and, most times, a purchase on the
// same day; a top-up now and then), and their activity per local day.
func load(ctx context.Context, db *sqlstore.DB, dsn string, members, perMember int) (int64, error) {
	err := db.Update(ctx, func(tx cloud.Tx) error {
		if err := tx.PutBrand(cloud.Brand{ID: brand, Name: brand, Currency: "CNY", TimeZone: cloud.DefaultTimeZone, MemberCodeKey: make([]byte, 64), Programme: cloud.DefaultProgramme(), CreatedAt: now.AddDate(-3, 0, 0)}); err != nil {
			return err
		}
		for s := range 50 {
			if err := tx.PutStore(cloud.Store{BrandID: brand, ID: fmt.Sprintf("s%03d", s), Name: "store", CreatedAt: now.AddDate(-3, 0, 0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	// Indexes are dropped while loading and made again after, as a bulk
	// load would.
	idx := []string{
		"create unique index events_log on events (brand_id, log_seq)",
		"create index events_device_seq on events (brand_id, device_id, seq)",
		"create index events_member_time on events (brand_id, member_id, occurred_at)",
		"create index events_time on events (brand_id, occurred_at)",
		"create index members_created on members (brand_id, created_at)",
		"create unique index members_phone on members (brand_id, phone)",
		"create index member_activity_day on member_activity (brand_id, day)",
	}
	for _, q := range idx {
		name := strings.Fields(q)[2]
		if name == "index" {
			name = strings.Fields(q)[3]
		}
		if _, err := conn.Exec(ctx, "drop index if exists "+name); err != nil {
			return 0, err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	span := 2 * 365 * 24 * time.Hour
	channels := []string{"counter", "join_page", "group_buy", "import", "referral"}
	tiers := []string{"regular", "regular", "regular", "silver", "gold"}
	var logSeq int64
	const batch = 50_000
	var mRows, eRows, aRows [][]any
	flush := func(final bool) error {
		if len(mRows) >= batch || final {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"members"}, []string{"brand_id", "member_id", "phone", "name", "birthday", "visits", "created_at", "last_visit_at",
				"source_channel", "source_store_id", "source_staff_id", "source_campaign_id", "consent", "tags", "tier_id", "points", "sv_principal_fen", "sv_bonus_fen", "total_spend_fen"},
				pgx.CopyFromRows(mRows)); err != nil {
				return fmt.Errorf("copy members: %w", err)
			}
			mRows = mRows[:0]
		}
		if len(eRows) >= batch*5 || final {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"brand_id", "event_id", "log_seq", "device_id", "seq", "store_id", "member_id", "staff_id",
				"kind", "outcome", "occurred_at", "received_at", "bill_fen", "net_fen", "stored_value_fen", "points_burned", "amount_fen", "bonus_fen"},
				pgx.CopyFromRows(eRows)); err != nil {
				return fmt.Errorf("copy events: %w", err)
			}
			eRows = eRows[:0]
		}
		if len(aRows) >= batch*5 || final {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"member_activity"}, []string{"brand_id", "member_id", "day", "visits", "spend_fen"}, pgx.CopyFromRows(aRows)); err != nil {
				return fmt.Errorf("copy activity: %w", err)
			}
			aRows = aRows[:0]
		}
		return nil
	}
	for m := range members {
		id := fmt.Sprintf("m%09d", m)
		created := now.Add(-time.Duration(rng.Int64N(int64(span))))
		home := fmt.Sprintf("s%03d", rng.IntN(50))
		n := rng.IntN(2*perMember + 1) // 0 .. 2x: some never come
		type day struct{ visits, spend int64 }
		days := map[time.Time]*day{}
		var visits, spend int64
		var last time.Time
		at := created
		for k := 0; k < n; k += 2 {
			at = at.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
			if at.After(now) {
				break
			}
			store := home
			if rng.IntN(4) == 0 {
				store = fmt.Sprintf("s%03d", rng.IntN(50))
			}
			staff := fmt.Sprintf("st%02d", rng.IntN(10))
			logSeq++
			eRows = append(eRows, []any{brand, fmt.Sprintf("e%d", logSeq), logSeq, store + "-d", logSeq, store, id, staff, "visit", "applied", at, at, nil, nil, nil, nil, nil, nil})
			d := time.Date(at.In(shanghai).Year(), at.In(shanghai).Month(), at.In(shanghai).Day(), 0, 0, 0, 0, time.UTC)
			if days[d] == nil {
				days[d] = &day{}
			}
			days[d].visits++
			visits++
			last = at
			if k+1 < n {
				bill := int64(2000 + rng.IntN(20000))
				logSeq++
				kind := "purchase"
				row := []any{brand, fmt.Sprintf("e%d", logSeq), logSeq, store + "-d", logSeq, store, id, staff, kind, "applied", at.Add(5 * time.Minute), at.Add(5 * time.Minute), bill, bill, int64(0), int64(0), nil, nil}
				if rng.IntN(10) == 0 {
					row[8], row[12], row[13], row[14], row[15], row[16], row[17] = "top_up", nil, nil, nil, nil, int64(50000), int64(5000)
				} else {
					days[d].spend += bill
					spend += bill
				}
				eRows = append(eRows, row)
			}
		}
		for d, a := range days {
			aRows = append(aRows, []any{brand, id, d.Format(time.DateOnly), a.visits, a.spend})
		}
		var lastAt any
		if !last.IsZero() {
			lastAt = last
		}
		var tags any
		if rng.IntN(5) == 0 {
			tags = `["vip"]`
		}
		mRows = append(mRows, []any{brand, id, fmt.Sprintf("1%010d", m), "member", fmt.Sprintf("1990-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28)), visits, created, lastAt,
			channels[rng.IntN(len(channels))], home, fmt.Sprintf("st%02d", rng.IntN(10)), nil, rng.IntN(2) == 0, tags, tiers[rng.IntN(len(tiers))],
			rng.Int64N(2000), int64(0), int64(0), spend})
		if err := flush(false); err != nil {
			return 0, err
		}
	}
	if err := flush(true); err != nil {
		return 0, err
	}
	for _, q := range idx {
		if _, err := conn.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	if _, err := conn.Exec(ctx, "analyze"); err != nil {
		return 0, err
	}
	return logSeq, nil
}

// measure times each query runs times and prints the median.
func measure(ctx context.Context, db *sqlstore.DB, runs int) {
	segs := db.Segments()
	two := int64(2)
	timed := func(name string, fn func() (string, error)) {
		var ds []time.Duration
		var out string
		for range runs {
			start := time.Now()
			var err error
			if out, err = fn(); err != nil {
				log.Fatalf("%s: %v", name, err)
			}
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("| %s | %s | %s |\n", name, ds[len(ds)/2].Round(time.Millisecond), out)
	}
	count := func(r segment.Rules) func() (string, error) {
		return func() (string, error) {
			n, err := segs.Count(ctx, brand, r, segment.Defaults, now)
			return fmt.Sprintf("%d members", n), err
		}
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average while measuring: %s\n", strings.Join(strings.Fields(string(raw))[:3], " "))
	}
	fmt.Println("| measure | median | result |")
	fmt.Println("|---|---|---|")
	// Baselines from the same run: a plain full scan of the brand's
	// events and of its members.
	timed("baseline: full scan of the brand's events", func() (string, error) {
		var n, s int64
		err := db.SQL().QueryRowContext(ctx, `select count(*), coalesce(sum(net_fen), 0) from events where brand_id = $1`, brand).Scan(&n, &s)
		return fmt.Sprintf("%d events", n), err
	})
	timed("baseline: full scan of the brand's members", func() (string, error) {
		var n, s int64
		err := db.SQL().QueryRowContext(ctx, `select count(*), coalesce(sum(points), 0) from members where brand_id = $1`, brand).Scan(&n, &s)
		return fmt.Sprintf("%d members", n), err
	})
	timed("segment count: every member", count(segment.Rules{}))
	timed("segment count: tier gold, vip, consent, born in March", count(segment.Rules{Tiers: []string{"gold"}, Tags: []string{"vip"}, Consent: ptr(true), BirthdayMonths: []int{3}}))
	timed("segment count: 2+ visits in 90 days (RFM window)", count(segment.Rules{WindowDays: 90, Visits: &segment.Range{Min: &two}}))
	timed("segment count: stage lapsing or returned", count(segment.Rules{Stages: []segment.Stage{segment.Lapsing, segment.Returned}}))
	src := db.Reports()
	today := now.Format(time.DateOnly)
	table := func(name string, q report.Query) func() (string, error) {
		return func() (string, error) {
			t, err := report.Run(ctx, src, name, q)
			return fmt.Sprintf("%d rows", len(t.Rows)), err
		}
	}
	timed("dashboard: today vs a week ago", table(report.NameDashboard, report.Query{BrandID: brand, From: today, To: today}))
	timed("dashboard: one store, today", table(report.NameDashboard, report.Query{BrandID: brand, StoreID: "s001", From: today, To: today}))
	timed("retention: 12 months of cohorts", table(report.NameRetention, report.Query{BrandID: brand, From: report.AddDays(today, -364), To: today}))
	timed("rfm: grid and movement", table(report.NameRFM, report.Query{BrandID: brand, From: today, To: today}))
}

func ptr[T any](v T) *T { return &v }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func withSearchPath(conn, schema string) string {
	u, err := url.Parse(conn)
	if err != nil {
		return conn
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
