package counter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/memberpass/memberpass/agent"
)

// PurchaseRequest is what the cashier enters on the kiosk: the bill and
// what the member wants to redeem.
type PurchaseRequest struct {
	MemberID       string   `json:"member_id"`
	BillFen        int64    `json:"bill_fen"`
	CouponCodes    []string `json:"coupon_codes,omitempty"`
	PointsBurn     int64    `json:"points_burn,omitempty"`
	StoredValueFen int64    `json:"stored_value_fen,omitempty"`
}

// Refusals of a redemption.
var (
	RefuseBadAmount        = Refusal{Code: "bad_amount", Zh: "金额无效，请重新输入。", En: "The amount is not valid. Enter it again."}
	RefuseUnknownMember    = Refusal{Code: "member_unknown", Zh: "本机会员数据中没有此会员。", En: "This member is not in this till's member data."}
	RefuseReplicaStale     = Refusal{Code: "replica_stale", Zh: "会员数据过旧，储值、积分和优惠券暂不可用；可现金结账，网络恢复后再用。", En: "Member data is too old: stored value, points and coupons are unavailable until it syncs. The bill can be paid by other means."}
	RefuseStoredValueShort = Refusal{Code: "stored_value_short", Zh: "储值余额不足。", En: "Not enough stored value."}
	RefuseStoredValueLimit = Refusal{Code: "stored_value_daily_limit", Zh: "已达本店今日储值使用上限（离线风控）。", En: "Today's stored-value limit for this member at this counter is reached (offline risk limit)."}
	RefusePointsShort      = Refusal{Code: "points_short", Zh: "积分不足。", En: "Not enough points."}
	RefusePointsLimit      = Refusal{Code: "points_daily_limit", Zh: "已达本店今日积分抵扣上限（离线风控）。", En: "Today's points limit for this member at this counter is reached (offline risk limit)."}
	RefuseCouponUnusable   = Refusal{Code: "coupon_unusable", Zh: "优惠券不可用（已使用、过期、不属于此会员或不适用本店）。", En: "The coupon cannot be used (used, expired, someone else's, or not for this store)."}
	RefuseCouponMinSpend   = Refusal{Code: "coupon_min_spend", Zh: "未达到优惠券最低消费。", En: "The bill is below the coupon's minimum spend."}
	RefuseOverPay          = Refusal{Code: "over_pay", Zh: "储值支付超过应付金额。", En: "Stored value exceeds what is due."}
)

// Ledgers is what the counter needs of the local database for redemptions.
type Ledgers interface {
	Ledger(memberID string, dayStart time.Time) (agent.Ledger, error)
}

// PurchaseResult is what happened to a purchase.
type PurchaseResult struct {
	Event   *agent.Event `json:"event,omitempty"`
	Refusal *Refusal     `json:"refusal,omitempty"`
	// Detail says what the refusal is about (amounts, which coupon).
	Detail string `json:"detail,omitempty"`
}

// Purchase decides a purchase on the replica plus this device's pending
// events, within the brand's offline policy, and records it. Purchases
// are decided one at a time, so two cannot both spend the same balance.
func (c *Counter) Purchase(ctx context.Context, ledgers Ledgers, req PurchaseRequest) PurchaseResult {
	c.buy.Lock()
	defer c.buy.Unlock()
	now := c.Now()
	y, m, d := now.In(c.Location).Date()
	l, err := ledgers.Ledger(req.MemberID, time.Date(y, m, d, 0, 0, 0, 0, c.Location))
	if err != nil {
		return c.refusePurchase(req, &RefuseUnknownMember, err.Error())
	}
	p, refusal, detail := Decide(req, l, c.identity.StoreID, now)
	if refusal != nil {
		return c.refusePurchase(req, refusal, detail)
	}
	ev, err := c.store.Record(ctx, agent.Event{OccurredAt: now, StoreID: c.identity.StoreID, MemberID: req.MemberID, Kind: agent.EventPurchase, Purchase: &p})
	if err != nil {
		r := &RefuseNotRecorded
		if errors.Is(err, syscall.ENOSPC) {
			r = &RefuseDiskFull
		}
		c.log.Error("purchase not recorded", "reason", r.Code, "member", req.MemberID, "err", err)
		return PurchaseResult{Refusal: r}
	}
	c.log.Info("purchase recorded", "seq", ev.Seq, "event", ev.ID, "member", req.MemberID, "net_fen", p.NetFen(),
		"stored_value_fen", p.StoredValueFen, "points", p.PointsBurned, "coupons", len(p.CouponCodes))
	return PurchaseResult{Event: &ev}
}

