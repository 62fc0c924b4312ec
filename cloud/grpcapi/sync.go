package grpcapi

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

type syncServer struct {
	pb.UnimplementedSyncServiceServer
	svc *loyalty.Service
	// caPEM is handed to agents at pairing, so they trust the cloud's CA.
	caPEM []byte
	fleet *fleet.Service
	gb    *groupbuy.Service
}

func (s *syncServer) Pair(ctx context.Context, req *pb.PairRequest) (*pb.PairResponse, error) {
	p, err := s.svc.Pair(ctx, req.GetPairingCode(), req.GetDeviceName())
	if err != nil {
		return nil, err
	}
	return &pb.PairResponse{
		BrandId: p.Device.BrandID, StoreId: p.Device.StoreID, DeviceId: p.Device.ID,
		DeviceSecret:   p.Secret,
		MemberCodeKeys: [][]byte{p.Brand.MemberCodeKey.Public().(ed25519.PublicKey)},
		BrandName:      p.Brand.Name, StoreName: p.Store.Name, TimeZone: cmp.Or(p.Brand.TimeZone, cloud.DefaultTimeZone),
		CloudCaPem: s.caPEM,
	}, nil
}

func (s *syncServer) PushEvents(ctx context.Context, req *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
	if n := len(req.GetEvents()); n > loyalty.MaxPushBatch {
		return nil, status.Errorf(codes.InvalidArgument, "events has %d entries; at most %d", n, loyalty.MaxPushBatch)
	}
	events := make([]cloud.Event, 0, len(req.GetEvents()))
	for _, e := range req.GetEvents() {
		if e.GetSeq() == 0 {
			return nil, status.Errorf(codes.InvalidArgument, "event %q: seq must start at 1", e.GetId())
		}
		events = append(events, s.eventAtEdge(deviceFrom(ctx), e))
	}
	dev := deviceFrom(ctx)
	pushed, err := s.svc.Push(ctx, dev, events)
	if err != nil {
		return nil, err
	}
	if pushed.SeqBehind && s.fleet != nil {
		s.fleet.NoteSeqBehind(ctx, dev, pushed.Acked+1, pushed.DeviceSeq)
	}
	resp := &pb.PushEventsResponse{AckedSeq: pushed.Acked, DeviceSeq: pushed.DeviceSeq, SeqBehind: pushed.SeqBehind, Outcomes: make([]*pb.EventOutcome, 0, len(pushed.Results))}
	for _, r := range pushed.Results {
		resp.Outcomes = append(resp.Outcomes, &pb.EventOutcome{EventId: r.EventID, Seq: r.Seq, Outcome: outcomeToProto(r.Outcome), Reason: r.Reason})
	}
	return resp, nil
}

// eventAtEdge converts one pushed event. An event beyond the edge's bounds
// or otherwise malformed is not refused with the push (that would stop
// every event behind it in the device's outbox): it is shortened to fit,
// marked malformed with the reason, and the service keeps it as rejected.
func (s *syncServer) eventAtEdge(dev cloud.Device, e *pb.Event) cloud.Event {
	var reason string
	if err := checkBounds(e); err != nil {
		reason = "event " + err.Error()
		e = proto.Clone(e).(*pb.Event)
		clampMessage(e)
	}
	if reason == "" {
		if err := validateEvent(e); err != nil {
			reason = err.Error()
		}
	}
	ev := eventFromProto(e)
	if reason == "" {
		return ev
	}
	if ev.ID == "" || len(ev.ID) > maxIDLen {
		ev.ID = fmt.Sprintf("malformed:%s:%d", dev.ID, e.GetSeq())
	}
	ev.Malformed = reason
	return ev
}

// pullPageBytes bounds one pull's answer, well under the 4 MiB a gRPC
// client accepts by default: pulls page by bytes as well as by count.
const pullPageBytes = 1 << 20

// maxChangeBytes bounds one change; a record stored before the edge
// bounded its fields is sent shortened (clampMessage) rather than never.
const maxChangeBytes = 64 << 10

func (s *syncServer) PullChanges(ctx context.Context, req *pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
	changes, next, more, err := s.svc.PullChanges(ctx, deviceFrom(ctx), req.GetCursor(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	resp := &pb.PullChangesResponse{NextCursor: next, More: more, Changes: make([]*pb.Change, 0, len(changes))}
	size := 0
	for _, c := range changes {
		pc := &pb.Change{Seq: c.Seq}
		switch {
		case c.Member != nil:
			pc.Body = &pb.Change_Member{Member: snapshotToProto(*c.Member)}
		case c.Card != nil:
			pc.Body = &pb.Change_Card{Card: &pb.CardBinding{CardNumber: c.Card.Number, MemberId: c.Card.MemberID, Revoked: c.Card.Revoked}}
		case c.Coupon != nil:
			pc.Body = &pb.Change_Coupon{Coupon: couponToProto(*c.Coupon)}
		case c.Programme != nil:
			pc.Body = &pb.Change_Programme{Programme: programmeToProto(*c.Programme)}
		case c.Voucher != nil:
			pc.Body = &pb.Change_Voucher{Voucher: voucherToProto(*c.Voucher)}
		}
		n := proto.Size(pc)
		if n > maxChangeBytes {
			clampMessage(pc)
			n = proto.Size(pc)
		}
		if size+n > pullPageBytes && len(resp.Changes) > 0 {
			resp.NextCursor, resp.More = resp.Changes[len(resp.Changes)-1].GetSeq(), true
			break
		}
		size += n
		resp.Changes = append(resp.Changes, pc)
	}
	return resp, nil
}

func (s *syncServer) ReportHealth(ctx context.Context, req *pb.ReportHealthRequest) (*pb.ReportHealthResponse, error) {
	if s.fleet == nil {
		return nil, status.Error(codes.Unimplemented, "this cloud keeps no health reports")
	}
	dev := deviceFrom(ctx)
	if err := s.fleet.Report(ctx, dev, healthFromProto(req.GetHealth())); err != nil {
		return nil, err
	}
	return &pb.ReportHealthResponse{DeviceSeq: dev.AckedSeq}, nil
}
