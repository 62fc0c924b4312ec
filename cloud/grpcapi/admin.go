package grpcapi

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/messaging"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/proto/pairing"
)

type adminServer struct {
	pb.UnimplementedAdminServiceServer
	svc       *loyalty.Service
	campaigns *campaign.Engine
	msg       *messaging.Service
	// publicAddr and caFingerprint go into pairing tickets.
	publicAddr, caFingerprint string
	memberPageURL             string
	fleet                     *fleet.Service
	gb                        *groupbuy.Service
	// an serves segments and reports (reports.go).
	an analytics
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
	return s.pairingAnswer(st, p)
}

func (s *adminServer) IssuePairingCode(ctx context.Context, req *pb.IssuePairingCodeRequest) (*pb.CreateStoreResponse, error) {
	st, p, err := s.svc.IssuePairingCode(ctx, req.GetBrandId(), req.GetStoreId())
	if err != nil {
		return nil, err
	}
	return s.pairingAnswer(st, p)
}

// pairingAnswer is a store with its pairing ticket, as text and QR code.
func (s *adminServer) pairingAnswer(st cloud.Store, p cloud.Pairing) (*pb.CreateStoreResponse, error) {
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
	m, err := s.svc.CreateMember(ctx, req.GetBrandId(), loyalty.NewMember{
		Phone: req.GetPhone(), Name: req.GetName(), Cards: req.GetCardNumbers(), Birthday: req.GetBirthday(), Tags: req.GetTags(), Consent: req.GetConsent(),
		Source: cloud.MemberSource{Channel: req.GetSource().GetChannel(), StoreID: req.GetSource().GetStoreId(), StaffID: req.GetSource().GetStaffId(),
			CampaignID: req.GetSource().GetCampaignId(), ReferrerID: req.GetSource().GetReferrerMemberId()},
	})
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
		se := &pb.StoredEvent{
			Event: eventToProto(e.Event), DeviceId: e.DeviceID, ReceivedAt: timestamppb.New(e.ReceivedAt),
			Outcome: outcomeToProto(e.Outcome), Reason: e.Reason,
		}
		clampMessage(se)
		out.Events = append(out.Events, se)
	}
	return out, nil
}

func (s *adminServer) SetProgramme(ctx context.Context, req *pb.SetProgrammeRequest) (*pb.Programme, error) {
	p, err := s.svc.SetProgramme(ctx, req.GetBrandId(), programmeFromProto(req.GetProgramme()))
	if err != nil {
		return nil, err
	}
	return programmeToProto(p), nil
}

