package loyalty

import (
	"context"
	"strconv"

	"github.com/memberpass/memberpass/cloud"
)

// MemberHistory is everything the books say about a member.
type MemberHistory struct {
	Member      cloud.Member
	Points      []cloud.PointsEntry
	StoredValue []cloud.StoredValueEntry
	TierChanges []cloud.TierChange
	Coupons     []CouponView
}

// History returns a member's balances, ledgers, tier changes and coupons.
func (s *Service) History(ctx context.Context, brandID, memberID string) (MemberHistory, error) {
	var h MemberHistory
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		if h.Member, err = tx.Member(brandID, memberID); err != nil {
			return err
		}
		if h.Points, err = tx.PointsEntries(brandID, memberID); err != nil {
			return err
		}
		if h.StoredValue, err = tx.StoredValueEntries(brandID, memberID); err != nil {
			return err
		}
		if h.TierChanges, err = tx.TierChanges(brandID, memberID); err != nil {
			return err
		}
		coupons, err := tx.MemberCoupons(brandID, memberID)
		if err != nil {
			return err
		}
		for _, c := range coupons {
			v, err := couponView(tx, c)
			if err != nil {
				return err
			}
			h.Coupons = append(h.Coupons, v)
		}
		return nil
	})
	return h, err
}

// Conflicts pages through the conflicts recorded for HQ.
func (s *Service) Conflicts(ctx context.Context, brandID, pageToken string, limit int) ([]cloud.ConflictRecord, string, error) {
	after, limit, err := paging(pageToken, limit)
	if err != nil {
		return nil, "", err
	}
	var out []cloud.ConflictRecord
	err = s.store.View(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Brand(brandID); err != nil {
			return err
		}
		var err error
		out, err = tx.Conflicts(brandID, after, limit)
		return err
	})
	if err != nil || len(out) < limit {
		return out, "", err
	}
	return out, strconv.FormatUint(out[len(out)-1].Seq, 10), nil
}

// paging reads a page token (the position of the previous page's last
// item) and bounds the page size.
func paging(pageToken string, limit int) (after uint64, size int, err error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if pageToken != "" {
		if after, err = strconv.ParseUint(pageToken, 10, 64); err != nil {
			return 0, 0, cloud.Errorf(cloud.Invalid, "page token %q is not one this service made", pageToken)
		}
	}
	return after, limit, nil
}
