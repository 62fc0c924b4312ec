package memberpage

import (
	"context"

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

func memberOf(_ context.Context, _ *loyalty.Service, m cloud.Member) Member {
	return Member{Name: m.Name, PhoneMasked: loyalty.MaskPhone(m.Phone), Visits: m.Visits, Coupons: []Coupon{}}
}
