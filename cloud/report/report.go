// Package report defines the reports that show HQ what the programme
// earned: each a typed result computed by the store in SQL (per brand,
// store and period, in the brand's time zone), and each turned into one
// Table (rows for reading and CSV, series for a chart) that the API, the
// HQ command and the console share.
package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Names of the reports, as HQ asks for them.
const (
	NameDashboard   = "dashboard"
	NameRetention   = "retention"
	NameGroupBuy    = "groupbuy"
	NameConversion  = "conversion"
	NameRFM         = "rfm"
	NameLiabilities = "liabilities"
	NameConflicts   = "conflicts"
)

// Names lists every report.
var Names = []string{NameDashboard, NameRetention, NameGroupBuy, NameConversion, NameRFM, NameCampaigns, NameLiabilities, NameConflicts}

// Query says which brand, store and period a report covers.
type Query struct {
	BrandID string
	// StoreID limits the report to one store; "" is every store.
	StoreID string
	// From and To are calendar dates (YYYY-MM-DD) in the brand's zone, both
	// included.
	From, To string
}

// MaxPeriodDays bounds a report's period.
const MaxPeriodDays = 3 * 366

var storeRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// Validate checks the query is bounded and its period in order.
func (q Query) Validate() error {
	if q.StoreID != "" && !storeRE.MatchString(q.StoreID) {
		return cloud.Errorf(cloud.Invalid, "store %q is not a store id", q.StoreID)
	}
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return cloud.Errorf(cloud.Invalid, "from %q is not a date (YYYY-MM-DD)", q.From)
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return cloud.Errorf(cloud.Invalid, "to %q is not a date (YYYY-MM-DD)", q.To)
	}
	if to.Before(from) {
		return cloud.Errorf(cloud.Invalid, "to %s is before from %s", q.To, q.From)
	}
	if to.Sub(from) > MaxPeriodDays*24*time.Hour {
		return cloud.Errorf(cloud.Invalid, "a period is at most %d days", MaxPeriodDays)
	}
	return nil
}

// Days is the number of days the period spans.
func (q Query) Days() int {
	from, _ := time.Parse(time.DateOnly, q.From)
	to, _ := time.Parse(time.DateOnly, q.To)
	return int(to.Sub(from).Hours()/24) + 1
}

// AddDays returns the date d moved by n days.
func AddDays(d string, n int) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

// Kind says how a column's values read.
type Kind string

// Column kinds. Every value is carried as text: integers in decimal, money
// in integer fen, rates in basis points (1/100 of a percent).
const (
	Text  Kind = "text"
	Int   Kind = "int"
	Fen   Kind = "fen"
	BP    Kind = "bp"
	Date  Kind = "date"
	Month Kind = "month"
)

// Column is a table column: a stable key, English and Chinese titles.
type Column struct {
	Key     string
	Title   string
	TitleZH string
	Kind    Kind
}

// Point is one point of a series.
type Point struct {
	X string
	Y int64
}

// Series is a line or bars for a chart.
type Series struct {
	Key     string
	Title   string
	TitleZH string
	Kind    Kind
	Points  []Point
}

// Table is a report as rows and chart series.
type Table struct {
	Report  string
	Query   Query
	Columns []Column
	Rows    [][]string
	Series  []Series
	// Notes say what the figures cannot yet show (for instance "not
	// enough data"), as codes.
	Notes []string
}

// WriteCSV writes the table's rows with a header of column keys.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.Key
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, r := range t.Rows {
		if err := cw.Write(r); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// Source computes the reports; a store implements it in SQL.
type Source interface {
	Dashboard(ctx context.Context, q Query) (Dashboard, error)
	Retention(ctx context.Context, q Query) (Retention, error)
	GroupBuy(ctx context.Context, q Query) (GroupBuy, error)
	Conversion(ctx context.Context, q Query) (Conversion, error)
	RFM(ctx context.Context, q Query) (RFM, error)
	Liabilities(ctx context.Context, q Query) (Liabilities, error)
	Conflicts(ctx context.Context, q Query) (Conflicts, error)
	Campaigns(ctx context.Context, q Query) (Campaigns, error)
}

// Run computes the named report as a table.
func Run(ctx context.Context, src Source, name string, q Query) (Table, error) {
	if err := q.Validate(); err != nil {
		return Table{}, err
	}
	var t Table
	var err error
	switch name {
	case NameDashboard:
		var r Dashboard
		r, err = src.Dashboard(ctx, q)
		t = r.Table()
	case NameRetention:
		var r Retention
		r, err = src.Retention(ctx, q)
		t = r.Table()
	case NameGroupBuy:
		var r GroupBuy
		r, err = src.GroupBuy(ctx, q)
		t = r.Table()
	case NameConversion:
		var r Conversion
		r, err = src.Conversion(ctx, q)
		t = r.Table()
	case NameRFM:
		var r RFM
		r, err = src.RFM(ctx, q)
		t = r.Table()
	case NameCampaigns:
		var r Campaigns
		r, err = src.Campaigns(ctx, q)
		t = r.Table()
	case NameLiabilities:
		var r Liabilities
		r, err = src.Liabilities(ctx, q)
		t = r.Table()
	case NameConflicts:
		var r Conflicts
		r, err = src.Conflicts(ctx, q)
		t = r.Table()
	default:
		return Table{}, cloud.Errorf(cloud.Invalid, "no report named %q (%v)", name, Names)
	}
	if err != nil {
		return Table{}, fmt.Errorf("report %s: %w", name, err)
	}
	t.Report, t.Query = name, q
	return t, nil
}

// Rate is part/whole in basis points, rounded half up; 0 when whole is 0.
func Rate(part, whole int64) int64 {
	if whole <= 0 {
		return 0
	}
	return (part*20000 + whole) / (2 * whole)
}

func i(n int64) string { return strconv.FormatInt(n, 10) }

func col(key, title, zh string, k Kind) Column {
	return Column{Key: key, Title: title, TitleZH: zh, Kind: k}
}

// Months lists the months from a to b (YYYY-MM), both included.
func Months(a, b string) []string {
	t, err1 := time.Parse("2006-01", a)
	end, err2 := time.Parse("2006-01", b)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for !t.After(end) {
		out = append(out, t.Format("2006-01"))
		t = t.AddDate(0, 1, 0)
	}
	return out
}

// Dates lists the dates from a to b, both included.
func Dates(a, b string) []string {
	t, err1 := time.Parse(time.DateOnly, a)
	end, err2 := time.Parse(time.DateOnly, b)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for !t.After(end) {
		out = append(out, t.Format(time.DateOnly))
		t = t.AddDate(0, 0, 1)
	}
	return out
}
