package localstore

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
)

// applyOffer writes a pulled group-buy voucher into the replica (coupons
// and the programme go through applyTo, rebuilds included).
func applyOffer(tx *bolt.Tx, ch agent.Change) error {
	if ch.Voucher == nil {
		return nil
	}
	raw, err := json.Marshal(ch.Voucher)
	if err != nil {
		return err
	}
	return tx.Bucket(bVouchers).Put([]byte(ch.Voucher.Code), raw)
}

// Programme returns the brand's programme; ok is false until the cloud
// has sent one.
func (d *DB) Programme() (p agent.Programme, ok bool, err error) {
	err = d.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bMeta).Get(kProgramme)
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &p)
	})
	if err != nil {
		return agent.Programme{}, false, fmt.Errorf("read programme: %w", err)
	}
	return p, ok, nil
}

// Coupon returns a coupon by code.
func (d *DB) Coupon(code string) (agent.Coupon, error) {
	var c agent.Coupon
	err := d.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bCoupons).Get([]byte(code))
		if raw == nil {
			return ErrUnknown
		}
		return json.Unmarshal(raw, &c)
	})
	return c, err
}

// CouponsOf returns a member's coupons in the replica, in code order. A
// store holds few coupons, so a scan is cheap and needs no index to keep
// in step through replica rebuilds.
func (d *DB) CouponsOf(memberID string) ([]agent.Coupon, error) {
	var out []agent.Coupon
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCoupons).ForEach(func(k, v []byte) error {
			var c agent.Coupon
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode coupon %s: %w", k, err)
			}
			if c.MemberID == memberID {
				out = append(out, c)
			}
			return nil
		})
	})
	return out, err
}

// Voucher returns a group-buy voucher by code.
func (d *DB) Voucher(code string) (agent.Voucher, error) {
	var v agent.Voucher
	err := d.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bVouchers).Get([]byte(code))
		if raw == nil {
			return ErrUnknown
		}
		return json.Unmarshal(raw, &v)
	})
	return v, err
}

// EventByKey returns the event a counter transaction recorded.
func (d *DB) EventByKey(key string) (agent.Event, error) {
	var ev agent.Event
	err := d.db.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bTxns).Get([]byte(key))
		if seq == nil {
			return ErrUnknown
		}
		raw := tx.Bucket(bEvents).Get(seq)
		if raw == nil {
			return ErrUnknown
		}
		return json.Unmarshal(raw, &ev)
	})
	return ev, err
}

// EventsSince returns the events that occurred at or after t, oldest
// first, reading back from the newest (events are recorded in time order,
// give or take clock steps).
func (d *DB) EventsSince(t time.Time) ([]agent.Event, error) {
	var out []agent.Event
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var ev agent.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			if ev.OccurredAt.Before(t) {
				break
			}
			out = append(out, ev)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// Unreflected returns this device's events the replica does not reflect
// yet (not acknowledged, or acknowledged after the last complete pull),
// oldest first: what the counter adds to the replica's balances.
func (d *DB) Unreflected() ([]agent.Event, error) {
	var out []agent.Event
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(u64(getU64(tx.Bucket(bMeta), kReflected) + 1)); k != nil; k, v = c.Next() {
			var ev agent.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}
