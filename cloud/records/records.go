// Package records lays the cloud's domain records out on a cloud.Tx: which
// kind each record is, how it is keyed, and how it is encoded (JSON). The
// loyalty logic reads and writes through these functions, never through
// raw keys, so the layout is defined once for every backend.
package records

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Kinds of record.
const (
	KindBrand      = "brand"
	KindStore      = "store"
	KindDevice     = "device"
	KindPairing    = "pairing" // in the empty brand
	KindBrandIndex = "brands"  // in the empty brand: brand id -> nothing
	KindMember     = "member"
	KindPhone      = "phone" // phone -> member id
	KindCard       = "card"
	KindEvent      = "event"    // event id -> stored event
	KindEventLog   = "eventlog" // receive seq -> event id
	KindChange     = "change"   // change seq -> change
	KindCodeUse    = "codeuse"  // member code ref -> code use
	KindCodeExp    = "codeexp"  // expiry (unix s) + ref -> nothing, to prune code uses
)

// Seq encodes a sequence number as a key that sorts in numeric order.
func Seq(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// SeqOf decodes a key made by Seq.
func SeqOf(k []byte) uint64 {
	if len(k) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(k)-8:])
}

// Get reads and decodes a record; a missing one is a NotFound error naming what.
func Get[T any](tx cloud.Tx, brand, kind string, key []byte, what string) (T, error) {
	var v T
	raw, err := tx.Get(brand, kind, key)
	if err != nil {
		return v, fmt.Errorf("read %s: %w", what, err)
	}
	if raw == nil {
		return v, cloud.Errorf(cloud.NotFound, "%s not found", what)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

// Put encodes and writes a record.
func Put(tx cloud.Tx, brand, kind string, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s record: %w", kind, err)
	}
	return tx.Put(brand, kind, key, raw)
}

// List decodes the records of a kind from key from, up to limit (0: all).
func List[T any](tx cloud.Tx, brand, kind string, from []byte, limit int) ([]T, []byte, error) {
	var out []T
	var last []byte
	err := tx.Scan(brand, kind, from, func(k, v []byte) (bool, error) {
		if limit > 0 && len(out) == limit {
			return false, nil
		}
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return false, fmt.Errorf("decode %s %x: %w", kind, k, err)
		}
		out = append(out, rec)
		last = append(last[:0], k...)
		return true, nil
	})
	return out, last, err
}

func exists(tx cloud.Tx, brand, kind string, key []byte) (bool, error) {
	raw, err := tx.Get(brand, kind, key)
	return raw != nil, err
}

// Brand reads a brand.
func Brand(tx cloud.Tx, id string) (cloud.Brand, error) {
	return Get[cloud.Brand](tx, id, KindBrand, nil, fmt.Sprintf("brand %q", id))
}

// PutBrand writes a brand and lists it in the global brand index.
func PutBrand(tx cloud.Tx, b cloud.Brand) error {
	if err := tx.Put("", KindBrandIndex, []byte(b.ID), nil); err != nil {
		return err
	}
	return Put(tx, b.ID, KindBrand, nil, b)
}

// BrandIDs lists every brand.
func BrandIDs(tx cloud.Tx) ([]string, error) {
	var ids []string
	err := tx.Scan("", KindBrandIndex, nil, func(k, _ []byte) (bool, error) {
		ids = append(ids, string(k))
		return true, nil
	})
	return ids, err
}

// Store reads a store.
func Store(tx cloud.Tx, brand, id string) (cloud.Store, error) {
	return Get[cloud.Store](tx, brand, KindStore, []byte(id), fmt.Sprintf("store %q", id))
}

// PutStore writes a store.
func PutStore(tx cloud.Tx, s cloud.Store) error {
	return Put(tx, s.BrandID, KindStore, []byte(s.ID), s)
}

// Device reads a device.
func Device(tx cloud.Tx, brand, id string) (cloud.Device, error) {
	return Get[cloud.Device](tx, brand, KindDevice, []byte(id), fmt.Sprintf("device %q", id))
}

