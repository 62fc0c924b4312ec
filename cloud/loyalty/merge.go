package loyalty

import (
	"context"
	"slices"

	"github.com/memberpass/memberpass/cloud"
)

// MergeMembers folds member `merge` into member `keep`, for two records
// that turn out to be one person. Both histories stay: the merged member
// keeps its ledgers and events and points at `keep`; its balances move to
// `keep` through ledger lines (merge_out / merge_in), its cards and unused
// coupons are re-bound, visits and spend add up, and `keep` takes the
// higher tier. Events still arriving for the merged member apply to `keep`.
func (s *Service) MergeMembers(ctx context.Context, brandID, keepID, mergeID string) (cloud.Member, error) {
	if keepID == mergeID {
		return cloud.Member{}, cloud.Errorf(cloud.Invalid, "cannot merge member %s into itself", keepID)
	}
	var keep cloud.Member
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		b, err := tx.Brand(brandID)
		if err != nil {
			return err
		}
		if keep, err = tx.Member(brandID, keepID); err != nil {
			return err
		}
		// Both members' card links stop: the merged one's would show the
		// kept member's balances to whoever holds it.
		for _, id := range []string{keepID, mergeID} {
			if _, err := tx.BumpCardLinkGeneration(brandID, id); err != nil {
				return err
			}
		}
		gone, err := tx.Member(brandID, mergeID)
		if err != nil {
			return err
		}
		if keep.MergedInto != "" || gone.MergedInto != "" {
			return cloud.Errorf(cloud.Invalid, "member %s or %s was already merged", keepID, mergeID)
		}
		now := s.Now()
		note := "merged member " + gone.ID + " into " + keep.ID
		// Points move lot by lot, keeping each lot's expiry.
		lots, err := tx.PointsLots(brandID, gone.ID)
		if err != nil {
			return err
		}
		for _, l := range lots {
			if err := earnPoints(tx, &keep, l.Remaining, "merge_in", "", now, l.ExpiresAt); err != nil {
				return err
			}
		}
		if _, err := takePoints(tx, &gone, gone.Points, "merge_out", "", note, now); err != nil {
			return err
		}
		if err := addStoredValue(tx, &keep, gone.SVPrincipal, gone.SVBonus, "merge_in", "", note, now); err != nil {
			return err
		}
		if err := addStoredValue(tx, &gone, -gone.SVPrincipal, -gone.SVBonus, "merge_out", "", note, now); err != nil {
			return err
		}
		for _, number := range gone.Cards {
			c, err := tx.Card(brandID, number)
			if err != nil {
				return err
			}
			c.MemberID = keep.ID
			if err := tx.PutCard(c); err != nil {
				return err
			}
			keep.Cards = append(keep.Cards, number)
			if _, err := tx.AppendChange(brandID, cloud.ChangeCard, number); err != nil {
				return err
			}
		}
		coupons, err := tx.MemberCoupons(brandID, gone.ID)
		if err != nil {
			return err
		}
		for _, c := range coupons {
			if c.State != cloud.CouponIssued {
				continue
			}
			c.MemberID = keep.ID
			c.History = append(c.History, cloud.CouponTransition{At: now, From: c.State, To: c.State, Reason: note})
			if err := tx.PutCoupon(c); err != nil {
				return err
			}
			if _, err := tx.AppendChange(brandID, cloud.ChangeCoupon, c.Code); err != nil {
				return err
			}
		}
		keep.Visits += gone.Visits
		keep.TotalSpendFen += gone.TotalSpendFen
		if gone.LastVisitAt.After(keep.LastVisitAt) {
			keep.LastVisitAt = gone.LastVisitAt
		}
		for _, t := range gone.Tags {
			if !slices.Contains(keep.Tags, t) {
				keep.Tags = append(keep.Tags, t)
			}
		}
		if keep.Birthday == "" {
			keep.Birthday = gone.Birthday
		}
		gt, _ := b.Programme.Tier(gone.TierID)
		kt, _ := b.Programme.Tier(keep.TierID)
		if gt.Rank > kt.Rank {
			if err := setTier(tx, &keep, gt, now, "took the higher tier of merged member "+gone.ID); err != nil {
				return err
			}
		}
		gone.Cards, gone.MergedInto = nil, keep.ID
		gone.Phone = "" // frees the phone index; the phone stays in the ledger of events
		for _, m := range []cloud.Member{gone, keep} {
			if err := tx.PutMember(m); err != nil {
				return err
			}
			if _, err := tx.AppendChange(brandID, cloud.ChangeMember, m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return keep, err
}