func (s *adminServer) GetProgramme(ctx context.Context, req *pb.GetProgrammeRequest) (*pb.Programme, error) {
	p, err := s.svc.Programme(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	return programmeToProto(p), nil
}

func (s *adminServer) UpdateMember(ctx context.Context, req *pb.UpdateMemberRequest) (*pb.Member, error) {
	var u loyalty.MemberUpdate
	if req.Phone != "" {
		u.Phone = &req.Phone
	}
	if req.Name != "" {
		u.Name = &req.Name
	}
	if req.Birthday != "" {
		u.Birthday = &req.Birthday
	}
	if req.GetSetTags() {
		u.Tags = &req.Tags
	}
	if req.GetSetConsent() {
		u.Consent = &req.Consent
	}
	m, err := s.svc.UpdateMember(ctx, req.GetBrandId(), req.GetMemberId(), u)
	if err != nil {
		return nil, err
	}
	return memberToProto(m), nil
}

func (s *adminServer) ImportMembers(ctx context.Context, req *pb.ImportRequest) (*pb.ImportReport, error) {
	r, err := s.svc.ImportMembers(ctx, req.GetBrandId(), req.GetCsv(), req.GetDryRun())
	if err != nil {
		return nil, err
	}
	return importReportToProto(r), nil
}

func (s *adminServer) ImportVouchers(ctx context.Context, req *pb.ImportRequest) (*pb.ImportReport, error) {
	r, err := s.svc.ImportVouchers(ctx, req.GetBrandId(), req.GetCsv(), req.GetDryRun())
	if err != nil {
		return nil, err
	}
	return importReportToProto(r), nil
}

func (s *adminServer) MergeMembers(ctx context.Context, req *pb.MergeMembersRequest) (*pb.Member, error) {
	m, err := s.svc.MergeMembers(ctx, req.GetBrandId(), req.GetKeepMemberId(), req.GetMergeMemberId())
	if err != nil {
		return nil, err
	}
	return memberToProto(m), nil
}

func (s *adminServer) GetMemberHistory(ctx context.Context, req *pb.GetMemberHistoryRequest) (*pb.MemberHistory, error) {
	h, err := s.svc.History(ctx, req.GetBrandId(), req.GetMemberId())
	if err != nil {
		return nil, err
	}
	out := &pb.MemberHistory{Member: memberToProto(h.Member)}
	for _, e := range h.Points {
		out.Points = append(out.Points, &pb.LedgerEntry{Seq: e.Seq, At: tsOf(e.At), Reason: e.Reason, EventId: e.EventID, Points: e.Delta, Note: e.Note})
	}
	for _, e := range h.StoredValue {
		out.StoredValue = append(out.StoredValue, &pb.LedgerEntry{Seq: e.Seq, At: tsOf(e.At), Reason: e.Reason, EventId: e.EventID, PrincipalFen: e.PrincipalDelta, BonusFen: e.BonusDelta, Note: e.Note})
	}
	for _, c := range h.TierChanges {
		out.TierChanges = append(out.TierChanges, &pb.TierChange{At: tsOf(c.At), FromTier: c.From, ToTier: c.To, Reason: c.Reason})
	}
	for _, c := range h.Coupons {
		out.Coupons = append(out.Coupons, couponToProto(c))
	}
	return out, nil
}

func (s *adminServer) CreateCouponTemplate(ctx context.Context, req *pb.CouponTemplate) (*pb.CouponTemplate, error) {
	t, err := s.svc.CreateCouponTemplate(ctx, templateFromProto(req))
	if err != nil {
		return nil, err
	}
	return templateToProto(t), nil
}

func (s *adminServer) ListCouponTemplates(ctx context.Context, req *pb.ListCouponTemplatesRequest) (*pb.ListCouponTemplatesResponse, error) {
	ts, err := s.svc.CouponTemplates(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListCouponTemplatesResponse{}
	for _, t := range ts {
		out.Templates = append(out.Templates, templateToProto(t))
	}
	return out, nil
}

func (s *adminServer) IssueCoupons(ctx context.Context, req *pb.IssueCouponsRequest) (*pb.IssueCouponsResponse, error) {
	cs, skipped, err := s.svc.IssueCoupons(ctx, req.GetBrandId(), req.GetTemplateId(), req.GetMemberIds(), req.GetTag())
	if err != nil {
		return nil, err
	}
	out := &pb.IssueCouponsResponse{Skipped: skipped}
	for _, c := range cs {
		out.Coupons = append(out.Coupons, couponToProto(c))
	}
	return out, nil
}

func (s *adminServer) ListConflicts(ctx context.Context, req *pb.ListConflictsRequest) (*pb.ListConflictsResponse, error) {
	cs, next, err := s.svc.Conflicts(ctx, req.GetBrandId(), req.GetPageToken(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &pb.ListConflictsResponse{NextPageToken: next}
	for _, c := range cs {
		out.Conflicts = append(out.Conflicts, conflictToProto(c))
	}
	return out, nil
}

func (s *adminServer) RunMaintenance(ctx context.Context, req *pb.RunMaintenanceRequest) (*pb.MaintenanceReport, error) {
	r, err := s.svc.RunMaintenance(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	return &pb.MaintenanceReport{TiersChanged: int32(r.TiersChanged), PointsExpired: r.PointsExpired, CouponsExpired: int32(r.CouponsExpired)}, nil
}

func (s *adminServer) RevokeDevice(ctx context.Context, req *pb.RevokeDeviceRequest) (*pb.DeviceStats, error) {
	d, err := s.svc.RevokeDevice(ctx, req.GetBrandId(), req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	return deviceToProto(d), nil
}

// deviceToProto shortens what a device named itself, should it have been
// stored before pairing bounded it.
func deviceToProto(d cloud.Device) *pb.DeviceStats {
	out := &pb.DeviceStats{
		DeviceId: d.ID, StoreId: d.StoreID, Name: d.Name, AckedSeq: d.AckedSeq,
		LastSeenAt: tsOrNil(d.LastSeenAt, timestamppb.New(d.LastSeenAt)), Revoked: d.Revoked,
	}
	clampMessage(out)
	return out
}
