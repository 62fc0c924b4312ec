// Package checkout is the counter's money: what a member has (the replica
// plus this agent's own pending events), what a bill comes to once the
// tier discount and the chosen coupon, points and stored value are taken
// off, and the one durable event that settles it.
//
// Money is integer fen throughout. Percentages are basis points; a
// discount is rounded to the nearest fen, halves up, and never exceeds
// what is left to pay.
package checkout

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/money"
)

// Refusal says why a request cannot go through, for the cashier, in both
// languages; Field names the form field at fault, if one is.
type Refusal struct {
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	Zh    string `json:"zh"`
	En    string `json:"en"`
}

func (r *Refusal) Error() string { return r.Code + ": " + r.En }

func refuse(code, field, zh, en string) *Refusal {
	return &Refusal{Code: code, Field: field, Zh: zh, En: en}
}

// MaxBillFen bounds a bill (one million yuan): a typo guard.
const MaxBillFen = 100_000_000

// Request is what the cashier asks for at the counter.
type Request struct {
	// TxnID identifies the counter transaction; settling it twice
	// records it once.
	TxnID    string `json:"txn_id"`
	MemberID string `json:"member_id"`
	StaffID  string `json:"staff_id"`
	// ApprovedBy is the manager who approved spending for a member not
	// scanned at this till, recorded in the event.
	ApprovedBy     string `json:"approved_by,omitempty"`
	BillFen        int64  `json:"bill_fen"`
	CouponCode     string `json:"coupon_code"`
	Points         int64  `json:"points"`
	StoredValueFen int64  `json:"stored_value_fen"`
}

// Quote is what a bill comes to.
type Quote struct {
	BillFen           int64  `json:"bill_fen"`
	TierID            string `json:"tier_id"`
	TierDiscountBP    int32  `json:"tier_discount_bp"`
	TierDiscountFen   int64  `json:"tier_discount_fen"`
	CouponCode        string `json:"coupon_code,omitempty"`
	CouponDiscountFen int64  `json:"coupon_discount_fen"`
	PointsBurned      int64  `json:"points_burned"`
	PointsDiscountFen int64  `json:"points_discount_fen"`
	// DueFen is the bill after every discount: what the member pays,
	// from stored value and by other means.
	DueFen         int64 `json:"due_fen"`
	StoredValueFen int64 `json:"stored_value_fen"`
	PaidOtherFen   int64 `json:"paid_other_fen"`
	// MaxPoints is the most points this bill can take.
	MaxPoints int64 `json:"max_points"`
}

// Limits are the offline bounds in force for one request.
type Limits struct {
	Now     time.Time
	StoreID string
	// ReplicaAge is how old the replica is; negative: never synced.
	ReplicaAge time.Duration
	// What this counter approved for the member today (every approval is
	// made on the replica alone, so the policy's daily bounds count it).
	PendingStoredValueTodayFen int64
	PendingPointsToday         int64
}

// roundBP is amount × bp / 10000, rounded to the nearest fen, halves up;
// math.MaxInt64 if that is beyond an int64 (every caller caps it by what
// is left of the bill).
func roundBP(amount int64, bp int32) int64 {
	p, err := money.Mul(amount, int64(bp))
	if err == nil {
		p, err = money.Add(p, 5000)
	}
	if err != nil {
		return math.MaxInt64
	}
	return p / 10000
}

