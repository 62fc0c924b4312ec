package loyalty

import (
	"bytes"
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
	r, err := s.Push(ctx, dev, events)
	return r.Acked, r.Results, err
}

// PushResult is what a push did.
type PushResult struct {
	// Acked: every event of the device up to it, in the device's own
	// numbering, is held.
	Acked   uint64
	Results []cloud.EventResult
	// DeviceSeq is the highest seq of the device the cloud holds without
	// gaps.
	DeviceSeq uint64
	// SeqBehind is set when an event new to the cloud came with a seq the
	// cloud already holds for the device: the device's sequence went
	// backwards (its data directory was restored from an old backup).
	// That event and those after it are not taken (Acked stops before
	// it): the device renumbers them after DeviceSeq and pushes again, so
	// they are neither dropped nor taken for the events held under those
	// seqs.
	SeqBehind bool
}

// Push is PushEvents with the device's position in the cloud, for the
// sync API.
func (s *Service) Push(ctx context.Context, dev cloud.Device, events []cloud.Event) (PushResult, error) {
	if len(events) > MaxPushBatch {
		return PushResult{}, cloud.Errorf(cloud.Invalid, "%d events in one push; at most %d", len(events), MaxPushBatch)
	}
	c := s.pushes.do(ctx, &pushCall{ctx: ctx, dev: dev, events: events}, s.commitPushes)
	if c.err != nil {
		return PushResult{}, c.err
	}
	for _, r := range c.results {
		if r.Outcome == cloud.Rejected {
			s.log.Warn("event rejected", "brand", dev.BrandID, "device", dev.ID, "seq", r.Seq, "event", r.EventID, "reason", r.Reason)
		}
	}
	s.log.Debug("events pushed", "brand", dev.BrandID, "device", dev.ID, "events", len(events), "acked", c.acked)
	return PushResult{Acked: c.acked, Results: c.results, DeviceSeq: c.deviceSeq, SeqBehind: c.behind}, nil
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
				c.acked, c.results, c.deviceSeq, c.behind, c.err = s.pushTx(tx, c.dev, c.events, now)
				if c.err != nil {
					return c.err
				}
			}
			return nil
		})
	}
	err := run(group)
	if err == nil {
		return
	}
	if len(group) == 1 {
		group[0].err = err
	} else {
		for _, c := range group {
			c.err = run([]*pushCall{c})
		}
	}
	for _, c := range group {
		if c.err != nil {
			c.err = s.pushOneByOne(ctx, c, c.err)
		}
	}
}

// pushOneByOne applies a push that failed as a whole one event per
// transaction, so the event that cannot be applied is found and kept as
// rejected (ReasonUnappliable) instead of failing the push again and again
// and stopping every event behind it in the device's outbox. When even
// keeping it fails, the storage itself is in trouble: the push fails with
// the first error, to be sent again.
func (s *Service) pushOneByOne(ctx context.Context, c *pushCall, first error) error {
	c.results, c.acked = nil, 0
	for _, ev := range c.events {
		one := func(ev cloud.Event) error {
			return s.store.Update(ctx, func(tx cloud.Tx) error {
				acked, res, deviceSeq, behind, err := s.pushTx(tx, c.dev, []cloud.Event{ev}, s.Now())
				if err == nil {
					c.acked, c.deviceSeq, c.behind = acked, deviceSeq, behind
					c.results = append(c.results, res...)
				}
				return err
			})
		}
		err := one(ev)
		if err == nil && c.behind {
			return nil // the device renumbers from here: see Push
		}
		if err == nil {
			continue
		}
		s.log.Error("event cannot be applied; kept as rejected", "brand", c.dev.BrandID, "device", c.dev.ID, "seq", ev.Seq, "event", ev.ID, "err", err)
		ev.Malformed = ReasonUnappliable + ": the cloud could not apply this event; it is kept, unapplied, for HQ"
		if err := one(ev); err != nil {
			return first
		}
	}
	return nil
}

