package grpcapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// wantInvalid checks an error is InvalidArgument naming the field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), field) {
		t.Fatalf("got %v; want InvalidArgument naming %s", err, field)
	}
}

func TestOversizedInputRefusedAtTheEdge(t *testing.T) {
	f := newCloud(t)
	ctx := context.Background()
	f.brand("bounds", nil, 0)
	huge := strings.Repeat("名", 5<<20/3) // 5 MiB

	_, err := f.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: "bounds", Phone: "13900001111", Name: huge})
	wantInvalid(t, err, "name")
	_, err = f.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: "bounds", Phone: "13900001111", Name: "x", Tags: make([]string, 33)})
	wantInvalid(t, err, "tags")
	_, err = f.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: "bounds", Phone: "13900001111", Name: "\x1b[2J\x1b[31mowned"})
	wantInvalid(t, err, "name")
	_, err = f.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: "bounds", Id: "s1", Name: huge})
	wantInvalid(t, err, "name")

	st, err := f.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: "bounds", Id: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pb.NewSyncServiceClient(f.dial()).Pair(ctx, &pb.PairRequest{PairingCode: st.GetPairingCode(), DeviceName: strings.Repeat("d", 7<<20)})
	wantInvalid(t, err, "device_name")

	// The code was not used up by the refused pairing.
	p, err := pb.NewSyncServiceClient(f.dial()).Pair(ctx, &pb.PairRequest{PairingCode: st.GetPairingCode(), DeviceName: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: "bounds"}); err != nil {
		t.Fatal(err)
	}
	dev := f.device("bounds", "s1", p.GetDeviceId(), p.GetDeviceSecret())

	// A 5 MiB name in an enrolment is that event's rejection, not the
	// push's: the events behind it apply.
	now := timestamppb.Now()
	resp, err := dev.sync.PushEvents(ctx, &pb.PushEventsRequest{Events: []*pb.Event{
		{Id: "enrol-huge", Seq: 1, OccurredAt: now, StoreId: "s1", Body: &pb.Event_Enrolment{Enrolment: &pb.Enrolment{Phone: "13900002222", Name: huge, LocalRef: "r1", Consent: true}}},
		{Id: "enrol-ok", Seq: 2, OccurredAt: now, StoreId: "s1", Body: &pb.Event_Enrolment{Enrolment: &pb.Enrolment{Phone: "13900003333", Name: "王芳", LocalRef: "r2", Consent: true}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetAckedSeq() != 2 || resp.GetOutcomes()[0].GetOutcome() != pb.Outcome_OUTCOME_REJECTED || !strings.Contains(resp.GetOutcomes()[0].GetReason(), "enrolment.name") ||
		resp.GetOutcomes()[1].GetOutcome() != pb.Outcome_OUTCOME_APPLIED {
		t.Fatalf("push answered %v", resp)
	}
	st2, err := f.admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: "bounds"})
	if err != nil || st2.GetMembers() != 1 || st2.GetRejectedEvents() != 1 {
		t.Fatalf("stats %v, %v; want 1 member and 1 rejected event", st2, err)
	}
	pull, err := dev.sync.PullChanges(ctx, &pb.PullChangesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if pull.GetMore() {
		t.Fatalf("pull of a small brand says more: %v", pull)
	}
}

// TestOversizedOldRecordCannotWedgePull stores records beyond today's
// bounds directly, as a cloud before the bounds could have: every pull
// still answers within a default client's 4 MiB, and the cursor reaches
// the end.
func TestOversizedOldRecordCannotWedgePull(t *testing.T) {
	f := newCloud(t)
	ctx := context.Background()
	f.brand("wedge", nil, 0)
	dev := f.pair("wedge", "s1")
	const n = 6
	err := f.store.Update(ctx, func(tx cloud.Tx) error {
		for i := range n {
			m := cloud.Member{BrandID: "wedge", ID: fmt.Sprint(100 + i), Phone: fmt.Sprintf("1390000%04d", i), Name: strings.Repeat("x", 3<<20),
				Tags: []string{strings.Repeat("t", 1<<20)}, CreatedAt: time.Now()}
			if err := tx.PutMember(m); err != nil {
				return err
			}
			if _, err := tx.AppendChange("wedge", cloud.ChangeMember, m.ID); err != nil {
				return err
			}
		}
		return tx.PutDevice(cloud.Device{BrandID: "wedge", StoreID: "s1", ID: "old", Name: strings.Repeat("d", 7<<20), SecretHash: []byte("x"), PairedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	var cursor uint64
	for pulls := 0; ; pulls++ {
		if pulls > 2*n+5 {
			t.Fatal("pulls never reach the end")
		}
		resp, err := dev.sync.PullChanges(ctx, &pb.PullChangesRequest{Cursor: cursor})
		if err != nil {
			t.Fatalf("pull at cursor %d: %v", cursor, err)
		}
		for _, c := range resp.GetChanges() {
			if m := c.GetMember(); m != nil {
				members++
				if len(m.GetName()) > 128 {
					t.Fatalf("member %s sent with a %d-byte name", m.GetId(), len(m.GetName()))
				}
			}
		}
		if resp.GetNextCursor() <= cursor && resp.GetMore() {
			t.Fatalf("cursor stuck at %d", cursor)
		}
		cursor = resp.GetNextCursor()
		if !resp.GetMore() {
			break
		}
	}
	if members != n {
		t.Fatalf("pulled %d members; want %d", members, n)
	}
	if _, err := f.admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: "wedge"}); err != nil {
		t.Fatalf("stats with an oversized device name: %v", err)
	}
}

// TestPairingGuessesAreLimited: after 10 wrong pairing codes from one
// address in a minute, even a right one waits.
func TestPairingGuessesAreLimited(t *testing.T) {
	f := newCloud(t)
	ctx := context.Background()
	f.brand("guess", nil, 0)
	st, err := f.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: "guess", Id: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	sync := pb.NewSyncServiceClient(f.dial())
	for i := range 10 {
		if _, err := sync.Pair(ctx, &pb.PairRequest{PairingCode: fmt.Sprintf("AAAA-BBBB-%04d", i)}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("guess %d: %v; want Unauthenticated", i, err)
		}
	}
	if _, err := sync.Pair(ctx, &pb.PairRequest{PairingCode: st.GetPairingCode()}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("after 10 wrong guesses: %v; want ResourceExhausted", err)
	}
}
