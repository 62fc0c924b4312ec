// Package cloudsync is the agent's client of the cloud: it pairs the
// device, pushes the outbox (events past the acknowledged seq) and pulls
// the brand's changes into the replica. It retries with capped, jittered
// exponential backoff, so the counter never waits for the cloud.
package cloudsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/agent"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// DeviceHeader carries "brand/device" beside the bearer secret.
const DeviceHeader = "x-memberpass-device"

// Store is what the syncer needs of the local database.
type Store interface {
	Pending(limit int) ([]agent.Event, error)
	Ack(seq uint64) error
	State() (agent.SyncState, error)
	ApplyChanges(changes []agent.Change, cursor uint64, caughtUp bool, now time.Time) error
}

// Credentials attach a device's identity to every call.
type Credentials struct {
	BrandID, DeviceID, Secret string
	// Insecure allows sending them without TLS (loopback, tests).
	Insecure bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c Credentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.Secret, DeviceHeader: c.BrandID + "/" + c.DeviceID}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (c Credentials) RequireTransportSecurity() bool { return !c.Insecure }

// Pair exchanges a pairing code for the device's identity.
func Pair(ctx context.Context, conn grpc.ClientConnInterface, code, deviceName string) (agent.Identity, error) {
	resp, err := pb.NewSyncServiceClient(conn).Pair(ctx, &pb.PairRequest{PairingCode: code, DeviceName: deviceName})
	if err != nil {
		return agent.Identity{}, fmt.Errorf("pair with the cloud: %w", err)
	}
	return agent.Identity{
		BrandID: resp.GetBrandId(), BrandName: resp.GetBrandName(), StoreID: resp.GetStoreId(), StoreName: resp.GetStoreName(),
		DeviceID: resp.GetDeviceId(), Secret: resp.GetDeviceSecret(), MemberCodeKeys: resp.GetMemberCodeKeys(),
		PairedAt: time.Now().UTC(),
	}, nil
}

// Status is how the agent stands with the cloud.
type Status struct {
	Online    bool      `json:"online"`
	LastSync  time.Time `json:"last_sync,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"consecutive_failures"`
}

// Syncer runs the sync loop.
type Syncer struct {
	store  Store
	client pb.SyncServiceClient
	log    *slog.Logger

	// BatchSize is the number of events per push: the cloud's cap
	// (loyalty.MaxPushBatch), since each push costs the cloud and the agent
	// one fsynced commit each, whatever it carries.
	BatchSize int
	// Interval is the wait between syncs when all is well; a recorded
	// event (Wake) starts one at once.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failure.
	MinBackoff, MaxBackoff time.Duration
	// CallTimeout bounds each call to the cloud.
	CallTimeout time.Duration

	wake   chan struct{}
	mu     sync.Mutex
	status Status
}

// New makes a syncer.
func New(store Store, conn grpc.ClientConnInterface, log *slog.Logger) *Syncer {
	return &Syncer{
		store: store, client: pb.NewSyncServiceClient(conn), log: log,
		BatchSize: 1000, Interval: 5 * time.Second, MinBackoff: 200 * time.Millisecond, MaxBackoff: 30 * time.Second,
		CallTimeout: 10 * time.Second,
		wake:        make(chan struct{}, 1),
	}
}

// Wake asks for a sync now; it never blocks.
func (s *Syncer) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Status returns the current state.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Run syncs until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	backoff := s.MinBackoff
	for {
		err := s.SyncOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := s.Interval
		s.mu.Lock()
		if err != nil {
			s.status.Online = false
			s.status.LastError = err.Error()
			s.status.Failures++
			wait = backoff/2 + rand.N(backoff/2+1) // jitter: stores must not retry in step
			backoff = min(2*backoff, s.MaxBackoff)
		} else {
			s.status = Status{Online: true, LastSync: time.Now().UTC()}
			backoff = s.MinBackoff
		}
		failures := s.status.Failures
		s.mu.Unlock()
		if err != nil {
			s.log.Warn("sync failed; the counter keeps working offline", "err", err, "retry_in", wait, "failures", failures)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.wake:
			t.Stop()
			if err != nil {
				// Still honour the backoff after a failure, but a new
				// event is worth an early retry once the wait is over.
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
	}
}

// SyncOnce pushes every pending event, then pulls every change.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	if err := s.Push(ctx); err != nil {
		return err
	}
	return s.Pull(ctx)
}

