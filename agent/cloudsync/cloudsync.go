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
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
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
	StartRebuild() (uint64, error)
	ApplyRebuild(changes []agent.Change, cursor uint64, done bool, now time.Time) error
	// Renumber moves unacknowledged events after cloudSeq, when the
	// cloud holds more of this device's seqs than the store (restored
	// from an old backup); see localstore.DB.Renumber.
	Renumber(cloudSeq uint64) (int, error)
}

// MaxResponseBytes caps what the agent accepts in one answer from the
// cloud. A full pull page (1,000 changes) is well under 1 MiB; anything
// much larger is a broken or hostile cloud, refused before it is decoded.
const MaxResponseBytes = 4 << 20

// DefaultMaxBackoff is the longest wait between attempts to reach the
// cloud unless the agent is told otherwise (Syncer.MaxBackoff, and the
// connection's own reconnect backoff through ReconnectBackoff).
const DefaultMaxBackoff = 30 * time.Second

// DialOptions are the options every connection to the cloud uses. The
// connection's reconnect backoff is capped at DefaultMaxBackoff; append
// ReconnectBackoff to cap it at the syncer's own MaxBackoff.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxResponseBytes)),
		// The cloud permits pings every 10 s; 30 s keeps well clear of a
		// too_many_pings GOAWAY.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		ReconnectBackoff(DefaultMaxBackoff),
	}
}

// ReconnectBackoff caps how long the connection waits before dialling the
// cloud again after failed attempts. gRPC keeps its own backoff under the
// syncer's: while the channel is in TRANSIENT_FAILURE every call fails at
// once without dialling, and by default the wait grows 1.6-fold per failed
// dial up to 120 s, and is reset only by a connection that succeeds. Each
// dial refused during a partition, reset or stalled before its TLS
// handshake (a flaky shop line) grows it, so after a long outage the agent
// could stay offline for up to two minutes after the cloud was back, its
// own MaxBackoff notwithstanding. Capping it at the syncer's MaxBackoff
// makes that flag the longest the agent waits, as it says.
func ReconnectBackoff(maxDelay time.Duration) grpc.DialOption {
	cfg := backoff.DefaultConfig
	cfg.MaxDelay = max(maxDelay, time.Millisecond)
	cfg.BaseDelay = min(cfg.BaseDelay, cfg.MaxDelay)
	// MinConnectTimeout stays gRPC's default (20 s): a TLS handshake with a
	// loaded cloud over a slow line may take seconds, and a dial cut short
	// would never connect.
	return grpc.WithConnectParams(grpc.ConnectParams{Backoff: cfg, MinConnectTimeout: 20 * time.Second})
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
		BrandID: resp.GetBrandId(), BrandName: resp.GetBrandName(), TimeZone: resp.GetTimeZone(), StoreID: resp.GetStoreId(), StoreName: resp.GetStoreName(),
		DeviceID: resp.GetDeviceId(), Secret: resp.GetDeviceSecret(), MemberCodeKeys: resp.GetMemberCodeKeys(),
		PairedAt: time.Now().UTC(), CloudCAPEM: resp.GetCloudCaPem(),
	}, nil
}

// Status is how the agent stands with the cloud.
type Status struct {
	Online    bool      `json:"online"`
	LastSync  time.Time `json:"last_sync,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"consecutive_failures"`
	// Refused is set while the cloud refuses this device's credentials
	// (revoked or unknown): retrying will not help, HQ must act.
	Refused bool `json:"refused,omitempty"`
	// ReplicaStale is set while the replica is older than StaleAfter.
	ReplicaStale bool `json:"replica_stale,omitempty"`
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
	// StaleAfter is the replica age past which the agent warns that it
	// decides on old data (0: never).
	StaleAfter time.Duration
	// Health, when set, is reported to the cloud every HealthEvery with
	// the outbox and replica state, for HQ's fleet view.
	Health      func() Health
	HealthEvery time.Duration

	reported time.Time // last health report; Run's goroutine only
	wake     chan struct{}
	rebuild  chan struct{}
	mu       sync.Mutex
	status   Status
	// batch is the push size now: BatchSize, halved after each push the
	// cloud did not answer within CallTimeout and doubled back after each
	// answered one, so a slow cloud still takes a week's outbox in pieces
	// instead of timing out on the same 1,000 events for ever.
	batch atomic.Int64
}

// New makes a syncer.
func New(store Store, conn grpc.ClientConnInterface, log *slog.Logger) *Syncer {
	return &Syncer{
		store: store, client: pb.NewSyncServiceClient(conn), log: log,
		BatchSize: 1000, Interval: 5 * time.Second, MinBackoff: 200 * time.Millisecond, MaxBackoff: DefaultMaxBackoff,
		CallTimeout: 10 * time.Second, StaleAfter: 15 * time.Minute, HealthEvery: time.Minute,
		wake: make(chan struct{}, 1), rebuild: make(chan struct{}, 1),
	}
}

