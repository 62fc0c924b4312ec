// Package boltstore keeps the cloud's state in a bbolt file: the embedded
// default, nothing to install. Each brand has its own nested bucket, so
// every key starts with the brand.
package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"

	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/cloud"
)

var (
	bucketBrands   = []byte("brands")
	bucketPairings = []byte("pairings")

	// Per-brand buckets.
	bBrand    = []byte("brand")
	bStores   = []byte("stores")
	bDevices  = []byte("devices")
	bMembers  = []byte("members")
	bPhones   = []byte("phones")
	bCards    = []byte("cards")
	bEvents   = []byte("events")
	bEventLog = []byte("eventlog")
	bChanges  = []byte("changes")
	bSeqs     = []byte("seqs")

	brandBuckets = [][]byte{bBrand, bStores, bDevices, bMembers, bPhones, bCards, bEvents, bEventLog, bChanges, bSeqs}
	keyBrand     = []byte("brand")
)

// DB is a cloud.Storage on bbolt.
type DB struct {
	db *bolt.DB
}

// Open opens (creating if needed) the database file at path.
func Open(path string) (*DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         5 * time.Second,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 64 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("open cloud database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBrands, bucketPairings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare cloud database %s: %w", path, err)
	}
	return &DB{db: db}, nil
}

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

