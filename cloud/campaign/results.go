package campaign

import (
	"context"
	"errors"
	"time"

	"github.com/memberpass/memberpass/cloud/campaign/lift"
)

// GroupOutcome is what one group (treated or holdout) did in the window
// after its grants.
type GroupOutcome struct {
	Members  int64
	Returned int64 // members with at least one visit or purchase
	Visits   int64
	SpendFen int64
}

// Estimate is a lift with its 95% interval, or why there is none.
type Estimate struct {
	lift.Interval
	// Status: "ok", "no_proof" (no holdout) or "not_enough_data".
	Status string
}

// Results compares the treated members with the holdout over the Days
// after each grant.
type Results struct {
	Campaign Campaign
	Days     int
	Treated  GroupOutcome
	Holdout  GroupOutcome
	// ReturnLift is treated minus holdout return rate (a proportion);
	// SpendLift and VisitLift per member (fen, visits).
	ReturnLift Estimate
	SpendLift  Estimate
	VisitLift  Estimate
}

// Results reads what a campaign earned: return rate, visits and spend in
// the days after each grant, treated against holdout, with lift intervals.
func (e *Engine) Results(ctx context.Context, brandID, id string, days int) (Results, error) {
	if days <= 0 || days > 365 {
		days = 30
	}
	res := Results{Days: days}
	var tSpend, hSpend, tVisits, hVisits []int64
	err := e.Store.View(ctx, brandID, func(r Reader) error {
		var err error
		if res.Campaign, err = r.Campaign(id); err != nil {
			return err
		}
		var afterM, afterO string
		for {
			gs, err := r.Grants(id, afterM, afterO, 1000)
			if err != nil {
				return err
			}
			for _, g := range gs {
				if g.Skipped != "" {
					continue
				}
				v, s, err := r.Activity(g.MemberID, g.At, g.At.Add(time.Duration(days)*24*time.Hour))
				if err != nil {
					return err
				}
				grp, spend, visits := &res.Treated, &tSpend, &tVisits
				if g.Holdout {
					grp, spend, visits = &res.Holdout, &hSpend, &hVisits
				}
				grp.Members++
				grp.Visits += v
				grp.SpendFen += s
				if v > 0 || s > 0 {
					grp.Returned++
				}
				*spend = append(*spend, s)
				*visits = append(*visits, v)
			}
			if len(gs) < 1000 {
				break
			}
			afterM, afterO = gs[len(gs)-1].MemberID, gs[len(gs)-1].Occurrence
		}
		return nil
	})
	if err != nil {
		return Results{}, err
	}
	res.ReturnLift = estimate(res.Campaign, func() (lift.Interval, error) {
		return lift.Proportions(res.Treated.Returned, res.Treated.Members, res.Holdout.Returned, res.Holdout.Members)
	})
	res.SpendLift = estimate(res.Campaign, func() (lift.Interval, error) {
		return lift.Means(lift.Summarize(tSpend), lift.Summarize(hSpend))
	})
	res.VisitLift = estimate(res.Campaign, func() (lift.Interval, error) {
		return lift.Means(lift.Summarize(tVisits), lift.Summarize(hVisits))
	})
	return res, nil
}

func estimate(c Campaign, fn func() (lift.Interval, error)) Estimate {
	if c.NoProof() {
		return Estimate{Status: "no_proof"}
	}
	iv, err := fn()
	if errors.Is(err, lift.ErrNotEnoughData) {
		return Estimate{Status: "not_enough_data"}
	}
	if err != nil {
		return Estimate{Status: "not_enough_data"}
	}
	return Estimate{Interval: iv, Status: "ok"}
}