// pushTx applies one push inside tx.
func (s *Service) pushTx(tx cloud.Tx, dev cloud.Device, events []cloud.Event, now time.Time) (acked uint64, results []cloud.EventResult, deviceSeq uint64, behind bool, err error) {
	d, err := tx.DeviceForPush(dev.BrandID, dev.ID)
	if err != nil {
		return 0, nil, 0, false, err
	}
	b, err := tx.Brand(dev.BrandID)
	if err != nil {
		return 0, nil, 0, false, err
	}
	loc, err := b.Location()
	if err != nil {
		return 0, nil, 0, false, fmt.Errorf("brand %s: %w", b.ID, err)
	}
	if _, err := tx.PruneCodeUses(d.BrandID, now, 100); err != nil {
		return 0, nil, 0, false, fmt.Errorf("forget old member code uses: %w", err)
	}
	held := map[string]cloud.StoredEvent{}
	if len(events) > 0 {
		if held, err = prefetch(tx, b, loc, events); err != nil {
			return 0, nil, 0, false, err
		}
	}
	for _, ev := range events {
		if _, dup := held[ev.ID]; !dup && ev.Seq <= d.AckedSeq {
			// New to the cloud under a seq it holds: the device's sequence
			// went backwards. Taking it as rejected would drop it; stop
			// and have the device renumber.
			behind, acked = true, ev.Seq-1
			break
		}
		if ev.Seq > d.AckedSeq+1 {
			break // a gap: the device resends from acked+1
		}
		res := cloud.EventResult{EventID: ev.ID, Seq: ev.Seq}
		hash := cloud.ContentHash(ev)
		prior, dup := held[ev.ID]
		switch {
		case dup:
			res.Outcome = cloud.Duplicate
			if prior.DeviceID != d.ID || prior.Seq != ev.Seq {
				res.Outcome, res.Reason = cloud.Rejected, fmt.Sprintf("event id already used by device %s seq %d", prior.DeviceID, prior.Seq)
			} else if len(prior.ContentHash) > 0 && !bytes.Equal(prior.ContentHash, hash) {
				// Events stored before content hashes have none: those
				// are taken as resends, as they always were.
				res.Outcome, res.Reason = cloud.Rejected, ReasonContentMismatch+": event "+ev.ID+" was first received with other content; the first is kept"
				if _, err := tx.AppendConflict(d.BrandID, cloud.ConflictRecord{
					At: now, Kind: ReasonContentMismatch, EventID: ev.ID, DeviceID: d.ID, StoreID: ev.StoreID, MemberID: ev.MemberID,
					Detail:     fmt.Sprintf("device %s sent event %s (seq %d) again with other content (%s, member %q)", d.ID, ev.ID, ev.Seq, ev.Kind, ev.MemberID),
					Resolution: "the first content is kept; the second is refused; HQ to check the till",
				}); err != nil {
					return 0, nil, 0, false, err
				}
			}
		default:
			ev.DeviceID = d.ID
			hook := s.OnApplied != nil && (s.WantsEvents == nil || s.WantsEvents(context.Background(), d.BrandID))
			if ev.Malformed != "" {
				res.Outcome, res.Reason = cloud.Rejected, ev.Malformed
			} else if why := s.outOfTime(d, ev, now); why != "" {
				res.Outcome, res.Reason = cloud.Rejected, why
			} else if res.Outcome, res.Reason, err = s.apply(tx, b, loc, d, ev); err != nil {
				return 0, nil, 0, false, fmt.Errorf("apply event %s: %w", ev.ID, err)
			}
			if hook && res.Outcome == cloud.Applied {
				if err := s.afterApply(tx, b, ev); err != nil {
					return 0, nil, 0, false, fmt.Errorf("campaigns on event %s: %w", ev.ID, err)
				}
			}
			stored := cloud.StoredEvent{Event: ev, BrandID: d.BrandID, ReceivedAt: now, Outcome: res.Outcome, Reason: res.Reason, ContentHash: hash}
			if err := tx.PutEvent(stored); err != nil {
				return 0, nil, 0, false, err
			}
			held[ev.ID] = stored // the same ID again in this push is a duplicate
		}
		if ev.Seq == d.AckedSeq+1 {
			d.AckedSeq = ev.Seq
		}
		results = append(results, res)
	}
	if !behind {
		// The device's own numbering: after a restore from an old backup
		// the cloud may hold more of its seqs than it has sent.
		acked = d.AckedSeq
		if n := len(events); n > 0 {
			acked = min(acked, events[n-1].Seq)
		}
	}
	d.LastSeenAt = now
	return acked, results, d.AckedSeq, behind, tx.PutDevice(d)
}

