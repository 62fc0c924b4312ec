package loyalty

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/money"
)

// maxAmountFen bounds any single amount: 10 million yuan is no bill.
const maxAmountFen = 1_000_000_000

// applyCtx is what applying one event needs.
type applyCtx struct {
	tx    cloud.Tx
	brand cloud.Brand
	// loc is the brand's time zone, for its calendar rules.
	loc *time.Location
	dev cloud.Device
	ev  cloud.Event
	now time.Time
	// changed members and coupons, for the change log
	members map[string]bool
	coupons map[string]bool
	notes   []string
}

func (a *applyCtx) conflict(kind, memberID, detail, resolution string) error {
	_, err := a.tx.AppendConflict(a.brand.ID, cloud.ConflictRecord{
		At: a.now, Kind: kind, EventID: a.ev.ID, DeviceID: a.dev.ID, StoreID: a.ev.StoreID,
		MemberID: memberID, Detail: detail, Resolution: resolution,
	})
	a.notes = append(a.notes, kind+": "+detail)
	return err
}

// resolveMember finds the member an event names: a cloud id, or a
// counter's "local:<ref>" for a member it enrolled, following merges.
func resolveMember(tx cloud.Tx, brand, id string) (cloud.Member, error) {
	if ref, ok := strings.CutPrefix(id, "local:"); ok {
		var err error
		if id, err = tx.LocalRef(brand, ref); err != nil {
			return cloud.Member{}, err
		}
	}
	for range 16 {
		m, err := tx.Member(brand, id)
		if err != nil || m.MergedInto == "" {
			return m, err
		}
		id = m.MergedInto
	}
	return cloud.Member{}, cloud.Errorf(cloud.Internal, "member %s: merge chain too long", id)
}

// rejectf is an outcome, not an error: the event is kept as rejected.
type rejection struct{ reason string }

func rejectf(format string, args ...any) *rejection { return &rejection{fmt.Sprintf(format, args...)} }

// apply turns one new event into state. A returned error aborts the whole
// push (storage trouble); a rejection is an outcome, not an error.
func (s *Service) apply(tx cloud.Tx, b cloud.Brand, loc *time.Location, d cloud.Device, ev cloud.Event) (cloud.Outcome, string, error) {
	if ev.StoreID != d.StoreID {
		return cloud.Rejected, fmt.Sprintf("event says store %q but device belongs to store %q", ev.StoreID, d.StoreID), nil
	}
	var err error
	a := &applyCtx{tx: tx, brand: b, loc: loc, dev: d, ev: ev, now: s.Now(), members: map[string]bool{}, coupons: map[string]bool{}}
	var rej *rejection
	switch ev.Kind {
	case cloud.EventVisit:
		rej, err = a.visit(s)
	case cloud.EventPurchase:
		rej, err = a.purchase()
	case cloud.EventTopUp:
		rej, err = a.topUp()
	case cloud.EventRefund:
		rej, err = a.refund()
	case cloud.EventVoucher:
		rej, err = a.voucher()
	case cloud.EventEnrolment:
		rej, err = a.enrol(s)
	default:
		rej = rejectf("event kind %q is not known to this service", ev.Kind)
	}
	if err != nil {
		return "", "", err
	}
	if rej != nil {
		return cloud.Rejected, rej.reason, nil
	}
	for _, id := range sortedKeys(a.members) {
		if _, err := tx.AppendChange(b.ID, cloud.ChangeMember, id); err != nil {
			return "", "", err
		}
	}
	for _, code := range sortedKeys(a.coupons) {
		if _, err := tx.AppendChange(b.ID, cloud.ChangeCoupon, code); err != nil {
			return "", "", err
		}
	}
	return cloud.Applied, strings.Join(a.notes, "; "), nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// member loads the event's member, or rejects the event.
func (a *applyCtx) member() (cloud.Member, *rejection, error) {
	if a.ev.MemberID == "" {
		return cloud.Member{}, rejectf("%s event names no member", a.ev.Kind), nil
	}
	m, err := resolveMember(a.tx, a.brand.ID, a.ev.MemberID)
	if cloud.IsNotFound(err) {
		return m, rejectf("member %q does not exist", a.ev.MemberID), nil
	}
	return m, nil, err
}

func (a *applyCtx) save(m cloud.Member) error {
	a.members[m.ID] = true
	return a.tx.PutMember(m)
}

func (a *applyCtx) visit(s *Service) (*rejection, error) {
	m, rej, err := a.member()
	if rej != nil || err != nil {
		return rej, err
	}
	if rej, err := a.useCode(s, m.ID); rej != nil || err != nil {
		return rej, err
	}
	m.Visits++
	if a.ev.OccurredAt.After(m.LastVisitAt) {
		m.LastVisitAt = a.ev.OccurredAt
	}
	if err := a.tx.AddActivity(a.brand.ID, m.ID, activityDay(a.ev.OccurredAt, a.loc), 1, 0); err != nil {
		return nil, err
	}
	if err := upgradeTier(a.tx, a.brand.Programme, &m, a.ev.OccurredAt, a.loc, "visit "+a.ev.ID); err != nil {
		return nil, err
	}
	return nil, a.save(m)
}

func checkAmounts(fields map[string]int64) *rejection {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v := fields[name]
		if v < 0 {
			return rejectf("%s is negative (%d fen)", name, v)
		}
		if v > maxAmountFen {
			return rejectf("%s of %d fen is beyond any real bill", name, v)
		}
	}
	return nil
}