// Compute works out a bill for a member's account. It is pure: every
// input is an argument.
func Compute(req Request, acct Account, prog agent.Programme, lim Limits) (Quote, *Refusal) {
	q := Quote{BillFen: req.BillFen, TierID: acct.Member.TierID}
	switch {
	case req.BillFen <= 0:
		return q, refuse("bill_invalid", "bill", "请输入消费金额（大于 0 元）。", "Enter the bill amount (more than 0 yuan).")
	case req.BillFen > MaxBillFen:
		return q, refuse("bill_invalid", "bill", "消费金额过大，请核对。", "The bill is too large. Check the amount.")
	case req.Points < 0:
		return q, refuse("points_invalid", "points", "积分不能为负数。", "Points cannot be negative.")
	case req.StoredValueFen < 0:
		return q, refuse("stored_value_invalid", "stored_value", "储值金额不能为负数。", "Stored value cannot be negative.")
	}
	redeeming := req.CouponCode != "" || req.Points > 0 || req.StoredValueFen > 0
	if redeeming && prog.Offline.MaxReplicaAge > 0 && (lim.ReplicaAge < 0 || lim.ReplicaAge > prog.Offline.MaxReplicaAge) {
		return q, refuse("replica_stale", "",
			fmt.Sprintf("本机已超过 %s 未与总部同步，暂不能使用优惠券、积分或储值；请用现金或银行卡结账，恢复网络后再用。", zhDuration(prog.Offline.MaxReplicaAge)),
			fmt.Sprintf("This till has not synced with HQ for over %s, so coupons, points and stored value cannot be used. Take cash or card; use them again once the network is back.", prog.Offline.MaxReplicaAge))
	}
	left := req.BillFen
	if t, ok := prog.Tier(acct.Member.TierID); ok && t.DiscountBP > 0 {
		q.TierDiscountBP = t.DiscountBP
		q.TierDiscountFen = min(roundBP(left, t.DiscountBP), left)
		left -= q.TierDiscountFen
	}
	if req.CouponCode != "" {
		i := slices.IndexFunc(acct.Coupons, func(c CouponView) bool { return c.Code == req.CouponCode })
		if i < 0 {
			return q, refuse("coupon_unknown", "coupon", "此券不属于该会员，请重新选择。", "This coupon is not the member's. Pick another.")
		}
		c := acct.Coupons[i]
		if r := couponUsable(c, req.BillFen, lim); r != nil {
			return q, r
		}
		switch c.Kind {
		case agent.CouponAmountOff:
			q.CouponDiscountFen = min(c.AmountOffFen, left)
		case agent.CouponPercentOff:
			q.CouponDiscountFen = min(roundBP(left, c.PercentOffBP), left)
		}
		q.CouponCode = c.Code
		left -= q.CouponDiscountFen
	}
	if prog.PointValueFen > 0 {
		q.MaxPoints = min(acct.Member.Points, left/prog.PointValueFen)
		if p := prog.Offline.MaxPointsBurnPerMemberDay; p > 0 {
			q.MaxPoints = max(0, min(q.MaxPoints, p-lim.PendingPointsToday))
		}
	}
	if req.Points > 0 {
		switch {
		case prog.PointValueFen <= 0:
			return q, refuse("points_unavailable", "points", "积分抵现规则尚未从总部同步，暂不能用积分。", "The points rules have not reached this till yet; points cannot be used.")
		case req.Points > acct.Member.Points:
			return q, refuse("points_over_balance", "points",
				fmt.Sprintf("积分不足：会员只有 %d 积分。", acct.Member.Points),
				fmt.Sprintf("Not enough points: the member has %d.", acct.Member.Points))
		case pointsValue(req.Points, prog.PointValueFen) > left:
			return q, refuse("points_over_bill", "points",
				fmt.Sprintf("积分抵扣超过应付金额：本单最多可用 %d 积分。", left/prog.PointValueFen),
				fmt.Sprintf("Points would cover more than the bill: use at most %d points.", left/prog.PointValueFen))
		case prog.Offline.MaxPointsBurnPerMemberDay > 0 && lim.PendingPointsToday+req.Points > prog.Offline.MaxPointsBurnPerMemberDay:
			return q, refuse("offline_limit_points", "points",
				fmt.Sprintf("已达离线积分上限（每位会员每天 %d 积分），请少用积分或等网络恢复。", prog.Offline.MaxPointsBurnPerMemberDay),
				fmt.Sprintf("Offline points limit reached (%d points per member per day). Use fewer points or wait for the network.", prog.Offline.MaxPointsBurnPerMemberDay))
		}
		q.PointsBurned = req.Points
		q.PointsDiscountFen = pointsValue(req.Points, prog.PointValueFen)
		left -= q.PointsDiscountFen
	}
	q.DueFen = left
	if req.StoredValueFen > 0 {
		max := prog.Offline.MaxStoredValuePerMemberDayFen
		switch {
		case req.StoredValueFen > acct.Member.StoredValueFen:
			return q, refuse("stored_value_over_balance", "stored_value",
				fmt.Sprintf("储值余额不足：余额 %s 元。", Yuan(acct.Member.StoredValueFen)),
				fmt.Sprintf("Not enough stored value: the balance is %s yuan.", Yuan(acct.Member.StoredValueFen)))
		case req.StoredValueFen > left:
			return q, refuse("stored_value_over_bill", "stored_value",
				fmt.Sprintf("储值支付超过应付金额 %s 元。", Yuan(left)),
				fmt.Sprintf("Stored value would pay more than the %s yuan due.", Yuan(left)))
		case max > 0 && lim.PendingStoredValueTodayFen+req.StoredValueFen > max:
			return q, refuse("offline_limit_stored_value", "stored_value",
				fmt.Sprintf("已达离线储值上限（每位会员每天 %s 元），请改用现金或银行卡支付余下金额。", Yuan(max)),
				fmt.Sprintf("Offline stored-value limit reached (%s yuan per member per day). Take the rest in cash or by card.", Yuan(max)))
		}
		q.StoredValueFen = req.StoredValueFen
		left -= req.StoredValueFen
	}
	q.PaidOtherFen = left
	return q, nil
}

