package grpcapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/proto/membercode"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

const token = "test-hq-token"

type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}
func (tokenCreds) RequireTransportSecurity() bool { return false }

// cloudFixture is a cloud served on loopback, with an HQ client.
type cloudFixture struct {
	t     *testing.T
	addr  string
	admin pb.AdminServiceClient
	store cloud.Storage
	svc   *loyalty.Service
}

func newCloud(t *testing.T) *cloudFixture {
	t.Helper()
	store := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	svc := loyalty.New(store, log)
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: svc, Log: log, AdminToken: token})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	f := &cloudFixture{t: t, addr: lis.Addr().String(), store: store, svc: svc}
	f.admin = pb.NewAdminServiceClient(f.dial(grpc.WithPerRPCCredentials(tokenCreds(token))))
	return f
}

func (f *cloudFixture) dial(opts ...grpc.DialOption) *grpc.ClientConn {
	f.t.Helper()
	conn, err := grpc.NewClient(f.addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { conn.Close() })
	return conn
}

// device is a paired device's sync client.
type device struct {
	brand, store, id, secret string
	sync                     pb.SyncServiceClient
}

// brand makes a brand with stores and members (names carry the brand).
func (f *cloudFixture) brand(id string, stores []string, members int) []*pb.Member {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: id, Name: id}); err != nil {
		f.t.Fatal(err)
	}
	var out []*pb.Member
	for i := range members {
		m, err := f.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: id, Phone: fmt.Sprintf("1390000%04d", i), Name: id + "-member",
			CardNumbers: []string{fmt.Sprintf("%s%04d", map[bool]string{true: "1111", false: "2222"}[strings.HasSuffix(id, "a")], i)}})
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (f *cloudFixture) pair(brand, store string) device {
	f.t.Helper()
	ctx := context.Background()
	st, err := f.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: brand, Id: store})
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.HasPrefix(st.GetPairingUri(), "memberpass://pair?") || len(st.GetPairingQrPng()) == 0 {
		f.t.Fatalf("store %s: pairing uri %q, qr %d bytes", store, st.GetPairingUri(), len(st.GetPairingQrPng()))
	}
	p, err := pb.NewSyncServiceClient(f.dial()).Pair(ctx, &pb.PairRequest{PairingCode: st.GetPairingCode(), DeviceName: "counter"})
	if err != nil {
		f.t.Fatal(err)
	}
	if p.GetTimeZone() != "Asia/Shanghai" {
		f.t.Fatalf("pairing gave time zone %q, want the brand's (Asia/Shanghai)", p.GetTimeZone())
	}
	return f.device(brand, store, p.GetDeviceId(), p.GetDeviceSecret())
}

func (f *cloudFixture) device(brand, store, id, secret string) device {
	conn := f.dial(grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: brand, DeviceID: id, Secret: secret, Insecure: true}))
	return device{brand: brand, store: store, id: id, secret: secret, sync: pb.NewSyncServiceClient(conn)}
}

func visit(seq uint64, store, member, codeRef string) *pb.Event {
	by := pb.Identification_IDENTIFICATION_CARD
	if codeRef != "" {
		by = pb.Identification_IDENTIFICATION_MEMBER_CODE
	}
	return &pb.Event{
		Id: fmt.Sprintf("ev-%s-%d-%d", store, seq, time.Now().UnixNano()), Seq: seq, OccurredAt: timestamppb.Now(),
		StoreId: store, MemberId: member,
		Body: &pb.Event_Visit{Visit: &pb.Visit{IdentifiedBy: by, CodeRef: codeRef}},
	}
}

