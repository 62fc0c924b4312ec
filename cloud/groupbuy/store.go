package groupbuy

import (
	"context"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Store keeps the platform state: which shop each store is on each
// platform, every consumption keyed by brand, platform, code and
// idempotency key, and the provisional claims offline counters sent.
type Store interface {
	Binding(ctx context.Context, brand, store, platform string) (cloud.ShopBinding, error)
	Bindings(ctx context.Context, brand string) ([]cloud.ShopBinding, error)
	// PutBinding binds a store (which must exist) to its shop.
	PutBinding(ctx context.Context, b cloud.ShopBinding) error
	// BeginConsumption stores c unless a consumption with its identity
	// (brand, platform, code, key) exists; it returns the stored one and
	// whether it is c, atomically, so two confirms cannot both begin.
	BeginConsumption(ctx context.Context, c cloud.VoucherConsumption) (cloud.VoucherConsumption, bool, error)
	PutConsumption(ctx context.Context, c cloud.VoucherConsumption) error
	// SettleConsumption writes c's outcome only if the stored consumption
	// is still pending, and returns what is stored: another process that
	// settled it first wins, except that a consumption the platform
	// confirmed replaces a refusal (a late "used" never hides it).
	SettleConsumption(ctx context.Context, c cloud.VoucherConsumption) (cloud.VoucherConsumption, error)
	// Consumptions lists a brand's consumptions on a platform (all when
	// platform is empty), of one code when code is given.
	Consumptions(ctx context.Context, brand, platform, code string) ([]cloud.VoucherConsumption, error)
	// Claims lists queued provisional claims of every brand.
	Claims(ctx context.Context, limit int) ([]cloud.VoucherClaim, error)
	PutClaim(ctx context.Context, c cloud.VoucherClaim) error
	// SettleClaim removes a claim and records what came of it (a
	// consumption, and a conflict when there is one) in one transaction.
	SettleClaim(ctx context.Context, c cloud.VoucherClaim, use *cloud.VoucherConsumption, conflict *cloud.ConflictRecord) error
}

// dayBounds returns the UTC span of a calendar day in a location.
func dayBounds(day time.Time, loc *time.Location) (time.Time, time.Time) {
	d := day.In(loc)
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	return from.UTC(), from.AddDate(0, 0, 1).UTC()
}
