package report

import (
	"errors"
	"math"

	"github.com/memberpass/memberpass/cloud/campaign/lift"
)

// NameCampaigns is the campaign results report.
const NameCampaigns = "campaigns"

// CampaignDays is the window after each grant in which a member's visits
// and spend count for the campaign (as cloud/campaign's results count
// them by default).
const CampaignDays = 30

// Lift statuses.
const (
	LiftOK            = "ok"
	LiftNotEnoughData = "not_enough_data"
	LiftNoProof       = "no_proof"
)

// Campaigns is what each campaign with grants in the period earned: the
// members it reached (treated: given its actions), its holdout, coupons
// it gave that were redeemed, its cost, the treated members' spend in
// CampaignDays after their grant (revenue), and the lift against the
// holdout of return rate and spend per member, with 95% intervals from
// cloud/campaign/lift, or why there is none.
type Campaigns struct {
	Campaigns []CampaignRow
}

// CampaignRow is one campaign.
type CampaignRow struct {
	CampaignID      string
	Name            string
	Reached         int64
	Holdout         int64
	Redeemed        int64
	CostFen         int64
	CostPoints      int64
	RevenueFen      int64
	TreatedReturned int64
	HoldoutReturned int64
	// ReturnLift is in basis points of return rate; SpendLift in fen per
	// member.
	ReturnLift Lift
	SpendLift  Lift
}

// Lift is an estimate with its 95% interval, rounded to integers, or the
// reason there is none (Status).
type Lift struct {
	Status              string
	Estimate, Low, High int64
}

// Group is what a campaign's treated members or holdout did: how many,
// how many came back, and the sum and sum of squares of their spend.
type Group struct {
	Members, Returned, SpendFen int64
	SpendSquares                float64
}

func (g Group) summary() lift.Summary {
	s := lift.Summary{N: g.Members}
	if g.Members > 0 {
		s.Mean = float64(g.SpendFen) / float64(g.Members)
	}
	if g.Members > 1 {
		s.Variance = math.Max(0, (g.SpendSquares-float64(g.SpendFen)*s.Mean)/float64(g.Members-1))
	}
	return s
}

// Lifts works out the row's lifts from the two groups with the campaign
// package's estimators; noProof is a campaign that kept no holdout.
func (r *CampaignRow) Lifts(treated, holdout Group, noProof bool) {
	r.ReturnLift = lifted(noProof, 10000, func() (lift.Interval, error) {
		return lift.Proportions(treated.Returned, treated.Members, holdout.Returned, holdout.Members)
	})
	r.SpendLift = lifted(noProof, 1, func() (lift.Interval, error) {
		return lift.Means(treated.summary(), holdout.summary())
	})
}

func lifted(noProof bool, scale float64, fn func() (lift.Interval, error)) Lift {
	if noProof {
		return Lift{Status: LiftNoProof}
	}
	iv, err := fn()
	if errors.Is(err, lift.ErrNotEnoughData) || err != nil {
		return Lift{Status: LiftNotEnoughData}
	}
	return Lift{Status: LiftOK, Estimate: int64(math.Round(iv.Estimate * scale)), Low: int64(math.Round(iv.Low * scale)), High: int64(math.Round(iv.High * scale))}
}

// Table is one row per campaign.
func (c Campaigns) Table() Table {
	t := Table{Columns: []Column{
		col("campaign", "Campaign", "活动", Text), col("name", "Name", "名称", Text),
		col("reached", "Reached", "触达", Int), col("holdout", "Holdout", "对照组", Int), col("redeemed", "Coupons redeemed", "券核销", Int),
		col("cost_fen", "Cost", "成本", Fen), col("cost_points", "Points given", "赠送积分", Int), col("revenue_fen", "Revenue", "带来营收", Fen),
		col("return_lift_status", "Return-rate lift", "回店率提升", Text),
		col("return_lift_bp", "Return-rate lift", "回店率提升", BP), col("return_lift_low_bp", "95% low", "95%下限", BP), col("return_lift_high_bp", "95% high", "95%上限", BP),
		col("spend_lift_status", "Spend lift", "人均消费提升", Text),
		col("spend_lift_fen", "Spend lift per member", "人均消费提升", Fen), col("spend_lift_low_fen", "95% low", "95%下限", Fen), col("spend_lift_high_fen", "95% high", "95%上限", Fen),
	}}
	s := Series{Key: "revenue_fen", Title: "Revenue", TitleZH: "带来营收", Kind: Fen}
	for _, r := range c.Campaigns {
		row := []string{r.CampaignID, r.Name, i(r.Reached), i(r.Holdout), i(r.Redeemed), i(r.CostFen), i(r.CostPoints), i(r.RevenueFen)}
		for _, l := range []Lift{r.ReturnLift, r.SpendLift} {
			if l.Status == LiftOK {
				row = append(row, l.Status, i(l.Estimate), i(l.Low), i(l.High))
			} else {
				row = append(row, l.Status, "", "", "")
			}
		}
		t.Rows = append(t.Rows, row)
		s.Points = append(s.Points, Point{r.CampaignID, r.RevenueFen})
		if r.ReturnLift.Status != LiftOK {
			t.Notes = append(t.Notes, r.CampaignID+": "+r.ReturnLift.Status)
		}
	}
	t.Series = []Series{s}
	return t
}
