package report

// Conflicts counts what stores did offline that the books could not take
// as it was, by kind and store, in the period and in the period of the
// same length before it (the trend), with the amount of the events in
// conflict (a purchase's net; 0 for conflicts without a purchase), and a
// count per day for the chart. Dates are when the cloud found them.
type Conflicts struct {
	Rows []ConflictRow
	Days []Point
}

// ConflictRow is one kind at one store.
type ConflictRow struct {
	Kind      string
	StoreID   string
	Count     int64
	AmountFen int64
	Before    int64
}

// Table is one row per kind and store.
func (c Conflicts) Table() Table {
	t := Table{Columns: []Column{
		col("kind", "Kind", "类型", Text), col("store", "Store", "门店", Text), col("count", "Count", "次数", Int),
		col("amount_fen", "Amount", "涉及金额", Fen), col("before", "Period before", "上期次数", Int),
	}}
	for _, r := range c.Rows {
		t.Rows = append(t.Rows, []string{r.Kind, r.StoreID, i(r.Count), i(r.AmountFen), i(r.Before)})
	}
	t.Series = []Series{{Key: "per_day", Title: "Conflicts per day", TitleZH: "每日冲突", Kind: Int, Points: c.Days}}
	return t
}
