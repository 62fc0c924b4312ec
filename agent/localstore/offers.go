package localstore

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
)

// applyOffer writes a pulled coupon, voucher or programme into the replica.
func applyOffer(tx *bolt.Tx, ch agent.Change) error {
	switch {
	case ch.Coupon != nil:
		c := ch.Coupon
		raw, err := json.Marshal(c)
		if err != nil {
			return err
		}
		coupons, byMember := tx.Bucket(bCoupons), tx.Bucket(bCouponsByMember)
		if old := coupons.Get([]byte(c.Code)); old != nil {
			var prev agent.Coupon
			if json.Unmarshal(old, &prev) == nil && prev.MemberID != c.MemberID {
				if err := byMember.Delete(memberKey(prev.MemberID, prev.Code)); err != nil {
					return err
				}
			}
		}
		if err := coupons.Put([]byte(c.Code), raw); err != nil {
			return err
		}
		if c.MemberID != "" {
			return byMember.Put(memberKey(c.MemberID, c.Code), nil)
		}
	case ch.Voucher != nil:
		raw, err := json.Marshal(ch.Voucher)
		if err != nil {
			return err
		}
		return tx.Bucket(bVouchers).Put([]byte(ch.Voucher.Code), raw)
	case ch.Programme != nil:
		raw, err := json.Marshal(ch.Programme)
		if err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(kProgram, raw)
	}
	return nil
}

func memberKey(memberID, code string) []byte {
	return append(append([]byte(memberID), 0), code...)
}

// Programme returns the brand's programme; ok is false until the cloud
// has sent one.
func (d *DB) Programme() (p agent.Programme, ok bool, err error) {
	err = d.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bMeta).Get(kProgram)
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

// CouponsOf returns a member's coupons in the replica, in code order.
func (d *DB) CouponsOf(memberID string) ([]agent.Coupon, error) {
	var out []agent.Coupon
	err := d.db.View(func(tx *bolt.Tx) error {
		prefix := memberKey(memberID, "")
		coupons := tx.Bucket(bCoupons)
		c := tx.Bucket(bCouponsByMember).Cursor()
		for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
			raw := coupons.Get(k[len(prefix):])
			if raw == nil {
				continue
			}
			var cp agent.Coupon
			if err := json.Unmarshal(raw, &cp); err != nil {
				return fmt.Errorf("decode coupon %s: %w", k[len(prefix):], err)
			}
			out = append(out, cp)
		}
		return nil
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
