package report

// Retention is how members came back. Visits are counted per visit day (a
// member scanned twice on one day visited once), in the brand's zone, at
// the query's store when it names one.
type Retention struct {
	// Visitors visited at least once in the period; Repeaters on two days
	// or more; RepeatRateBP is Repeaters/Visitors in basis points.
	Visitors, Repeaters, RepeatRateBP int64
	// Cohorts are members by the month of their first visit ever (months
	// of the period only), with how many of them visited in each month
	// from then to the period's last month (Active[0] is the first month,
	// always the cohort's size).
	Cohorts []Cohort
	// BySource are the members who joined in the period, by how they
	// joined, with how many visited since and how many on two days or more.
	BySource []SourceCohort
	// SecondVisit is how long members whose first visit was in the period
	// took to come back on another day (up to the period's end).
	SecondVisit SecondVisit
}

// Cohort is the members whose first visit fell in one month.
type Cohort struct {
	Month  string
	Size   int64
	Active []int64
}

// SourceCohort is the members who joined one way.
type SourceCohort struct {
	Channel  string
	Joined   int64
	Visited  int64
	Repeated int64
}

// SecondVisit is the time between a first and a second visit day.
type SecondVisit struct {
	FirstVisitors int64
	Returned      int64
	// MedianDays is the lower median of the days to the second visit of
	// those who returned (0 when none did).
	MedianDays                                int64
	Within7, Within30, Within90, Later, Never int64
}

// Table is the cohort triangle; the summary figures are series.
func (r Retention) Table() Table {
	longest := 0
	for _, c := range r.Cohorts {
		longest = max(longest, len(c.Active))
	}
	t := Table{Columns: []Column{col("cohort", "First visit month", "首次到店月份", Month), col("size", "Members", "人数", Int)}}
	for k := range longest {
		t.Columns = append(t.Columns, col("m"+i(int64(k)), "Month +"+i(int64(k)), "第"+i(int64(k))+"月", Int))
	}
	for _, c := range r.Cohorts {
		row := []string{c.Month, i(c.Size)}
		for k := range longest {
			if k < len(c.Active) {
				row = append(row, i(c.Active[k]))
			} else {
				row = append(row, "")
			}
		}
		t.Rows = append(t.Rows, row)
	}
	sum := Series{Key: "summary", Title: "Repeat and second visit", TitleZH: "复购与二次到店", Kind: Int, Points: []Point{
		{"visitors", r.Visitors}, {"repeaters", r.Repeaters}, {"repeat_rate_bp", r.RepeatRateBP},
		{"first_visitors", r.SecondVisit.FirstVisitors}, {"returned", r.SecondVisit.Returned}, {"median_days_to_second", r.SecondVisit.MedianDays},
		{"within_7", r.SecondVisit.Within7}, {"within_30", r.SecondVisit.Within30}, {"within_90", r.SecondVisit.Within90},
		{"later", r.SecondVisit.Later}, {"never", r.SecondVisit.Never},
	}}
	t.Series = append(t.Series, sum)
	for _, s := range r.BySource {
		t.Series = append(t.Series, Series{Key: "source:" + s.Channel, Title: "Joined by " + s.Channel, TitleZH: "入会渠道 " + s.Channel, Kind: Int,
			Points: []Point{{"joined", s.Joined}, {"visited", s.Visited}, {"repeated", s.Repeated}}})
	}
	return t
}
