package memberpage

import (
	"context"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// Member is what the card page shows of a member.
type Member struct {
	Name           string   `json:"name"`
	PhoneMasked    string   `json:"phone_masked"`
	Visits         uint64   `json:"visits"`
	Tier           string   `json:"tier"`
	TierEn         string   `json:"tier_en"`
	Points         int64    `json:"points"`
	StoredValueFen int64    `json:"stored_value_fen"`
	Coupons        []Coupon `json:"coupons"`
}

// Coupon is a usable coupon on the card page.
type Coupon struct {
	Name      string `json:"name"`
	Detail    string `json:"detail"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// memberOf gathers the card's view of a member; what cannot be read is
// left out (the QR code matters most) and logged by the caller's service.
func memberOf(ctx context.Context, svc *loyalty.Service, m cloud.Member) Member {
	out := Member{
		Name: m.Name, PhoneMasked: loyalty.MaskPhone(m.Phone), Visits: m.Visits,
		Points: m.Points, StoredValueFen: m.SVPrincipal + m.SVBonus, Coupons: []Coupon{},
	}
	if p, err := svc.Programme(ctx, m.BrandID); err == nil {
		for _, t := range p.Tiers {
			if t.ID == m.TierID {
				out.Tier, out.TierEn = t.Name, t.NameEn
			}
		}
	}
	h, err := svc.History(ctx, m.BrandID, m.ID)
	if err != nil {
		return out
	}
	now := svc.Now()
	for _, c := range h.Coupons {
		if c.State != cloud.CouponIssued || (!c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)) {
			continue
		}
		out.Coupons = append(out.Coupons, Coupon{Name: c.Template.Name, Detail: couponDetail(c.Template), ExpiresAt: dateOf(c.ExpiresAt)})
	}
	return out
}

func couponDetail(t cloud.CouponTemplate) string {
	var d string
	switch t.Kind {
	case cloud.AmountOff:
		d = fmt.Sprintf("-¥%d.%02d", t.AmountOffFen/100, t.AmountOffFen%100)
	case cloud.PercentOff:
		d = fmt.Sprintf("-%d.%02d%%", t.PercentOffBP/100, t.PercentOffBP%100)
	case cloud.FreeItem:
		d = t.FreeItem
	}
	if t.MinSpendFen > 0 {
		d += fmt.Sprintf(" (≥¥%d.%02d)", t.MinSpendFen/100, t.MinSpendFen%100)
	}
	return d
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
