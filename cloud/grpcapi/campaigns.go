package grpcapi

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func (s *adminServer) engine() (*campaign.Engine, error) {
	if s.campaigns == nil {
		return nil, status.Error(codes.Unimplemented, "this cloud runs no campaigns")
	}
	return s.campaigns, nil
}

func (s *adminServer) CreateCampaign(ctx context.Context, req *pb.Campaign) (*pb.Campaign, error) {
	e, err := s.engine()
	if err != nil {
		return nil, err
	}
	c, err := e.Create(ctx, campaignFromProto(req))
	if err != nil {
		return nil, err
	}
	return campaignToProto(c), nil
}

func (s *adminServer) ListCampaigns(ctx context.Context, req *pb.ListCampaignsRequest) (*pb.ListCampaignsResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, err
	}
	cs, err := e.List(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListCampaignsResponse{}
	for _, c := range cs {
		out.Campaigns = append(out.Campaigns, campaignToProto(c))
	}
	return out, nil
}

func (s *adminServer) SetCampaignState(ctx context.Context, req *pb.SetCampaignStateRequest) (*pb.Campaign, error) {
	e, err := s.engine()
	if err != nil {
		return nil, err
	}
	var c campaign.Campaign
	switch req.GetAction() {
	case "start":
		c, err = e.Start(ctx, req.GetBrandId(), req.GetId())
	case "pause":
		c, err = e.Pause(ctx, req.GetBrandId(), req.GetId())
	case "resume":
		c, err = e.Resume(ctx, req.GetBrandId(), req.GetId())
	case "end":
		c, err = e.End(ctx, req.GetBrandId(), req.GetId())
	default:
		return nil, cloud.Errorf(cloud.Invalid, "action %q: want start, pause, resume or end", req.GetAction())
	}
	if err != nil {
		return nil, err
	}
	return campaignToProto(c), nil
}

func (s *adminServer) PreviewCampaign(ctx context.Context, req *pb.CampaignRef) (*pb.CampaignPreview, error) {
	e, err := s.engine()
	if err != nil {
		return nil, err
	}
	p, err := e.Preview(ctx, req.GetBrandId(), req.GetId())
	if err != nil {
		return nil, err
	}
	return &pb.CampaignPreview{Audience: p.Audience, Holdout: p.Holdout, Treated: p.Treated, PerMember: costToProto(p.PerMember),
		Cost: costToProto(p.Cost), WithinBudget: p.WithinBudget, NoProof: p.NoProof}, nil
}

func (s *adminServer) DryRunCampaign(ctx context.Context, req *pb.DryRunCampaignRequest) (*pb.DryRunCampaignResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, err
	}
	limit := int(req.GetLimit())
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	lines, err := e.DryRun(ctx, req.GetBrandId(), req.GetId(), limit)
	if err != nil {
		return nil, err
	}
	out := &pb.DryRunCampaignResponse{}
	for _, l := range lines {
		out.Lines = append(out.Lines, &pb.DryRunLine{MemberId: l.MemberID, Occurrence: l.Occurrence, Holdout: l.Holdout, Actions: actionsToProto(l.Actions), Cost: costToProto(l.Cost)})
	}
	return out, nil
}

func (s *adminServer) GetCampaignResults(ctx context.Context, req *pb.CampaignResultsRequest) (*pb.CampaignResults, error) {
	e, err := s.engine()
	if err != nil {
		return nil, err
	}
	r, err := e.Results(ctx, req.GetBrandId(), req.GetId(), int(req.GetDays()))
	if err != nil {
		return nil, err
	}
	group := func(g campaign.GroupOutcome) *pb.CampaignGroupOutcome {
		return &pb.CampaignGroupOutcome{Members: g.Members, Returned: g.Returned, Visits: g.Visits, SpendFen: g.SpendFen}
	}
	est := func(x campaign.Estimate) *pb.CampaignLift {
		return &pb.CampaignLift{Status: x.Status, Estimate: x.Estimate, Low: x.Low, High: x.High}
	}
	return &pb.CampaignResults{Campaign: campaignToProto(r.Campaign), Days: int32(r.Days), Treated: group(r.Treated), Holdout: group(r.Holdout),
		ReturnLift: est(r.ReturnLift), SpendLift: est(r.SpendLift), VisitLift: est(r.VisitLift)}, nil
}