// RequestRebuild asks for the replica to be rebuilt from scratch at the
// next sync; the current replica serves until the new one is complete.
func (s *Syncer) RequestRebuild() {
	select {
	case s.rebuild <- struct{}{}:
	default:
	}
	s.Wake()
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
		select {
		case <-s.rebuild:
			if err := s.markRebuild(); err != nil {
				s.log.Error("replica rebuild not started", "err", err)
			}
		default:
		}
		err := s.SyncOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := s.Interval
		refused := Permanent(err)
		s.mu.Lock()
		wasRefused := s.status.Refused
		if err != nil {
			s.status.Online = false
			s.status.LastError = err.Error()
			s.status.Failures++
			s.status.Refused = refused
			if refused {
				backoff = s.MaxBackoff
			}
			wait = backoff/2 + rand.N(backoff/2+1) // jitter: stores must not retry in step
			backoff = min(2*backoff, s.MaxBackoff)
		} else {
			s.status = Status{Online: true, LastSync: time.Now().UTC(), ReplicaStale: s.status.ReplicaStale}
			backoff = s.MinBackoff
		}
		failures := s.status.Failures
		s.mu.Unlock()
		if !refused {
			s.maybeReportHealth(ctx, err)
		}
		age := s.checkStale()
		switch {
		case refused && !wasRefused:
			s.log.Error("the cloud refuses this device's credentials (revoked by HQ, or paired to another cloud); the counter keeps recording offline and the outbox is kept; ask HQ for a new pairing code",
				"err", err, "replica_age", age.Round(time.Second))
		case err != nil && !refused:
			s.log.Warn("sync failed; the counter keeps working offline", "err", err, "retry_in", wait, "failures", failures, "replica_age", age.Round(time.Second))
		case err == nil && wasRefused:
			s.log.Info("the cloud accepts this device again")
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

// SyncOnce pushes every pending event, then pulls every change (or goes
// on with a replica rebuild).
func (s *Syncer) SyncOnce(ctx context.Context) error {
	if err := s.Push(ctx); err != nil {
		return err
	}
	st, err := s.store.State()
	if err != nil {
		return fmt.Errorf("read replica state: %w", err)
	}
	if st.Rebuilding {
		return s.Rebuild(ctx)
	}
	return s.Pull(ctx)
}

// markRebuild starts a rebuild in the store; SyncOnce carries it on, across
// failures and restarts, until it completes.
func (s *Syncer) markRebuild() error {
	if _, err := s.store.StartRebuild(); err != nil {
		return err
	}
	s.log.Warn("replica rebuild from scratch started; the current replica serves the counter until it completes")
	return nil
}

// Rebuild pulls the brand's whole change log into a fresh replica and
// swaps it in when complete.
func (s *Syncer) Rebuild(ctx context.Context) error {
	cursor, err := s.store.StartRebuild()
	if err != nil {
		return err
	}
	pages := 0
	for {
		resp, err := s.pullPage(ctx, cursor)
		if err != nil {
			return fmt.Errorf("rebuild replica: %w", err)
		}
		if err := s.store.ApplyRebuild(resp.changes, resp.next, !resp.more, time.Now().UTC()); err != nil {
			return fmt.Errorf("rebuild replica: apply %d changes: %w", len(resp.changes), err)
		}
		cursor = resp.next
		pages++
		if !resp.more {
			s.log.Info("replica rebuilt from scratch", "cursor", cursor, "pages", pages)
			return nil
		}
	}
}

// checkStale logs when the replica becomes older than StaleAfter and when
// it is fresh again; it returns the replica's age (-1 before any sync).
func (s *Syncer) checkStale() time.Duration {
	st, err := s.store.State()
	if err != nil || st.ReplicaSyncedAt.IsZero() {
		return -1
	}
	age := time.Since(st.ReplicaSyncedAt)
	stale := s.StaleAfter > 0 && age > s.StaleAfter
	s.mu.Lock()
	was := s.status.ReplicaStale
	s.status.ReplicaStale = stale
	s.mu.Unlock()
	switch {
	case stale && !was:
		s.log.Warn("replica is stale: members, cards and balances shown may be out of date", "replica_age", age.Round(time.Second), "stale_after", s.StaleAfter)
	case !stale && was:
		s.log.Info("replica is fresh again", "replica_age", age.Round(time.Second))
	}
	return age
}

// Push sends the outbox in batches until it is empty.
func (s *Syncer) Push(ctx context.Context) error {
	for {
		events, err := s.store.Pending(s.pushBatch())
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
			if status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
				s.batch.Store(int64(max(len(events)/2, 1)))
			}
			return fmt.Errorf("push %d events from seq %d: %w", len(events), events[0].Seq, err)
		}
		if n := s.batch.Load(); n > 0 {
			s.batch.Store(min(2*n, int64(s.BatchSize)))
		}
		for _, o := range resp.GetOutcomes() {
			if o.GetOutcome() == pb.Outcome_OUTCOME_REJECTED {
				s.log.Warn("cloud kept an event as rejected; HQ sees it", "seq", o.GetSeq(), "event", o.GetEventId(), "reason", o.GetReason())
			}
		}
		acked := resp.GetAckedSeq()
		if resp.GetSeqBehind() {
			if err := s.seqBehind(events, acked, resp.GetDeviceSeq()); err != nil {
				return err
			}
			continue
		}
		if acked < events[0].Seq {
			return fmt.Errorf("cloud acknowledged seq %d, below the first pending %d: it is missing earlier events", acked, events[0].Seq)
		}
		if last := events[len(events)-1].Seq; acked > last {
			// Beyond what was sent: a confused cloud (or a restored backup
			// of another device). Never move the outbox on its word.
			return fmt.Errorf("cloud acknowledged seq %d, beyond the last event sent (%d): refusing the answer, the outbox is kept", acked, last)
		}
		if err := s.store.Ack(acked); err != nil {
			return fmt.Errorf("store acknowledgement: %w", err)
		}
		s.log.Debug("events pushed", "from", events[0].Seq, "acked", acked)
		if ds := resp.GetDeviceSeq(); ds > acked && acked == events[len(events)-1].Seq {
			// Everything sent is held, and the cloud holds later seqs of
			// this device: new events must follow them.
			if err := s.follow(ds, false); err != nil {
				return err
			}
		}
	}
}