// PutDevice writes a device.
func PutDevice(tx cloud.Tx, d cloud.Device) error {
	return Put(tx, d.BrandID, KindDevice, []byte(d.ID), d)
}

// Devices lists a brand's devices.
func Devices(tx cloud.Tx, brand string) ([]cloud.Device, error) {
	out, _, err := List[cloud.Device](tx, brand, KindDevice, nil, 0)
	return out, err
}

// Pairing reads a pairing code.
func Pairing(tx cloud.Tx, code string) (cloud.Pairing, error) {
	return Get[cloud.Pairing](tx, "", KindPairing, []byte(code), "pairing code")
}

// PutPairing writes a pairing code.
func PutPairing(tx cloud.Tx, p cloud.Pairing) error {
	return Put(tx, "", KindPairing, []byte(p.Code), p)
}

// DeletePairing removes a used pairing code.
func DeletePairing(tx cloud.Tx, code string) error { return tx.Delete("", KindPairing, []byte(code)) }

// Member reads a member.
func Member(tx cloud.Tx, brand, id string) (cloud.Member, error) {
	return Get[cloud.Member](tx, brand, KindMember, []byte(id), fmt.Sprintf("member %q", id))
}

// PutMember writes a member and keeps the phone index: a phone belongs to
// one member of a brand at most.
func PutMember(tx cloud.Tx, m cloud.Member) error {
	old, err := Member(tx, m.BrandID, m.ID)
	if err != nil && !cloud.IsNotFound(err) {
		return err
	}
	if m.Phone != old.Phone {
		if m.Phone != "" {
			owner, err := tx.Get(m.BrandID, KindPhone, []byte(m.Phone))
			if err != nil {
				return err
			}
			if owner != nil && string(owner) != m.ID {
				return cloud.Errorf(cloud.Conflict, "phone %s already belongs to member %s", m.Phone, owner)
			}
			if err := tx.Put(m.BrandID, KindPhone, []byte(m.Phone), []byte(m.ID)); err != nil {
				return err
			}
		}
		if old.Phone != "" {
			if err := tx.Delete(m.BrandID, KindPhone, []byte(old.Phone)); err != nil {
				return err
			}
		}
	}
	return Put(tx, m.BrandID, KindMember, []byte(m.ID), m)
}

// MemberIDByPhone finds the member holding a normalised phone number.
func MemberIDByPhone(tx cloud.Tx, brand, phone string) (string, error) {
	id, err := tx.Get(brand, KindPhone, []byte(phone))
	if err != nil {
		return "", err
	}
	if id == nil {
		return "", cloud.Errorf(cloud.NotFound, "no member with phone %s", phone)
	}
	return string(id), nil
}

// CountMembers counts a brand's members.
func CountMembers(tx cloud.Tx, brand string) (uint64, error) { return tx.Count(brand, KindMember) }

// Card reads a card binding.
func Card(tx cloud.Tx, brand, number string) (cloud.Card, error) {
	return Get[cloud.Card](tx, brand, KindCard, []byte(number), fmt.Sprintf("card %q", number))
}

// PutCard writes a card binding.
func PutCard(tx cloud.Tx, c cloud.Card) error {
	return Put(tx, c.BrandID, KindCard, []byte(c.Number), c)
}

// Event reads a stored event by its ID.
func Event(tx cloud.Tx, brand, id string) (cloud.StoredEvent, error) {
	return Get[cloud.StoredEvent](tx, brand, KindEvent, []byte(id), fmt.Sprintf("event %q", id))
}

// PutEvent stores an event; a new one also joins the receive-order log.
func PutEvent(tx cloud.Tx, e cloud.StoredEvent) error {
	had, err := exists(tx, e.BrandID, KindEvent, []byte(e.ID))
	if err != nil {
		return err
	}
	if err := Put(tx, e.BrandID, KindEvent, []byte(e.ID), e); err != nil {
		return err
	}
	if had {
		return nil
	}
	n, err := tx.NextSeq(e.BrandID, KindEventLog)
	if err != nil {
		return err
	}
	return tx.Put(e.BrandID, KindEventLog, Seq(n), []byte(e.ID))
}

