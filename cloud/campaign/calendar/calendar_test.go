package calendar

import (
	"testing"
	"time"
)

func TestHolidays(t *testing.T) {
	tests := []struct {
		id   string
		year int
		want string
	}{
		{"spring_festival", 2026, "2026-02-17"},
		{"spring_festival", 2027, "2027-02-06"},
		{"lantern", 2026, "2026-03-03"},
		{"dragon_boat", 2026, "2026-06-19"},
		{"qixi", 2026, "2026-08-19"},
		{"mid_autumn", 2026, "2026-09-25"},
		{"mid_autumn", 2027, "2027-09-15"},
		{"new_year", 2027, "2027-01-01"},
		{"520", 2026, "2026-05-20"},
		{"national_day", 2026, "2026-10-01"},
		{"double_11", 2026, "2026-11-11"},
	}
	for _, tt := range tests {
		h, err := HolidayByID(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.In(tt.year)
		if err != nil {
			t.Fatalf("%s %d: %v", tt.id, tt.year, err)
		}
		if got.String() != tt.want {
			t.Errorf("%s %d = %s, want %s", tt.id, tt.year, got, tt.want)
		}
	}
	if _, err := HolidayByID("christmas"); err == nil {
		t.Error("unknown holiday accepted")
	}
}

func TestHolidayNext(t *testing.T) {
	h, _ := HolidayByID("spring_festival")
	got, err := h.Next(D(2026, 3, 1))
	if err != nil || got.String() != "2027-02-06" {
		t.Fatalf("next spring festival after 2026-03-01 = %v, %v", got, err)
	}
	got, _ = h.Next(D(2026, 2, 17))
	if got.String() != "2026-02-17" {
		t.Fatalf("next on the day itself = %s", got)
	}
}

func TestToLunar(t *testing.T) {
	l, err := ToLunar(D(2027, 2, 6))
	if err != nil || l.Year != 2027 || l.Month != 1 || l.Day != 1 || l.Leap {
		t.Fatalf("2027-02-06 = %+v, %v; want lunar 2027-1-1", l, err)
	}
	// 2025 has a leap sixth month: 2025-07-25 is its first day.
	l, _ = ToLunar(D(2025, 7, 25))
	if !l.Leap || l.Month != 6 || l.Day != 1 {
		t.Fatalf("2025-07-25 = %+v, want leap month 6 day 1", l)
	}
}

func TestLunarBirthday(t *testing.T) {
	tests := []struct {
		name             string
		year, month, day int
		want             string
	}{
		{"ordinary", 2026, 8, 15, "2026-09-25"},
		// Born in the leap sixth month of 2025: celebrated in the ordinary
		// sixth month, in 2025 too (2025-06-25 is lunar 6-1, the leap month
		// starts 2025-07-25).
		{"leap-month birth celebrated in the ordinary month", 2025, 6, 1, "2025-06-25"},
		// Lunar 2026 month 2 has 29 days (day 1 is 2026-03-19, day 29 is
		// 2026-04-16): a 30th-day birthday falls on the 29th.
		{"30th in a 29-day month", 2026, 2, 30, "2026-04-16"},
		// Lunar 2027 month 1 has 30 days.
		{"30th in a 30-day month", 2027, 1, 30, "2027-03-07"},
	}
	for _, tt := range tests {
		got, err := LunarBirthday(tt.year, tt.month, tt.day)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got.String() != tt.want {
			t.Errorf("%s: lunar %d-%d-%d = %s, want %s", tt.name, tt.year, tt.month, tt.day, got, tt.want)
		}
	}
	for _, bad := range [][3]int{{2026, 13, 1}, {2026, 1, 31}, {2026, 0, 1}, {1800, 1, 1}} {
		if _, err := LunarBirthday(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("lunar birthday %v accepted", bad)
		}
	}
}

func TestSolarBirthday(t *testing.T) {
	got, err := SolarBirthday(2027, time.February, 29)
	if err != nil || got.String() != "2027-02-28" {
		t.Fatalf("29 Feb in 2027 = %v, %v", got, err)
	}
	got, _ = SolarBirthday(2028, time.February, 29)
	if got.String() != "2028-02-29" {
		t.Fatalf("29 Feb in 2028 = %v", got)
	}
	if _, err := SolarBirthday(2027, time.April, 31); err == nil {
		t.Fatal("31 April accepted")
	}
}

func TestDateArithmetic(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	// 2026-12-31 20:00 UTC is already 2027-01-01 in Shanghai.
	if d := DateOf(time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC), loc); d.String() != "2027-01-01" {
		t.Fatalf("DateOf = %s", d)
	}
	if n := D(2026, 12, 30).DaysUntil(D(2027, 1, 2)); n != 3 {
		t.Fatalf("DaysUntil = %d", n)
	}
	if d := D(2028, 2, 28).AddDays(1); d.String() != "2028-02-29" {
		t.Fatalf("AddDays = %s", d)
	}
}
