// Package localstore keeps the agent's state in a bbolt file: its identity,
// the replica of its brand's members and cards, and the event log whose
// unacknowledged tail is the outbox.
//
// Record returns only after the event is fsynced. Concurrent records share
// one commit (group commit), since one fsynced commit costs about a
// millisecond whatever it holds.
package localstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
)

var (
	bMeta    = []byte("meta")
	bMembers = []byte("members")
	bCards   = []byte("cards")
	bEvents  = []byte("events")
	bCoupons = []byte("coupons") // code -> coupon
	// bCodeRefs: member code ref -> until when it may be replayed (RFC 3339).
	bCodeRefs = []byte("coderefs")
	// bRebuild holds a replica being rebuilt from scratch: its own members
	// and cards buckets, swapped in when the pull completes.
	bRebuild = []byte("rebuild")

	kIdentity  = []byte("identity")
	kAcked     = []byte("acked_seq")
	kLastSeq   = []byte("last_seq")
	kCursor    = []byte("cursor")
	kSyncedAt  = []byte("replica_synced_at")
	kFormat    = []byte("format")
	kProgramme = []byte("programme")
	// kReflected: every event up to this seq is reflected in the replica
	// (acknowledged before the last complete pull).
	kReflected = []byte("reflected_seq")
	// kRebuildCursor is the rebuild's own position in the change log.
	kRebuildCursor = []byte("rebuild_cursor")
	// Vouchers by code, and counter transactions (idempotency key -> seq).
	bVouchers = []byte("vouchers")
	bTxns     = []byte("txns")
)

// formatTag marks a file as this agent's database.
const formatTag = "memberpass-agent/1"

// maxGroup caps the events one commit carries.
const maxGroup = 256

// DB is the agent's local database.
type DB struct {
	db     *bolt.DB
	writes chan *writeReq
	done   chan struct{}

	// The answered mark (answered.go).
	markMu   sync.Mutex
	markFile *markFile
	mark     uint64
	answered map[uint64]bool
}

type writeReq struct {
	ev  agent.Event
	out chan writeRes
}

type writeRes struct {
	ev  agent.Event
	err error
}

// Open opens or creates the database at path and starts its writer.
func Open(path string) (*DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         2 * time.Second,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 32 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("open agent database %s: %w", path, err)
	}
	if err := check(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("agent database %s is corrupt (%w); it was left untouched: move it aside, keep it for support, and see firmware-notes/operations.md", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			if tx.Bucket(bEvents) != nil || len(bucketNames(tx)) > 0 {
				return fmt.Errorf("file holds buckets %v but no memberpass agent data: not this agent's database", bucketNames(tx))
			}
		} else if f := meta.Get(kFormat); string(f) != formatTag {
			return fmt.Errorf("file format %q, want %q", f, formatTag)
		}
		for _, b := range [][]byte{bMeta, bMembers, bCards, bEvents, bCodeRefs, bCoupons, bVouchers, bTxns} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bMeta).Put(kFormat, []byte(formatTag))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare agent database %s: %w", path, err)
	}
	d := &DB{db: db, writes: make(chan *writeReq, maxGroup), done: make(chan struct{})}
	if err := d.openAnswered(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("agent database %s: %w", path, err)
	}
	go d.writer()
	return d, nil
}

// check walks every page of the file before the agent trusts it: bbolt
// panics on a corrupt page it meets later, in the middle of a scan. A
// panic here is caught and reported as corruption.
func check(db *bolt.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			if len(errs) < 3 {
				errs = append(errs, e)
			}
		}
		return errors.Join(errs...)
	})
}

func bucketNames(tx *bolt.Tx) []string {
	var names []string
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, string(name))
		return nil
	})
	return names
}