// Push sends the outbox in batches until it is empty.
func (s *Syncer) Push(ctx context.Context) error {
	for {
		events, err := s.store.Pending(s.BatchSize)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if len(events) == 0 {
			return nil
		}
		req := &pb.PushEventsRequest{Events: make([]*pb.Event, len(events))}
		for i, e := range events {
			req.Events[i] = eventToProto(e)
		}
		cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
		resp, err := s.client.PushEvents(cctx, req)
		cancel()
		if err != nil {
			return fmt.Errorf("push %d events from seq %d: %w", len(events), events[0].Seq, err)
		}
		for _, o := range resp.GetOutcomes() {
			if o.GetOutcome() == pb.Outcome_OUTCOME_REJECTED {
				s.log.Warn("cloud kept an event as rejected; HQ sees it", "seq", o.GetSeq(), "event", o.GetEventId(), "reason", o.GetReason())
			}
		}
		acked := resp.GetAckedSeq()
		if acked < events[0].Seq {
			return fmt.Errorf("cloud acknowledged seq %d, below the first pending %d: it is missing earlier events", acked, events[0].Seq)
		}
		if err := s.store.Ack(acked); err != nil {
			return fmt.Errorf("store acknowledgement: %w", err)
		}
		s.log.Debug("events pushed", "from", events[0].Seq, "acked", acked)
	}
}

// Pull brings the replica up to date.
func (s *Syncer) Pull(ctx context.Context) error {
	st, err := s.store.State()
	if err != nil {
		return fmt.Errorf("read replica cursor: %w", err)
	}
	cursor := st.Cursor
	for {
		cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
		resp, err := s.client.PullChanges(cctx, &pb.PullChangesRequest{Cursor: cursor, Limit: 1000})
		cancel()
		if err != nil {
			return fmt.Errorf("pull changes after %d: %w", cursor, err)
		}
		changes := make([]agent.Change, 0, len(resp.GetChanges()))
		for _, c := range resp.GetChanges() {
			changes = append(changes, changeFromProto(c))
		}
		next := resp.GetNextCursor()
		if next < cursor {
			return fmt.Errorf("cloud answered cursor %d, behind ours %d", next, cursor)
		}
		if err := s.store.ApplyChanges(changes, next, !resp.GetMore(), time.Now().UTC()); err != nil {
			return fmt.Errorf("apply %d changes: %w", len(changes), err)
		}
		cursor = next
		if !resp.GetMore() {
			return nil
		}
	}
}

// Permanent reports whether a sync error will not go away by retrying
// (revoked or unknown device): the operator must act.
func Permanent(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return false
	}
	switch se.GRPCStatus().Code() {
	case codes.Unauthenticated, codes.PermissionDenied:
		return true
	}
	return false
}

func eventToProto(e agent.Event) *pb.Event {
	out := &pb.Event{
		Id: e.ID, Seq: e.Seq, OccurredAt: timestamppb.New(e.OccurredAt),
		StoreId: e.StoreID, MemberId: e.MemberID, StaffId: e.StaffID,
	}
	if e.Visit != nil {
		out.Body = &pb.Event_Visit{Visit: &pb.Visit{IdentifiedBy: identificationToProto(e.Visit.IdentifiedBy), IdentifierHint: e.Visit.IdentifierHint}}
	}
	return out
}

func identificationToProto(i agent.Identification) pb.Identification {
	switch i {
	case agent.ByMemberCode:
		return pb.Identification_IDENTIFICATION_MEMBER_CODE
	case agent.ByCard:
		return pb.Identification_IDENTIFICATION_CARD
	case agent.ByPhone:
		return pb.Identification_IDENTIFICATION_PHONE
	}
	return pb.Identification_IDENTIFICATION_UNSPECIFIED
}

func changeFromProto(c *pb.Change) agent.Change {
	out := agent.Change{Seq: c.GetSeq()}
	switch b := c.GetBody().(type) {
	case *pb.Change_Member:
		m := b.Member
		out.Member = &agent.Member{ID: m.GetId(), PhoneMasked: m.GetPhoneMasked(), Name: m.GetName(), Visits: m.GetVisits(), Deleted: m.GetDeleted()}
	case *pb.Change_Card:
		out.Card = &agent.CardBinding{Number: b.Card.GetCardNumber(), MemberID: b.Card.GetMemberId(), Revoked: b.Card.GetRevoked()}
	}
	return out
}
