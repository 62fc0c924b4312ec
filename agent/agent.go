// Package agent holds the store agent's domain: who the device is, the
// members it knows from its replica, and the events it records at the
// counter. It imports no database, transport or serial port.
package agent

import (
	"errors"
	"time"
)

// Identity is what the agent got when it paired with the cloud.
type Identity struct {
	BrandID   string
	BrandName string
	StoreID   string
	StoreName string
	DeviceID  string
	Secret    string
	// MemberCodeKeys are the brand's Ed25519 public keys for member codes.
	MemberCodeKeys [][]byte
	PairedAt       time.Time
	// Cloud is the address the device paired through.
	Cloud string `json:",omitempty"`
	// CloudCAPEM is the cloud's CA certificate got at pairing; the agent
	// trusts it alone for TLS to the cloud. Empty: the system's roots.
	CloudCAPEM []byte `json:",omitempty"`
	// TimeZone is the brand's time zone, got at pairing; empty for a device
	// paired before the cloud sent it.
	TimeZone string `json:",omitempty"`
}

// Member is a replica entry: enough to greet a member at the counter.
type Member struct {
	ID          string
	PhoneMasked string
	Name        string
	// Visits is the cloud's count as of the last pull.
	Visits  uint64
	Deleted bool
	// Balances as of the last pull; the counter adds its own pending events.
	TierID         string `json:",omitempty"`
	Points         int64  `json:",omitempty"`
	StoredValueFen int64  `json:",omitempty"`
	// Birthday is MM-DD, or empty: the counter's birthday-month offer.
	Birthday   string   `json:",omitempty"`
	MergedInto string   `json:",omitempty"`
	Tags       []string `json:",omitempty"`
}

// CouponKind is what a coupon takes off.
type CouponKind = string

// Coupon kinds.
const (
	CouponAmountOff  CouponKind = "amount_off"
	CouponPercentOff CouponKind = "percent_off"
	CouponFreeItem   CouponKind = "free_item"
)

// CouponState is where a coupon is in its life.
type CouponState = string

// Coupon states.
const (
	CouponIssued   CouponState = "issued"
	CouponRedeemed CouponState = "redeemed"
	CouponExpired  CouponState = "expired"
	CouponVoid     CouponState = "void"
)

// Coupon is a member's coupon in the replica.
type Coupon struct {
	Code         string
	MemberID     string
	TemplateID   string `json:",omitempty"`
	Name         string
	Kind         CouponKind // amount_off, percent_off, free_item
	AmountOffFen int64
	PercentOffBP int32
	FreeItem     string `json:",omitempty"`
	MinSpendFen  int64
	ValidFrom    time.Time
	ExpiresAt    time.Time
	StoreIDs     []string
	// State as the cloud last said: issued, redeemed, expired, void.
	State CouponState
}

// Voucher is a group-buy platform voucher in the replica.
type Voucher struct {
	Code         string
	Platform     string
	CampaignID   string
	Title        string
	FaceValueFen int64
	Redeemed     bool
	ExpiresAt    time.Time
}

// OfflinePolicy is the brand's bound on what a counter approves on its own
// replica (which is every approval: the counter never waits for the cloud).
type OfflinePolicy struct {
	MaxStoredValuePerMemberDayFen int64
	MaxPointsBurnPerMemberDay     int64
	// Older than this, the replica is stale: stored value, points and
	// coupons are refused until it syncs.
	MaxReplicaAge time.Duration
	// MaxProvisionalVouchersPerDay platform vouchers of ProvisionalDeals
	// may be accepted per day while the cloud is out of reach.
	MaxProvisionalVouchersPerDay int               `json:",omitempty"`
	ProvisionalDeals             []ProvisionalDeal `json:",omitempty"`
}

// ProvisionalDeal is a platform deal the counter may accept offline.
type ProvisionalDeal struct {
	Platform string `json:"platform"`
	DealID   string `json:"deal_id"`
	Title    string `json:"title"`
	PriceFen int64  `json:"price_fen"`
}

// Tier is what the counter needs of a tier.
type Tier struct {
	ID         string
	Name       string
	NameEn     string `json:",omitempty"`
	Rank       int32
	DiscountBP int32
	// PointsMultiplierPct multiplies earned points (150 = 1.5x).
	PointsMultiplierPct int32 `json:",omitempty"`
}

// TopUpRule grants BonusFen for a top-up of at least MinAmountFen.
type TopUpRule struct {
	MinAmountFen int64
	BonusFen     int64
}

// Programme is what the counter needs of the brand's rules.
type Programme struct {
	Tiers         []Tier
	PointsPerYuan int32 `json:",omitempty"`
	PointValueFen int64
	TopUpRules    []TopUpRule `json:",omitempty"`
	Offline       OfflinePolicy
}

// Tier returns the tier with id, if the programme has it.
func (p Programme) Tier(id string) (Tier, bool) {
	for _, t := range p.Tiers {
		if t.ID == id {
			return t, true
		}
	}
	return Tier{}, false
}

// TopUpBonus is the bonus the best rule grants for a top-up of amount.
func (p Programme) TopUpBonus(amountFen int64) int64 {
	var best TopUpRule
	for _, r := range p.TopUpRules {
		if amountFen >= r.MinAmountFen && r.MinAmountFen >= best.MinAmountFen {
			best = r
		}
	}
	return best.BonusFen
}

