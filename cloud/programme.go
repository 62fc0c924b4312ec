package cloud

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/money"
)

// Tier is a level of a brand's programme (e.g. 普通 / 银卡 / 金卡 / 钻石).
type Tier struct {
	ID     string
	Name   string
	NameEn string
	// Rank orders tiers: 0 is where everyone starts.
	Rank int
	// DiscountBP is the discount off the bill in basis points (500 = 5%).
	DiscountBP int
	// PointsMultiplierPct multiplies earned points (150 = 1.5x).
	PointsMultiplierPct int
	// A member reaches the tier by spending UpgradeSpendFen, or by
	// UpgradeVisits visits, within the programme's tier window.
	UpgradeSpendFen int64
	UpgradeVisits   int
}

// TopUpRule grants a bonus on a top-up of at least MinAmountFen (充500送50).
type TopUpRule struct {
	MinAmountFen int64
	BonusFen     int64
}

// BonusDay multiplies points on a weekday or a date.
type BonusDay struct {
	// Weekday 0 (Sunday) to 6; -1 when Date is used.
	Weekday int
	// Date is MM-DD, or empty.
	Date          string
	MultiplierPct int
}

// OfflinePolicy bounds what a counter may approve without the cloud.
type OfflinePolicy struct {
	MaxStoredValuePerMemberDayFen int64
	MaxPointsBurnPerMemberDay     int64
	MaxReplicaAge                 time.Duration
	// MaxProvisionalVouchersPerDay is how many platform vouchers one
	// counter may accept provisionally per day while the cloud is out of
	// reach (0: none); only ProvisionalDeals are accepted. Each is
	// consumed with its platform when the cloud is back, and a refusal is
	// a conflict for HQ with the deal's price at risk.
	MaxProvisionalVouchersPerDay int               `json:",omitempty"`
	ProvisionalDeals             []ProvisionalDeal `json:",omitempty"`
}

// ProvisionalDeal is a platform deal a counter may accept offline, with
// the price it is worth (the amount at risk if the platform refuses).
type ProvisionalDeal struct {
	Platform string
	DealID   string
	Title    string
	PriceFen int64
}

// Programme is a brand's rules.
type Programme struct {
	Tiers          []Tier
	TierWindowDays int
	// PointsPerYuan is earned per 100 fen of net spend, before multipliers.
	PointsPerYuan int
	BonusDays     []BonusDay
	// PointValueFen is what one point is worth when burned.
	PointValueFen int64
	// PointsExpireYears: points expire at the end of the calendar year this
	// many years after they were earned; 0 never.
	PointsExpireYears int
	TopUpRules        []TopUpRule
	Offline           OfflinePolicy
}

// DefaultProgramme is what a new brand starts with.
func DefaultProgramme() Programme {
	return Programme{
		Tiers: []Tier{
			{ID: "regular", Name: "普通会员", NameEn: "Regular", Rank: 0, PointsMultiplierPct: 100},
			{ID: "silver", Name: "银卡", NameEn: "Silver", Rank: 1, DiscountBP: 200, PointsMultiplierPct: 120, UpgradeSpendFen: 100000, UpgradeVisits: 10},
			{ID: "gold", Name: "金卡", NameEn: "Gold", Rank: 2, DiscountBP: 500, PointsMultiplierPct: 150, UpgradeSpendFen: 300000, UpgradeVisits: 30},
			{ID: "diamond", Name: "钻石", NameEn: "Diamond", Rank: 3, DiscountBP: 800, PointsMultiplierPct: 200, UpgradeSpendFen: 1000000},
		},
		TierWindowDays:    365,
		PointsPerYuan:     1,
		PointValueFen:     1,
		PointsExpireYears: 1,
		TopUpRules:        []TopUpRule{{MinAmountFen: 50000, BonusFen: 5000}, {MinAmountFen: 100000, BonusFen: 15000}},
		Offline: OfflinePolicy{
			MaxStoredValuePerMemberDayFen: 50000,
			MaxPointsBurnPerMemberDay:     5000,
			MaxReplicaAge:                 24 * time.Hour,
		},
	}
}

// BaseTier is the tier of rank 0 (or the lowest rank).
func (p Programme) BaseTier() Tier {
	var base Tier
	for i, t := range p.Tiers {
		if i == 0 || t.Rank < base.Rank {
			base = t
		}
	}
	return base
}

// Tier finds a tier by id; ok is false if the programme has none.
func (p Programme) Tier(id string) (Tier, bool) {
	for _, t := range p.Tiers {
		if t.ID == id {
			return t, true
		}
	}
	return Tier{}, false
}

// TopUpBonus is the bonus the rules grant for a top-up: the best rule the
// amount reaches.
func (p Programme) TopUpBonus(amountFen int64) int64 {
	var bonus int64
	for _, r := range p.TopUpRules {
		if amountFen >= r.MinAmountFen && r.BonusFen > bonus {
			bonus = r.BonusFen
		}
	}
	return bonus
}

// PointsFor is what a net spend earns in a tier on a day: floor of
// (net / 100) * points per yuan * tier multiplier * bonus-day multiplier,
// computed exactly; an error when the result is beyond an int64.
// The day is at's calendar day in at's location: pass the time in the
// brand's zone (Brand.Location), so a Tuesday bonus runs Tuesday there.
func (p Programme) PointsFor(netFen int64, tier Tier, at time.Time) (int64, error) {
	if netFen <= 0 || p.PointsPerYuan <= 0 {
		return 0, nil
	}
	mult := int64(tier.PointsMultiplierPct)
	if mult == 0 {
		mult = 100
	}
	bonus := int64(100)
	for _, d := range p.BonusDays {
		if (d.Weekday >= 0 && d.Date == "" && time.Weekday(d.Weekday) == at.Weekday()) || (d.Date != "" && d.Date == at.Format("01-02")) {
			bonus = max(bonus, int64(d.MultiplierPct))
		}
	}
	factor, err := money.Mul(int64(p.PointsPerYuan), mult)
	if err == nil {
		factor, err = money.Mul(factor, bonus)
	}
	if err != nil {
		return 0, fmt.Errorf("points rate: %w", err)
	}
	pts, err := money.MulDiv(netFen, factor, 100*100*100)
	if err != nil {
		return 0, fmt.Errorf("points for %d fen: %w", netFen, err)
	}
	return pts, nil
}

// PointsExpiry is when points earned at t expire: the end of the calendar
// year PointsExpireYears later, in t's location (pass the time in the
// brand's zone); zero if they never do.
func (p Programme) PointsExpiry(t time.Time) time.Time {
	if p.PointsExpireYears <= 0 {
		return time.Time{}
	}
	return time.Date(t.Year()+p.PointsExpireYears+1, 1, 1, 0, 0, 0, 0, t.Location()).UTC()
}
