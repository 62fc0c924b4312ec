package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Kinds of the loyalty records.
const (
	KindPointsLedger   = "points"       // member/seq -> PointsEntry
	KindPointsLot      = "pointlot"     // member/expiry/seq -> PointsLot
	KindSVLedger       = "storedvalue"  // member/seq -> StoredValueEntry
	KindTierLog        = "tierlog"      // member/seq -> TierChange
	KindActivity       = "activity"     // member/day -> Activity
	KindCouponTemplate = "coupontpl"    // id -> CouponTemplate
	KindCoupon         = "coupon"       // code -> Coupon
	KindMemberCoupon   = "membercoupon" // member/code -> template id
	KindVoucher        = "voucher"      // code -> Voucher
	KindConflict       = "conflict"     // seq -> ConflictRecord
	KindLocalRef       = "localref"     // counter's local ref -> member id
	KindEffect         = "effect"       // purchase event id -> PurchaseEffect
	KindPointsBoost    = "pointboost"   // member -> PointsBoost
)

// MemberKey makes a key under a member: id, a zero byte, then the parts,
// so one member's records are one range.
func MemberKey(memberID string, parts ...[]byte) []byte {
	k := append([]byte(memberID), 0)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// ScanPrefix calls fn for each record whose key starts with prefix.
func ScanPrefix(tx cloud.Tx, brand, kind string, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	return tx.Scan(brand, kind, prefix, func(k, v []byte) (bool, error) {
		if !bytes.HasPrefix(k, prefix) {
			return false, nil
		}
		return fn(k, v)
	})
}

// ListMember decodes a member's records of a kind, oldest key first.
func ListMember[T any](tx cloud.Tx, brand, kind, memberID string) ([]T, error) {
	var out []T
	err := ScanPrefix(tx, brand, kind, MemberKey(memberID), func(k, v []byte) (bool, error) {
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return false, fmt.Errorf("decode %s of member %s: %w", kind, memberID, err)
		}
		out = append(out, rec)
		return true, nil
	})
	return out, err
}

// AppendPoints adds a line to a member's points ledger.
func AppendPoints(tx cloud.Tx, brand string, e cloud.PointsEntry) (cloud.PointsEntry, error) {
	n, err := tx.NextSeq(brand, KindPointsLedger)
	if err != nil {
		return e, err
	}
	e.Seq = n
	return e, Put(tx, brand, KindPointsLedger, MemberKey(e.MemberID, Seq(n)), e)
}

// AppendStoredValue adds a line to a member's stored-value ledger.
func AppendStoredValue(tx cloud.Tx, brand string, e cloud.StoredValueEntry) (cloud.StoredValueEntry, error) {
	n, err := tx.NextSeq(brand, KindSVLedger)
	if err != nil {
		return e, err
	}
	e.Seq = n
	return e, Put(tx, brand, KindSVLedger, MemberKey(e.MemberID, Seq(n)), e)
}

// AppendTierChange records a tier change.
func AppendTierChange(tx cloud.Tx, brand string, c cloud.TierChange) error {
	n, err := tx.NextSeq(brand, KindTierLog)
	if err != nil {
		return err
	}
	return Put(tx, brand, KindTierLog, MemberKey(c.MemberID, Seq(n)), c)
}

func lotKey(l cloud.PointsLot) []byte {
	exp := uint64(1<<63 - 1) // never: sorts last
	if !l.ExpiresAt.IsZero() {
		exp = uint64(l.ExpiresAt.Unix())
	}
	return MemberKey(l.MemberID, Seq(exp), Seq(l.Seq))
}

// PutPointsLot writes a lot; a lot with nothing remaining is removed.
func PutPointsLot(tx cloud.Tx, brand string, l cloud.PointsLot) error {
	if l.Remaining <= 0 {
		return tx.Delete(brand, KindPointsLot, lotKey(l))
	}
	return Put(tx, brand, KindPointsLot, lotKey(l), l)
}

// PointsLots lists a member's lots, soonest to expire first.
func PointsLots(tx cloud.Tx, brand, memberID string) ([]cloud.PointsLot, error) {
	return ListMember[cloud.PointsLot](tx, brand, KindPointsLot, memberID)
}

// Activity is a member's visits and spend on one day (UTC), kept for the
// tier window: one record per member and day, so reading a year's window
// reads at most 366 records however often the member comes.
type Activity struct {
	Day      time.Time
	Visits   int
	SpendFen int64
}

// ActivityKey is the key of a member's activity on the day of t.
func ActivityKey(memberID string, t time.Time) []byte { return dayKey(memberID, t) }

func dayKey(memberID string, t time.Time) []byte {
	return MemberKey(memberID, Seq(uint64(max(t.Unix(), 0)/86400)))
}

// AddActivity adds visits and spend to a member's day.
func AddActivity(tx cloud.Tx, brand, memberID string, at time.Time, visits int, spendFen int64) error {
	key := dayKey(memberID, at)
	a, err := Get[Activity](tx, brand, KindActivity, key, "activity")
	if err != nil && !cloud.IsNotFound(err) {
		return err
	}
	a.Day = at.UTC().Truncate(24 * time.Hour)
	a.Visits += visits
	a.SpendFen += spendFen
	return Put(tx, brand, KindActivity, key, a)
}

// ActivitySince sums a member's visits and spend from the day of t on.
func ActivitySince(tx cloud.Tx, brand, memberID string, t time.Time) (visits int, spendFen int64, err error) {
	prefix := MemberKey(memberID)
	err = tx.Scan(brand, KindActivity, dayKey(memberID, t), func(k, v []byte) (bool, error) {
		if !bytes.HasPrefix(k, prefix) {
			return false, nil
		}
		var a Activity
		if err := json.Unmarshal(v, &a); err != nil {
			return false, fmt.Errorf("decode activity of member %s: %w", memberID, err)
		}
		visits += a.Visits
		spendFen += a.SpendFen
		return true, nil
	})
	return visits, spendFen, err
}

