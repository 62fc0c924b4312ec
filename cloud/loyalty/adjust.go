package loyalty

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/money"
)

// Adjustment is HQ correcting a member's balance by hand (a goodwill
// credit, a correction after a till error), always with a reason.
type Adjustment struct {
	// Kind is points or stored_value.
	Kind string
	// Delta is points, or fen of stored value (bonus: HQ's credit is not
	// money paid in; a debit takes principal and bonus in proportion).
	Delta  int64
	Reason string
}

// Adjustment kinds.
const (
	AdjustPoints      = "points"
	AdjustStoredValue = "stored_value"
)

// MaxAdjustReason bounds an adjustment's reason, in characters.
const MaxAdjustReason = 200

// maxAdjust bounds one adjustment: ¥1,000,000 or a billion points.
const maxAdjust = 1_000_000_000

// CheckAdjustment validates an adjustment before it touches the books.
func CheckAdjustment(a Adjustment) error {
	if a.Kind != AdjustPoints && a.Kind != AdjustStoredValue {
		return cloud.Errorf(cloud.Invalid, "adjustment kind %q: want points or stored_value", a.Kind)
	}
	if a.Delta == 0 || a.Delta > maxAdjust || a.Delta < -maxAdjust {
		return cloud.Errorf(cloud.Invalid, "adjustment of %d: want a non-zero amount within ±%d", a.Delta, maxAdjust)
	}
	r := strings.TrimSpace(a.Reason)
	if r == "" {
		return cloud.Errorf(cloud.Invalid, "an adjustment needs a reason")
	}
	if utf8.RuneCountInString(r) > MaxAdjustReason || strings.ContainsFunc(r, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return cloud.Errorf(cloud.Invalid, "reason: at most %d characters, no control characters", MaxAdjustReason)
	}
	return nil
}

// AdjustInTx applies an adjustment inside the caller's transaction (HQ
// writes its audit entry in the same one) and returns the member before
// and after. A debit beyond the balance is refused, never clipped.
func AdjustInTx(tx cloud.Tx, brandID, memberID string, a Adjustment, at time.Time) (before, after cloud.Member, err error) {
	if err := CheckAdjustment(a); err != nil {
		return before, after, err
	}
	reason := strings.TrimSpace(a.Reason)
	m, err := tx.Member(brandID, memberID)
	if err != nil {
		return before, after, err
	}
	if m.MergedInto != "" {
		return before, after, cloud.Errorf(cloud.Invalid, "member %s was merged into %s: adjust that member", memberID, m.MergedInto)
	}
	before = m
	switch a.Kind {
	case AdjustPoints:
		if a.Delta > 0 {
			b, err := tx.Brand(brandID)
			if err != nil {
				return before, after, err
			}
			e, err := tx.AppendPoints(brandID, cloud.PointsEntry{MemberID: m.ID, At: at, Delta: a.Delta, Reason: "adjust", ExpiresAt: b.Programme.PointsExpiry(at), Note: reason})
			if err != nil {
				return before, after, err
			}
			if m.Points, err = money.Add(m.Points, a.Delta); err != nil {
				return before, after, cloud.Errorf(cloud.Invalid, "points balance would overflow")
			}
			if err := tx.PutPointsLot(brandID, cloud.PointsLot{MemberID: m.ID, Seq: e.Seq, ExpiresAt: e.ExpiresAt, Remaining: a.Delta}); err != nil {
				return before, after, err
			}
		} else {
			if -a.Delta > m.Points {
				return before, after, cloud.Errorf(cloud.Invalid, "the member has %d points: cannot take %d", m.Points, -a.Delta)
			}
			if _, err := takePoints(tx, &m, -a.Delta, "adjust", "", reason, at); err != nil {
				return before, after, err
			}
		}
	case AdjustStoredValue:
		if a.Delta > 0 {
			if err := addStoredValue(tx, &m, 0, a.Delta, "adjust", "", reason, at); err != nil {
				return before, after, cloud.Errorf(cloud.Invalid, "stored value would overflow")
			}
		} else {
			if -a.Delta > m.StoredValue() {
				return before, after, cloud.Errorf(cloud.Invalid, "the member holds %d fen of stored value: cannot take %d", m.StoredValue(), -a.Delta)
			}
			total := m.StoredValue()
			bonus, err := money.MulDiv(-a.Delta, m.SVBonus, total)
			if err != nil {
				return before, after, err
			}
			principal := -a.Delta - bonus
			if err := addStoredValue(tx, &m, -principal, -bonus, "adjust", "", reason, at); err != nil {
				return before, after, err
			}
		}
	}
	if err := tx.PutMember(m); err != nil {
		return before, after, err
	}
	if _, err := tx.AppendChange(brandID, cloud.ChangeMember, m.ID); err != nil {
		return before, after, err
	}
	return before, m, nil
}
