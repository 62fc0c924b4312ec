package checkout

import (
	"fmt"
	"time"
)

// Day is what the counter did today, for the manager.
type Day struct {
	Date   string `json:"date"`
	Visits int    `json:"visits"`
	// Purchases by members, and their bills before discounts.
	Purchases      int   `json:"purchases"`
	SalesFen       int64 `json:"sales_fen"`
	DiscountFen    int64 `json:"discount_fen"`
	NewMembers     int   `json:"new_members"`
	CouponsUsed    int   `json:"coupons_used"`
	PointsBurned   int64 `json:"points_burned"`
	StoredValueFen int64 `json:"stored_value_fen"`
	Vouchers       int   `json:"vouchers"`
	TopUps         int   `json:"top_ups"`
	TopUpFen       int64 `json:"top_up_fen"`
}

// Today sums today's events at this counter, in the shop's time zone.
func (s *Service) Today() (Day, error) {
	now := s.Now()
	start := s.dayStart(now)
	events, err := s.store.EventsSince(start)
	if err != nil {
		return Day{}, fmt.Errorf("read today's events: %w", err)
	}
	d := Day{Date: now.In(s.Location).Format(time.DateOnly)}
	for _, ev := range events {
		switch {
		case ev.Visit != nil:
			d.Visits++
		case ev.Purchase != nil:
			p := ev.Purchase
			d.Purchases++
			d.SalesFen += p.BillFen
			d.DiscountFen += p.TierDiscountFen + p.CouponDiscountFen + p.PointsDiscountFen
			d.CouponsUsed += len(p.CouponCodes)
			d.PointsBurned += p.PointsBurned
			d.StoredValueFen += p.StoredValueFen
		case ev.TopUp != nil:
			d.TopUps++
			d.TopUpFen += ev.TopUp.AmountFen
		case ev.Enrolment != nil:
			d.NewMembers++
		case ev.Voucher != nil:
			d.Vouchers++
		}
	}
	return d, nil
}