func (a *applyCtx) purchase() (*rejection, error) {
	p := a.ev.Purchase
	if p == nil {
		return rejectf("purchase event without its purchase"), nil
	}
	if rej := checkAmounts(map[string]int64{
		"bill_fen": p.BillFen, "tier_discount_fen": p.TierDiscountFen, "coupon_discount_fen": p.CouponDiscountFen,
		"points_burned": p.PointsBurned, "points_discount_fen": p.PointsDiscountFen, "stored_value_fen": p.StoredValueFen, "paid_other_fen": p.PaidOtherFen,
	}); rej != nil {
		return rej, nil
	}
	for i, it := range p.Items {
		line, err := money.LineTotal(it.Quantity, it.UnitPriceFen)
		if err != nil {
			return rejectf("item %d (%s): %v", i+1, it.SKU, err), nil
		}
		if line > maxAmountFen {
			return rejectf("item %d (%s): %d x %d fen is beyond any real bill", i+1, it.SKU, it.Quantity, it.UnitPriceFen), nil
		}
	}
	if p.NetFen() < 0 {
		return rejectf("discounts (%d fen) exceed the bill (%d fen)", p.BillFen-p.NetFen(), p.BillFen), nil
	}
	if p.NetFen() != p.StoredValueFen+p.PaidOtherFen {
		return rejectf("amounts do not add up: bill %d - discounts %d = %d, but paid %d stored value + %d other",
			p.BillFen, p.BillFen-p.NetFen(), p.NetFen(), p.StoredValueFen, p.PaidOtherFen), nil
	}
	m, rej, err := a.member()
	if rej != nil || err != nil {
		return rej, err
	}
	at := a.ev.OccurredAt
	local := at.In(a.loc) // the brand's calendar: bonus days, expiry
	eff := cloud.PurchaseEffect{EventID: a.ev.ID, MemberID: m.ID, NetFen: p.NetFen()}

	// Coupons: the first redemption to reach the cloud keeps the coupon.
	// A later one was honoured at its counter already, so it is not
	// undone; it is recorded for HQ to settle.
	for _, code := range p.CouponCodes {
		if err := a.redeemCoupon(code, m.ID, at); err != nil {
			return nil, err
		}
	}
	// Points: burn what the member has; a shortfall (spent offline in two
	// stores) is recorded.
	if p.PointsBurned > 0 {
		taken, err := takePoints(a.tx, &m, p.PointsBurned, "burn", a.ev.ID, "", at)
		if err != nil {
			return nil, err
		}
		eff.PointsBurned = taken
		if taken < p.PointsBurned {
			if err := a.conflict("points_overdraft", m.ID, fmt.Sprintf("counter burned %d points, member had %d", p.PointsBurned, taken),
				"balance floors at 0; the shortfall is HQ's to settle"); err != nil {
				return nil, err
			}
		}
	}
	// Stored value never goes negative in the cloud's books.
	if p.StoredValueFen > 0 {
		pr, bo, err := spendStoredValue(a.tx, &m, p.StoredValueFen, "spend", a.ev.ID, at)
		if err != nil {
			return nil, err
		}
		eff.PrincipalSpent, eff.BonusSpent = pr, bo
		if short := p.StoredValueFen - pr - bo; short > 0 {
			if err := a.conflict("overdraft", m.ID, fmt.Sprintf("counter took %d fen of stored value, member had %d; short %d fen", p.StoredValueFen, pr+bo, short),
				"balance floors at 0; the shortfall is recorded as owed to the brand"); err != nil {
				return nil, err
			}
		}
	}
	tier, _ := a.brand.Programme.Tier(m.TierID)
	earned, err := a.brand.Programme.PointsFor(p.NetFen(), tier, local)
	if err != nil {
		return rejectf("%v", err), nil
	}
	if err := earnPoints(a.tx, &m, earned, "earn", a.ev.ID, at, a.brand.Programme.PointsExpiry(local)); err != nil {
		return nil, err
	}
	eff.PointsEarned = earned
	m.TotalSpendFen += p.NetFen()
	if err := a.tx.AddActivity(a.brand.ID, m.ID, activityDay(at, a.loc), 0, p.NetFen()); err != nil {
		return nil, err
	}
	if err := upgradeTier(a.tx, a.brand.Programme, &m, at, a.loc, "purchase "+a.ev.ID); err != nil {
		return nil, err
	}
	if err := a.tx.PutEffect(a.brand.ID, eff); err != nil {
		return nil, err
	}
	return nil, a.save(m)
}

