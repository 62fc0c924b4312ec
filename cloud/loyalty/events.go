package loyalty

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// PushEvents applies a device's events exactly once, in seq order, in one
// transaction. It returns the device's acknowledged seq: every event up to
// it is held. An event after a gap is not taken; the device resends from
// acked+1. An event that cannot be applied (unknown member, wrong store) is
// kept as rejected with its reason, and acknowledged: never dropped, never
// retried forever.
//
// Pushes from many devices arriving together share one transaction (group
// commit, see pushGroup): a durable commit costs the same whether it holds
// one push or fifty.
func (s *Service) PushEvents(ctx context.Context, dev cloud.Device, events []cloud.Event) (uint64, []cloud.EventResult, error) {
	if len(events) > MaxPushBatch {
		return 0, nil, cloud.Errorf(cloud.Invalid, "%d events in one push; at most %d", len(events), MaxPushBatch)
	}
	c := s.pushes.do(ctx, &pushCall{ctx: ctx, dev: dev, events: events}, s.commitPushes)
	if c.err != nil {
		return 0, nil, c.err
	}
	for _, r := range c.results {
		if r.Outcome == cloud.Rejected {
			s.log.Warn("event rejected", "brand", dev.BrandID, "device", dev.ID, "seq", r.Seq, "event", r.EventID, "reason", r.Reason)
		}
	}
	s.log.Debug("events pushed", "brand", dev.BrandID, "device", dev.ID, "events", len(events), "acked", c.acked)
	return c.acked, c.results, nil
}

// commitPushes applies a group of pushes in one transaction. If the group
// fails, each push is tried again alone, so one push's failure is never
// another's.
func (s *Service) commitPushes(group []*pushCall) {
	// Once a push has joined a group it is committed even if its caller
	// stops waiting: resending it later is answered as a duplicate.
	ctx := context.WithoutCancel(group[0].ctx)
	run := func(calls []*pushCall) error {
		return s.store.Update(ctx, func(tx cloud.Tx) error {
			now := s.Now()
			for _, c := range calls {
				c.acked, c.results, c.err = s.pushTx(tx, c.dev, c.events, now)
				if c.err != nil {
					return c.err
				}
			}
			return nil
		})
	}
	err := run(group)
	if err == nil || len(group) == 1 {
		for _, c := range group {
			c.err = err
		}
		return
	}
	for _, c := range group {
		c.err = run([]*pushCall{c})
	}
}

// pushTx applies one push inside tx.
func (s *Service) pushTx(tx cloud.Tx, dev cloud.Device, events []cloud.Event, now time.Time) (uint64, []cloud.EventResult, error) {
	var results []cloud.EventResult
	d, err := tx.DeviceForPush(dev.BrandID, dev.ID)
	if err != nil {
		return 0, nil, err
	}
	b, err := tx.Brand(dev.BrandID)
	if err != nil {
		return 0, nil, err
	}
	if _, err := tx.PruneCodeUses(d.BrandID, now, 100); err != nil {
		return 0, nil, fmt.Errorf("forget old member code uses: %w", err)
	}
	held := map[string]cloud.StoredEvent{}
	if len(events) > 0 {
		if held, err = prefetch(tx, b, events); err != nil {
			return 0, nil, err
		}
	}
	for _, ev := range events {
		if ev.Seq > d.AckedSeq+1 {
			break // a gap: the device resends from acked+1
		}
		res := cloud.EventResult{EventID: ev.ID, Seq: ev.Seq}
		prior, dup := held[ev.ID]
		switch {
		case dup:
			res.Outcome = cloud.Duplicate
			if prior.DeviceID != d.ID || prior.Seq != ev.Seq {
				res.Outcome, res.Reason = cloud.Rejected, fmt.Sprintf("event id already used by device %s seq %d", prior.DeviceID, prior.Seq)
			}
		case ev.Seq <= d.AckedSeq:
			res.Outcome, res.Reason = cloud.Rejected, fmt.Sprintf("seq %d was already acknowledged with another event id", ev.Seq)
		default:
			ev.DeviceID = d.ID
			res.Outcome, res.Reason, err = s.apply(tx, b, d, ev)
			if err != nil {
				return 0, nil, fmt.Errorf("apply event %s: %w", ev.ID, err)
			}
			stored := cloud.StoredEvent{Event: ev, BrandID: d.BrandID, ReceivedAt: now, Outcome: res.Outcome, Reason: res.Reason}
			if err := tx.PutEvent(stored); err != nil {
				return 0, nil, err
			}
			held[ev.ID] = stored // the same ID again in this push is a duplicate
		}
		if ev.Seq == d.AckedSeq+1 {
			d.AckedSeq = ev.Seq
		}
		results = append(results, res)
	}
	d.LastSeenAt = now
	return d.AckedSeq, results, tx.PutDevice(d)
}

// RevokeDevice stops a device's credentials.
func (s *Service) RevokeDevice(ctx context.Context, brandID, deviceID string) (cloud.Device, error) {
	var d cloud.Device
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if d, err = tx.Device(brandID, deviceID); err != nil {
			return err
		}
		d.Revoked = true
		return tx.PutDevice(d)
	})
	if err != nil {
		return cloud.Device{}, err
	}
	s.log.Warn("device revoked", "brand", brandID, "device", deviceID, "store", d.StoreID)
	return d, nil
}