// Purchase is a bill settled at the counter, with what was redeemed.
type Purchase struct {
	BillFen           int64
	TierDiscountFen   int64
	CouponCodes       []string `json:",omitempty"`
	CouponDiscountFen int64
	PointsBurned      int64
	PointsDiscountFen int64
	StoredValueFen    int64
	PaidOtherFen      int64
	TierID            string `json:",omitempty"`
}

// NetFen is the bill after discounts: what was paid.
func (p Purchase) NetFen() int64 {
	return p.BillFen - p.TierDiscountFen - p.CouponDiscountFen - p.PointsDiscountFen
}

// TopUp adds stored value at the counter.
type TopUp struct {
	AmountFen int64
	// BonusFen is the bonus the counter showed; the cloud's rule decides.
	BonusFen int64 `json:",omitempty"`
}

// VoucherRedemption is a group-buy voucher used at the counter: a
// brand's own imported voucher (Platform empty), a platform voucher the
// cloud consumed (ConsumptionKey), or one accepted provisionally offline.
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

// Enrolment makes a walk-in a member at the counter. The cloud gives the
// member id; LocalRef ties the counter's view to it until then.
type Enrolment struct {
	Phone       string
	Name        string
	VoucherCode string `json:",omitempty"`
	LocalRef    string
	Consent     bool
}

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	EventVisit             EventKind = "visit"
	EventPurchase          EventKind = "purchase"
	EventTopUp             EventKind = "top_up"
	EventVoucherRedemption EventKind = "voucher_redemption"
	EventEnrolment         EventKind = "enrolment"
)

// Identification says how a member was recognised.
type Identification string

// Ways to identify a member.
const (
	ByMemberCode Identification = "member_code"
	ByCard       Identification = "card"
	ByPhone      Identification = "phone"
)

// Event is something that happened at this counter. ID and Seq are given
// when it is recorded.
type Event struct {
	ID         string
	Seq        uint64
	OccurredAt time.Time
	StoreID    string
	MemberID   string
	StaffID    string
	// ApprovedBy names the manager who approved a transaction for a
	// member who was not scanned at this till; empty when a scan stood
	// for the member.
	ApprovedBy string `json:",omitempty"`
	Kind       EventKind
	Visit      *Visit             `json:",omitempty"`
	Purchase   *Purchase          `json:",omitempty"`
	TopUp      *TopUp             `json:",omitempty"`
	Voucher    *VoucherRedemption `json:",omitempty"`
	Enrolment  *Enrolment         `json:",omitempty"`
	// IdempotencyKey, when set, is the counter transaction this event
	// settles: recording the same key again returns the first event.
	// It stays on the device.
	IdempotencyKey string `json:",omitempty"`
}

// Visit is a member identified at the counter.
type Visit struct {
	IdentifiedBy   Identification
	IdentifierHint string
	// CodeRef names the member code shown (membercode.Claims.Ref); the
	// store refuses to record a second visit with the same code, and the
	// cloud catches one code used at two stores.
	CodeRef string `json:",omitempty"`
	// CodeExpiresAt is until when the code could be replayed (its expiry
	// plus the allowed clock skew): the store remembers it that long.
	CodeExpiresAt time.Time `json:",omitzero"`
}

// CardBinding ties a card number to a member in the replica.
type CardBinding struct {
	Number   string
	MemberID string
	Revoked  bool
}

// Change is one entry pulled from the cloud's change log.
type Change struct {
	Seq       uint64
	Member    *Member
	Card      *CardBinding
	Coupon    *Coupon
	Programme *Programme
	Voucher   *Voucher
}

// ErrCodeReplayed is returned when a visit's member code was already used
// for a recorded visit.
var ErrCodeReplayed = errors.New("member code already used for a recorded visit")

// SyncState says how the agent stands with the cloud.
type SyncState struct {
	// Pending events are recorded here and not yet acknowledged.
	Pending  uint64
	AckedSeq uint64
	LastSeq  uint64
	// ReplicaSyncedAt is when the replica last caught up with the cloud.
	ReplicaSyncedAt time.Time
	Cursor          uint64
	// Rebuilding is set while a replica rebuild from scratch is under way;
	// the old replica serves the counter until the new one is complete.
	Rebuilding bool `json:",omitempty"`
}

// PlatformDeal is what a group-buy platform says a voucher code buys, as
// the cloud relayed it.
type PlatformDeal struct {
	Platform  string    `json:"platform"`
	Code      string    `json:"code"`
	DealID    string    `json:"deal_id"`
	Title     string    `json:"title"`
	PriceFen  int64     `json:"price_fen"`
	CountLeft int       `json:"count_left"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// PlatformConsumption is the cloud's answer to a consumption: consumed,
// refused (Refusal says why), or pending (unknown yet: ask again with the
// same key; the cloud asks the platform before consuming again).
type PlatformConsumption struct {
	State      string
	Deal       PlatformDeal
	Count      int
	Refusal    string
	Detail     string
	ConsumedAt time.Time
}

// ConsumeVoucher asks the cloud to consume a platform voucher; Key makes
// it idempotent.
type ConsumeVoucher struct {
	Platform, Code, Key, StaffID string
	Count                        int
}
