package loyalty

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// The grants below give a member something inside a transaction the
// caller holds (campaigns record their once-only key in the same one).
// They take loyalty's own paths: ledger lines, coupon history and the
// change log, so what a campaign gives reaches the counters' replicas.

// GrantCoupon issues a coupon of a template to a member; validDays > 0
// overrides the template's validity.
func GrantCoupon(tx cloud.Tx, brandID, memberID, templateID string, validDays int, reason string, now time.Time) (cloud.Coupon, cloud.CouponTemplate, error) {
	t, err := tx.CouponTemplate(brandID, templateID)
	if err != nil {
		return cloud.Coupon{}, t, err
	}
	m, err := resolveMember(tx, brandID, memberID)
	if err != nil {
		return cloud.Coupon{}, t, err
	}
	c := cloud.Coupon{BrandID: brandID, Code: "CP" + randomText(10), TemplateID: t.ID, MemberID: m.ID, State: cloud.CouponIssued, IssuedAt: now}
	switch {
	case validDays > 0:
		c.ValidFrom, c.ExpiresAt = now, now.Add(time.Duration(validDays)*24*time.Hour)
	case t.ValidDays > 0:
		c.ValidFrom, c.ExpiresAt = now, now.Add(time.Duration(t.ValidDays)*24*time.Hour)
	default:
		c.ValidFrom, c.ExpiresAt = t.ValidFrom, t.ValidUntil
	}
	c.History = []cloud.CouponTransition{{At: now, To: cloud.CouponIssued, Reason: reason}}
	if err := tx.PutCoupon(c); err != nil {
		return cloud.Coupon{}, t, err
	}
	if _, err := tx.AppendChange(brandID, cloud.ChangeCoupon, c.Code); err != nil {
		return cloud.Coupon{}, t, err
	}
	return c, t, nil
}

// GrantPoints awards points as a new lot expiring by the programme.
func GrantPoints(tx cloud.Tx, brandID, memberID string, n int64, reason string, now time.Time) error {
	if n <= 0 {
		return cloud.Errorf(cloud.Invalid, "points to grant must be positive, not %d", n)
	}
	b, err := tx.Brand(brandID)
	if err != nil {
		return err
	}
	m, err := resolveMember(tx, brandID, memberID)
	if err != nil {
		return err
	}
	if err := earnPoints(tx, &m, n, "grant", "", now, b.Programme.PointsExpiry(now)); err != nil {
		return fmt.Errorf("grant points: %w", err)
	}
	return saveGranted(tx, m, reason)
}

// GrantBonus adds stored-value bonus (never principal: it was not paid).
func GrantBonus(tx cloud.Tx, brandID, memberID string, fen int64, reason string, now time.Time) error {
	if fen <= 0 || fen > maxAmountFen {
		return cloud.Errorf(cloud.Invalid, "bonus must be 1 to %d fen, not %d", maxAmountFen, fen)
	}
	m, err := resolveMember(tx, brandID, memberID)
	if err != nil {
		return err
	}
	if err := addStoredValue(tx, &m, 0, fen, "grant", "", reason, now); err != nil {
		return fmt.Errorf("grant stored-value bonus: %w", err)
	}
	return saveGranted(tx, m, reason)
}

func saveGranted(tx cloud.Tx, m cloud.Member, _ string) error {
	if err := tx.PutMember(m); err != nil {
		return err
	}
	_, err := tx.AppendChange(m.BrandID, cloud.ChangeMember, m.ID)
	return err
}
