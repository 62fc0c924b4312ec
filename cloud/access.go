package cloud

import "time"

// Role is what an HQ token may do within its brand. Permissions by RPC are
// in cloud/grpcapi (permissions.go); the roles are the domain's.
type Role string

// Roles. A platform operator spans brands and alone creates brands; every
// other role belongs to one brand.
const (
	RolePlatform     Role = "platform"
	RoleOwner        Role = "owner"
	RoleMarketing    Role = "marketing"
	RoleFinance      Role = "finance"
	RoleStoreManager Role = "store_manager"
	RoleAuditor      Role = "auditor"
)

// Roles lists every role, for validation and the permission tests.
var Roles = []Role{RolePlatform, RoleOwner, RoleMarketing, RoleFinance, RoleStoreManager, RoleAuditor}

// HQToken is an HQ account's API credential. Only its SHA-256 is kept; the
// secret is shown once, when made or rotated. A platform operator's token
// has the brand "" (it spans brands).
type HQToken struct {
	BrandID string
	ID      string
	// Account names who holds it (a person or a system).
	Account string
	Role    Role
	// StoreIDs limits a store manager to these stores.
	StoreIDs  []string `json:",omitempty"`
	Hash      []byte
	CreatedAt time.Time
	CreatedBy string
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time `json:",omitzero"`
	RevokedAt time.Time `json:",omitzero"`
}

// Usable says whether the token may be used at t.
func (t HQToken) Usable(at time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || at.Before(t.ExpiresAt))
}

// AuditEntry is one change HQ made: who, when, what, before and after.
// The log is append-only: entries are never changed or removed.
type AuditEntry struct {
	BrandID string
	Seq     uint64
	At      time.Time
	// Account and TokenID say who.
	Account string
	TokenID string
	// Action is the RPC (e.g. SetProgramme); Target what it named.
	Action string
	Target string
	// Request, Before and After are JSON, secrets removed.
	Request string `json:",omitempty"`
	Before  string `json:",omitempty"`
	After   string `json:",omitempty"`
}