// Close stops the writer after the records already handed to it and
// closes the file.
func (d *DB) Close() error {
	close(d.writes)
	<-d.done
	return errors.Join(d.closeAnswered(), d.db.Close())
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func getU64(b *bolt.Bucket, k []byte) uint64 {
	if v := b.Get(k); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Record gives ev the next seq and an ID, commits it, and returns it once
// it is on disk.
func (d *DB) Record(ctx context.Context, ev agent.Event) (agent.Event, error) {
	req := &writeReq{ev: ev, out: make(chan writeRes, 1)}
	select {
	case d.writes <- req:
	case <-ctx.Done():
		return agent.Event{}, fmt.Errorf("record event: %w", ctx.Err())
	}
	// Once handed over the write happens; wait for it even if ctx ends, so
	// the caller never reports a recorded event as failed.
	res := <-req.out
	return res.ev, res.err
}

func (d *DB) writer() {
	defer close(d.done)
	for first := range d.writes {
		group := d.gather(first)
		events := make([]agent.Event, len(group))
		refused := make([]error, len(group))
		err := d.db.Update(func(tx *bolt.Tx) error {
			meta, evb, refs, txns := tx.Bucket(bMeta), tx.Bucket(bEvents), tx.Bucket(bCodeRefs), tx.Bucket(bTxns)
			seq := getU64(meta, kLastSeq)
			for i, r := range group {
				ev := r.ev
				refused[i] = nil
				if ev.IdempotencyKey != "" {
					// A transaction settled before (a reload, a double
					// click) returns its first event instead of a second.
					if v := txns.Get([]byte(ev.IdempotencyKey)); len(v) == 8 {
						if err := json.Unmarshal(evb.Get(v), &events[i]); err != nil {
							return fmt.Errorf("decode event of transaction %s: %w", ev.IdempotencyKey, err)
						}
						continue
					}
					if err := txns.Put([]byte(ev.IdempotencyKey), u64(seq+1)); err != nil {
						return err
					}
				}
				if ev.Visit != nil && ev.Visit.CodeRef != "" {
					ref := []byte(ev.Visit.CodeRef)
					if refs.Get(ref) != nil {
						refused[i] = agent.ErrCodeReplayed
						continue
					}
					until, _ := ev.Visit.CodeExpiresAt.UTC().MarshalText()
					if err := refs.Put(ref, until); err != nil {
						return err
					}
				}
				seq++
				ev.Seq = seq
				id, err := uuid.NewV7()
				if err != nil {
					return fmt.Errorf("event id: %w", err)
				}
				ev.ID = id.String()
				raw, err := json.Marshal(ev)
				if err != nil {
					return err
				}
				if err := evb.Put(u64(seq), raw); err != nil {
					return err
				}
				events[i] = ev
			}
			return meta.Put(kLastSeq, u64(seq))
		})
		for i, r := range group {
			switch {
			case err != nil:
				r.out <- writeRes{err: fmt.Errorf("record event: %w", err)}
			case refused[i] != nil:
				r.out <- writeRes{err: refused[i]}
			default:
				r.out <- writeRes{ev: events[i]}
			}
		}
	}
}

// gather takes the records already waiting after first. Recorders woken
// by the previous commit may be runnable but not yet sent: yielding the
// processor briefly, while more keep arriving, lets them join this commit
// instead of the next one; it costs a lone recorder microseconds.
func (d *DB) gather(first *writeReq) []*writeReq {
	group := []*writeReq{first}
	for yields := 0; len(group) < maxGroup; {
		select {
		case r, ok := <-d.writes:
			if !ok {
				return group
			}
			group = append(group, r)
			continue
		default:
		}
		if yields == maxYields {
			return group
		}
		yields++
		runtime.Gosched()
	}
	return group
}

// maxYields bounds how often gather yields for late recorders.
const maxYields = 3

// Identity returns the paired identity; ok is false before pairing.
func (d *DB) Identity() (id agent.Identity, ok bool, err error) {
	err = d.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bMeta).Get(kIdentity)
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &id)
	})
	if err != nil {
		return agent.Identity{}, false, fmt.Errorf("read identity: %w", err)
	}
	return id, ok, nil
}

// SaveIdentity stores the identity got at pairing.
func (d *DB) SaveIdentity(id agent.Identity) error {
	raw, err := json.Marshal(id)
	if err != nil {
		return err
	}
	return d.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kIdentity, raw) })
}

// Pending returns up to limit events not yet acknowledged, in seq order.
func (d *DB) Pending(limit int) ([]agent.Event, error) {
	var out []agent.Event
	err := d.db.View(func(tx *bolt.Tx) error {
		acked := getU64(tx.Bucket(bMeta), kAcked)
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(u64(acked + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ev agent.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}

// Ack records that the cloud holds every event up to seq.
func (d *DB) Ack(seq uint64) error {
	return d.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if last := getU64(meta, kLastSeq); seq > last {
			return fmt.Errorf("cloud acknowledged seq %d but this agent recorded only up to %d", seq, last)
		}
		if seq <= getU64(meta, kAcked) {
			return nil
		}
		return meta.Put(kAcked, u64(seq))
	})
}

// State reports the outbox and replica positions.
func (d *DB) State() (agent.SyncState, error) {
	var s agent.SyncState
	err := d.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		s.AckedSeq, s.LastSeq, s.Cursor = getU64(meta, kAcked), getU64(meta, kLastSeq), getU64(meta, kCursor)
		s.Pending = s.LastSeq - s.AckedSeq
		s.Rebuilding = tx.Bucket(bRebuild) != nil
		if raw := meta.Get(kSyncedAt); raw != nil {
			return s.ReplicaSyncedAt.UnmarshalText(raw)
		}
		return nil
	})
	return s, err
}

// ApplyChanges writes pulled changes into the replica and moves the cursor,
// in one transaction. caughtUp marks the replica as current at now.
func (d *DB) ApplyChanges(changes []agent.Change, cursor uint64, caughtUp bool, now time.Time) error {
	return d.db.Update(func(tx *bolt.Tx) error {
		members, cards, meta := tx.Bucket(bMembers), tx.Bucket(bCards), tx.Bucket(bMeta)
		if err := applyTo(members, cards, tx.Bucket(bCoupons), meta, changes); err != nil {
			return err
		}
		for _, ch := range changes {
			if err := applyOffer(tx, ch); err != nil {
				return err
			}
		}
		if err := meta.Put(kCursor, u64(cursor)); err != nil {
			return err
		}
		if caughtUp {
			return caughtUpAt(meta, now)
		}
		return nil
	})
}