// couponUsable says why a coupon cannot be used on a bill, or nil.
func couponUsable(c CouponView, billFen int64, lim Limits) *Refusal {
	switch {
	case c.UsedPending:
		return refuse("coupon_used", "coupon", "此券刚在本机用过，不能再用。", "This coupon was just used at this till.")
	case c.State != agent.CouponIssued:
		return refuse("coupon_used", "coupon", "此券已使用或已作废。", "This coupon has been used or voided.")
	case !c.ExpiresAt.IsZero() && !lim.Now.Before(c.ExpiresAt):
		return refuse("coupon_expired", "coupon", "此券已过期。", "This coupon has expired.")
	case !c.ValidFrom.IsZero() && lim.Now.Before(c.ValidFrom):
		return refuse("coupon_not_yet", "coupon",
			"此券尚未生效（"+c.ValidFrom.Format("2006-01-02")+" 起可用）。", "This coupon is not valid yet (from "+c.ValidFrom.Format("2006-01-02")+").")
	case len(c.StoreIDs) > 0 && !slices.Contains(c.StoreIDs, lim.StoreID):
		return refuse("coupon_other_store", "coupon", "此券不适用于本店。", "This coupon is not valid at this store.")
	case billFen < c.MinSpendFen:
		return refuse("coupon_min_spend", "coupon",
			fmt.Sprintf("未达用券门槛：满 %s 元可用。", Yuan(c.MinSpendFen)),
			fmt.Sprintf("Below the coupon's minimum spend of %s yuan.", Yuan(c.MinSpendFen)))
	}
	return nil
}

// Yuan formats fen as yuan with two decimals: 12345 -> "123.45".
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

func zhDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d 小时", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d 分钟", d/time.Minute)
	}
	return fmt.Sprintf("%d 秒", d/time.Second)
}

// pointsValue is what n points are worth, math.MaxInt64 when beyond an
// int64 (more than any bill, so refused as such).
func pointsValue(n, valueFen int64) int64 {
	v, err := money.Mul(n, valueFen)
	if err != nil {
		return math.MaxInt64
	}
	return v
}