// pushBatch is how many events the next push carries.
func (s *Syncer) pushBatch() int {
	if n := int(s.batch.Load()); n > 0 && n < s.BatchSize {
		return n
	}
	return s.BatchSize
}

// seqBehind handles a push the cloud stopped because an event new to it
// came with a seq it holds: this agent's sequence went backwards.
func (s *Syncer) seqBehind(events []agent.Event, acked, deviceSeq uint64) error {
	if acked+1 < events[0].Seq || acked > events[len(events)-1].Seq || deviceSeq <= acked {
		return fmt.Errorf("cloud says this device's seq went backwards but acknowledged %d (sent %d to %d, cloud holds %d): refusing the answer, the outbox is kept",
			acked, events[0].Seq, events[len(events)-1].Seq, deviceSeq)
	}
	if acked >= events[0].Seq {
		if err := s.store.Ack(acked); err != nil {
			return fmt.Errorf("store acknowledgement: %w", err)
		}
	}
	return s.follow(deviceSeq, true)
}

// follow renumbers the outbox after the cloud's seq for this device. The
// usual cause is a data directory restored from an old backup: what the
// cloud holds beyond the backup is kept there, what was recorded here since
// is renumbered and sent, so nothing is lost or doubled.
func (s *Syncer) follow(deviceSeq uint64, collided bool) error {
	st, err := s.store.State()
	if err != nil {
		return fmt.Errorf("read outbox state: %w", err)
	}
	if !collided && deviceSeq <= st.LastSeq {
		return nil
	}
	moved, err := s.store.Renumber(deviceSeq)
	if err != nil {
		return err
	}
	s.log.Warn("this device's event numbers went backwards (data directory restored from an old backup?): the cloud holds its events up to seq "+
		fmt.Sprint(deviceSeq)+"; events recorded here since are renumbered after it and sent, none lost or doubled",
		"cloud_seq", deviceSeq, "local_last_seq", st.LastSeq, "renumbered", moved)
	return nil
}

// Pull brings the replica up to date.
func (s *Syncer) Pull(ctx context.Context) error {
	st, err := s.store.State()
	if err != nil {
		return fmt.Errorf("read replica cursor: %w", err)
	}
	cursor := st.Cursor
	for {
		page, err := s.pullPage(ctx, cursor)
		if err != nil {
			return err
		}
		if err := s.store.ApplyChanges(page.changes, page.next, !page.more, time.Now().UTC()); err != nil {
			return fmt.Errorf("apply %d changes: %w", len(page.changes), err)
		}
		cursor = page.next
		if !page.more {
			return nil
		}
	}
}

type pulled struct {
	changes []agent.Change
	next    uint64
	more    bool
}