// StartRebuild begins rebuilding the replica from scratch, into buckets of
// its own: the current replica keeps serving the counter meanwhile. It
// returns the rebuild's cursor (0, or where an interrupted rebuild got to).
func (d *DB) StartRebuild() (uint64, error) {
	var cursor uint64
	err := d.db.Update(func(tx *bolt.Tx) error {
		if rb := tx.Bucket(bRebuild); rb != nil {
			cursor = getU64(rb, kRebuildCursor)
			return nil
		}
		rb, err := tx.CreateBucket(bRebuild)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bMembers, bCards, bCoupons} {
			if _, err := rb.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("start replica rebuild: %w", err)
	}
	return cursor, nil
}

// ApplyRebuild writes a page of the rebuild's pull. With done, the rebuilt
// replica replaces the old one, in the same transaction.
func (d *DB) ApplyRebuild(changes []agent.Change, cursor uint64, done bool, now time.Time) error {
	return d.db.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bRebuild)
		if rb == nil {
			return errors.New("no replica rebuild under way")
		}
		if err := applyTo(rb.Bucket(bMembers), rb.Bucket(bCards), rb.Bucket(bCoupons), tx.Bucket(bMeta), changes); err != nil {
			return err
		}
		if err := rb.Put(kRebuildCursor, u64(cursor)); err != nil {
			return err
		}
		if !done {
			return nil
		}
		// Copied rather than moved: bbolt's MoveBucket loses writes made to
		// a small (inline) bucket earlier in the same transaction.
		for _, name := range [][]byte{bMembers, bCards, bCoupons} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			dst, err := tx.CreateBucket(name)
			if err != nil {
				return err
			}
			if err := rb.Bucket(name).ForEach(func(k, v []byte) error { return dst.Put(k, v) }); err != nil {
				return err
			}
		}
		if err := tx.DeleteBucket(bRebuild); err != nil {
			return err
		}
		meta := tx.Bucket(bMeta)
		if err := meta.Put(kCursor, u64(cursor)); err != nil {
			return err
		}
		return caughtUpAt(meta, now)
	})
}

// caughtUpAt marks the replica current: every event acknowledged before
// this pull is now reflected in it.
func caughtUpAt(meta *bolt.Bucket, now time.Time) error {
	t, _ := now.UTC().MarshalText()
	if err := meta.Put(kSyncedAt, t); err != nil {
		return err
	}
	return meta.Put(kReflected, u64(getU64(meta, kAcked)))
}

// PruneCodeRefs forgets member codes that can no longer be replayed.
func (d *DB) PruneCodeRefs(now time.Time) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bCodeRefs).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var until time.Time
			if until.UnmarshalText(v) == nil && now.Before(until) {
				continue
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forget expired member codes: %w", err)
	}
	return n, nil
}

func applyTo(members, cards, coupons, meta *bolt.Bucket, changes []agent.Change) error {
	for _, ch := range changes {
		switch {
		case ch.Coupon != nil:
			raw, err := json.Marshal(ch.Coupon)
			if err != nil {
				return err
			}
			if err := coupons.Put([]byte(ch.Coupon.Code), raw); err != nil {
				return err
			}
		case ch.Programme != nil:
			raw, err := json.Marshal(ch.Programme)
			if err != nil {
				return err
			}
			if err := meta.Put(kProgramme, raw); err != nil {
				return err
			}
		case ch.Member != nil && ch.Member.Deleted:
			if err := members.Delete([]byte(ch.Member.ID)); err != nil {
				return err
			}
		case ch.Member != nil:
			raw, err := json.Marshal(ch.Member)
			if err != nil {
				return err
			}
			if err := members.Put([]byte(ch.Member.ID), raw); err != nil {
				return err
			}
		case ch.Card != nil && ch.Card.Revoked:
			if err := cards.Delete([]byte(ch.Card.Number)); err != nil {
				return err
			}
		case ch.Card != nil:
			if err := cards.Put([]byte(ch.Card.Number), []byte(ch.Card.MemberID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrUnknown is returned when the replica has no such member or card.
var ErrUnknown = errors.New("not in the replica")

// Member returns a member from the replica.
func (d *DB) Member(id string) (agent.Member, error) {
	var m agent.Member
	err := d.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bMembers).Get([]byte(id))
		if raw == nil {
			return ErrUnknown
		}
		return json.Unmarshal(raw, &m)
	})
	return m, err
}

// MemberByCard returns the member a card belongs to.
func (d *DB) MemberByCard(number string) (agent.Member, error) {
	var m agent.Member
	err := d.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bCards).Get([]byte(number))
		if id == nil {
			return ErrUnknown
		}
		raw := tx.Bucket(bMembers).Get(id)
		if raw == nil {
			return ErrUnknown
		}
		return json.Unmarshal(raw, &m)
	})
	return m, err
}

// Events returns recorded events with seq in [from, to], oldest first.
func (d *DB) Events(from, to uint64) ([]agent.Event, error) {
	var out []agent.Event
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(u64(from)); k != nil && binary.BigEndian.Uint64(k) <= to; k, v = c.Next() {
			var ev agent.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}
