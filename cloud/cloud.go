// Package cloud holds the central service's domain: brands, stores, devices,
// members, cards and the events stores send, plus the storage contract the
// backends (bbolt, PostgreSQL) implement. It imports no database and no
// transport.
package cloud

import (
	"crypto/ed25519"
	"time"
	_ "time/tzdata" // brands' zones resolve on any host, with or without /usr/share/zoneinfo
)

// Brand is a tenant: a restaurant chain or retail brand running one
// member programme.
type Brand struct {
	ID       string
	Name     string
	Currency string
	// TimeZone is the IANA zone the brand's calendar rules run in (bonus
	// days, points expiry, per-day limits); empty means DefaultTimeZone.
	TimeZone string
	// MemberCodeKey signs the brand's member codes.
	MemberCodeKey ed25519.PrivateKey
	Programme     Programme
	CreatedAt     time.Time
}

// DefaultTimeZone is a brand's time zone unless HQ sets another.
const DefaultTimeZone = "Asia/Shanghai"

// Location is the brand's time zone, in which its calendar rules run:
// bonus days, points expiry, per-day activity and limits.
func (b Brand) Location() (*time.Location, error) {
	return LoadZone(b.TimeZone)
}

// LoadZone resolves an IANA time zone name; empty is DefaultTimeZone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, Errorf(Invalid, "time zone %q is not an IANA zone name such as Asia/Shanghai", name)
	}
	return loc, nil
}

// Store is one shop of a brand.
type Store struct {
	BrandID   string
	ID        string
	Name      string
	CreatedAt time.Time
}

// Device is a paired agent (a POS box) in a store.
type Device struct {
	BrandID string
	StoreID string
	ID      string
	Name    string
	// SecretHash is the SHA-256 of the device's secret.
	SecretHash []byte
	// AckedSeq is the highest seq of this device held without gaps.
	AckedSeq   uint64
	PairedAt   time.Time
	LastSeenAt time.Time
	Revoked    bool
}

// Pairing is a one-time code HQ made for a store.
type Pairing struct {
	Code      string
	BrandID   string
	StoreID   string
	ExpiresAt time.Time
}

// Member is a person in a brand's programme.
type Member struct {
	BrandID     string
	ID          string
	Phone       string
	Name        string
	Cards       []string
	Visits      uint64
	CreatedAt   time.Time
	LastVisitAt time.Time `json:",omitzero"`
	// Birthday is YYYY-MM-DD or MM-DD.
	Birthday string `json:",omitempty"`
	// BirthdayLunar says the member keeps a lunar birthday: Birthday's
	// month and day are then lunar (month 1-12, day 1-30).
	BirthdayLunar bool `json:",omitempty"`
	Source        MemberSource
	Consent       bool
	Tags          []string `json:",omitempty"`
	TierID        string
	TierSince     time.Time `json:",omitzero"`
	Points        int64
	SVPrincipal   int64
	SVBonus       int64
	// TotalSpendFen is the net spend over the member's life.
	TotalSpendFen int64
	// MergedInto is set when this member was folded into another.
	MergedInto string `json:",omitempty"`
}

// StoredValue is the member's stored-value balance.
func (m Member) StoredValue() int64 { return m.SVPrincipal + m.SVBonus }

// Card ties a physical card number to a member.
type Card struct {
	BrandID  string
	Number   string
	MemberID string
	Revoked  bool
}

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	EventVisit     EventKind = "visit"
	EventPurchase  EventKind = "purchase"
	EventTopUp     EventKind = "top_up"
	EventRefund    EventKind = "refund"
	EventVoucher   EventKind = "voucher_redemption"
	EventEnrolment EventKind = "enrolment"
)

// Identification says how a member was recognised at the counter.
type Identification string

// Ways to identify a member.
const (
	ByMemberCode Identification = "member_code"
	ByCard       Identification = "card"
	ByPhone      Identification = "phone"
)

// Event is something that happened at a store, as its device recorded it.
type Event struct {
	ID         string
	DeviceID   string
	Seq        uint64
	OccurredAt time.Time // the device's clock
	StoreID    string
	MemberID   string
	StaffID    string
	// ApprovedBy is the manager who approved money at the counter for a
	// member not scanned there.
	ApprovedBy string `json:",omitempty"`
	Kind       EventKind
	Visit      *Visit             `json:",omitempty"`
	Purchase   *Purchase          `json:",omitempty"`
	TopUp      *TopUp             `json:",omitempty"`
	Refund     *Refund            `json:",omitempty"`
	Voucher    *VoucherRedemption `json:",omitempty"`
	Enrolment  *Enrolment         `json:",omitempty"`
	// Malformed is set by the transport when the event arrived beyond the
	// edge's bounds or otherwise unreadable (its content then shortened to
	// fit): the service keeps it as rejected with this reason, so it never
	// stops the events behind it.
	Malformed string `json:"-"`
}

// Visit is a member identified at the counter.
type Visit struct {
	IdentifiedBy   Identification
	IdentifierHint string
	// CodeRef names the member code shown (membercode.Claims.Ref), so one
	// code used twice is caught even across stores.
	CodeRef string `json:",omitempty"`
}

// Outcome is what the cloud did with a pushed event.
type Outcome string

// Outcomes.
const (
	Applied   Outcome = "applied"
	Duplicate Outcome = "duplicate"
	Rejected  Outcome = "rejected"
)

// StoredEvent is an event as the cloud keeps it.
type StoredEvent struct {
	Event
	BrandID    string
	ReceivedAt time.Time
	Outcome    Outcome
	Reason     string
	// ContentHash is a digest of the event's content as first received, so
	// the same ID arriving with other content can be told from a resend.
	ContentHash []byte `json:",omitempty"`
}

// EventResult is the answer for one pushed event.
type EventResult struct {
	EventID string
	Seq     uint64
	Outcome Outcome
	Reason  string
}

// ChangeKind says which kind of record a change log entry is about.
type ChangeKind string

// Change kinds.
const (
	ChangeMember    ChangeKind = "member"
	ChangeCard      ChangeKind = "card"
	ChangeCoupon    ChangeKind = "coupon"
	ChangeProgramme ChangeKind = "programme"
	ChangeVoucher   ChangeKind = "voucher"
)

// Change is an entry of a brand's change log: "this record changed".
// Agents pull the log and read the record's state as of the pull.
type Change struct {
	Seq  uint64
	Kind ChangeKind
	Key  string
}

// CodeUse records that a member code was used, for replay detection.
type CodeUse struct {
	Ref       string
	EventID   string
	StoreID   string
	DeviceID  string
	MemberID  string
	ExpiresAt time.Time
}

// BrandStats summarises a brand for HQ.
type BrandStats struct {
	Members  uint64
	Events   uint64
	Visits   uint64
	Rejected uint64
	Devices  []Device
}