// Update implements cloud.Storage.
func (d *DB) Update(ctx context.Context, fn func(cloud.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.Update(func(tx *bolt.Tx) error { return fn(&txn{tx: tx}) })
}

// View implements cloud.Storage.
func (d *DB) View(ctx context.Context, fn func(cloud.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.View(func(tx *bolt.Tx) error { return fn(&txn{tx: tx}) })
}

type txn struct {
	tx *bolt.Tx
}

// brand returns one of a brand's buckets; nil if the brand does not exist.
func (t *txn) brand(brandID string, name []byte) *bolt.Bucket {
	b := t.tx.Bucket(bucketBrands).Bucket([]byte(brandID))
	if b == nil {
		return nil
	}
	return b.Bucket(name)
}

func (t *txn) mustBrand(brandID string, name []byte) (*bolt.Bucket, error) {
	b := t.brand(brandID, name)
	if b == nil {
		return nil, cloud.Errorf(cloud.NotFound, "brand %q does not exist", brandID)
	}
	return b, nil
}

func get[T any](b *bolt.Bucket, key []byte, what string) (T, error) {
	var v T
	if b == nil {
		return v, cloud.Errorf(cloud.NotFound, "%s not found", what)
	}
	raw := b.Get(key)
	if raw == nil {
		return v, cloud.Errorf(cloud.NotFound, "%s not found", what)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

func put(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func (t *txn) Brand(id string) (cloud.Brand, error) {
	return get[cloud.Brand](t.brand(id, bBrand), keyBrand, fmt.Sprintf("brand %q", id))
}

func (t *txn) PutBrand(b cloud.Brand) error {
	root, err := t.tx.Bucket(bucketBrands).CreateBucketIfNotExists([]byte(b.ID))
	if err != nil {
		return fmt.Errorf("create brand bucket: %w", err)
	}
	for _, name := range brandBuckets {
		if _, err := root.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create brand bucket %s: %w", name, err)
		}
	}
	return put(root.Bucket(bBrand), keyBrand, b)
}

func (t *txn) Store(brandID, id string) (cloud.Store, error) {
	return get[cloud.Store](t.brand(brandID, bStores), []byte(id), fmt.Sprintf("store %q", id))
}

func (t *txn) PutStore(s cloud.Store) error {
	b, err := t.mustBrand(s.BrandID, bStores)
	if err != nil {
		return err
	}
	return put(b, []byte(s.ID), s)
}

func (t *txn) Device(brandID, id string) (cloud.Device, error) {
	return get[cloud.Device](t.brand(brandID, bDevices), []byte(id), fmt.Sprintf("device %q", id))
}

func (t *txn) PutDevice(d cloud.Device) error {
	b, err := t.mustBrand(d.BrandID, bDevices)
	if err != nil {
		return err
	}
	return put(b, []byte(d.ID), d)
}

func (t *txn) Devices(brandID string) ([]cloud.Device, error) {
	b, err := t.mustBrand(brandID, bDevices)
	if err != nil {
		return nil, err
	}
	var out []cloud.Device
	err = b.ForEach(func(k, v []byte) error {
		var d cloud.Device
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode device %q: %w", k, err)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

func (t *txn) Pairing(code string) (cloud.Pairing, error) {
	return get[cloud.Pairing](t.tx.Bucket(bucketPairings), []byte(code), "pairing code")
}

func (t *txn) PutPairing(p cloud.Pairing) error {
	return put(t.tx.Bucket(bucketPairings), []byte(p.Code), p)
}

func (t *txn) DeletePairing(code string) error {
	return t.tx.Bucket(bucketPairings).Delete([]byte(code))
}

func (t *txn) NextID(brandID, sequence string) (uint64, error) {
	b, err := t.mustBrand(brandID, bSeqs)
	if err != nil {
		return 0, err
	}
	var n uint64
	if raw := b.Get([]byte(sequence)); len(raw) == 8 {
		n = binary.BigEndian.Uint64(raw)
	}
	n++
	return n, b.Put([]byte(sequence), u64(n))
}

func (t *txn) Member(brandID, id string) (cloud.Member, error) {
	return get[cloud.Member](t.brand(brandID, bMembers), []byte(id), fmt.Sprintf("member %q", id))
}

func (t *txn) PutMember(m cloud.Member) error {
	b, err := t.mustBrand(m.BrandID, bMembers)
	if err != nil {
		return err
	}
	if m.Phone != "" {
		phones := t.brand(m.BrandID, bPhones)
		if owner := phones.Get([]byte(m.Phone)); owner != nil && string(owner) != m.ID {
			return cloud.Errorf(cloud.Conflict, "phone %s already belongs to member %s", m.Phone, owner)
		}
		if old, err := t.Member(m.BrandID, m.ID); err == nil && old.Phone != m.Phone && old.Phone != "" {
			if err := phones.Delete([]byte(old.Phone)); err != nil {
				return err
			}
		}
		if err := phones.Put([]byte(m.Phone), []byte(m.ID)); err != nil {
			return err
		}
	}
	return put(b, []byte(m.ID), m)
}

func (t *txn) MemberIDByPhone(brandID, phone string) (string, error) {
	b := t.brand(brandID, bPhones)
	if b == nil {
		return "", cloud.Errorf(cloud.NotFound, "brand %q does not exist", brandID)
	}
	id := b.Get([]byte(phone))
	if id == nil {
		return "", cloud.Errorf(cloud.NotFound, "no member with phone %s", phone)
	}
	return string(id), nil
}

func (t *txn) CountMembers(brandID string) (uint64, error) {
	b, err := t.mustBrand(brandID, bMembers)
	if err != nil {
		return 0, err
	}
	return uint64(b.Stats().KeyN), nil
}

func (t *txn) Card(brandID, number string) (cloud.Card, error) {
	return get[cloud.Card](t.brand(brandID, bCards), []byte(number), fmt.Sprintf("card %q", number))
}

func (t *txn) PutCard(c cloud.Card) error {
	b, err := t.mustBrand(c.BrandID, bCards)
	if err != nil {
		return err
	}
	return put(b, []byte(c.Number), c)
}

func (t *txn) Event(brandID, id string) (cloud.StoredEvent, error) {
	return get[cloud.StoredEvent](t.brand(brandID, bEvents), []byte(id), fmt.Sprintf("event %q", id))
}

func (t *txn) PutEvent(e cloud.StoredEvent) error {
	b, err := t.mustBrand(e.BrandID, bEvents)
	if err != nil {
		return err
	}
	isNew := b.Get([]byte(e.ID)) == nil
	if err := put(b, []byte(e.ID), e); err != nil {
		return err
	}
	if !isNew {
		return nil
	}
	log := t.brand(e.BrandID, bEventLog)
	n, err := log.NextSequence()
	if err != nil {
		return err
	}
	return log.Put(u64(n), []byte(e.ID))
}

func (t *txn) Events(brandID, after string, limit int) ([]cloud.StoredEvent, string, error) {
	log, err := t.mustBrand(brandID, bEventLog)
	if err != nil {
		return nil, "", err
	}
	events := t.brand(brandID, bEvents)
	c := log.Cursor()
	var k, v []byte
	if after == "" {
		k, v = c.First()
	} else {
		pos, err := hex.DecodeString(after)
		if err != nil || len(pos) != 8 {
			return nil, "", cloud.Errorf(cloud.Invalid, "page token %q is not one this service made", after)
		}
		k, v = c.Seek(pos)
		if k != nil && string(k) == string(pos) {
			k, v = c.Next()
		}
	}
	var out []cloud.StoredEvent
	var last []byte
	for ; k != nil && len(out) < limit; k, v = c.Next() {
		e, err := get[cloud.StoredEvent](events, v, fmt.Sprintf("event %q", v))
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
		last = k
	}
	next := ""
	if k != nil && last != nil {
		next = hex.EncodeToString(last)
	}
	return out, next, nil
}

func (t *txn) CountEvents(brandID string) (uint64, map[cloud.EventKind]uint64, uint64, error) {
	b, err := t.mustBrand(brandID, bEvents)
	if err != nil {
		return 0, nil, 0, err
	}
	var total, rejected uint64
	byKind := map[cloud.EventKind]uint64{}
	err = b.ForEach(func(k, v []byte) error {
		var e struct {
			Kind    cloud.EventKind
			Outcome cloud.Outcome
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decode event %q: %w", k, err)
		}
		total++
		if e.Outcome == cloud.Rejected {
			rejected++
		} else {
			byKind[e.Kind]++
		}
		return nil
	})
	return total, byKind, rejected, err
}

func (t *txn) AppendChange(brandID string, kind cloud.ChangeKind, key string) (uint64, error) {
	b, err := t.mustBrand(brandID, bChanges)
	if err != nil {
		return 0, err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, put(b, u64(seq), cloud.Change{Seq: seq, Kind: kind, Key: key})
}

func (t *txn) Changes(brandID string, after uint64, limit int) ([]cloud.Change, error) {
	b, err := t.mustBrand(brandID, bChanges)
	if err != nil {
		return nil, err
	}
	var out []cloud.Change
	c := b.Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
		var ch cloud.Change
		if err := json.Unmarshal(v, &ch); err != nil {
			return nil, fmt.Errorf("decode change %x: %w", k, err)
		}
		out = append(out, ch)
	}
	return out, nil
}

var _ cloud.Storage = (*DB)(nil)
