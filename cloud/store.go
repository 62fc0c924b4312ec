package cloud

import (
	"context"
	"time"
)

// Storage is what the service keeps its state in, read and written in
// transactions. The contract is the domain's, not a database's: a Tx reads
// and writes members, events, ledgers and coupons, so an implementation can
// keep them in real tables and do set-based work (cloud/sqlstore keeps them
// in SQLite or PostgreSQL). One conformance suite (cloud/storetest) checks
// every implementation.
type Storage interface {
	// Update runs fn in a read-write transaction, committed durably if fn
	// returns nil and rolled back otherwise. An implementation may run fn
	// again after a serialization conflict, so fn must not keep state across
	// runs other than through the transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction over a consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction over a brand's records. Every method names the
// brand first (tenancy is in every key and every query); the only records
// reached without a brand are pairing codes (looked up before the brand is
// known) and the list of brands. A read of a record that does not exist
// returns a NotFound application error naming it. A transaction sees its
// own writes.
type Tx interface {
	// Brand reads a brand.
	Brand(id string) (Brand, error)
	// PutBrand writes a brand; a changed programme becomes a new programme
	// version, kept for HQ's history.
	PutBrand(b Brand) error
	// BrandIDs lists every brand, for scheduled work.
	BrandIDs() ([]string, error)

	Store(brand, id string) (Store, error)
	PutStore(s Store) error

	Device(brand, id string) (Device, error)
	// DeviceForPush reads a device and holds it until the transaction ends,
	// so two processes receiving pushes of the same device take turns.
	DeviceForPush(brand, id string) (Device, error)
	PutDevice(d Device) error
	Devices(brand string) ([]Device, error)

	Pairing(code string) (Pairing, error)
	PutPairing(p Pairing) error
	DeletePairing(code string) error

	// Member reads a member; Cards are the card numbers bound to it.
	Member(brand, id string) (Member, error)
	// MembersByIDs reads many members at once; ids not found are absent.
	MembersByIDs(brand string, ids []string) (map[string]Member, error)
	// PutMember writes a member (its Cards are ignored: a card is bound by
	// PutCard). A phone belongs to one member of a brand at most: a phone
	// held by another member is a Conflict error.
	PutMember(m Member) error
	// MemberIDByPhone finds the member holding a normalised phone number.
	MemberIDByPhone(brand, phone string) (string, error)
	CountMembers(brand string) (uint64, error)
	// Members calls fn for each member of a brand in id order until fn
	// returns false or an error. fn may write through the transaction.
	Members(brand string, fn func(Member) (bool, error)) error

	Card(brand, number string) (Card, error)
	PutCard(c Card) error

	// Event reads a stored event by its ID.
	Event(brand, id string) (StoredEvent, error)
	// EventsByIDs reads many events at once; ids not held are absent.
	EventsByIDs(brand string, ids []string) (map[string]StoredEvent, error)
	// PutEvent adds a new event (events are never changed) at the end of
	// the brand's receive order. An ID already held is a Conflict error.
	PutEvent(e StoredEvent) error
	// Events lists events in receive order after position after (0: the
	// start); it returns the position of the last one.
	Events(brand string, after uint64, limit int) ([]StoredEvent, uint64, error)
	// EventCounts counts a brand's events by kind (rejected ones apart).
	EventCounts(brand string) (total uint64, byKind map[EventKind]uint64, rejected uint64, err error)

	// AppendChange adds to a brand's change log and returns its seq.
	AppendChange(brand string, kind ChangeKind, key string) (uint64, error)
	// Changes returns up to limit changes with seq > after, oldest first.
	Changes(brand string, after uint64, limit int) ([]Change, error)

	CodeUse(brand, ref string) (CodeUse, error)
	PutCodeUse(brand string, u CodeUse) error
	// PruneCodeUses forgets up to limit code uses that expired before now
	// and returns how many it forgot.
	PruneCodeUses(brand string, now time.Time, limit int) (int, error)

	// AppendPoints adds a line to a member's points ledger, numbering it.
	AppendPoints(brand string, e PointsEntry) (PointsEntry, error)
	PointsEntries(brand, memberID string) ([]PointsEntry, error)
	// PutPointsLot writes a lot; a lot with nothing remaining is removed.
	PutPointsLot(brand string, l PointsLot) error
	// PointsLots lists a member's lots, soonest to expire first (never
	// expiring last), then oldest first.
	PointsLots(brand, memberID string) ([]PointsLot, error)
	// AppendStoredValue adds a line to a member's stored-value ledger.
	AppendStoredValue(brand string, e StoredValueEntry) (StoredValueEntry, error)
	StoredValueEntries(brand, memberID string) ([]StoredValueEntry, error)
	AppendTierChange(brand string, c TierChange) error
	TierChanges(brand, memberID string) ([]TierChange, error)

	// AddActivity adds visits and spend to a member's calendar day (the
	// date of day; the caller picks the time zone).
	AddActivity(brand, memberID string, day time.Time, visits int, spendFen int64) error
	// ActivitySince sums a member's visits and spend from the date of day on.
	ActivitySince(brand, memberID string, day time.Time) (visits int, spendFen int64, err error)
	// PrefetchActivity reads the activity of many members from the date of
	// day on in one go, where reads are round trips; it may do nothing.
	PrefetchActivity(brand string, memberIDs []string, day time.Time) error

	CouponTemplate(brand, id string) (CouponTemplate, error)
	PutCouponTemplate(t CouponTemplate) error
	CouponTemplates(brand string) ([]CouponTemplate, error)
	Coupon(brand, code string) (Coupon, error)
	// PutCoupon writes a coupon; its History only grows.
	PutCoupon(c Coupon) error
	MemberCoupons(brand, memberID string) ([]Coupon, error)

	Voucher(brand, code string) (Voucher, error)
	PutVoucher(v Voucher) error

	// Group-buy platform state (cloud/groupbuy). ShopBinding is a store's
	// shop on a platform; PutShopBinding needs the store to exist.
	ShopBinding(brand, store, platform string) (ShopBinding, error)
	PutShopBinding(b ShopBinding) error
	ShopBindings(brand string) ([]ShopBinding, error)
	// VoucherUse reads a consumption by its identity (platform, code and
	// idempotency key).
	VoucherUse(brand, platform, code, key string) (VoucherConsumption, error)
	PutVoucherUse(c VoucherConsumption) error
	// VoucherUses lists consumptions on a platform (every platform when
	// empty), of one code when code is given.
	VoucherUses(brand, platform, code string) ([]VoucherConsumption, error)
	// PutVoucherClaim queues (or updates) a voucher a counter accepted
	// offline, for the cloud to consume with its platform.
	PutVoucherClaim(c VoucherClaim) error
	// VoucherClaims lists queued claims, oldest first.
	VoucherClaims(brand string, limit int) ([]VoucherClaim, error)
	DeleteVoucherClaim(brand, eventID string) error
	// VoucherOrigin is the source a platform voucher code gives the member
	// it brought: from its consumption, or its claim while queued.
	VoucherOrigin(brand, code string) (MemberSource, bool, error)

	// AppendConflict records a conflict for HQ, numbering it.
	AppendConflict(brand string, c ConflictRecord) (ConflictRecord, error)
	// Conflicts lists conflicts after seq after.
	Conflicts(brand string, after uint64, limit int) ([]ConflictRecord, error)

	// LocalRef resolves a counter's reference for a member it enrolled.
	LocalRef(brand, ref string) (string, error)
	PutLocalRef(brand, ref, memberID string) error

	// Effect reads what a purchase did.
	Effect(brand, eventID string) (PurchaseEffect, error)
	PutEffect(brand string, e PurchaseEffect) error

	// NextSeq returns the next number of a per-brand sequence: 1, 2, ...
	NextSeq(brand, sequence string) (uint64, error)

	// PutHQToken writes an HQ token (brand "" for a platform operator).
	PutHQToken(t HQToken) error
	// HQTokenByHash finds the token whose secret hashes to hash, in any
	// brand: a bearer token is presented before its brand is known.
	HQTokenByHash(hash []byte) (HQToken, error)
	HQToken(brand, id string) (HQToken, error)
	// HQTokens lists a brand's tokens (brand "": the platform's).
	HQTokens(brand string) ([]HQToken, error)
	// AppendAudit adds to a brand's audit log, numbering the entry.
	AppendAudit(e AuditEntry) (AuditEntry, error)
	// AuditLog lists a brand's audit entries after seq after, oldest first.
	AuditLog(brand string, after uint64, limit int) ([]AuditEntry, error)

	// CardLinkGeneration is the generation of a member's card links (0
	// until first revoked); BumpCardLinkGeneration raises it, so every
	// link made before stops working, and returns the new one.
	CardLinkGeneration(brand, memberID string) (uint64, error)
	BumpCardLinkGeneration(brand, memberID string) (uint64, error)
}
