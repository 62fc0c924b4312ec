// Package agent holds the store agent's domain: who the device is, the
// members it knows from its replica, and the events it records at the
// counter. It imports no database, transport or serial port.
package agent

import "time"

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
}

// Member is a replica entry: enough to greet a member at the counter.
type Member struct {
	ID          string
	PhoneMasked string
	Name        string
	// Visits is the cloud's count as of the last pull.
	Visits  uint64
	Deleted bool
	// TierID, Points and StoredValueFen are the cloud's balances as of the
	// last pull; the counter adds this agent's pending events on top.
	TierID         string
	Points         int64
	StoredValueFen int64
	// Birthday is MM-DD, or empty.
	Birthday   string
	MergedInto string
	Tags       []string
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
	Kind       EventKind
	Visit      *Visit
	Purchase   *Purchase
	TopUp      *TopUp
	Voucher    *VoucherRedemption
	Enrolment  *Enrolment
	// IdempotencyKey, when set, is the counter transaction this event
	// settles: recording the same key again returns the first event.
	// It stays on the device.
	IdempotencyKey string `json:",omitempty"`
}

// Purchase is a bill settled at the counter with what was redeemed, in fen.
type Purchase struct {
	BillFen           int64
	TierID            string
	TierDiscountFen   int64
	CouponCodes       []string
	CouponDiscountFen int64
	PointsBurned      int64
	PointsDiscountFen int64
	StoredValueFen    int64
	PaidOtherFen      int64
}

// TopUp adds stored value; BonusFen is what the counter showed.
type TopUp struct {
	AmountFen int64
	BonusFen  int64
}

// VoucherRedemption is a group-buy voucher used at the counter.
type VoucherRedemption struct {
	Code string
}

// Enrolment makes a walk-in a member at the counter. The cloud gives the
// member id; LocalRef ties the counter's view to it until then.
type Enrolment struct {
	Phone       string
	Name        string
	VoucherCode string
	LocalRef    string
	Consent     bool
}

// CouponKind is what a coupon takes off.
type CouponKind string

// Coupon kinds.
const (
	CouponAmountOff  CouponKind = "amount_off"
	CouponPercentOff CouponKind = "percent_off"
	CouponFreeItem   CouponKind = "free_item"
)

// CouponState is where a coupon is in its life.
type CouponState string

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
	TemplateID   string
	Name         string
	Kind         CouponKind
	AmountOffFen int64
	// PercentOffBP is basis points off (1000 = 10% off).
	PercentOffBP int32
	FreeItem     string
	MinSpendFen  int64
	ValidFrom    time.Time
	ExpiresAt    time.Time
	// StoreIDs empty: every store.
	StoreIDs []string
	State    CouponState
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

// Tier is a level of the programme.
type Tier struct {
	ID     string
	Name   string
	NameEn string
	Rank   int32
	// DiscountBP is basis points off the bill (500 = 5%).
	DiscountBP          int32
	PointsMultiplierPct int32
}

// TopUpRule grants BonusFen for a top-up of at least MinAmountFen.
type TopUpRule struct {
	MinAmountFen int64
	BonusFen     int64
}

// OfflinePolicy bounds what the counter approves without the cloud.
type OfflinePolicy struct {
	MaxStoredValuePerMemberDayFen int64
	MaxPointsBurnPerMemberDay     int64
	// MaxReplicaAge: older, stored value, points and coupons need the cloud.
	MaxReplicaAge time.Duration
}

// Programme is the brand's rules as the counter needs them.
type Programme struct {
	Tiers         []Tier
	PointsPerYuan int32
	PointValueFen int64
	TopUpRules    []TopUpRule
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

// Visit is a member identified at the counter.
type Visit struct {
	IdentifiedBy   Identification
	IdentifierHint string
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
	Voucher   *Voucher
	Programme *Programme
}

// SyncState says how the agent stands with the cloud.
type SyncState struct {
	// Pending events are recorded here and not yet acknowledged.
	Pending  uint64
	AckedSeq uint64
	LastSeq  uint64
	// ReplicaSyncedAt is when the replica last caught up with the cloud.
	ReplicaSyncedAt time.Time
	Cursor          uint64
}