// CouponTemplate reads a coupon template.
func CouponTemplate(tx cloud.Tx, brand, id string) (cloud.CouponTemplate, error) {
	return Get[cloud.CouponTemplate](tx, brand, KindCouponTemplate, []byte(id), fmt.Sprintf("coupon template %q", id))
}

// PutCouponTemplate writes a coupon template.
func PutCouponTemplate(tx cloud.Tx, t cloud.CouponTemplate) error {
	return Put(tx, t.BrandID, KindCouponTemplate, []byte(t.ID), t)
}

// Coupon reads a coupon by its code.
func Coupon(tx cloud.Tx, brand, code string) (cloud.Coupon, error) {
	return Get[cloud.Coupon](tx, brand, KindCoupon, []byte(code), fmt.Sprintf("coupon %q", code))
}

// PutCoupon writes a coupon and its member index.
func PutCoupon(tx cloud.Tx, c cloud.Coupon) error {
	old, err := Coupon(tx, c.BrandID, c.Code)
	if err == nil && old.MemberID != c.MemberID {
		if err := tx.Delete(c.BrandID, KindMemberCoupon, MemberKey(old.MemberID, []byte(c.Code))); err != nil {
			return err
		}
	} else if err != nil && !cloud.IsNotFound(err) {
		return err
	}
	if err := tx.Put(c.BrandID, KindMemberCoupon, MemberKey(c.MemberID, []byte(c.Code)), []byte(c.TemplateID)); err != nil {
		return err
	}
	return Put(tx, c.BrandID, KindCoupon, []byte(c.Code), c)
}

// MemberCoupons lists a member's coupons.
func MemberCoupons(tx cloud.Tx, brand, memberID string) ([]cloud.Coupon, error) {
	var codes []string
	err := ScanPrefix(tx, brand, KindMemberCoupon, MemberKey(memberID), func(k, v []byte) (bool, error) {
		codes = append(codes, string(k[len(memberID)+1:]))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]cloud.Coupon, 0, len(codes))
	for _, code := range codes {
		c, err := Coupon(tx, brand, code)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Voucher reads a group-buy voucher.
func Voucher(tx cloud.Tx, brand, code string) (cloud.Voucher, error) {
	return Get[cloud.Voucher](tx, brand, KindVoucher, []byte(code), fmt.Sprintf("voucher %q", code))
}

// PutVoucher writes a group-buy voucher.
func PutVoucher(tx cloud.Tx, v cloud.Voucher) error {
	return Put(tx, v.BrandID, KindVoucher, []byte(v.Code), v)
}

// AppendConflict records a conflict for HQ.
func AppendConflict(tx cloud.Tx, brand string, c cloud.ConflictRecord) (cloud.ConflictRecord, error) {
	n, err := tx.NextSeq(brand, KindConflict)
	if err != nil {
		return c, err
	}
	c.Seq = n
	return c, Put(tx, brand, KindConflict, Seq(n), c)
}

// Conflicts lists conflicts after seq after.
func Conflicts(tx cloud.Tx, brand string, after uint64, limit int) ([]cloud.ConflictRecord, error) {
	out, _, err := List[cloud.ConflictRecord](tx, brand, KindConflict, Seq(after+1), limit)
	return out, err
}

// LocalRef resolves a counter's reference for a member it enrolled.
func LocalRef(tx cloud.Tx, brand, ref string) (string, error) {
	id, err := tx.Get(brand, KindLocalRef, []byte(ref))
	if err != nil {
		return "", err
	}
	if id == nil {
		return "", cloud.Errorf(cloud.NotFound, "no member enrolled with reference %q", ref)
	}
	return string(id), nil
}

// PutLocalRef ties a counter's reference to a member.
func PutLocalRef(tx cloud.Tx, brand, ref, memberID string) error {
	return tx.Put(brand, KindLocalRef, []byte(ref), []byte(memberID))
}

// Effect reads what a purchase did.
func Effect(tx cloud.Tx, brand, eventID string) (cloud.PurchaseEffect, error) {
	return Get[cloud.PurchaseEffect](tx, brand, KindEffect, []byte(eventID), fmt.Sprintf("purchase %q", eventID))
}

// PutEffect records what a purchase did.
func PutEffect(tx cloud.Tx, brand string, e cloud.PurchaseEffect) error {
	return Put(tx, brand, KindEffect, []byte(e.EventID), e)
}

// Members lists a brand's members in id order (bytewise) after a key.
func Members(tx cloud.Tx, brand string, fn func(cloud.Member) (bool, error)) error {
	return tx.Scan(brand, KindMember, nil, func(k, v []byte) (bool, error) {
		var m cloud.Member
		if err := json.Unmarshal(v, &m); err != nil {
			return false, fmt.Errorf("decode member %q: %w", k, err)
		}
		return fn(m)
	})
}

// PointsBoost reads a member's points boost; ok is false when there is none.
func PointsBoost(tx cloud.Tx, brand, memberID string) (cloud.PointsBoost, bool, error) {
	b, err := Get[cloud.PointsBoost](tx, brand, KindPointsBoost, []byte(memberID), "points boost")
	if cloud.IsNotFound(err) {
		return b, false, nil
	}
	return b, err == nil, err
}

// PutPointsBoost writes a member's points boost (one per member: the
// latest grant replaces an earlier one).
func PutPointsBoost(tx cloud.Tx, brand string, b cloud.PointsBoost) error {
	return Put(tx, brand, KindPointsBoost, []byte(b.MemberID), b)
}
