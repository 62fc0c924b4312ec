package cloud

import "time"

// MemberSource says how a member joined.
type MemberSource struct {
	// Channel: counter, join_page, import, hq, group_buy, referral.
	Channel    string
	StoreID    string
	StaffID    string
	CampaignID string
	ReferrerID string
	// Platform and DealID name the group-buy deal whose voucher brought
	// the member (group-buy follow-up segments and reports use them).
	Platform string `json:",omitempty"`
	DealID   string `json:",omitempty"`
}

// PointsEntry is one line of a member's points ledger. A member's points
// balance is always the sum of their ledger.
type PointsEntry struct {
	Seq       uint64
	MemberID  string
	At        time.Time
	Delta     int64
	Reason    string // earn, burn, expire, refund, merge_in, merge_out, adjust
	EventID   string
	ExpiresAt time.Time `json:",omitzero"`
	Note      string    `json:",omitempty"`
}

// PointsLot is what remains of one earning, for expiry and for burning
// oldest first.
type PointsLot struct {
	MemberID  string
	Seq       uint64
	ExpiresAt time.Time `json:",omitzero"`
	Remaining int64
}

// StoredValueEntry is one line of a member's stored-value ledger; principal
// (money paid in) and bonus (granted by rules) are kept apart, as refunds
// need.
type StoredValueEntry struct {
	Seq            uint64
	MemberID       string
	At             time.Time
	PrincipalDelta int64
	BonusDelta     int64
	Reason         string // top_up, spend, refund, cash_out, merge_in, merge_out
	EventID        string
	Note           string `json:",omitempty"`
}

// TierChange records a member moving between tiers, and why.
type TierChange struct {
	MemberID string
	At       time.Time
	From, To string
	Reason   string
}

// CouponKind is what a coupon gives.
type CouponKind string

// Coupon kinds.
const (
	AmountOff  CouponKind = "amount_off"
	PercentOff CouponKind = "percent_off"
	FreeItem   CouponKind = "free_item"
)

// CouponTemplate defines a kind of coupon HQ issues.
type CouponTemplate struct {
	BrandID      string
	ID           string
	Name         string
	Kind         CouponKind
	AmountOffFen int64
	PercentOffBP int
	FreeItem     string
	MinSpendFen  int64
	// A fixed window, or ValidDays from issue.
	ValidFrom      time.Time `json:",omitzero"`
	ValidUntil     time.Time `json:",omitzero"`
	ValidDays      int
	StoreIDs       []string
	PerMemberLimit int
	CreatedAt      time.Time
}

// CouponState is where a coupon is in its life.
type CouponState string

// Coupon states.
const (
	CouponIssued   CouponState = "issued"
	CouponRedeemed CouponState = "redeemed"
	CouponExpired  CouponState = "expired"
	CouponVoid     CouponState = "void"
)

// CouponTransition records one state change of a coupon.
type CouponTransition struct {
	At      time.Time
	From    CouponState
	To      CouponState
	EventID string `json:",omitempty"`
	StoreID string `json:",omitempty"`
	Reason  string `json:",omitempty"`
}

// Coupon is one issued coupon, single use.
type Coupon struct {
	BrandID    string
	Code       string
	TemplateID string
	MemberID   string
	State      CouponState
	IssuedAt   time.Time
	ValidFrom  time.Time
	ExpiresAt  time.Time
	History    []CouponTransition
}

// Voucher is a group-buy platform voucher (e.g. bought on a group-buy
// site) that can be redeemed once at a store.
type Voucher struct {
	BrandID      string
	Code         string
	Platform     string
	CampaignID   string
	Title        string
	FaceValueFen int64
	ExpiresAt    time.Time `json:",omitzero"`
	ImportedAt   time.Time
	Redeemed     bool
	RedeemedAt   time.Time `json:",omitzero"`
	StoreID      string    `json:",omitempty"`
	EventID      string    `json:",omitempty"`
	MemberID     string    `json:",omitempty"`
}

// ConflictRecord is something a store did offline that the books could not take
// as it was: kept, resolved by a stated rule, and listed for HQ.
type ConflictRecord struct {
	Seq        uint64
	At         time.Time
	Kind       string // coupon_reused, coupon_invalid, overdraft, points_overdraft, voucher_reused, voucher_unknown, voucher_refused, voucher_deal_mismatch
	EventID    string
	DeviceID   string
	StoreID    string
	MemberID   string
	Detail     string
	Resolution string
	// AmountFen is the money at risk, when there is a figure (a
	// provisional group-buy voucher the platform refused).
	AmountFen int64 `json:",omitempty"`
}

// Purchase is a bill settled at a counter.
type Purchase struct {
	BillFen           int64
	TierDiscountFen   int64
	CouponCodes       []string
	CouponDiscountFen int64
	PointsBurned      int64
	PointsDiscountFen int64
	StoredValueFen    int64
	PaidOtherFen      int64
	Items             []Item
	TierID            string
}

// NetFen is what the member paid by any means after discounts.
func (p Purchase) NetFen() int64 {
	return p.BillFen - p.TierDiscountFen - p.CouponDiscountFen - p.PointsDiscountFen
}

// Item is a line of a bill.
type Item struct {
	SKU          string
	Name         string
	Quantity     int64
	UnitPriceFen int64
}

// TopUp adds stored value.
type TopUp struct {
	AmountFen int64
	BonusFen  int64 // as shown at the counter; the cloud's rule decides
}

// Refund reverses a purchase, or cashes out stored value.
type Refund struct {
	PurchaseEventID string
	AmountFen       int64
}

// VoucherRedemption is a group-buy voucher used at the counter: a
// brand's own imported voucher (Platform empty), or a platform voucher
// the cloud consumed online (ConsumptionKey) or the counter accepted
// provisionally while offline (Provisional: the cloud consumes it when
// the event arrives).
type VoucherRedemption struct {
	Code           string
	Platform       string `json:",omitempty"`
	Count          int    `json:",omitempty"`
	DealID         string `json:",omitempty"`
	Title          string `json:",omitempty"`
	PriceFen       int64  `json:",omitempty"`
	Provisional    bool   `json:",omitempty"`
	ConsumptionKey string `json:",omitempty"`
}

// Enrolment makes a walk-in a member at the counter.
type Enrolment struct {
	Phone       string
	Name        string
	VoucherCode string
	LocalRef    string
	ReferrerID  string
	Consent     bool
}

// PurchaseEffect is what applying a purchase did, kept so a refund can
// reverse exactly that.
type PurchaseEffect struct {
	EventID         string
	MemberID        string
	PointsEarned    int64
	PointsBurned    int64
	PrincipalSpent  int64
	BonusSpent      int64
	NetFen          int64
	Refunded        bool
	RefundedEventID string `json:",omitempty"`
}
