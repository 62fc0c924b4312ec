// Package boltstore keeps the cloud's records in a bbolt file: the
// embedded default, nothing to install. Each brand is a top-level bucket
// holding one bucket per kind of record, so every key starts with the brand.
package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/cloud"
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
	return &DB{db: db}, nil
}

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

// Update implements cloud.Storage. bbolt has one writer at a time, so fn
// runs once.
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

// brandBucket names the top-level bucket of a brand; the prefix keeps the
// empty brand's name non-empty.
func brandBucket(brand string) []byte { return []byte("b:" + brand) }

// bucket returns a kind's bucket, or nil if it does not exist yet.
func (t *txn) bucket(brand, kind string) *bolt.Bucket {
	b := t.tx.Bucket(brandBucket(brand))
	if b == nil {
		return nil
	}
	return b.Bucket([]byte(kind))
}

// create returns a kind's bucket, making it if needed.
func (t *txn) create(brand, kind string) (*bolt.Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(brandBucket(brand))
	if err != nil {
		return nil, fmt.Errorf("brand bucket %q: %w", brand, err)
	}
	k, err := b.CreateBucketIfNotExists([]byte(kind))
	if err != nil {
		return nil, fmt.Errorf("bucket %q of brand %q: %w", kind, brand, err)
	}
	return k, nil
}

func (t *txn) Get(brand, kind string, key []byte) ([]byte, error) {
	b := t.bucket(brand, kind)
	if b == nil {
		return nil, nil
	}
	v := b.Get(keyOf(key))
	if v == nil {
		return nil, nil
	}
	// bbolt's slices live only as long as the transaction.
	return bytes.Clone(v), nil
}

// keyOf maps the empty key (single-record kinds) to a one-byte key, since
// bbolt refuses empty keys.
func keyOf(key []byte) []byte {
	if len(key) == 0 {
		return []byte{0}
	}
	return key
}

func (t *txn) Put(brand, kind string, key, value []byte) error {
	b, err := t.create(brand, kind)
	if err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return b.Put(keyOf(key), value)
}

func (t *txn) Delete(brand, kind string, key []byte) error {
	b := t.bucket(brand, kind)
	if b == nil {
		return nil
	}
	return b.Delete(keyOf(key))
}

func (t *txn) Scan(brand, kind string, from []byte, fn func(key, value []byte) (bool, error)) error {
	b := t.bucket(brand, kind)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	if len(from) == 0 {
		k, v = c.First()
	} else {
		k, v = c.Seek(from)
	}
	for ; k != nil; k, v = c.Next() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (t *txn) Count(brand, kind string) (uint64, error) {
	b := t.bucket(brand, kind)
	if b == nil {
		return 0, nil
	}
	if !t.tx.Writable() {
		return uint64(b.Stats().KeyN), nil
	}
	// Stats reads committed pages only; inside a write transaction count
	// what the transaction sees.
	var n uint64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n, nil
}

func (t *txn) NextSeq(brand, sequence string) (uint64, error) {
	b, err := t.create(brand, "seq:"+sequence)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

var _ cloud.Storage = (*DB)(nil)
