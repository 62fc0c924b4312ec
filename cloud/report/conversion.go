package report

// ValueDays is the span over which a new member's value is counted: the
// net of their purchases on the day they joined and the 89 days after.
const ValueDays = 90

// Conversion is how stores and staff turn walk-ins into members. Walk-ins
// scanned are group-buy vouchers redeemed at the counter in the period
// (each a customer the counter saw); members enrolled are members who
// joined at the store (by the staff member) in the period; their value is
// their purchases' net in ValueDays from joining (up to now).
type Conversion struct {
	Stores []ConversionRow
	Staff  []ConversionRow
}

// ConversionRow is one store, or one staff member at a store.
type ConversionRow struct {
	StoreID        string
	StaffID        string
	WalkIns        int64
	Enrolled       int64
	ConversionBP   int64
	Value90DaysFen int64
}

// Table has a row per store (staff empty), then per staff member.
func (c Conversion) Table() Table {
	t := Table{Columns: []Column{
		col("store", "Store", "门店", Text), col("staff", "Staff", "员工", Text), col("walk_ins", "Walk-ins scanned", "扫码到店", Int),
		col("enrolled", "Members enrolled", "新入会", Int), col("conversion_bp", "Conversion", "转化率", BP),
		col("value_90d_fen", "Their 90-day value", "90天价值", Fen),
	}}
	s := Series{Key: "enrolled", Title: "Members enrolled by store", TitleZH: "各店新入会", Kind: Int}
	for _, r := range c.Stores {
		t.Rows = append(t.Rows, []string{r.StoreID, "", i(r.WalkIns), i(r.Enrolled), i(r.ConversionBP), i(r.Value90DaysFen)})
		s.Points = append(s.Points, Point{r.StoreID, r.Enrolled})
	}
	for _, r := range c.Staff {
		t.Rows = append(t.Rows, []string{r.StoreID, r.StaffID, i(r.WalkIns), i(r.Enrolled), i(r.ConversionBP), i(r.Value90DaysFen)})
	}
	t.Series = []Series{s}
	return t
}
