// Package calendar knows the days Chinese shops run offers on: the fixed
// solar holidays (New Year, 520, National Day, 11.11), the lunar festivals
// (Spring Festival, Lantern, Dragon Boat, Qixi, Mid-Autumn), and when a
// birthday falls, solar or lunar, in a given year. Lunar dates come from
// github.com/6tail/lunar-go; this package turns them into plain dates so
// nothing else imports it.
//
// Dates here are calendar days without a time zone (Date); callers convert
// an instant to a Date in the brand's time zone first (DateOf).
//
// Rules stated once:
//   - A lunar birthday is kept as a lunar month and day (1-12, 1-30). A
//     member born in a leap month keeps that month's number and celebrates
//     in the ordinary month of that number every year (the common custom),
//     never in a leap month.
//   - A lunar birthday on the 30th falls, in a year whose month of that
//     number has only 29 days, on the 29th (the month's last day).
//   - A solar birthday on 29 February falls on 28 February in common years.
package calendar

import (
	"fmt"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"
)

// Date is a calendar day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the day an instant falls on in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// D makes a Date.
func D(y int, m time.Month, d int) Date { return Date{y, m, d} }

// Time is the start of the day in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays moves n days (negative: back).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// DaysUntil is the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 12, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Round(24*time.Hour) / (24 * time.Hour))
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.DaysUntil(e) > 0 }

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t, time.UTC), nil
}

// Lunar range the library and this package serve: beyond it nothing
// useful happens for a shop.
const (
	MinYear = 1901
	MaxYear = 2099
)

func inRange(year int) error {
	if year < MinYear || year > MaxYear {
		return fmt.Errorf("year %d is outside %d-%d", year, MinYear, MaxYear)
	}
	return nil
}

// LunarDate is a day of the Chinese lunar calendar.
type LunarDate struct {
	Year, Month, Day int
	Leap             bool
	// MonthDays is how many days this lunar month has (29 or 30).
	MonthDays int
}

// ToLunar converts a solar date.
func ToLunar(d Date) (LunarDate, error) {
	if err := inRange(d.Year); err != nil {
		return LunarDate{}, err
	}
	l := lunar.NewSolarFromYmd(d.Year, int(d.Month), d.Day).GetLunar()
	m := l.GetMonth()
	out := LunarDate{Year: l.GetYear(), Month: abs(m), Day: l.GetDay(), Leap: m < 0}
	out.MonthDays = lunar.NewLunarYear(l.GetYear()).GetMonth(m).GetDayCount()
	return out, nil
}

// FromLunar converts an ordinary (non-leap) lunar month and day of a lunar
// year to the solar date. A day past the month's length is an error; see
// LunarBirthday for the 30th-day rule.
func FromLunar(year, month, day int) (Date, error) {
	if err := inRange(year); err != nil {
		return Date{}, err
	}
	if month < 1 || month > 12 || day < 1 || day > 30 {
		return Date{}, fmt.Errorf("lunar month %d day %d: want month 1-12, day 1-30", month, day)
	}
	m := lunar.NewLunarYear(year).GetMonth(month)
	if m == nil {
		return Date{}, fmt.Errorf("lunar year %d has no month %d", year, month)
	}
	if day > m.GetDayCount() {
		return Date{}, fmt.Errorf("lunar %d month %d has %d days, not %d", year, month, m.GetDayCount(), day)
	}
	s := lunar.NewLunarFromYmd(year, month, day).GetSolar()
	return Date{s.GetYear(), time.Month(s.GetMonth()), s.GetDay()}, nil
}

// LunarBirthday is the solar date on which a lunar birthday (month, day)
// is celebrated in lunar year: in the ordinary month of that number, on
// the 29th when that month has no 30th.
func LunarBirthday(year, month, day int) (Date, error) {
	if err := inRange(year); err != nil {
		return Date{}, err
	}
	if month < 1 || month > 12 || day < 1 || day > 30 {
		return Date{}, fmt.Errorf("lunar birthday month %d day %d: want month 1-12, day 1-30", month, day)
	}
	m := lunar.NewLunarYear(year).GetMonth(month)
	if m == nil {
		return Date{}, fmt.Errorf("lunar year %d has no month %d", year, month)
	}
	return FromLunar(year, month, min(day, m.GetDayCount()))
}

// SolarBirthday is the date a solar birthday (month, day) falls on in
// year: 29 February is 28 February in a common year.
func SolarBirthday(year int, month time.Month, day int) (Date, error) {
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return Date{}, fmt.Errorf("birthday month %d day %d is not a date", month, day)
	}
	t := time.Date(year, month, day, 12, 0, 0, 0, time.UTC)
	if t.Month() != month {
		if month == time.February && day == 29 {
			return Date{year, time.February, 28}, nil
		}
		return Date{}, fmt.Errorf("birthday month %d day %d is not a date", month, day)
	}
	return Date{year, month, day}, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
