package loyalty

import (
	"context"
	"slices"

	"github.com/memberpass/memberpass/cloud"
)

// TierMove counts the members a programme change would move from one
// tier to another at the next tier review.
type TierMove struct {
	From, To string
	// Up is true when To ranks above From.
	Up      bool
	Members int
}

// PreviewProgramme says what replacing a brand's rules with p would do to
// its members' tiers ("312 members would move up to Silver"), writing
// nothing: each member's tier under p is the one the review would give
// them (their spend and visits in p's window), compared with their tier
// now (a tier p drops counts as p's base tier).
func (s *Service) PreviewProgramme(ctx context.Context, brandID string, p cloud.Programme) ([]TierMove, error) {
	if err := ValidateProgramme(p); err != nil {
		return nil, err
	}
	type key struct{ from, to string }
	counts := map[key]int{}
	now := s.Now()
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		b, err := tx.Brand(brandID)
		if err != nil {
			return err
		}
		loc, err := b.Location()
		if err != nil {
			return err
		}
		var members []cloud.Member
		err = tx.Members(brandID, func(m cloud.Member) (bool, error) {
			if m.MergedInto == "" {
				members = append(members, m)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, m := range members {
			best, _, _, err := qualifyingTier(tx, p, m, now, loc)
			if err != nil {
				return err
			}
			if best.ID != m.TierID {
				counts[key{m.TierID, best.ID}]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]TierMove, 0, len(counts))
	for k, n := range counts {
		mv := TierMove{From: k.from, To: k.to, Members: n}
		to, _ := p.Tier(k.to)
		if from, ok := p.Tier(k.from); ok {
			mv.Up = to.Rank > from.Rank
		} else {
			mv.Up = to.Rank > p.BaseTier().Rank
		}
		out = append(out, mv)
	}
	slices.SortFunc(out, func(a, b TierMove) int { return b.Members - a.Members })
	return out, nil
}