// ReplicaChange is one pulled change with the record's current state.
type ReplicaChange struct {
	Seq       uint64
	Member    *cloud.Member
	Card      *cloud.Card
	Coupon    *CouponView
	Programme *cloud.Programme
	Voucher   *cloud.Voucher
}

// PullChanges returns a brand's changes after cursor for a device's replica.
func (s *Service) PullChanges(ctx context.Context, dev cloud.Device, cursor uint64, limit int) ([]ReplicaChange, uint64, bool, error) {
	if limit <= 0 || limit > MaxPullBatch {
		limit = MaxPullBatch
	}
	var out []ReplicaChange
	next := cursor
	more := false
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		changes, err := tx.Changes(dev.BrandID, cursor, limit+1)
		if err != nil {
			return err
		}
		if len(changes) > limit {
			more = true
			changes = changes[:limit]
		}
		for _, ch := range changes {
			rc := ReplicaChange{Seq: ch.Seq}
			switch ch.Kind {
			case cloud.ChangeMember:
				m, err := tx.Member(dev.BrandID, ch.Key)
				if err != nil {
					return fmt.Errorf("change %d: %w", ch.Seq, err)
				}
				rc.Member = &m
			case cloud.ChangeCard:
				c, err := tx.Card(dev.BrandID, ch.Key)
				if err != nil {
					return fmt.Errorf("change %d: %w", ch.Seq, err)
				}
				rc.Card = &c
			case cloud.ChangeCoupon:
				c, err := tx.Coupon(dev.BrandID, ch.Key)
				if err != nil {
					return fmt.Errorf("change %d: %w", ch.Seq, err)
				}
				v, err := couponView(tx, c)
				if err != nil {
					return fmt.Errorf("change %d: %w", ch.Seq, err)
				}
				rc.Coupon = &v
			case cloud.ChangeProgramme:
				b, err := tx.Brand(dev.BrandID)
				if err != nil {
					return fmt.Errorf("change %d: %w", ch.Seq, err)
				}
				rc.Programme = &b.Programme
			case cloud.ChangeVoucher:
				v, err := tx.Voucher(dev.BrandID, ch.Key)
				if err != nil {
					return fmt.Errorf("change %d: %w", ch.Seq, err)
				}
				rc.Voucher = &v
			default:
				s.log.Warn("unknown change kind skipped", slog.String("kind", string(ch.Kind)), slog.Uint64("seq", ch.Seq))
			}
			out = append(out, rc)
			next = ch.Seq
		}
		return nil
	})
	return out, next, more, err
}

// Stats summarises a brand.
func (s *Service) Stats(ctx context.Context, brandID string) (cloud.BrandStats, error) {
	var st cloud.BrandStats
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		if st.Members, err = tx.CountMembers(brandID); err != nil {
			return err
		}
		var byKind map[cloud.EventKind]uint64
		if st.Events, byKind, st.Rejected, err = tx.EventCounts(brandID); err != nil {
			return err
		}
		st.Visits = byKind[cloud.EventVisit]
		st.Devices, err = tx.Devices(brandID)
		return err
	})
	return st, err
}

// ListEvents pages through a brand's events in the order received. The
// page token is the position of the last event of the previous page.
func (s *Service) ListEvents(ctx context.Context, brandID, pageToken string, limit int) ([]cloud.StoredEvent, string, error) {
	after, limit, err := paging(pageToken, limit)
	if err != nil {
		return nil, "", err
	}
	var out []cloud.StoredEvent
	var last uint64
	err = s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		out, last, err = tx.Events(brandID, after, limit)
		return err
	})
	if err != nil || len(out) < limit {
		return out, "", err
	}
	return out, strconv.FormatUint(last, 10), nil
}

// prefetch reads in one go what applying a push will look up: the events
// already held under the push's IDs (for deduplication), the members the
// events name, and those members' activity over the tier window. Where
// reads are round trips this turns a few per event into a few per push.
func prefetch(tx cloud.Tx, b cloud.Brand, events []cloud.Event) (map[string]cloud.StoredEvent, error) {
	ids := make([]string, 0, len(events))
	var members []string
	seen := map[string]bool{}
	for _, ev := range events {
		ids = append(ids, ev.ID)
		if ev.MemberID == "" || strings.HasPrefix(ev.MemberID, "local:") || seen[ev.MemberID] {
			continue
		}
		seen[ev.MemberID] = true
		members = append(members, ev.MemberID)
	}
	held, err := tx.EventsByIDs(b.ID, ids)
	if err != nil {
		return nil, fmt.Errorf("prefetch events: %w", err)
	}
	if len(members) == 0 {
		return held, nil
	}
	if _, err := tx.MembersByIDs(b.ID, members); err != nil {
		return nil, fmt.Errorf("prefetch members: %w", err)
	}
	from := events[0].OccurredAt
	for _, ev := range events {
		if ev.OccurredAt.Before(from) {
			from = ev.OccurredAt
		}
	}
	if err := tx.PrefetchActivity(b.ID, members, tierWindowStart(b.Programme, from)); err != nil {
		return nil, fmt.Errorf("prefetch activity: %w", err)
	}
	return held, nil
}
