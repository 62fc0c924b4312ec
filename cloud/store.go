package cloud

import "context"

// Storage is what the service keeps its state in: records grouped by brand
// and kind, read and written in transactions. The record layout (which
// kinds, which keys, how values are encoded) belongs to package records;
// a backend only stores bytes, so every backend behaves the same and one
// conformance suite (cloud/storetest) checks them all.
type Storage interface {
	// Update runs fn in a read-write transaction, committed durably if fn
	// returns nil and rolled back otherwise. A backend may run fn again
	// after a serialization conflict, so fn must not keep state across
	// runs other than through the transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction over a consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction. Every record is addressed by (brand, kind, key);
// the brand comes first so a brand's data is one contiguous range. The
// empty brand holds the few records looked up before a brand is known
// (pairing codes).
type Tx interface {
	// Get returns a record's value, or nil if there is none.
	Get(brand, kind string, key []byte) ([]byte, error)
	// Put writes a record. A nil or empty value is stored as empty.
	Put(brand, kind string, key, value []byte) error
	// Delete removes a record; deleting a missing one is not an error.
	Delete(brand, kind string, key []byte) error
	// Scan calls fn for records of a kind with key >= from, in bytewise
	// key order, until fn returns false or an error. Scan returns fn's error.
	Scan(brand, kind string, from []byte, fn func(key, value []byte) (bool, error)) error
	// Count returns how many records of a kind a brand has.
	Count(brand, kind string) (uint64, error)
	// NextSeq returns the next number of a per-brand sequence: 1, 2, ...
	NextSeq(brand, sequence string) (uint64, error)
}

// Prefetcher is a Tx that can read many records of a kind at once, so the
// Gets that follow are served from memory. A backend whose reads are round
// trips (PostgreSQL) implements it; for one whose reads are memory-mapped
// (bbolt) it would gain nothing.
type Prefetcher interface {
	Prefetch(brand, kind string, keys [][]byte) error
}