// pullPage fetches and checks one page of changes after cursor. A page
// that does not make sense is refused whole: the replica is not touched.
func (s *Syncer) pullPage(ctx context.Context, cursor uint64) (pulled, error) {
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	resp, err := s.client.PullChanges(cctx, &pb.PullChangesRequest{Cursor: cursor, Limit: 1000})
	cancel()
	if err != nil {
		return pulled{}, fmt.Errorf("pull changes after %d: %w", cursor, err)
	}
	p := pulled{changes: make([]agent.Change, 0, len(resp.GetChanges())), next: resp.GetNextCursor(), more: resp.GetMore()}
	if p.next < cursor {
		return pulled{}, fmt.Errorf("cloud answered cursor %d, behind ours %d: refusing the page", p.next, cursor)
	}
	if p.more && len(resp.GetChanges()) == 0 {
		return pulled{}, fmt.Errorf("cloud says more changes wait after %d but sent none: refusing the page", cursor)
	}
	prev := cursor
	for _, c := range resp.GetChanges() {
		ch, err := changeFromProto(c)
		if err != nil {
			return pulled{}, fmt.Errorf("change %d from the cloud: %w: refusing the page", c.GetSeq(), err)
		}
		if ch.Seq <= prev || ch.Seq > p.next {
			return pulled{}, fmt.Errorf("change seq %d out of order (after %d, page ends at %d): refusing the page", ch.Seq, prev, p.next)
		}
		prev = ch.Seq
		p.changes = append(p.changes, ch)
	}
	return p, nil
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
		StoreId: e.StoreID, MemberId: e.MemberID, StaffId: e.StaffID, ApprovedBy: e.ApprovedBy,
	}
	switch {
	case e.Purchase != nil:
		p := e.Purchase
		out.Body = &pb.Event_Purchase{Purchase: &pb.Purchase{
			BillFen: p.BillFen, TierDiscountFen: p.TierDiscountFen, CouponCodes: p.CouponCodes, CouponDiscountFen: p.CouponDiscountFen,
			PointsBurned: p.PointsBurned, PointsDiscountFen: p.PointsDiscountFen, StoredValueFen: p.StoredValueFen, PaidOtherFen: p.PaidOtherFen, TierId: p.TierID,
		}}
	case e.TopUp != nil:
		out.Body = &pb.Event_TopUp{TopUp: &pb.TopUp{AmountFen: e.TopUp.AmountFen}}
	case e.Visit != nil:
		out.Body = &pb.Event_Visit{Visit: &pb.Visit{IdentifiedBy: identificationToProto(e.Visit.IdentifiedBy), IdentifierHint: e.Visit.IdentifierHint, CodeRef: e.Visit.CodeRef}}
	}
	offerEventToProto(e, out)
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

// Bounds on what a replica entry may hold; anything beyond is a broken
// cloud, not a member.
const (
	maxIDLen   = 64
	maxTextLen = 256
)

func changeFromProto(c *pb.Change) (agent.Change, error) {
	out := agent.Change{Seq: c.GetSeq()}
	switch b := c.GetBody().(type) {
	case *pb.Change_Member:
		m := b.Member
		if m.GetId() == "" || len(m.GetId()) > maxIDLen {
			return out, fmt.Errorf("member id %.20q is empty or longer than %d", m.GetId(), maxIDLen)
		}
		if len(m.GetName()) > maxTextLen || len(m.GetPhoneMasked()) > maxTextLen {
			return out, fmt.Errorf("member %s: name or phone longer than %d bytes", m.GetId(), maxTextLen)
		}
		out.Member = &agent.Member{ID: m.GetId(), PhoneMasked: m.GetPhoneMasked(), Name: m.GetName(), Visits: m.GetVisits(), Deleted: m.GetDeleted(),
			TierID: m.GetTierId(), Points: m.GetPoints(), StoredValueFen: m.GetStoredValueFen(), Birthday: m.GetBirthday(),
			MergedInto: m.GetMergedInto(), Tags: m.GetTags()}
	case *pb.Change_Card:
		if n := b.Card.GetCardNumber(); n == "" || len(n) > maxIDLen || b.Card.GetMemberId() == "" || len(b.Card.GetMemberId()) > maxIDLen {
			return out, fmt.Errorf("card binding %.20q -> %.20q is malformed", n, b.Card.GetMemberId())
		}
		out.Card = &agent.CardBinding{Number: b.Card.GetCardNumber(), MemberID: b.Card.GetMemberId(), Revoked: b.Card.GetRevoked()}
	default:
		if err := offerChangeFromProto(c, &out); err != nil {
			return out, err
		}
	}
	// An unknown body is a change kind newer than this agent: skipped, the
	// cursor still moves past it.
	return out, nil
}
