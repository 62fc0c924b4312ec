package loyalty

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/records"
)

// The grants below give a member something inside a transaction the
// caller holds (campaigns record their once-only key in the same one).
// They take loyalty's own paths: ledger lines, coupon history and the
// change log, so what a campaign gives reaches the counters' replicas.

// GrantCoupon issues a coupon of a template to a member; validDays > 0
// overrides the template's validity.
func GrantCoupon(tx cloud.Tx, brandID, memberID, templateID string, validDays int, reason string, now time.Time) (cloud.Coupon, cloud.CouponTemplate, error) {
	t, err := records.CouponTemplate(tx, brandID, templateID)
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
	if err := records.PutCoupon(tx, c); err != nil {
		return cloud.Coupon{}, t, err
	}
	if _, err := records.AppendChange(tx, brandID, cloud.ChangeCoupon, c.Code); err != nil {
		return cloud.Coupon{}, t, err
	}
	return c, t, nil
}

// GrantPoints awards points as a new lot expiring by the programme.
func GrantPoints(tx cloud.Tx, brandID, memberID string, n int64, reason string, now time.Time) error {
	if n <= 0 {
		return cloud.Errorf(cloud.Invalid, "points to grant must be positive, not %d", n)
	}
	b, err := records.Brand(tx, brandID)
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

// GrantPointsBoost makes the member earn at multiplierBP/10000 until a time.
func GrantPointsBoost(tx cloud.Tx, brandID, memberID string, multiplierBP int, until time.Time, reason string) error {
	m, err := resolveMember(tx, brandID, memberID)
	if err != nil {
		return err
	}
	return records.PutPointsBoost(tx, brandID, cloud.PointsBoost{MemberID: m.ID, MultiplierBP: multiplierBP, Until: until.UTC(), Reason: reason})
}

func saveGranted(tx cloud.Tx, m cloud.Member, _ string) error {
	if err := records.PutMember(tx, m); err != nil {
		return err
	}
	_, err := records.AppendChange(tx, m.BrandID, cloud.ChangeMember, m.ID)
	return err
}

// boostPoints books the extra points of a member's active boost on what a
// purchase earned.
func boostPoints(tx cloud.Tx, m *cloud.Member, earned int64, eventID string, at, expires time.Time) (int64, error) {
	if earned <= 0 {
		return 0, nil
	}
	b, ok, err := records.PointsBoost(tx, m.BrandID, m.ID)
	if err != nil || !ok || !at.Before(b.Until) || b.MultiplierBP <= 10000 {
		return 0, err
	}
	extra := earned * int64(b.MultiplierBP-10000) / 10000
	return extra, earnPoints(tx, m, extra, "boost", eventID, at, expires)
}
