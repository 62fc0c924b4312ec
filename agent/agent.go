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
}

// Member is a replica entry: enough to greet a member at the counter.
type Member struct {
	ID          string
	PhoneMasked string
	Name        string
	// Visits is the cloud's count as of the last pull.
	Visits  uint64
	Deleted bool
}

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	EventVisit EventKind = "visit"
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
	Seq    uint64
	Member *Member
	Card   *CardBinding
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