func (a *applyCtx) redeemCoupon(code, memberID string, at time.Time) error {
	c, err := a.tx.Coupon(a.brand.ID, code)
	if cloud.IsNotFound(err) {
		return a.conflict("coupon_invalid", memberID, fmt.Sprintf("coupon %s is unknown to the cloud", code), "discount stands as given; HQ to review")
	} else if err != nil {
		return err
	}
	var problem string
	switch {
	case c.State == cloud.CouponRedeemed:
		last := c.History[len(c.History)-1]
		return a.conflict("coupon_reused", memberID, fmt.Sprintf("coupon %s was already redeemed at store %s (event %s)", code, last.StoreID, last.EventID),
			"first redemption to reach the cloud keeps the coupon; this one was honoured at the counter and is HQ's to settle")
	case c.MemberID != memberID:
		problem = fmt.Sprintf("coupon %s belongs to member %s", code, c.MemberID)
	case c.State != cloud.CouponIssued:
		problem = fmt.Sprintf("coupon %s is %s", code, c.State)
	case at.Before(c.ValidFrom) || !at.Before(c.ExpiresAt):
		problem = fmt.Sprintf("coupon %s was used at %s outside its validity %s to %s", code, at.Format(time.RFC3339), c.ValidFrom.Format(time.DateOnly), c.ExpiresAt.Format(time.DateOnly))
	}
	if problem != "" {
		if err := a.conflict("coupon_invalid", memberID, problem, "coupon marked redeemed; discount stands as given; HQ to review"); err != nil {
			return err
		}
	}
	c.History = append(c.History, cloud.CouponTransition{At: at, From: c.State, To: cloud.CouponRedeemed, EventID: a.ev.ID, StoreID: a.ev.StoreID})
	c.State = cloud.CouponRedeemed
	a.coupons[c.Code] = true
	return a.tx.PutCoupon(c)
}

func (a *applyCtx) topUp() (*rejection, error) {
	t := a.ev.TopUp
	if t == nil {
		return rejectf("top-up event without its top-up"), nil
	}
	if rej := checkAmounts(map[string]int64{"amount_fen": t.AmountFen, "bonus_fen": t.BonusFen}); rej != nil {
		return rej, nil
	}
	if t.AmountFen == 0 {
		return rejectf("top-up of 0 fen"), nil
	}
	m, rej, err := a.member()
	if rej != nil || err != nil {
		return rej, err
	}
	bonus := a.brand.Programme.TopUpBonus(t.AmountFen)
	note := ""
	if bonus != t.BonusFen {
		note = fmt.Sprintf("counter showed a bonus of %d fen; the brand's rule grants %d", t.BonusFen, bonus)
		a.notes = append(a.notes, note)
	}
	if err := addStoredValue(a.tx, &m, t.AmountFen, bonus, "top_up", a.ev.ID, note, a.ev.OccurredAt); err != nil {
		return nil, err
	}
	return nil, a.save(m)
}

