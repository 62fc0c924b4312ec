// Package groupbuy verifies and consumes group-buy vouchers with the
// platform that sold them (Meituan/Dianping, Douyin). It holds the domain
// (deals, receipts, refusals), the Adapter each platform package
// implements, and the Service the cloud's transports call: idempotent
// consumption by code and key, provisional claims from offline counters
// settled later, undo, and daily reconciliation against the platform's
// settlement. It imports no transport and no database: platform state sits
// behind Store.
package groupbuy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Deal is what a platform says a voucher code buys, before consuming it.
type Deal struct {
	Platform string
	Code     string
	DealID   string
	Title    string
	// PriceFen is what one use sold for (the guest's price), in fen.
	PriceFen int64
	// CountLeft is how many uses the code still has at this shop.
	CountLeft int
	ExpiresAt time.Time
}

// Receipt is a consumption the platform confirmed.
type Receipt struct {
	Platform string
	Code     string
	DealID   string
	Title    string
	PriceFen int64
	Count    int
	// Refs name the consumption at the platform, as Reverse needs them.
	Refs       []string
	ConsumedAt time.Time
}

// SettlementLine is one consumption as the platform's settlement lists it.
type SettlementLine struct {
	Platform   string
	ShopID     string
	Code       string
	DealID     string
	Title      string
	PriceFen   int64
	Count      int
	ConsumedAt time.Time
	Ref        string
}

// Adapter speaks one platform's open API for one brand's credentials.
// shop is the platform's id of the store's shop (the binding).
type Adapter interface {
	Platform() string
	// Prepare checks a code at a shop and says what it buys; nothing is
	// consumed.
	Prepare(ctx context.Context, shop, code string) (Deal, error)
	// Consume uses count uses of a code. key is the caller's idempotency
	// key for this consumption, passed to the platform where it takes one.
	// An error for which Unsettled is true means the outcome is unknown.
	Consume(ctx context.Context, shop, code string, count int, key string) (Receipt, error)
	// Consumed asks the platform whether a code was consumed at a shop
	// and how: the way a timed-out Consume is settled.
	Consumed(ctx context.Context, shop, code string) (Receipt, bool, error)
	// Reverse undoes a consumption within the platform's window.
	Reverse(ctx context.Context, shop string, r Receipt) error
	// Settlement lists what the platform holds as consumed at a shop on a
	// day (the day in China Standard Time, as the platforms keep it).
	Settlement(ctx context.Context, shop string, day time.Time) ([]SettlementLine, error)
}

// Reason says why a platform refused a code, as a stable code.
type Reason string

// Refusal reasons.
const (
	ReasonNotFound      Reason = "voucher_not_found"
	ReasonUsed          Reason = "voucher_used"
	ReasonRefunded      Reason = "voucher_refunded"
	ReasonExpired       Reason = "voucher_expired"
	ReasonWrongShop     Reason = "voucher_wrong_shop"
	ReasonCountLeft     Reason = "voucher_count_exceeded"
	ReasonRateLimited   Reason = "platform_rate_limited"
	ReasonUnavailable   Reason = "platform_unavailable"
	ReasonNotBound      Reason = "shop_not_bound"
	ReasonNoPlatform    Reason = "platform_not_configured"
	ReasonAuth          Reason = "platform_auth_failed"
	ReasonNotReversible Reason = "voucher_not_reversible"
)

// Refusal is a platform's (or our) answer that the code cannot be used.
// Transient refusals (rate limited, unavailable) may succeed later.
type Refusal struct {
	Reason Reason
	// Detail is the platform's own words, for the log and HQ.
	Detail string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Reason, r.Detail) }

// Transient reports whether trying later may succeed.
func (r *Refusal) Transient() bool {
	return r.Reason == ReasonRateLimited || r.Reason == ReasonUnavailable
}

// AboutVoucher reports whether the refusal is about the voucher itself
// (unknown, used, refunded, expired, another shop's, too few uses left),
// not about reaching the platform or our set-up, which HQ can fix.
func (r *Refusal) AboutVoucher() bool {
	switch r.Reason {
	case ReasonNotFound, ReasonUsed, ReasonRefunded, ReasonExpired, ReasonWrongShop, ReasonCountLeft:
		return true
	}
	return false
}

// Refuse makes a refusal.
func Refuse(reason Reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// AsRefusal returns the refusal in err, if any.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// ErrUnsettled marks a Consume whose outcome is unknown: the request may
// or may not have reached the platform (a timeout, a cut connection).
var ErrUnsettled = errors.New("consumption outcome unknown")

// Unsettled reports whether err leaves a consumption's outcome unknown.
func Unsettled(err error) bool { return errors.Is(err, ErrUnsettled) }

// MaxCount bounds how many uses one consumption takes.
const MaxCount = 100

// MaxCodeLen bounds a voucher code.
const MaxCodeLen = 64

// ValidCode checks a code as typed or scanned: 6 to 64 letters and digits.
func ValidCode(code string) error {
	if len(code) < 6 || len(code) > MaxCodeLen {
		return Refuse(ReasonNotFound, "a voucher code has 6 to %d characters", MaxCodeLen)
	}
	for _, r := range code {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return Refuse(ReasonNotFound, "a voucher code has only letters and digits")
		}
	}
	return nil
}
