package campaign

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Skip reasons on a grant.
const (
	SkipOverBudget = "over_budget"
)

// Act gives one firing of campaign c its actions inside l, once: if the
// key (campaign, member, occurrence) already acted it returns that grant
// and false. A member in the holdout is recorded and given nothing; a grant
// that would pass a budget cap is recorded as skipped. c is the campaign as
// read in l; its Spent is updated and written.
func Act(l Ledger, c *Campaign, f Firing, now time.Time) (Grant, bool, error) {
	g, acted, err := act(l, c, f, now)
	if err != nil || !acted {
		return g, acted, err
	}
	return g, true, l.PutCampaign(*c)
}

// act is Act without writing the campaign: a run writes each campaign once
// per page instead of once per grant.
func act(l Ledger, c *Campaign, f Firing, now time.Time) (Grant, bool, error) {
	if prior, ok, err := l.Grant(c.ID, f.MemberID, f.Occurrence); err != nil || ok {
		return prior, false, err
	}
	g := Grant{BrandID: c.BrandID, CampaignID: c.ID, MemberID: f.MemberID, Occurrence: f.Occurrence, At: now, Vars: f.Vars}
	save := func() (Grant, bool, error) {
		if err := l.PutGrant(g); err != nil {
			return Grant{}, false, err
		}
		return g, true, nil
	}
	if InHoldout(c.BrandID, c.ID, f.MemberID, c.HoldoutBP) {
		g.Holdout = true
		c.Spent.Holdout++
		return save()
	}
	actions := c.ActionsFor(f)
	cost, err := EstimateCost(l, actions)
	if err != nil {
		return Grant{}, false, err
	}
	if !c.Budget.Fits(c.Spent, cost) {
		g.Skipped = SkipOverBudget
		c.Spent.OverBudget++
		return save()
	}
	reason := "campaign " + c.ID
	for _, a := range actions {
		switch a.Kind {
		case ActionCoupon:
			code, _, err := l.IssueCoupon(f.MemberID, a.TemplateID, a.ValidDays, reason, now)
			if err != nil {
				return Grant{}, false, fmt.Errorf("campaign %s: issue coupon %s to %s: %w", c.ID, a.TemplateID, f.MemberID, err)
			}
			g.Coupons = append(g.Coupons, code)
		case ActionPoints:
			if err := l.AwardPoints(f.MemberID, a.Points, reason, now); err != nil {
				return Grant{}, false, fmt.Errorf("campaign %s: award points to %s: %w", c.ID, f.MemberID, err)
			}
		case ActionStoredValueBonus:
			if err := l.AddBonus(f.MemberID, a.BonusFen, reason, now); err != nil {
				return Grant{}, false, fmt.Errorf("campaign %s: stored-value bonus to %s: %w", c.ID, f.MemberID, err)
			}
		case ActionPointsMultiplier:
			if err := l.BoostPoints(f.MemberID, a.MultiplierBP, now.Add(time.Duration(a.Days)*24*time.Hour), reason); err != nil {
				return Grant{}, false, fmt.Errorf("campaign %s: points multiplier for %s: %w", c.ID, f.MemberID, err)
			}
		case ActionLottery:
			if _, err := l.Lottery(a.LotteryID); err != nil {
				return Grant{}, false, fmt.Errorf("campaign %s: lottery %s: %w", c.ID, a.LotteryID, err)
			}
			ch := DrawChance{BrandID: c.BrandID, LotteryID: a.LotteryID, MemberID: f.MemberID, Key: g.key(), GrantedAt: now, CampaignID: c.ID}
			if err := l.PutDrawChance(ch); err != nil {
				return Grant{}, false, err
			}
		case ActionMessage:
			vars := map[string]string{}
			for k, v := range f.Vars {
				vars[k] = v
			}
			if len(g.Coupons) > 0 {
				vars["coupon"] = g.Coupons[len(g.Coupons)-1]
			}
			g.Messages = append(g.Messages, MessageRequest{
				BrandID: c.BrandID, CampaignID: c.ID, MemberID: f.MemberID, Occurrence: f.Occurrence,
				Channel: a.Channel, TemplateID: a.TemplateID, Vars: vars,
			})
		}
	}
	g.Cost = cost
	c.Spent.Charge(cost)
	return save()
}

func (g Grant) key() string { return g.CampaignID + "|" + g.MemberID + "|" + g.Occurrence }

// EstimateCost is what actions give one member, reading coupon templates
// for the face value of a coupon whose action does not state it.
func EstimateCost(r Reader, actions []Action) (Cost, error) {
	var c Cost
	for _, a := range actions {
		ac := a.Cost()
		if a.Kind == ActionCoupon && a.FaceFen == 0 {
			t, err := r.CouponTemplate(a.TemplateID)
			if err != nil {
				return Cost{}, fmt.Errorf("coupon template %s: %w", a.TemplateID, err)
			}
			if t.Kind == cloud.AmountOff {
				ac.MoneyFen = t.AmountOffFen
			}
		}
		c = c.Add(ac)
	}
	return c, nil
}