func TestTenancy(t *testing.T) {
	f := newCloud(t)
	ctx := context.Background()
	f.brand("brand-a", nil, 1)
	bMembers := f.brand("brand-b", nil, 3)
	a := f.pair("brand-a", "shop-a")
	b := f.pair("brand-b", "shop-b")

	t.Run("pull sees only its own brand", func(t *testing.T) {
		resp, err := a.sync.PullChanges(ctx, &pb.PullChangesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetChanges()) == 0 {
			t.Fatal("no changes for brand A")
		}
		for _, c := range resp.GetChanges() {
			if m := c.GetMember(); m != nil && m.GetName() != "brand-a-member" {
				t.Errorf("brand A's device pulled %q", m.GetName())
			}
			if c := c.GetCard(); c != nil && !strings.HasPrefix(c.GetCardNumber(), "1111") {
				t.Errorf("brand A's device pulled card %s", c.GetCardNumber())
			}
		}
	})

	t.Run("credentials reach only their own brand and device", func(t *testing.T) {
		for name, d := range map[string]device{
			"own secret, other brand":           f.device("brand-b", "shop-a", a.id, a.secret),
			"own secret, other brand's device":  f.device("brand-b", "shop-b", b.id, a.secret),
			"other device's id with own secret": f.device("brand-a", "shop-a", b.id, a.secret),
		} {
			_, err := d.sync.PullChanges(ctx, &pb.PullChangesRequest{})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s: pull error %v, want Unauthenticated", name, err)
			}
		}
	})

	t.Run("events into another brand are refused", func(t *testing.T) {
		other := f.bKey(t, "brand-b", bMembers[0].GetId())
		resp, err := a.sync.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.Event{
			visit(1, "shop-b", "1", ""),                    // another brand's store
			visit(2, "shop-a", bMembers[2].GetId(), ""),    // a member only brand B has
			visit(3, "shop-a", bMembers[0].GetId(), other), // brand B's member code
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetOutcomes()) != 3 {
			t.Fatalf("outcomes %v", resp.GetOutcomes())
		}
		for i, o := range resp.GetOutcomes() {
			if o.GetOutcome() != pb.Outcome_OUTCOME_REJECTED {
				t.Errorf("event %d: outcome %s (%s), want rejected", i+1, o.GetOutcome(), o.GetReason())
			}
		}
		st, err := f.admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: "brand-b"})
		if err != nil {
			t.Fatal(err)
		}
		if st.GetEvents() != 0 || st.GetVisits() != 0 {
			t.Errorf("brand B holds %d events, %d visits after brand A's pushes; want none", st.GetEvents(), st.GetVisits())
		}
	})

	t.Run("HQ calls need the HQ token", func(t *testing.T) {
		for name, conn := range map[string]*grpc.ClientConn{
			"no token":     f.dial(),
			"wrong token":  f.dial(grpc.WithPerRPCCredentials(tokenCreds("guess"))),
			"device creds": f.dial(grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: "brand-a", DeviceID: a.id, Secret: a.secret, Insecure: true})),
		} {
			_, err := pb.NewAdminServiceClient(conn).GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: "brand-b"})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s: %v, want Unauthenticated", name, err)
			}
		}
	})

	t.Run("a revoked device is refused", func(t *testing.T) {
		d, err := f.admin.RevokeDevice(ctx, &pb.RevokeDeviceRequest{BrandId: "brand-a", DeviceId: a.id})
		if err != nil || !d.GetRevoked() {
			t.Fatalf("revoke: %v %v", d, err)
		}
		_, err = a.sync.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.Event{visit(4, "shop-a", "1", "")}})
		if status.Code(err) != codes.PermissionDenied || !cloudsync.Permanent(err) {
			t.Fatalf("push after revocation: %v, want PermissionDenied", err)
		}
		if _, err := b.sync.PullChanges(ctx, &pb.PullChangesRequest{}); err != nil {
			t.Fatalf("another brand's device is affected: %v", err)
		}
		if _, err := f.admin.RevokeDevice(ctx, &pb.RevokeDeviceRequest{BrandId: "brand-b", DeviceId: a.id}); status.Code(err) != codes.NotFound {
			t.Fatalf("revoking brand A's device through brand B: %v, want NotFound", err)
		}
	})
}

// bKey issues a member code of a brand and returns its reference.
func (f *cloudFixture) bKey(t *testing.T, brand, member string) string {
	t.Helper()
	code, err := f.admin.IssueMemberCode(context.Background(), &pb.IssueMemberCodeRequest{BrandId: brand, MemberId: member})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _, err := membercode.Parse(code.GetCode())
	if err != nil {
		t.Fatal(err)
	}
	return c.Ref()
}

func TestMemberCodeReplayedAcrossStores(t *testing.T) {
	f := newCloud(t)
	ctx := context.Background()
	members := f.brand("brand-a", nil, 1)
	one, two := f.pair("brand-a", "shop-1"), f.pair("brand-a", "shop-2")
	member := members[0].GetId()
	ref := f.bKey(t, "brand-a", member)

	first := visit(1, "shop-1", member, ref)
	r1, err := one.sync.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.Event{first}})
	if err != nil || r1.GetOutcomes()[0].GetOutcome() != pb.Outcome_OUTCOME_APPLIED {
		t.Fatalf("first use: %v %v", r1, err)
	}
	second := visit(1, "shop-2", member, ref)
	r2, err := two.sync.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.Event{second}})
	if err != nil {
		t.Fatal(err)
	}
	o := r2.GetOutcomes()[0]
	if o.GetOutcome() != pb.Outcome_OUTCOME_REJECTED || !strings.Contains(o.GetReason(), "already used at store shop-1") {
		t.Fatalf("second use at another store: %s %q, want rejected as already used", o.GetOutcome(), o.GetReason())
	}
	if r2.GetAckedSeq() != 1 {
		t.Fatalf("the rejected event must still be acknowledged: acked %d", r2.GetAckedSeq())
	}
	// Resending the first event is a duplicate, not a conflict.
	r3, err := one.sync.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.Event{first}})
	if err != nil || r3.GetOutcomes()[0].GetOutcome() != pb.Outcome_OUTCOME_DUPLICATE {
		t.Fatalf("resend: %v %v", r3, err)
	}

	cs, err := f.admin.ListConflicts(ctx, &pb.ListConflictsRequest{BrandId: "brand-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.GetConflicts()) != 1 {
		t.Fatalf("conflicts: %v, want 1", cs.GetConflicts())
	}
	c := cs.GetConflicts()[0]
	if c.GetKind() != "code_replayed" || c.GetEventId() != second.GetId() || c.GetStoreId() != "shop-2" ||
		!strings.Contains(c.GetDetail(), first.GetId()) || !strings.Contains(c.GetDetail(), "store shop-1") || c.GetResolution() == "" {
		t.Fatalf("conflict %v", c)
	}
	m, err := f.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: "brand-a", MemberId: member})
	if err != nil {
		t.Fatal(err)
	}
	if m.GetVisits() != 1 {
		t.Fatalf("member has %d visits, want 1: the replay must not count", m.GetVisits())
	}
	ev, err := f.admin.ListEvents(ctx, &pb.ListEventsRequest{BrandId: "brand-a"})
	if err != nil {
		t.Fatal(err)
	}
	var rejected int
	for _, e := range ev.GetEvents() {
		if e.GetOutcome() == pb.Outcome_OUTCOME_REJECTED && e.GetEvent().GetVisit().GetCodeRef() == ref {
			rejected++
		}
	}
	if len(ev.GetEvents()) != 2 || rejected != 1 {
		t.Fatalf("events %d (rejected replays %d), want both kept and one rejected", len(ev.GetEvents()), rejected)
	}
}
