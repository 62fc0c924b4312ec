package sqlstore_test

import (
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestLocalDay checks that SQLite's mp_local_day and PostgreSQL's
// "at time zone" put the same instants on the same local dates as Go,
// across daylight-saving changes.
func TestLocalDay(t *testing.T) {
	lite, pg := sqltest.OpenSQLite(t), sqltest.OpenPostgres(t)
	zones := []string{"Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"}
	instants := []time.Time{
		time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), // New York springs forward
		time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 4, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 10, 15, 59, 59, 999999000, time.UTC), time.Date(2026, 3, 10, 16, 0, 0, 0, time.UTC), // midnight in Shanghai
		time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC),
	}
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range instants {
			want := at.In(loc).Format(time.DateOnly)
			var a, b string
			if err := lite.SQL().QueryRow(`select mp_local_day($1, $2)`, at, z).Scan(&a); err != nil {
				t.Fatal(err)
			}
			if err := pg.SQL().QueryRow(`select to_char(cast($1 as timestamptz) at time zone $2, 'YYYY-MM-DD')`, at, z).Scan(&b); err != nil {
				t.Fatal(err)
			}
			if a != want || b != want {
				t.Errorf("%s in %s: sqlite %s, postgres %s, want %s", at, z, a, b, want)
			}
		}
	}
}