// Events lists events in receive order after position after (0: the
// start); it returns the position of the last one.
func Events(tx cloud.Tx, brand string, after uint64, limit int) ([]cloud.StoredEvent, uint64, error) {
	var out []cloud.StoredEvent
	last := after
	err := tx.Scan(brand, KindEventLog, Seq(after+1), func(k, v []byte) (bool, error) {
		if len(out) == limit {
			return false, nil
		}
		e, err := Event(tx, brand, string(v))
		if err != nil {
			return false, err
		}
		out = append(out, e)
		last = SeqOf(k)
		return true, nil
	})
	return out, last, err
}

// EventCounts counts a brand's events by kind, and those rejected.
func EventCounts(tx cloud.Tx, brand string) (total uint64, byKind map[cloud.EventKind]uint64, rejected uint64, err error) {
	byKind = map[cloud.EventKind]uint64{}
	err = tx.Scan(brand, KindEvent, nil, func(k, v []byte) (bool, error) {
		var e struct {
			Kind    cloud.EventKind
			Outcome cloud.Outcome
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return false, fmt.Errorf("decode event %q: %w", k, err)
		}
		total++
		if e.Outcome == cloud.Rejected {
			rejected++
		} else {
			byKind[e.Kind]++
		}
		return true, nil
	})
	return total, byKind, rejected, err
}

// AppendChange adds to a brand's change log and returns its seq.
func AppendChange(tx cloud.Tx, brand string, kind cloud.ChangeKind, key string) (uint64, error) {
	seq, err := tx.NextSeq(brand, KindChange)
	if err != nil {
		return 0, err
	}
	return seq, Put(tx, brand, KindChange, Seq(seq), cloud.Change{Seq: seq, Kind: kind, Key: key})
}

// Changes returns up to limit changes with seq > after, oldest first.
func Changes(tx cloud.Tx, brand string, after uint64, limit int) ([]cloud.Change, error) {
	out, _, err := List[cloud.Change](tx, brand, KindChange, Seq(after+1), limit)
	return out, err
}

// CodeUse reads the record of a used member code.
func CodeUse(tx cloud.Tx, brand, ref string) (cloud.CodeUse, error) {
	return Get[cloud.CodeUse](tx, brand, KindCodeUse, []byte(ref), fmt.Sprintf("member code use %q", ref))
}

// PutCodeUse records a used member code, indexed by when it may be forgotten.
func PutCodeUse(tx cloud.Tx, brand string, u cloud.CodeUse) error {
	if err := Put(tx, brand, KindCodeUse, []byte(u.Ref), u); err != nil {
		return err
	}
	return tx.Put(brand, KindCodeExp, codeExpKey(u.ExpiresAt.Unix(), u.Ref), nil)
}

func codeExpKey(unix int64, ref string) []byte {
	return append(Seq(uint64(max(unix, 0))), ref...)
}

// PruneCodeUses forgets up to limit code uses that may be forgotten before
// now; it returns how many it forgot.
func PruneCodeUses(tx cloud.Tx, brand string, now time.Time, limit int) (int, error) {
	var keys [][]byte
	err := tx.Scan(brand, KindCodeExp, nil, func(k, _ []byte) (bool, error) {
		if len(keys) == limit || len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) >= now.Unix() {
			return false, nil
		}
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.Delete(brand, KindCodeUse, k[8:]); err != nil {
			return 0, err
		}
		if err := tx.Delete(brand, KindCodeExp, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Prefetch reads the records of a kind with the given keys in one go where
// the backend can (cloud.Prefetcher); elsewhere it does nothing.
func Prefetch(tx cloud.Tx, brand, kind string, keys [][]byte) error {
	p, ok := tx.(cloud.Prefetcher)
	if !ok || len(keys) == 0 {
		return nil
	}
	return p.Prefetch(brand, kind, keys)
}
