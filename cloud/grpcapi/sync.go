package grpcapi

import (
	"context"
	"crypto/ed25519"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

type syncServer struct {
	pb.UnimplementedSyncServiceServer
	svc *loyalty.Service
	// caPEM is handed to agents at pairing, so they trust the cloud's CA.
	caPEM []byte
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
		BrandName:      p.Brand.Name, StoreName: p.Store.Name,
		CloudCaPem: s.caPEM,
	}, nil
}

func (s *syncServer) PushEvents(ctx context.Context, req *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
	events := make([]cloud.Event, 0, len(req.GetEvents()))
	for _, e := range req.GetEvents() {
		ev, err := eventFromProto(e)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "event seq %d: %v", e.GetSeq(), err)
		}
		events = append(events, ev)
	}
	acked, results, err := s.svc.PushEvents(ctx, deviceFrom(ctx), events)
	if err != nil {
		return nil, err
	}
	resp := &pb.PushEventsResponse{AckedSeq: acked, Outcomes: make([]*pb.EventOutcome, 0, len(results))}
	for _, r := range results {
		resp.Outcomes = append(resp.Outcomes, &pb.EventOutcome{EventId: r.EventID, Seq: r.Seq, Outcome: outcomeToProto(r.Outcome), Reason: r.Reason})
	}
	return resp, nil
}

func (s *syncServer) PullChanges(ctx context.Context, req *pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
	changes, next, more, err := s.svc.PullChanges(ctx, deviceFrom(ctx), req.GetCursor(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	resp := &pb.PullChangesResponse{NextCursor: next, More: more, Changes: make([]*pb.Change, 0, len(changes))}
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
		resp.Changes = append(resp.Changes, pc)
	}
	return resp, nil
}