func campaignFromProto(p *pb.Campaign) campaign.Campaign {
	t := p.GetTrigger()
	a := p.GetAudience()
	return campaign.Campaign{
		BrandID: p.GetBrandId(), ID: p.GetId(), Name: p.GetName(),
		Trigger: campaign.Trigger{Kind: campaign.TriggerKind(t.GetKind()), MinFen: t.GetMinFen(), N: int(t.GetN()), AmountFen: t.GetAmountFen(),
			Period: t.GetPeriod(), Sources: t.GetSources(), ToTier: t.GetToTier(), Days: int(t.GetDays()), BirthdayMonth: t.GetBirthdayMonth(),
			Holiday: t.GetHoliday(), At: timeOf(t.GetAt())},
		Actions: actionsFromProto(p.GetActions()), KnownActions: actionsFromProto(p.GetKnownActions()),
		Audience:  campaign.Audience{Tags: a.GetTags(), Tiers: a.GetTiers(), Stores: a.GetStores(), MinVisits: a.GetMinVisits(), MinSpendFen: a.GetMinSpendFen(), ConsentOnly: a.GetConsentOnly()},
		Budget:    campaign.Budget{MaxCoupons: p.GetBudget().GetCoupons(), MaxPoints: p.GetBudget().GetPoints(), MaxMoneyFen: p.GetBudget().GetMoneyFen()},
		HoldoutBP: int(p.GetHoldoutBp()), HoldoutSet: p.GetHoldoutSet(),
		StartAt: timeOf(p.GetStartAt()), EndAt: timeOf(p.GetEndAt()),
	}
}

func actionsFromProto(ps []*pb.CampaignAction) []campaign.Action {
	var out []campaign.Action
	for _, a := range ps {
		out = append(out, campaign.Action{Kind: campaign.ActionKind(a.GetKind()), TemplateID: a.GetTemplateId(), ValidDays: int(a.GetValidDays()),
			FaceFen: a.GetFaceFen(), Points: a.GetPoints(), MultiplierBP: int(a.GetMultiplierBp()), Days: int(a.GetDays()),
			BonusFen: a.GetBonusFen(), Channel: a.GetChannel(), LotteryID: a.GetLotteryId()})
	}
	return out
}

func actionsToProto(as []campaign.Action) []*pb.CampaignAction {
	var out []*pb.CampaignAction
	for _, a := range as {
		out = append(out, &pb.CampaignAction{Kind: string(a.Kind), TemplateId: a.TemplateID, ValidDays: int32(a.ValidDays), FaceFen: a.FaceFen,
			Points: a.Points, MultiplierBp: int32(a.MultiplierBP), Days: int32(a.Days), BonusFen: a.BonusFen, Channel: a.Channel, LotteryId: a.LotteryID})
	}
	return out
}

func costToProto(c campaign.Cost) *pb.CampaignCost {
	return &pb.CampaignCost{Coupons: c.Coupons, Points: c.Points, MoneyFen: c.MoneyFen}
}

func campaignToProto(c campaign.Campaign) *pb.Campaign {
	t := c.Trigger
	out := &pb.Campaign{
		BrandId: c.BrandID, Id: c.ID, Name: c.Name,
		Trigger: &pb.CampaignTrigger{Kind: string(t.Kind), MinFen: t.MinFen, N: int32(t.N), AmountFen: t.AmountFen, Period: t.Period, Sources: t.Sources,
			ToTier: t.ToTier, Days: int32(t.Days), BirthdayMonth: t.BirthdayMonth, Holiday: t.Holiday, At: tsOrNil(t.At, timestamppb.New(t.At))},
		Actions: actionsToProto(c.Actions), KnownActions: actionsToProto(c.KnownActions),
		Audience: &pb.CampaignAudience{Tags: c.Audience.Tags, Tiers: c.Audience.Tiers, Stores: c.Audience.Stores, MinVisits: c.Audience.MinVisits,
			MinSpendFen: c.Audience.MinSpendFen, ConsentOnly: c.Audience.ConsentOnly},
		Budget:    &pb.CampaignCost{Coupons: c.Budget.MaxCoupons, Points: c.Budget.MaxPoints, MoneyFen: c.Budget.MaxMoneyFen},
		HoldoutBp: int32(c.HoldoutBP), HoldoutSet: true, StartAt: tsOrNil(c.StartAt, timestamppb.New(c.StartAt)), EndAt: tsOrNil(c.EndAt, timestamppb.New(c.EndAt)),
		Status: string(c.Status),
		Spent: &pb.CampaignSpent{Coupons: c.Spent.Coupons, Points: c.Spent.Points, MoneyFen: c.Spent.MoneyFen, Members: c.Spent.Members,
			Holdout: c.Spent.Holdout, OverBudget: c.Spent.OverBudget},
	}
	return out
}
