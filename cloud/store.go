package cloud

import "context"

// Storage is what the service keeps its state in. Every read and write goes
// through a transaction; every key starts with the brand (pairing codes,
// looked up before the brand is known, are the one global index).
type Storage interface {
	// Update runs fn in a read-write transaction, committed durably if fn
	// returns nil and rolled back otherwise.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction. Getters return a NotFound *Error when the record
// does not exist.
type Tx interface {
	Brand(id string) (Brand, error)
	PutBrand(Brand) error

	Store(brandID, id string) (Store, error)
	PutStore(Store) error

	Device(brandID, id string) (Device, error)
	PutDevice(Device) error
	Devices(brandID string) ([]Device, error)

	Pairing(code string) (Pairing, error)
	PutPairing(Pairing) error
	DeletePairing(code string) error

	// NextID returns the next number of a per-brand sequence (1, 2, ...).
	NextID(brandID, sequence string) (uint64, error)

	Member(brandID, id string) (Member, error)
	PutMember(Member) error
	// MemberIDByPhone returns the member holding a normalised phone number.
	MemberIDByPhone(brandID, phone string) (string, error)
	CountMembers(brandID string) (uint64, error)

	Card(brandID, number string) (Card, error)
	PutCard(Card) error

	// Event returns a stored event by its ID.
	Event(brandID, id string) (StoredEvent, error)
	PutEvent(StoredEvent) error
	// Events lists a brand's events in the order they were received, after
	// the position given (empty for the start).
	Events(brandID, after string, limit int) (events []StoredEvent, next string, err error)
	// CountEvents counts a brand's events by kind, and those rejected.
	CountEvents(brandID string) (total uint64, byKind map[EventKind]uint64, rejected uint64, err error)

	// AppendChange adds to the brand's change log and returns its seq.
	AppendChange(brandID string, kind ChangeKind, key string) (uint64, error)
	// Changes returns up to limit changes with seq > after, oldest first.
	Changes(brandID string, after uint64, limit int) ([]Change, error)
}
