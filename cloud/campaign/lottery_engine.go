package campaign

import (
	"context"
	"fmt"

	"github.com/memberpass/memberpass/cloud"
)

// CreateLottery stores a new lottery with its secret and commitment.
func (e *Engine) CreateLottery(ctx context.Context, l Lottery) (Lottery, error) {
	l, err := NewLottery(l)
	if err != nil {
		return Lottery{}, err
	}
	l.CreatedAt = e.Now()
	err = e.Store.Update(ctx, l.BrandID, func(tx Ledger) error {
		if _, err := tx.Lottery(l.ID); err == nil {
			return cloud.Errorf(cloud.Conflict, "lottery %q already exists", l.ID)
		}
		for _, p := range l.Prizes {
			if p.TemplateID != "" {
				if _, err := tx.CouponTemplate(p.TemplateID); err != nil {
					return cloud.Errorf(cloud.Invalid, "prize %s: coupon template %q does not exist", p.ID, p.TemplateID)
				}
			}
		}
		return tx.PutLottery(l)
	})
	if err != nil {
		return Lottery{}, err
	}
	return l, nil
}

// Draw uses one of a member's draws in a lottery (at the counter, or on
// the member page).
func (e *Engine) Draw(ctx context.Context, brandID, lotteryID, memberID string) (Draw, error) {
	var d Draw
	err := e.Store.Update(ctx, brandID, func(l Ledger) error {
		var err error
		d, err = DrawOnce(l, lotteryID, memberID, e.Now())
		return err
	})
	if err != nil {
		return Draw{}, err
	}
	e.Log.Info("lottery draw", "brand", brandID, "lottery", lotteryID, "member", memberID, "won", d.Won, "given", d.Given)
	return d, nil
}

// Audit is a lottery's draws with its revealed secret, for an auditor.
type Audit struct {
	Lottery Lottery
	Draws   []Draw
	// Failures are the draws that do not verify (none, if fair).
	Failures []string
}

// AuditLottery verifies every draw of a lottery against its secret.
func (e *Engine) AuditLottery(ctx context.Context, brandID, lotteryID string) (Audit, error) {
	var a Audit
	err := e.Store.View(ctx, brandID, func(r Reader) error {
		var err error
		if a.Lottery, err = r.Lottery(lotteryID); err != nil {
			return err
		}
		a.Draws, err = r.Draws(lotteryID)
		return err
	})
	if err != nil {
		return Audit{}, err
	}
	given := map[string]int64{}
	for _, d := range a.Draws {
		if err := VerifyDraw(a.Lottery.Secret, a.Lottery.Commitment, d); err != nil {
			a.Failures = append(a.Failures, err.Error())
		}
		if d.Given {
			given[d.Won]++
		}
	}
	for _, p := range a.Lottery.Prizes {
		if given[p.ID] > p.Initial || given[p.ID]+p.Stock != p.Initial {
			a.Failures = append(a.Failures, fmt.Sprintf("prize %s: %d given, %d left of %d", p.ID, given[p.ID], p.Stock, p.Initial))
		}
	}
	return a, nil
}

// Usable is something a scanned member may use today, as the kiosk shows it.
type Usable struct {
	// Kind: coupon or draw.
	Kind       string
	CampaignID string
	// Label is the campaign's name (e.g. "birthday treat").
	Label     string
	Code      string `json:",omitempty"` // the coupon's code
	LotteryID string `json:",omitempty"`
}

// UsableToday lists what campaigns gave a member that is still usable:
// unused campaign coupons and draws.
func (e *Engine) UsableToday(ctx context.Context, brandID, memberID string, coupons []cloud.Coupon) ([]Usable, error) {
	var out []Usable
	err := e.Store.View(ctx, brandID, func(r Reader) error {
		cs, err := r.Campaigns()
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, c := range cs {
			names[c.ID] = c.Name
		}
		now := e.Now()
		for _, cp := range coupons {
			if cp.State != cloud.CouponIssued || now.Before(cp.ValidFrom) || !now.Before(cp.ExpiresAt) {
				continue
			}
			for _, c := range cs {
				if cp.History != nil && len(cp.History) > 0 && cp.History[0].Reason == "campaign "+c.ID {
					out = append(out, Usable{Kind: "coupon", CampaignID: c.ID, Label: c.Name, Code: cp.Code})
				}
			}
		}
		chances, err := r.DrawChances(memberID)
		if err != nil {
			return err
		}
		for _, ch := range chances {
			out = append(out, Usable{Kind: "draw", CampaignID: ch.CampaignID, Label: names[ch.CampaignID], LotteryID: ch.LotteryID})
		}
		return nil
	})
	return out, err
}