// Reason codes that begin a rejected event's reason, for agents and HQ to
// tell them apart without reading the sentence.
const (
	// ReasonContentMismatch: the event's id was seen before with other
	// content; the first is kept and a conflict recorded for HQ.
	ReasonContentMismatch = "content_mismatch"
	// ReasonTimeOutOfRange: the event's time is before its device was
	// paired or further in the future than clocks may be off.
	ReasonTimeOutOfRange = "occurred_at_out_of_range"
	// ReasonUnappliable: applying the event failed where its neighbours
	// did not; it is kept, unapplied, for HQ.
	ReasonUnappliable = "unappliable"
)

// outOfTime says why an event's time cannot be right, or "": not before
// its device was paired (less PairingClockMargin, as the till's clock may
// be behind the cloud's) and not more than MaxFutureSkew ahead of the
// cloud. A purchase dated year 9999 is refused here, before its points
// would expire in year 10000.
func (s *Service) outOfTime(d cloud.Device, ev cloud.Event, now time.Time) string {
	switch {
	case !d.PairedAt.IsZero() && ev.OccurredAt.Before(d.PairedAt.Add(-s.PairingClockMargin)):
		return fmt.Sprintf("%s: occurred at %s, before device %s was paired at %s", ReasonTimeOutOfRange,
			ev.OccurredAt.UTC().Format(time.RFC3339), d.ID, d.PairedAt.UTC().Format(time.RFC3339))
	case ev.OccurredAt.After(now.Add(s.MaxFutureSkew)):
		return fmt.Sprintf("%s: occurred at %s, more than %s after the cloud's clock (%s)", ReasonTimeOutOfRange,
			ev.OccurredAt.UTC().Format(time.RFC3339), s.MaxFutureSkew, now.UTC().Format(time.RFC3339))
	}
	return ""
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
		if _, err = tx.Brand(brandID); err != nil {
			return err // an unknown brand is NotFound, not zeros
		}
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
func prefetch(tx cloud.Tx, b cloud.Brand, loc *time.Location, events []cloud.Event) (map[string]cloud.StoredEvent, error) {
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
	if err := tx.PrefetchActivity(b.ID, members, tierWindowStart(b.Programme, from, loc)); err != nil {
		return nil, fmt.Errorf("prefetch activity: %w", err)
	}
	return held, nil
}

// afterApply hands an applied event to OnApplied with its member after it.
func (s *Service) afterApply(tx cloud.Tx, b cloud.Brand, ev cloud.Event) error {
	var id string
	var err error
	switch {
	case ev.Kind == cloud.EventEnrolment && ev.Enrolment != nil:
		if id, err = tx.LocalRef(b.ID, ev.Enrolment.LocalRef); err != nil {
			return nil // an enrolment that made no member: nothing to act on
		}
	case ev.MemberID != "":
		m, err := resolveMember(tx, b.ID, ev.MemberID)
		if err != nil {
			return nil // applied without a member (nothing to act on)
		}
		return s.OnApplied(tx, b, ev, m)
	default:
		return nil
	}
	after, err := tx.Member(b.ID, id)
	if err != nil {
		return err
	}
	return s.OnApplied(tx, b, ev, after)
}