func (c *Counter) refusePurchase(req PurchaseRequest, r *Refusal, detail string) PurchaseResult {
	c.log.Warn("purchase refused", "reason", r.Code, "member", req.MemberID, "detail", detail)
	return PurchaseResult{Refusal: r, Detail: detail}
}

// Decide computes a purchase from a request and what the counter knows,
// or says why it is refused. The rules:
//   - amounts are whole fen, the bill positive;
//   - with a replica older than the policy's MaxReplicaAge, no stored
//     value, points or coupons;
//   - balances are the replica's plus this device's unreflected events;
//   - per member and day, this device approves at most the policy's
//     stored value and points (every approval is made on the replica
//     alone, so the bound always applies);
//   - a coupon must be the member's, issued, valid now, for this store,
//     not used by an unreflected event, and its minimum spend met;
//   - tier discount first, then coupons, then points; stored value pays
//     at most what is due, the rest is paid by other means.
func Decide(req PurchaseRequest, l agent.Ledger, storeID string, now time.Time) (agent.Purchase, *Refusal, string) {
	if req.BillFen <= 0 || req.PointsBurn < 0 || req.StoredValueFen < 0 || req.BillFen > 1_000_000_000 {
		return agent.Purchase{}, &RefuseBadAmount, fmt.Sprintf("bill %d, points %d, stored value %d", req.BillFen, req.PointsBurn, req.StoredValueFen)
	}
	redeems := req.PointsBurn > 0 || req.StoredValueFen > 0 || len(req.CouponCodes) > 0
	pol := l.Programme.Offline
	if age := now.Sub(l.ReplicaSyncedAt); redeems && (l.ReplicaSyncedAt.IsZero() || pol.MaxReplicaAge > 0 && age > pol.MaxReplicaAge) {
		return agent.Purchase{}, &RefuseReplicaStale, fmt.Sprintf("replica age %s, policy allows %s", age.Round(time.Second), pol.MaxReplicaAge)
	}
	p := agent.Purchase{BillFen: req.BillFen, TierID: l.Member.TierID}
	for _, t := range l.Programme.Tiers {
		if t.ID == l.Member.TierID {
			p.TierDiscountFen = req.BillFen * int64(t.DiscountBP) / 10000
		}
	}
	due := p.BillFen - p.TierDiscountFen
	for _, code := range req.CouponCodes {
		i := slices.IndexFunc(l.Coupons, func(c agent.Coupon) bool { return c.Code == code })
		if i < 0 || slices.Contains(p.CouponCodes, code) {
			return agent.Purchase{}, &RefuseCouponUnusable, fmt.Sprintf("coupon %s is not this member's", code)
		}
		cp := l.Coupons[i]
		switch {
		case cp.State != "issued":
			return agent.Purchase{}, &RefuseCouponUnusable, fmt.Sprintf("coupon %s is %s", code, cp.State)
		case l.UsedCoupons[code]:
			return agent.Purchase{}, &RefuseCouponUnusable, fmt.Sprintf("coupon %s was used at this counter already", code)
		case !cp.ValidFrom.IsZero() && now.Before(cp.ValidFrom), !cp.ExpiresAt.IsZero() && !now.Before(cp.ExpiresAt):
			return agent.Purchase{}, &RefuseCouponUnusable, fmt.Sprintf("coupon %s is valid %s to %s", code, cp.ValidFrom.Format(time.DateOnly), cp.ExpiresAt.Format(time.DateOnly))
		case len(cp.StoreIDs) > 0 && !slices.Contains(cp.StoreIDs, storeID):
			return agent.Purchase{}, &RefuseCouponUnusable, fmt.Sprintf("coupon %s is not for store %s", code, storeID)
		case req.BillFen < cp.MinSpendFen:
			return agent.Purchase{}, &RefuseCouponMinSpend, fmt.Sprintf("coupon %s needs %d fen", code, cp.MinSpendFen)
		}
		off := int64(0)
		switch cp.Kind {
		case "amount_off":
			off = cp.AmountOffFen
		case "percent_off":
			off = due * int64(cp.PercentOffBP) / 10000
		}
		off = min(off, due)
		p.CouponCodes = append(p.CouponCodes, code)
		p.CouponDiscountFen += off
		due -= off
	}
	if req.PointsBurn > 0 {
		have := l.Member.Points + l.PendingPoints
		switch {
		case req.PointsBurn > have:
			return agent.Purchase{}, &RefusePointsShort, fmt.Sprintf("%d points asked, %d available", req.PointsBurn, have)
		case pol.MaxPointsBurnPerMemberDay > 0 && l.TodayPoints+req.PointsBurn > pol.MaxPointsBurnPerMemberDay:
			return agent.Purchase{}, &RefusePointsLimit, fmt.Sprintf("%d points today + %d asked > limit %d", l.TodayPoints, req.PointsBurn, pol.MaxPointsBurnPerMemberDay)
		}
		p.PointsBurned = req.PointsBurn
		p.PointsDiscountFen = min(req.PointsBurn*max(l.Programme.PointValueFen, 0), due)
		due -= p.PointsDiscountFen
	}
	if req.StoredValueFen > 0 {
		have := l.Member.StoredValueFen + l.PendingStoredValueFen
		switch {
		case req.StoredValueFen > due:
			return agent.Purchase{}, &RefuseOverPay, fmt.Sprintf("%d fen of stored value for %d fen due", req.StoredValueFen, due)
		case req.StoredValueFen > have:
			return agent.Purchase{}, &RefuseStoredValueShort, fmt.Sprintf("%d fen asked, %d fen available", req.StoredValueFen, have)
		case pol.MaxStoredValuePerMemberDayFen > 0 && l.TodayStoredValueFen+req.StoredValueFen > pol.MaxStoredValuePerMemberDayFen:
			return agent.Purchase{}, &RefuseStoredValueLimit, fmt.Sprintf("%d fen today + %d asked > limit %d", l.TodayStoredValueFen, req.StoredValueFen, pol.MaxStoredValuePerMemberDayFen)
		}
		p.StoredValueFen = req.StoredValueFen
	}
	p.PaidOtherFen = p.NetFen() - p.StoredValueFen
	return p, nil, ""
}

// TopUp records stored value bought at the counter (paid by other means).
func (c *Counter) TopUp(ctx context.Context, memberID string, amountFen int64) PurchaseResult {
	if amountFen <= 0 || amountFen > 100_000_000 {
		return c.refusePurchase(PurchaseRequest{MemberID: memberID}, &RefuseBadAmount, fmt.Sprintf("top-up of %d fen", amountFen))
	}
	if _, err := c.store.Member(memberID); err != nil {
		return c.refusePurchase(PurchaseRequest{MemberID: memberID}, &RefuseUnknownMember, err.Error())
	}
	c.buy.Lock()
	defer c.buy.Unlock()
	ev, err := c.store.Record(ctx, agent.Event{OccurredAt: c.Now(), StoreID: c.identity.StoreID, MemberID: memberID, Kind: agent.EventTopUp, TopUp: &agent.TopUp{AmountFen: amountFen}})
	if err != nil {
		c.log.Error("top-up not recorded", "member", memberID, "err", err)
		return PurchaseResult{Refusal: &RefuseNotRecorded}
	}
	c.log.Info("top-up recorded", "seq", ev.Seq, "event", ev.ID, "member", memberID, "amount_fen", amountFen)
	return PurchaseResult{Event: &ev}
}
