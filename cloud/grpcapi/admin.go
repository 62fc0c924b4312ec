package grpcapi

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/proto/pairing"
)

type adminServer struct {
	pb.UnimplementedAdminServiceServer
	svc *loyalty.Service
	// publicAddr and caFingerprint go into pairing tickets.
	publicAddr, caFingerprint string
}

func (s *adminServer) CreateBrand(ctx context.Context, req *pb.CreateBrandRequest) (*pb.Brand, error) {
	b, err := s.svc.CreateBrand(ctx, req.GetId(), req.GetName(), req.GetCurrency())
	if err != nil {
		return nil, err
	}
	return &pb.Brand{Id: b.ID, Name: b.Name, Currency: b.Currency, CreatedAt: timestamppb.New(b.CreatedAt)}, nil
}

func (s *adminServer) CreateStore(ctx context.Context, req *pb.CreateStoreRequest) (*pb.CreateStoreResponse, error) {
	st, p, err := s.svc.CreateStore(ctx, req.GetBrandId(), req.GetId(), req.GetName())
	if err != nil {
		return nil, err
	}
	ticket := pairing.Ticket{Code: p.Code, Cloud: s.publicAddr, CASHA256: s.caFingerprint}
	png, err := ticket.QRPNG(320)
	if err != nil {
		return nil, err
	}
	return &pb.CreateStoreResponse{
		Store:       &pb.Store{BrandId: st.BrandID, Id: st.ID, Name: st.Name},
		PairingCode: p.Code, PairingExpiresAt: timestamppb.New(p.ExpiresAt),
		PairingUri: ticket.String(), PairingQrPng: png,
	}, nil
}

func (s *adminServer) CreateMember(ctx context.Context, req *pb.CreateMemberRequest) (*pb.Member, error) {
	m, err := s.svc.CreateMember(ctx, req.GetBrandId(), req.GetPhone(), req.GetName(), req.GetCardNumbers())
	if err != nil {
		return nil, err
	}
	return memberToProto(m), nil
}

func (s *adminServer) GetMember(ctx context.Context, req *pb.GetMemberRequest) (*pb.Member, error) {
	m, err := s.svc.GetMember(ctx, req.GetBrandId(), req.GetMemberId(), req.GetPhone())
	if err != nil {
		return nil, err
	}
	return memberToProto(m), nil
}

func (s *adminServer) AddCard(ctx context.Context, req *pb.AddCardRequest) (*pb.Member, error) {
	m, err := s.svc.AddCard(ctx, req.GetBrandId(), req.GetMemberId(), req.GetCardNumber())
	if err != nil {
		return nil, err
	}
	return memberToProto(m), nil
}

func (s *adminServer) IssueMemberCode(ctx context.Context, req *pb.IssueMemberCodeRequest) (*pb.IssueMemberCodeResponse, error) {
	code, exp, err := s.svc.IssueMemberCode(ctx, req.GetBrandId(), req.GetMemberId())
	if err != nil {
		return nil, err
	}
	return &pb.IssueMemberCodeResponse{Code: code, ExpiresAt: timestamppb.New(exp)}, nil
}

func (s *adminServer) GetBrandStats(ctx context.Context, req *pb.GetBrandStatsRequest) (*pb.BrandStats, error) {
	st, err := s.svc.Stats(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.BrandStats{Members: st.Members, Events: st.Events, Visits: st.Visits, RejectedEvents: st.Rejected}
	for _, d := range st.Devices {
		out.Devices = append(out.Devices, deviceToProto(d))
	}
	return out, nil
}

func (s *adminServer) ListEvents(ctx context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	events, next, err := s.svc.ListEvents(ctx, req.GetBrandId(), req.GetPageToken(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &pb.ListEventsResponse{NextPageToken: next}
	for _, e := range events {
		out.Events = append(out.Events, &pb.StoredEvent{
			Event: eventToProto(e.Event), DeviceId: e.DeviceID, ReceivedAt: timestamppb.New(e.ReceivedAt),
			Outcome: outcomeToProto(e.Outcome), Reason: e.Reason,
		})
	}
	return out, nil
}

func (s *adminServer) RevokeDevice(ctx context.Context, req *pb.RevokeDeviceRequest) (*pb.DeviceStats, error) {
	d, err := s.svc.RevokeDevice(ctx, req.GetBrandId(), req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	return deviceToProto(d), nil
}

func (s *adminServer) ListConflicts(ctx context.Context, req *pb.ListConflictsRequest) (*pb.ListConflictsResponse, error) {
	conflicts, next, err := s.svc.ListConflicts(ctx, req.GetBrandId(), req.GetPageToken(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &pb.ListConflictsResponse{NextPageToken: next}
	for _, c := range conflicts {
		out.Conflicts = append(out.Conflicts, conflictToProto(c))
	}
	return out, nil
}
