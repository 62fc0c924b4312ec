package report

// GroupBuy follows the customers a group-buy voucher batch brought. A
// batch's customers are the members who joined with it and the members who
// redeemed one of its vouchers; each is followed from their first contact
// with the batch (joining or redeeming, whichever came first) when that
// day is in the period. "Came back" is a visit or purchase on a later day;
// "full price" a purchase on a later day (purchases are not vouchers);
// revenue after is the net of those purchases up to the period's end.
type GroupBuy struct {
	Batches []Batch
}

// Batch is one voucher batch (a platform's deal).
type Batch struct {
	Platform string
	Batch    string
	// Redeemed counts the batch's vouchers redeemed in the period (at the
	// store, when the query names one).
	Redeemed int64
	// Joined counts members who joined with the batch in the period.
	Joined          int64
	Customers       int64
	CameBack        int64
	FullPrice       int64
	SpentMore       int64
	NeverReturned   int64
	RevenueAfterFen int64
}

// Table is one row per batch.
func (g GroupBuy) Table() Table {
	t := Table{Columns: []Column{
		col("platform", "Platform", "平台", Text), col("batch", "Batch", "批次", Text),
		col("redeemed", "Redeemed", "核销", Int), col("joined", "Joined", "入会", Int), col("customers", "Customers", "顾客", Int),
		col("came_back", "Came back", "回头", Int), col("full_price", "Bought at full price", "正价消费", Int),
		col("spent_more", "Spent more than the voucher", "消费超过券面", Int), col("never_returned", "Never returned", "未再到店", Int),
		col("revenue_after_fen", "Revenue after", "后续营收", Fen),
	}}
	s := Series{Key: "revenue_after_fen", Title: "Revenue after", TitleZH: "后续营收", Kind: Fen}
	for _, b := range g.Batches {
		t.Rows = append(t.Rows, []string{b.Platform, b.Batch, i(b.Redeemed), i(b.Joined), i(b.Customers), i(b.CameBack), i(b.FullPrice),
			i(b.SpentMore), i(b.NeverReturned), i(b.RevenueAfterFen)})
		s.Points = append(s.Points, Point{b.Platform + "/" + b.Batch, b.RevenueAfterFen})
	}
	t.Series = []Series{s}
	return t
}
