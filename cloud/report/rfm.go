package report

// RFMWindowDays is the window frequency and spend are counted over: the
// 365 days ending on the day the grid is drawn for.
const RFMWindowDays = 365

// Recency buckets: days since the last visit day (0 is that day).
var RecencyBuckets = []struct {
	Key     string
	MaxDays int64
}{{"r0-30", 30}, {"r31-90", 90}, {"r91-180", 180}, {"r181-365", 364}}

// Frequency buckets: visit days in the window.
var FrequencyBuckets = []struct {
	Key     string
	MaxDays int64
}{{"f1", 1}, {"f2-3", 3}, {"f4-9", 9}, {"f10+", 1 << 62}}

// NoCell is where a member with no visit in the window is.
const NoCell = "none"

// RFM is the grid of members by recency and frequency of visits, with
// their spend (monetary), as of the period's last day, and how members
// moved between cells from the end of the month before that day's month.
// At a store, only visits and purchases there count.
type RFM struct {
	AsOf     string
	Before   string
	Cells    []RFMCell
	Movement []Move
}

// RFMCell is one cell: recency bucket x frequency bucket.
type RFMCell struct {
	Recency, Frequency string
	Members            int64
	SpendFen           int64
}

// Move counts members who were in cell From at Before and in To at AsOf.
type Move struct {
	From, To string
	Members  int64
}

// Cell names a cell.
func Cell(recency, frequency string) string { return recency + "/" + frequency }

// Table is the grid, one row per cell (every cell, empty ones too), then
// the movement as series.
func (r RFM) Table() Table {
	t := Table{Columns: []Column{
		col("recency", "Recency", "最近到店", Text), col("frequency", "Frequency", "到店频次", Text),
		col("members", "Members", "人数", Int), col("spend_fen", "Spend", "消费额", Fen),
	}}
	for _, c := range r.Cells {
		t.Rows = append(t.Rows, []string{c.Recency, c.Frequency, i(c.Members), i(c.SpendFen)})
	}
	s := Series{Key: "movement", Title: "Moved since " + r.Before, TitleZH: "自" + r.Before + "起的迁移", Kind: Int}
	for _, m := range r.Movement {
		s.Points = append(s.Points, Point{m.From + ">" + m.To, m.Members})
	}
	t.Series = []Series{s}
	return t
}