func (a *applyCtx) refund() (*rejection, error) {
	r := a.ev.Refund
	if r == nil {
		return rejectf("refund event without its refund"), nil
	}
	m, rej, err := a.member()
	if rej != nil || err != nil {
		return rej, err
	}
	at := a.ev.OccurredAt
	if r.PurchaseEventID == "" {
		// Cash-out: principal back, bonus forfeited in proportion.
		if r.AmountFen <= 0 || r.AmountFen > m.SVPrincipal {
			return rejectf("cash-out of %d fen: the member's principal is %d fen", r.AmountFen, m.SVPrincipal), nil
		}
		forfeit, err := cashOutForfeit(a.tx, m, r.AmountFen)
		if err != nil {
			return nil, err
		}
		if err := addStoredValue(a.tx, &m, -r.AmountFen, -forfeit, "cash_out", a.ev.ID, fmt.Sprintf("bonus forfeited: %d fen", forfeit), at); err != nil {
			return nil, err
		}
		return nil, a.save(m)
	}
	eff, err := a.tx.Effect(a.brand.ID, r.PurchaseEventID)
	if cloud.IsNotFound(err) {
		return rejectf("refund of purchase %s, which the cloud does not hold as applied", r.PurchaseEventID), nil
	} else if err != nil {
		return nil, err
	}
	if eff.Refunded {
		return rejectf("purchase %s was already refunded by event %s", r.PurchaseEventID, eff.RefundedEventID), nil
	}
	if eff.MemberID != m.ID {
		return rejectf("purchase %s belongs to member %s, not %s", r.PurchaseEventID, eff.MemberID, m.ID), nil
	}
	if err := addStoredValue(a.tx, &m, eff.PrincipalSpent, eff.BonusSpent, "refund", a.ev.ID, "purchase "+eff.EventID, at); err != nil {
		return nil, err
	}
	if err := earnPoints(a.tx, &m, eff.PointsBurned, "refund", a.ev.ID, at, a.brand.Programme.PointsExpiry(at.In(a.loc))); err != nil {
		return nil, err
	}
	taken, err := takePoints(a.tx, &m, eff.PointsEarned, "refund", a.ev.ID, "points earned by purchase "+eff.EventID, at)
	if err != nil {
		return nil, err
	}
	if taken < eff.PointsEarned {
		if err := a.conflict("points_overdraft", m.ID, fmt.Sprintf("refund takes back %d points earned, member has %d left", eff.PointsEarned, taken),
			"balance floors at 0; the rest is written off"); err != nil {
			return nil, err
		}
	}
	m.TotalSpendFen -= eff.NetFen
	eff.Refunded, eff.RefundedEventID = true, a.ev.ID
	if err := a.tx.PutEffect(a.brand.ID, eff); err != nil {
		return nil, err
	}
	return nil, a.save(m)
}

func (a *applyCtx) voucher() (*rejection, error) {
	vr := a.ev.Voucher
	if vr == nil || vr.Code == "" {
		return rejectf("voucher redemption without a voucher code"), nil
	}
	memberID := ""
	if a.ev.MemberID != "" {
		m, rej, err := a.member()
		if rej != nil || err != nil {
			return rej, err
		}
		memberID = m.ID
	}
	if vr.Platform != "" {
		return a.platformVoucher(memberID)
	}
	v, err := a.tx.Voucher(a.brand.ID, vr.Code)
	if cloud.IsNotFound(err) {
		return nil, a.conflict("voucher_unknown", memberID, fmt.Sprintf("voucher %s was never imported", vr.Code), "accepted at the counter; HQ to check with the platform")
	} else if err != nil {
		return nil, err
	}
	if v.Redeemed {
		return nil, a.conflict("voucher_reused", memberID, fmt.Sprintf("voucher %s was already redeemed at store %s (event %s)", v.Code, v.StoreID, v.EventID),
			"first redemption keeps the voucher; this one is HQ's to settle with the platform")
	}
	v.Redeemed, v.RedeemedAt, v.StoreID, v.EventID, v.MemberID = true, a.ev.OccurredAt, a.ev.StoreID, a.ev.ID, memberID
	if err := a.tx.PutVoucher(v); err != nil {
		return nil, err
	}
	_, err = a.tx.AppendChange(a.brand.ID, cloud.ChangeVoucher, v.Code)
	return nil, err
}

