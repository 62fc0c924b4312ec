package calendar

import (
	"fmt"
	"slices"
	"time"
)

// Holiday is a day shops run an offer on.
type Holiday struct {
	// ID is how campaigns name it.
	ID string
	ZH string
	EN string
	// Lunar holidays are a lunar month and day; the others a solar one.
	Lunar bool
	Month int
	Day   int
}

// Holidays is the calendar, in the order of the year they usually fall.
var Holidays = []Holiday{
	{ID: "new_year", ZH: "元旦", EN: "New Year's Day", Month: 1, Day: 1},
	{ID: "spring_festival", ZH: "春节", EN: "Spring Festival", Lunar: true, Month: 1, Day: 1},
	{ID: "lantern", ZH: "元宵节", EN: "Lantern Festival", Lunar: true, Month: 1, Day: 15},
	{ID: "520", ZH: "520", EN: "520 (May 20)", Month: 5, Day: 20},
	{ID: "dragon_boat", ZH: "端午节", EN: "Dragon Boat Festival", Lunar: true, Month: 5, Day: 5},
	{ID: "qixi", ZH: "七夕", EN: "Qixi Festival", Lunar: true, Month: 7, Day: 7},
	{ID: "mid_autumn", ZH: "中秋节", EN: "Mid-Autumn Festival", Lunar: true, Month: 8, Day: 15},
	{ID: "national_day", ZH: "国庆节", EN: "National Day", Month: 10, Day: 1},
	{ID: "double_11", ZH: "双十一", EN: "Singles' Day (11.11)", Month: 11, Day: 11},
}

// HolidayByID finds a holiday.
func HolidayByID(id string) (Holiday, error) {
	i := slices.IndexFunc(Holidays, func(h Holiday) bool { return h.ID == id })
	if i < 0 {
		ids := make([]string, len(Holidays))
		for j, h := range Holidays {
			ids[j] = h.ID
		}
		return Holiday{}, fmt.Errorf("holiday %q is not in the calendar (%v)", id, ids)
	}
	return Holidays[i], nil
}

// In is the solar date of the holiday in a year: for a lunar holiday, the
// one whose lunar year begins in that solar year (Spring Festival 2027 is
// 2027-02-06).
func (h Holiday) In(year int) (Date, error) {
	if !h.Lunar {
		return Date{year, time.Month(h.Month), h.Day}, nil
	}
	return FromLunar(year, h.Month, h.Day)
}

// Next is the first day on or after d when the holiday falls.
func (h Holiday) Next(d Date) (Date, error) {
	for _, y := range []int{d.Year, d.Year + 1} {
		at, err := h.In(y)
		if err != nil {
			return Date{}, err
		}
		if !at.Before(d) {
			return at, nil
		}
	}
	return Date{}, fmt.Errorf("holiday %s: no date after %s", h.ID, d)
}
