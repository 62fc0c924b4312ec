package grpcapi

import (
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// maxIDLen bounds the identifiers an event may carry.
const maxIDLen = 64

func eventFromProto(e *pb.Event) (cloud.Event, error) {
	if e.GetId() == "" || len(e.GetId()) > maxIDLen {
		return cloud.Event{}, fmt.Errorf("event id must be 1 to %d characters", maxIDLen)
	}
	if e.GetSeq() == 0 {
		return cloud.Event{}, fmt.Errorf("seq must start at 1")
	}
	if !e.GetOccurredAt().IsValid() {
		return cloud.Event{}, fmt.Errorf("occurred_at is missing or invalid")
	}
	for name, v := range map[string]string{"store_id": e.GetStoreId(), "member_id": e.GetMemberId(), "staff_id": e.GetStaffId()} {
		if len(v) > maxIDLen {
			return cloud.Event{}, fmt.Errorf("%s is longer than %d characters", name, maxIDLen)
		}
	}
	ev := cloud.Event{
		ID: e.GetId(), Seq: e.GetSeq(), OccurredAt: e.GetOccurredAt().AsTime(),
		StoreID: e.GetStoreId(), MemberID: e.GetMemberId(), StaffID: e.GetStaffId(),
	}
	switch b := e.GetBody().(type) {
	case *pb.Event_Visit:
		ev.Kind = cloud.EventVisit
		if len(b.Visit.GetCodeRef()) > maxIDLen || len(b.Visit.GetIdentifierHint()) > maxIDLen {
			return cloud.Event{}, fmt.Errorf("visit code_ref or identifier_hint is longer than %d characters", maxIDLen)
		}
		ev.Visit = &cloud.Visit{IdentifiedBy: identificationFromProto(b.Visit.GetIdentifiedBy()), IdentifierHint: b.Visit.GetIdentifierHint(), CodeRef: b.Visit.GetCodeRef()}
	default:
		// Kept and rejected by the service with a reason, so an agent
		// newer than the cloud never blocks its own outbox.
		ev.Kind = "unknown"
	}
	return ev, nil
}

func eventToProto(e cloud.Event) *pb.Event {
	out := &pb.Event{
		Id: e.ID, Seq: e.Seq, OccurredAt: timestamppb.New(e.OccurredAt),
		StoreId: e.StoreID, MemberId: e.MemberID, StaffId: e.StaffID,
	}
	if e.Visit != nil {
		out.Body = &pb.Event_Visit{Visit: &pb.Visit{IdentifiedBy: identificationToProto(e.Visit.IdentifiedBy), IdentifierHint: e.Visit.IdentifierHint, CodeRef: e.Visit.CodeRef}}
	}
	return out
}

var identifications = map[cloud.Identification]pb.Identification{
	cloud.ByMemberCode: pb.Identification_IDENTIFICATION_MEMBER_CODE,
	cloud.ByCard:       pb.Identification_IDENTIFICATION_CARD,
	cloud.ByPhone:      pb.Identification_IDENTIFICATION_PHONE,
}

func identificationToProto(i cloud.Identification) pb.Identification { return identifications[i] }

func identificationFromProto(p pb.Identification) cloud.Identification {
	for k, v := range identifications {
		if v == p {
			return k
		}
	}
	return ""
}

func outcomeToProto(o cloud.Outcome) pb.Outcome {
	switch o {
	case cloud.Applied:
		return pb.Outcome_OUTCOME_APPLIED
	case cloud.Duplicate:
		return pb.Outcome_OUTCOME_DUPLICATE
	case cloud.Rejected:
		return pb.Outcome_OUTCOME_REJECTED
	}
	return pb.Outcome_OUTCOME_UNSPECIFIED
}

func tsOrNil(t interface{ IsZero() bool }, ts *timestamppb.Timestamp) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return ts
}

func memberToProto(m cloud.Member) *pb.Member {
	return &pb.Member{
		BrandId: m.BrandID, Id: m.ID, Phone: m.Phone, Name: m.Name, CardNumbers: m.Cards, Visits: m.Visits,
		CreatedAt: timestamppb.New(m.CreatedAt), LastVisitAt: tsOrNil(m.LastVisitAt, timestamppb.New(m.LastVisitAt)),
	}
}

func snapshotToProto(m cloud.Member) *pb.MemberSnapshot {
	return &pb.MemberSnapshot{Id: m.ID, PhoneMasked: loyalty.MaskPhone(m.Phone), Name: m.Name, Visits: m.Visits}
}

func conflictToProto(c cloud.EventConflict) *pb.Conflict {
	return &pb.Conflict{
		Seq: c.Seq, Kind: string(c.Kind), MemberId: c.MemberID,
		EventId: c.EventID, StoreId: c.StoreID, DeviceId: c.DeviceID,
		OtherEventId: c.OtherEventID, OtherStoreId: c.OtherStoreID, OtherDeviceId: c.OtherDeviceID,
		DetectedAt: timestamppb.New(c.DetectedAt), Resolution: c.Resolution,
	}
}

func deviceToProto(d cloud.Device) *pb.DeviceStats {
	return &pb.DeviceStats{
		DeviceId: d.ID, StoreId: d.StoreID, Name: d.Name, AckedSeq: d.AckedSeq,
		LastSeenAt: tsOrNil(d.LastSeenAt, timestamppb.New(d.LastSeenAt)), Revoked: d.Revoked,
	}
}
