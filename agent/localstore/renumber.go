package localstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/memberpass/memberpass/agent"
)

// Renumber follows the cloud after this agent's sequence went backwards:
// its data directory was restored from an old backup, and the cloud holds
// this device's seqs up to cloudSeq, some of them events this database
// lost with the restore. The unacknowledged events move, in order and
// with their IDs and contents otherwise unchanged, to cloudSeq+1,
// cloudSeq+2, ...; the acknowledged seq becomes cloudSeq and new events
// follow the moved ones. So nothing recorded here is dropped, and no event
// takes a seq the cloud holds for another. It returns how many events
// moved; nothing changes when cloudSeq is not past the acknowledged seq.
func (d *DB) Renumber(cloudSeq uint64) (moved int, err error) {
	err = d.db.Update(func(tx *bolt.Tx) error {
		meta, evb, txns := tx.Bucket(bMeta), tx.Bucket(bEvents), tx.Bucket(bTxns)
		acked := getU64(meta, kAcked)
		if cloudSeq <= acked {
			return nil
		}
		var pending []agent.Event
		c := evb.Cursor()
		for k, v := c.Seek(u64(acked + 1)); k != nil; k, v = c.Next() {
			var ev agent.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			pending = append(pending, ev)
		}
		newSeq := map[uint64]uint64{}
		for _, ev := range pending {
			if err := evb.Delete(u64(ev.Seq)); err != nil {
				return err
			}
		}
		for i, ev := range pending {
			next := cloudSeq + 1 + uint64(i)
			newSeq[ev.Seq] = next
			ev.Seq = next
			raw, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if err := evb.Put(u64(next), raw); err != nil {
				return err
			}
		}
		// A counter transaction settled again must find its event at its
		// new seq.
		fix := map[string]uint64{}
		if err := txns.ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				if to, ok := newSeq[binary.BigEndian.Uint64(v)]; ok {
					fix[string(k)] = to
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for k, to := range fix {
			if err := txns.Put([]byte(k), u64(to)); err != nil {
				return err
			}
		}
		if err := meta.Put(kAcked, u64(cloudSeq)); err != nil {
			return err
		}
		moved = len(pending)
		return meta.Put(kLastSeq, u64(cloudSeq+uint64(len(pending))))
	})
	if err != nil {
		return 0, fmt.Errorf("renumber events after seq %d: %w", cloudSeq, err)
	}
	return moved, nil
}
