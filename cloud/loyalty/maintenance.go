package loyalty

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// MaintenanceReport says what a maintenance run changed.
type MaintenanceReport struct {
	TiersChanged   int
	PointsExpired  int64
	CouponsExpired int
}

// RunMaintenance reviews every member's tier (up and down), expires points
// whose lots have passed their date, and expires coupons, as of now.
// Running it twice changes nothing the second time.
func (s *Service) RunMaintenance(ctx context.Context, brandID string) (MaintenanceReport, error) {
	var rep MaintenanceReport
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		rep = MaintenanceReport{}
		b, err := tx.Brand(brandID)
		if err != nil {
			return err
		}
		loc, err := b.Location()
		if err != nil {
			return fmt.Errorf("brand %s: %w", brandID, err)
		}
		now := s.Now()
		// Collect first: writing members while scanning them is not safe
		// on every backend.
		var members []cloud.Member
		if err := tx.Members(brandID, func(m cloud.Member) (bool, error) {
			if m.MergedInto == "" {
				members = append(members, m)
			}
			return true, nil
		}); err != nil {
			return err
		}
		for _, m := range members {
			changed, err := reviewTier(tx, b.Programme, &m, now, loc)
			if err != nil {
				return err
			}
			if changed {
				rep.TiersChanged++
			}
			expired, err := expirePoints(tx, &m, now)
			if err != nil {
				return err
			}
			rep.PointsExpired += expired
			n, err := expireCoupons(tx, m.ID, brandID, now)
			if err != nil {
				return err
			}
			rep.CouponsExpired += n
			if changed || expired > 0 {
				if err := tx.PutMember(m); err != nil {
					return err
				}
				if _, err := tx.AppendChange(brandID, cloud.ChangeMember, m.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil && (rep.TiersChanged > 0 || rep.PointsExpired > 0 || rep.CouponsExpired > 0) {
		s.log.Info("maintenance", "brand", brandID, "tiers_changed", rep.TiersChanged, "points_expired", rep.PointsExpired, "coupons_expired", rep.CouponsExpired)
	}
	return rep, err
}

func expirePoints(tx cloud.Tx, m *cloud.Member, now time.Time) (int64, error) {
	lots, err := tx.PointsLots(m.BrandID, m.ID)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range lots {
		if l.ExpiresAt.IsZero() || l.ExpiresAt.After(now) {
			break // lots are ordered by expiry
		}
		if _, err := tx.AppendPoints(m.BrandID, cloud.PointsEntry{MemberID: m.ID, At: now, Delta: -l.Remaining, Reason: "expire", Note: "earned in lot " + itoa(l.Seq)}); err != nil {
			return 0, err
		}
		total += l.Remaining
		l.Remaining = 0
		if err := tx.PutPointsLot(m.BrandID, l); err != nil {
			return 0, err
		}
	}
	m.Points -= total
	return total, nil
}

func expireCoupons(tx cloud.Tx, memberID, brandID string, now time.Time) (int, error) {
	coupons, err := tx.MemberCoupons(brandID, memberID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range coupons {
		if c.State != cloud.CouponIssued || now.Before(c.ExpiresAt) {
			continue
		}
		c.History = append(c.History, cloud.CouponTransition{At: now, From: c.State, To: cloud.CouponExpired, Reason: "validity ended"})
		c.State = cloud.CouponExpired
		if err := tx.PutCoupon(c); err != nil {
			return 0, err
		}
		if _, err := tx.AppendChange(brandID, cloud.ChangeCoupon, c.Code); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// RunSchedule runs maintenance for every brand at each interval until ctx
// ends.
func (s *Service) RunSchedule(ctx context.Context, every time.Duration, brands func(context.Context) ([]string, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := brands(ctx)
		if err != nil {
			s.log.Error("maintenance: list brands", "err", err)
			continue
		}
		for _, id := range ids {
			if _, err := s.RunMaintenance(ctx, id); err != nil {
				s.log.Error("maintenance failed", slog.String("brand", id), slog.Any("err", err))
			}
		}
	}
}

// BrandIDs lists every brand (for scheduled work).
func (s *Service) BrandIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		ids, err = tx.BrandIDs()
		return err
	})
	return ids, err
}
