package report

// Liabilities is what the brand owes its members, for finance: the stored
// value (principal and bonus apart) and points outstanding at the start of
// the period and at its end, and what moved them in between, by month and
// by the store whose event moved them ("" for lines no store made: expiry,
// merges). Opening plus every movement is closing, exactly.
type Liabilities struct {
	Opening, Closing Balance
	Months           []LiabilityMonth
	// Breakage: points that expired and bonus forfeited by cash-outs in
	// the period.
	PointsExpired     int64
	BonusForfeitedFen int64
}

// Balance is what is outstanding at an instant.
type Balance struct {
	PrincipalFen int64
	BonusFen     int64
	Points       int64
}

// LiabilityMonth is one month's movements at one store. Signs: issued is
// positive, used, cashed out, expired and forfeited are positive amounts
// taken off; refunds put back (positive); other is the net of merges and
// adjustments.
type LiabilityMonth struct {
	Month              string
	StoreID            string
	PrincipalIssuedFen int64
	PrincipalUsedFen   int64
	PrincipalCashedFen int64
	PrincipalRefundFen int64
	PrincipalOtherFen  int64
	BonusIssuedFen     int64
	BonusUsedFen       int64
	BonusForfeitedFen  int64
	BonusRefundFen     int64
	BonusOtherFen      int64
	PointsIssued       int64
	PointsUsed         int64
	PointsExpired      int64
	PointsRefund       int64
	PointsOther        int64
}

// Table is one row per month and store, then a row each for the opening
// and closing balances.
func (l Liabilities) Table() Table {
	t := Table{Columns: []Column{
		col("month", "Month", "月份", Month), col("store", "Store", "门店", Text),
		col("principal_issued_fen", "Principal in", "本金充入", Fen), col("principal_used_fen", "Principal spent", "本金消费", Fen),
		col("principal_cashed_fen", "Principal cashed out", "本金退款", Fen), col("principal_refund_fen", "Principal refunded back", "本金退回", Fen),
		col("principal_other_fen", "Principal other", "本金其他", Fen),
		col("bonus_issued_fen", "Bonus granted", "赠送金额", Fen), col("bonus_used_fen", "Bonus spent", "赠送消费", Fen),
		col("bonus_forfeited_fen", "Bonus forfeited", "赠送作废", Fen), col("bonus_refund_fen", "Bonus refunded back", "赠送退回", Fen),
		col("bonus_other_fen", "Bonus other", "赠送其他", Fen),
		col("points_issued", "Points earned", "积分发放", Int), col("points_used", "Points redeemed", "积分使用", Int),
		col("points_expired", "Points expired", "积分过期", Int), col("points_refund", "Points refunded back", "积分退回", Int),
		col("points_other", "Points other", "积分其他", Int),
	}}
	for _, m := range l.Months {
		t.Rows = append(t.Rows, []string{m.Month, m.StoreID, i(m.PrincipalIssuedFen), i(m.PrincipalUsedFen), i(m.PrincipalCashedFen), i(m.PrincipalRefundFen), i(m.PrincipalOtherFen),
			i(m.BonusIssuedFen), i(m.BonusUsedFen), i(m.BonusForfeitedFen), i(m.BonusRefundFen), i(m.BonusOtherFen),
			i(m.PointsIssued), i(m.PointsUsed), i(m.PointsExpired), i(m.PointsRefund), i(m.PointsOther)})
	}
	t.Series = []Series{{Key: "outstanding", Title: "Outstanding", TitleZH: "未兑付余额", Kind: Fen, Points: []Point{
		{"opening_principal_fen", l.Opening.PrincipalFen}, {"opening_bonus_fen", l.Opening.BonusFen}, {"opening_points", l.Opening.Points},
		{"closing_principal_fen", l.Closing.PrincipalFen}, {"closing_bonus_fen", l.Closing.BonusFen}, {"closing_points", l.Closing.Points},
		{"points_expired", l.PointsExpired}, {"bonus_forfeited_fen", l.BonusForfeitedFen},
	}}}
	return t
}
