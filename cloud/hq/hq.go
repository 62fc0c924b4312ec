// Package hq is what the HQ console keeps beside the loyalty books: the
// sign-in accounts of HQ's people with their roles, who may do what
// (one permission table, checked on the server for every page and
// action), the audit log of their changes, service notes on members,
// resolutions of offline conflicts, and the read models the console's
// pages show (member search, daily figures). It imports no database and
// no transport: cloud/sqlstore keeps it, cloud/console serves it.
package hq

import (
	"context"
	"slices"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Role is an HQ role: the trust work's (cloud.Role), so a person's
// console account and their API tokens speak of the same roles.
type Role = cloud.Role

// Roles.
const (
	RolePlatform     = cloud.RolePlatform
	RoleOwner        = cloud.RoleOwner
	RoleMarketing    = cloud.RoleMarketing
	RoleFinance      = cloud.RoleFinance
	RoleStoreManager = cloud.RoleStoreManager
	RoleAuditor      = cloud.RoleAuditor
)

// Roles lists every role.
var Roles = cloud.Roles

// ValidRole says whether r is a known role.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Principal is who is signed in: the brand they act in, their account and
// role, and for a store manager the stores they may see.
type Principal struct {
	BrandID  string
	Account  string
	Role     Role
	StoreIDs []string
}

// Can says whether the principal may take an action.
func (p Principal) Can(a Action) bool { return slices.Contains(permissions[p.Role], a) }

// AllStores is false for a role limited to named stores.
func (p Principal) AllStores() bool { return p.Role != RoleStoreManager }

// SeesStore says whether the principal may see a store's data.
func (p Principal) SeesStore(storeID string) bool {
	return p.AllStores() || slices.Contains(p.StoreIDs, storeID)
}

// StoreScope is the stores the principal's queries are limited to: nil
// for every store of the brand, else the named ones (none named: none).
func (p Principal) StoreScope() []string {
	if p.AllStores() {
		return nil
	}
	if p.StoreIDs == nil {
		return []string{}
	}
	return p.StoreIDs
}

// Account is an HQ person's sign-in. The password is kept only as an
// argon2id hash in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
type Account struct {
	BrandID      string
	Login        string
	Name         string
	Role         Role
	StoreIDs     []string
	PasswordHash string
	// Failures counts failed sign-ins since the last success; at the
	// limit the account is locked until LockedUntil.
	Failures    int
	LockedUntil time.Time
	// SessionGen is stamped on each session at sign-in; raising it signs
	// the account out everywhere.
	SessionGen uint64
	Disabled   bool
	CreatedAt  time.Time
}

// Principal is who the account is once signed in.
func (a Account) Principal() Principal {
	return Principal{BrandID: a.BrandID, Account: a.Login, Role: a.Role, StoreIDs: a.StoreIDs}
}

// AuditEntry is one change HQ made: the trust work's entry, in its one
// append-only log (hq_audit_log), so changes made in the console and
// through the admin API read as one history.
type AuditEntry = cloud.AuditEntry

// AuditFilter narrows the audit log; empty fields match everything.
type AuditFilter struct {
	Account string
	Action  string
	// Target matches entries whose target starts with it.
	Target string
	Since  time.Time
	Until  time.Time
	// Before pages backwards: entries with Seq < Before (0: from the end).
	Before uint64
	Limit  int
}

// Note is a service note or complaint on a member's timeline, with tags,
// so service and marketing see the same customer.
type Note struct {
	BrandID  string
	MemberID string
	Seq      uint64
	At       time.Time
	Account  string
	// Kind is note or complaint.
	Kind string
	Text string
	Tags []string
}

// Note kinds.
const (
	NoteService   = "note"
	NoteComplaint = "complaint"
)

// Resolution is what HQ decided about a conflict from an offline counter.
type Resolution struct {
	BrandID     string
	ConflictSeq uint64
	// Action is write_off, recover or note.
	Action  string
	Note    string
	Account string
	At      time.Time
}

// Resolution actions.
const (
	ResolveWriteOff = "write_off"
	ResolveRecover  = "recover"
	ResolveNote     = "note"
)

// DayFigures are one store's figures for one calendar day of the brand.
type DayFigures struct {
	// Day is YYYY-MM-DD in the brand's time zone.
	Day        string
	StoreID    string
	Visits     int64
	Purchases  int64
	NetFen     int64
	TopUps     int64
	TopUpFen   int64
	NewMembers int64
}

// ProgrammeVersion is one programme a brand has had.
type ProgrammeVersion struct {
	Version   uint64
	Programme cloud.Programme
	CreatedAt time.Time
}

// MemberQuery finds members by phone, card number or name.
type MemberQuery struct {
	// Text is a phone number, a card number or part of a name.
	Text string
	// Stores limits the result to members of these stores (joined there
	// or seen there); nil: every store.
	Stores []string
	Limit  int
}

// Store keeps HQ's records beside the books, in the same database, so a
// change and its audit entry commit together.
type Store interface {
	UpdateHQ(ctx context.Context, fn func(Tx) error) error
	ViewHQ(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction over the books and HQ's records. Every method
// names the brand first.
type Tx interface {
	cloud.Tx

	// Stores lists a brand's stores by id.
	Stores(brand string) ([]cloud.Store, error)
	// ProgrammeVersions lists the programmes a brand has had, newest
	// first.
	ProgrammeVersions(brand string, limit int) ([]ProgrammeVersion, error)

	Account(brand, login string) (Account, error)
	PutAccount(a Account) error
	Accounts(brand string) ([]Account, error)

	// Audit appends to the brand's audit log, numbering the entry.
	Audit(e AuditEntry) (AuditEntry, error)
	// AuditEntries lists entries newest first.
	AuditEntries(brand string, f AuditFilter) ([]AuditEntry, error)

	AddNote(n Note) (Note, error)
	Notes(brand, memberID string) ([]Note, error)

	PutResolution(r Resolution) error
	// Resolutions reads the resolutions of the given conflicts.
	Resolutions(brand string, seqs []uint64) (map[uint64]Resolution, error)

	// SearchMembers finds members, newest first.
	SearchMembers(brand string, q MemberQuery) ([]cloud.Member, error)
	// MemberInStores says whether a member joined at or was seen at one of
	// the stores.
	MemberInStores(brand, memberID string, stores []string) (bool, error)
	// MemberEvents lists a member's events, newest first.
	MemberEvents(brand, memberID string, limit int) ([]cloud.StoredEvent, error)
	// Figures sums applied events and new members per store per day of
	// the brand's time zone loc, for days [from, to).
	Figures(brand string, from, to time.Time, loc *time.Location, stores []string) ([]DayFigures, error)
}