func (a *applyCtx) enrol(s *Service) (*rejection, error) {
	e := a.ev.Enrolment
	if e == nil || e.LocalRef == "" {
		return rejectf("enrolment without a local reference"), nil
	}
	phone, err := NormalizePhone(e.Phone)
	if err != nil {
		return rejectf("%s", cloud.ErrorMessage(err)), nil
	}
	if err := validMemberName(e.Name); err != nil {
		return rejectf("%s", cloud.ErrorMessage(err)), nil
	}
	if id, err := a.tx.LocalRef(a.brand.ID, e.LocalRef); err == nil {
		return rejectf("reference %s already enrolled member %s", e.LocalRef, id), nil
	}
	if id, err := a.tx.MemberIDByPhone(a.brand.ID, phone); err == nil {
		// Already a member (enrolled elsewhere meanwhile): the counter's
		// reference points at them; no second member.
		a.notes = append(a.notes, "phone already belonged to member "+id)
		return nil, a.tx.PutLocalRef(a.brand.ID, e.LocalRef, id)
	}
	src := cloud.MemberSource{Channel: "counter", StoreID: a.ev.StoreID, StaffID: a.ev.StaffID}
	if e.VoucherCode != "" {
		var err error
		if src, err = voucherSource(a.tx, a.brand.ID, e.VoucherCode, src); err != nil {
			return nil, err
		}
	}
	if e.ReferrerID != "" {
		if ref, err := resolveMember(a.tx, a.brand.ID, e.ReferrerID); err == nil {
			src.ReferrerID = ref.ID
			if src.Channel == "counter" {
				src.Channel = "referral"
			}
		}
	}
	m, err := s.newMember(a.tx, a.brand, phone, e.Name, src, a.ev.OccurredAt)
	if err != nil {
		return nil, err
	}
	m.Consent = e.Consent
	if err := a.tx.PutLocalRef(a.brand.ID, e.LocalRef, m.ID); err != nil {
		return nil, err
	}
	return nil, a.save(m)
}

// voucherSource is the source of a member a group-buy voucher brought: a
// platform voucher's platform, deal, store and staff, or an imported
// voucher's campaign, over what the join itself knows.
func voucherSource(tx cloud.Tx, brand, code string, src cloud.MemberSource) (cloud.MemberSource, error) {
	src.Channel = "group_buy"
	o, found, err := tx.VoucherOrigin(brand, code)
	if err != nil {
		return src, fmt.Errorf("find voucher %s: %w", code, err)
	}
	if found {
		src.Platform, src.DealID = o.Platform, o.DealID
		src.StoreID = cmp.Or(o.StoreID, src.StoreID)
		src.StaffID = cmp.Or(o.StaffID, src.StaffID)
		return src, nil
	}
	if v, err := tx.Voucher(brand, code); err == nil {
		src.CampaignID = v.CampaignID
	}
	return src, nil
}

// maxVoucherCount bounds the uses one platform voucher event takes.
const maxVoucherCount = 100

// platformVoucher applies a Meituan/Douyin voucher event: one consumed
// online needs nothing more (the cloud consumed it when the counter
// asked); one accepted offline is queued for the cloud to consume with
// its platform, where a refusal becomes a conflict for HQ.
func (a *applyCtx) platformVoucher(memberID string) (*rejection, error) {
	vr := a.ev.Voucher
	switch {
	case vr.Platform != cloud.PlatformMeituan && vr.Platform != cloud.PlatformDouyin:
		return rejectf("voucher platform %q is not known", vr.Platform), nil
	case vr.Count < 1 || vr.Count > maxVoucherCount:
		return rejectf("voucher count %d is not between 1 and %d", vr.Count, maxVoucherCount), nil
	case vr.PriceFen < 0 || vr.PriceFen > maxAmountFen:
		return rejectf("voucher price %d fen is out of range", vr.PriceFen), nil
	case len(vr.Code) > 64 || len(vr.DealID) > 64:
		return rejectf("voucher code or deal is too long"), nil
	}
	if !vr.Provisional {
		if vr.ConsumptionKey == "" {
			return rejectf("platform voucher %s was neither consumed online nor accepted provisionally", vr.Code), nil
		}
		return nil, nil
	}
	a.notes = append(a.notes, "provisional "+vr.Platform+" voucher queued for the platform")
	return nil, a.tx.PutVoucherClaim(cloud.VoucherClaim{
		BrandID: a.brand.ID, EventID: a.ev.ID, StoreID: a.ev.StoreID, DeviceID: a.dev.ID, StaffID: a.ev.StaffID,
		Platform: vr.Platform, Code: vr.Code, DealID: vr.DealID, Count: vr.Count, PriceFen: vr.PriceFen,
		OccurredAt: a.ev.OccurredAt, ReceivedAt: a.now,
	})
}
