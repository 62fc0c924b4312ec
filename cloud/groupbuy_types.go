package cloud

import "time"

// Group-buy platforms the cloud verifies vouchers with.
const (
	PlatformMeituan = "meituan" // Meituan / Dianping (one open platform)
	PlatformDouyin  = "douyin"  // Douyin life services
)

// ShopBinding ties one of a brand's stores to its shop on a group-buy
// platform: the id the platform knows the shop by (Meituan/Dianping's
// open_shop_uuid, Douyin's poi_id). A voucher is consumed only for the
// store's own shop, so a code sold for another shop is refused by the
// platform, not by us.
type ShopBinding struct {
	BrandID  string
	StoreID  string
	Platform string
	ShopID   string
	BoundAt  time.Time
}

// ConsumptionState is where one consumption of a platform voucher is.
type ConsumptionState string

// Consumption states.
const (
	// ConsumePending: asked of the platform, answer not known yet (a
	// timeout); settled by asking the platform, never by consuming again.
	ConsumePending  ConsumptionState = "pending"
	ConsumeDone     ConsumptionState = "consumed"
	ConsumeRefused  ConsumptionState = "refused"
	ConsumeReversed ConsumptionState = "reversed"
)

// VoucherConsumption is one consumption of a platform voucher, keyed by
// brand, platform, code and the counter's idempotency key: the same key
// asked again returns this record instead of consuming again.
type VoucherConsumption struct {
	BrandID  string
	Platform string
	Code     string
	Key      string
	StoreID  string
	ShopID   string
	DeviceID string
	StaffID  string
	State    ConsumptionState
	Count    int
	DealID   string
	Title    string
	// PriceFen is the price of one use as the platform states it.
	PriceFen int64
	// PlatformRefs name the consumption at the platform (Meituan's
	// order ids, Douyin's verify_id:certificate_id), for undo and
	// reconciliation.
	PlatformRefs []string `json:",omitempty"`
	// Refusal is the reason code when State is refused.
	Refusal string `json:",omitempty"`
	Detail  string `json:",omitempty"`
	// EventID is the counter's event when it was accepted offline first.
	EventID     string `json:",omitempty"`
	Provisional bool   `json:",omitempty"`
	CreatedAt   time.Time
	ConsumedAt  time.Time `json:",omitzero"`
	UpdatedAt   time.Time
}

// AmountFen is what this consumption is worth: price times count, with
// overflow bounded by the platform's own limits (count <= 100, price <
// 10 million yuan), checked when the record is made.
func (c VoucherConsumption) AmountFen() int64 { return c.PriceFen * int64(c.Count) }

// VoucherClaim is a platform voucher a counter accepted provisionally
// while the cloud was out of reach: the cloud consumes it with the
// platform when it arrives, and a refusal becomes a conflict for HQ with
// the amount at risk.
type VoucherClaim struct {
	BrandID    string
	EventID    string
	StoreID    string
	DeviceID   string
	StaffID    string
	Platform   string
	Code       string
	DealID     string
	Count      int
	PriceFen   int64
	OccurredAt time.Time
	ReceivedAt time.Time
	Attempts   int
	LastError  string `json:",omitempty"`
}
