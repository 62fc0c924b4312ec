package synctest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/memberpass/memberpass/agent/cloudsync"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/proto/compat"
	"github.com/memberpass/memberpass/scripts/localcloud"
)

// oldWire builds and reads messages with the last release's descriptors
// (proto/compat/v1.binpb), as an agent of that release does.
type oldWire struct {
	t     *testing.T
	files interface {
		FindDescriptorByName(protoreflect.FullName) (protoreflect.Descriptor, error)
	}
}

func (w oldWire) msg(name string) *dynamicpb.Message {
	w.t.Helper()
	d, err := w.files.FindDescriptorByName(protoreflect.FullName("memberpass.v1." + name))
	if err != nil {
		w.t.Fatalf("the released proto has no %s: %v", name, err)
	}
	return dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
}

func field(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByName(protoreflect.Name(name))
}

func set(m protoreflect.Message, name string, v protoreflect.Value) { m.Set(field(m, name), v) }

func get(m protoreflect.Message, name string) protoreflect.Value { return m.Get(field(m, name)) }

// TestOldAgentSyncsWithNewCloud speaks to today's cloud with the last
// release's contract: pairing, pushing visits (and pushing them again, as
// an agent does after a lost answer) and pulling the replica work, and the
// answers decode. Building the previous release's agent from git instead
// would compile a second copy of the module (minutes on a 2-CPU CI box,
// with the same wire bytes); the released descriptors are the contract
// that agent was built from.
func TestOldAgentSyncsWithNewCloud(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	set0, err := compat.Load(compat.Released)
	if err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(set0)
	if err != nil {
		t.Fatal(err)
	}
	old := oldWire{t: t, files: files}

	c, err := localcloud.Start(sqltest.OpenSQLite(t), "token", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if _, err := c.Service.CreateBrand(ctx, "b1", "Brand", "CNY"); err != nil {
		t.Fatal(err)
	}
	m, err := c.Service.CreateMember(ctx, "b1", loyalty.NewMember{Phone: "13700000001", Name: "Li Lei"})
	if err != nil {
		t.Fatal(err)
	}
	_, pairing, err := c.Service.CreateStore(ctx, "b1", "s1", "Store 1")
	if err != nil {
		t.Fatal(err)
	}

	plain, err := grpc.NewClient(c.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	pair, paired := old.msg("PairRequest"), old.msg("PairResponse")
	set(pair, "pairing_code", protoreflect.ValueOfString(pairing.Code))
	set(pair, "device_name", protoreflect.ValueOfString("old-till"))
	if err := plain.Invoke(ctx, "/memberpass.v1.SyncService/Pair", pair, paired); err != nil {
		t.Fatalf("old Pair: %v", err)
	}
	device, secret := get(paired, "device_id").String(), get(paired, "device_secret").String()
	if device == "" || secret == "" || get(paired, "store_id").String() != "s1" {
		t.Fatalf("old PairResponse: %v", paired)
	}
	conn, err := grpc.NewClient(c.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(cloudsync.Credentials{BrandID: "b1", DeviceID: device, Secret: secret, Insecure: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	push := old.msg("PushEventsRequest")
	events := push.Mutable(field(push, "events")).List()
	for seq := uint64(1); seq <= 3; seq++ {
		ev := events.NewElement().Message()
		set(ev, "id", protoreflect.ValueOfString(uuid.Must(uuid.NewV7()).String()))
		set(ev, "seq", protoreflect.ValueOfUint64(seq))
		ts := ev.Mutable(field(ev, "occurred_at")).Message()
		set(ts, "seconds", protoreflect.ValueOfInt64(time.Now().Unix()))
		set(ev, "store_id", protoreflect.ValueOfString("s1"))
		set(ev, "member_id", protoreflect.ValueOfString(m.ID))
		visit := ev.Mutable(field(ev, "visit")).Message()
		set(visit, "identified_by", protoreflect.ValueOfEnum(2)) // IDENTIFICATION_CARD
		set(visit, "identifier_hint", protoreflect.ValueOfString("…0001"))
		events.Append(protoreflect.ValueOfMessage(ev))
	}
	for attempt, want := range []int32{1, 2} { // applied, then duplicate
		resp := old.msg("PushEventsResponse")
		if err := conn.Invoke(ctx, "/memberpass.v1.SyncService/PushEvents", push, resp); err != nil {
			t.Fatalf("old PushEvents (attempt %d): %v", attempt+1, err)
		}
		if acked := get(resp, "acked_seq").Uint(); acked != 3 {
			t.Errorf("attempt %d: acked %d, want 3", attempt+1, acked)
		}
		outcomes := get(resp, "outcomes").List()
		for i := 0; i < outcomes.Len(); i++ {
			if o := get(outcomes.Get(i).Message(), "outcome").Enum(); int32(o) != want {
				t.Errorf("attempt %d: outcome %d, want %d", attempt+1, o, want)
			}
		}
	}

	pull, pulled := old.msg("PullChangesRequest"), old.msg("PullChangesResponse")
	set(pull, "limit", protoreflect.ValueOfUint32(100))
	if err := conn.Invoke(ctx, "/memberpass.v1.SyncService/PullChanges", pull, pulled); err != nil {
		t.Fatalf("old PullChanges: %v", err)
	}
	if n := get(pulled, "changes").List().Len(); n == 0 || get(pulled, "next_cursor").Uint() == 0 {
		t.Errorf("old PullChanges: %d changes, next cursor %d", n, get(pulled, "next_cursor").Uint())
	}

	st, err := c.Service.Stats(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Visits != 3 || st.Events != 3 || st.Rejected != 0 {
		t.Errorf("cloud holds %d events (%d visits, %d rejected), want 3 visits", st.Events, st.Visits, st.Rejected)
	}
	// The old agent sends no health reports; HQ still sees it by its syncs.
	fleet, err := c.Fleet.Fleet(ctx, "b1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(fleet) != 1 || fleet[0].Stale || fleet[0].Record != nil {
		t.Errorf("old agent in the fleet view: %+v", fleet)
	}
}
