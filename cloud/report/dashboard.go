package report

// Metrics are the dashboard's counts for a span of days. A visit is a
// member identified at a counter (an applied visit event); member sales
// are the net (after discounts) of applied purchases; new members are
// members created in the span (a store's: those who joined there).
type Metrics struct {
	Visits              int64
	Purchases           int64
	MemberSalesFen      int64
	NewMembers          int64
	TopUps              int64
	TopUpFen            int64
	CouponsRedeemed     int64
	PointsBurned        int64
	StoredValueSpentFen int64
	VouchersRedeemed    int64
}

// Add adds o to m.
func (m *Metrics) Add(o Metrics) {
	m.Visits += o.Visits
	m.Purchases += o.Purchases
	m.MemberSalesFen += o.MemberSalesFen
	m.NewMembers += o.NewMembers
	m.TopUps += o.TopUps
	m.TopUpFen += o.TopUpFen
	m.CouponsRedeemed += o.CouponsRedeemed
	m.PointsBurned += o.PointsBurned
	m.StoredValueSpentFen += o.StoredValueSpentFen
	m.VouchersRedeemed += o.VouchersRedeemed
}

// Day is one day's metrics.
type Day struct {
	Date string
	Metrics
}

// Dashboard is the period's metrics beside the same period a week before
// (for one day: today against the same day last week), and each day's.
type Dashboard struct {
	Current     Metrics
	WeekAgo     Metrics
	Days        []Day
	WeekAgoDays []Day
}

var dashboardRows = []struct {
	key, en, zh string
	kind        Kind
	get         func(Metrics) int64
}{
	{"visits", "Visits", "到店", Int, func(m Metrics) int64 { return m.Visits }},
	{"purchases", "Member purchases", "会员消费笔数", Int, func(m Metrics) int64 { return m.Purchases }},
	{"member_sales_fen", "Member sales", "会员消费额", Fen, func(m Metrics) int64 { return m.MemberSalesFen }},
	{"new_members", "New members", "新会员", Int, func(m Metrics) int64 { return m.NewMembers }},
	{"top_ups", "Top-ups", "充值笔数", Int, func(m Metrics) int64 { return m.TopUps }},
	{"top_up_fen", "Topped up", "充值金额", Fen, func(m Metrics) int64 { return m.TopUpFen }},
	{"coupons_redeemed", "Coupons redeemed", "核销优惠券", Int, func(m Metrics) int64 { return m.CouponsRedeemed }},
	{"points_burned", "Points redeemed", "积分抵扣", Int, func(m Metrics) int64 { return m.PointsBurned }},
	{"stored_value_spent_fen", "Stored value spent", "储值消费", Fen, func(m Metrics) int64 { return m.StoredValueSpentFen }},
	{"vouchers_redeemed", "Group-buy vouchers redeemed", "团购券核销", Int, func(m Metrics) int64 { return m.VouchersRedeemed }},
}

// Table is one row per metric: the period, the week before, the change
// (in basis points of the week before; empty when it was 0).
func (d Dashboard) Table() Table {
	t := Table{Columns: []Column{
		col("metric", "Metric", "指标", Text), col("current", "This period", "本期", Int),
		col("week_ago", "A week before", "上周同期", Int), col("change_bp", "Change", "变化", BP),
	}}
	for _, r := range dashboardRows {
		cur, prev := r.get(d.Current), r.get(d.WeekAgo)
		change := ""
		if prev != 0 {
			change = i(Rate(cur-prev, prev))
			if cur < prev {
				change = "-" + i(Rate(prev-cur, prev))
			}
		}
		t.Rows = append(t.Rows, []string{r.key, i(cur), i(prev), change})
	}
	for _, r := range dashboardRows[:4] {
		s := Series{Key: r.key, Title: r.en, TitleZH: r.zh, Kind: r.kind}
		for _, day := range d.Days {
			s.Points = append(s.Points, Point{day.Date, r.get(day.Metrics)})
		}
		t.Series = append(t.Series, s)
	}
	return t
}
