package grpcapi

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/messaging"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// messaging returns the messaging service, or an error when the cloud
// runs without one.
func (s *adminServer) messaging() (*messaging.Service, error) {
	if s.msg == nil {
		return nil, cloud.Errorf(cloud.NotFound, "messaging is not configured on this cloud")
	}
	return s.msg, nil
}

// brand checks that a brand exists before its messaging settings change.
func (s *adminServer) brand(ctx context.Context, id string) error {
	_, err := s.svc.Programme(ctx, id)
	return err
}

func policyToProto(p messaging.Policy) *pb.MessagingPolicy {
	return &pb.MessagingPolicy{BrandId: p.BrandID, TimeZone: p.TimeZone, MarketingPerDay: uint32(p.Caps.MarketingPerDay),
		MarketingPerWeek: uint32(p.Caps.MarketingPerWeek), TransactionalPerDay: uint32(p.Caps.TransactionalPerDay),
		QuietHours: p.QuietHours.String(), SmsSignName: p.SMSSignName, OptOutText: p.OptOutText, WebhookUrl: p.WebhookURL,
		WebhookSecretSet: p.WebhookSecret != ""}
}

func (s *adminServer) GetMessagingPolicy(ctx context.Context, req *pb.GetMessagingPolicyRequest) (*pb.MessagingPolicy, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	if err := s.brand(ctx, req.GetBrandId()); err != nil {
		return nil, err
	}
	p, err := m.Store.Policy(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	return policyToProto(p), nil
}

// SetMessagingPolicy replaces the brand's policy; an empty webhook secret
// keeps the one set before.
func (s *adminServer) SetMessagingPolicy(ctx context.Context, req *pb.MessagingPolicy) (*pb.MessagingPolicy, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	if err := s.brand(ctx, req.GetBrandId()); err != nil {
		return nil, err
	}
	old, err := m.Store.Policy(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	qh, err := messaging.ParseQuietHours(req.GetQuietHours())
	if err != nil {
		return nil, err
	}
	const maxCap = 1 << 20
	if req.GetMarketingPerDay() > maxCap || req.GetMarketingPerWeek() > maxCap || req.GetTransactionalPerDay() > maxCap {
		return nil, cloud.Errorf(cloud.Invalid, "caps must be at most 1000")
	}
	p := messaging.Policy{BrandID: req.GetBrandId(), TimeZone: req.GetTimeZone(), QuietHours: qh,
		Caps:        messaging.Caps{MarketingPerDay: int(req.GetMarketingPerDay()), MarketingPerWeek: int(req.GetMarketingPerWeek()), TransactionalPerDay: int(req.GetTransactionalPerDay())},
		SMSSignName: req.GetSmsSignName(), OptOutText: req.GetOptOutText(), WebhookURL: req.GetWebhookUrl(), WebhookSecret: req.GetWebhookSecret()}
	if p.WebhookSecret == "" {
		p.WebhookSecret = old.WebhookSecret
	}
	if err := m.SetPolicy(ctx, p); err != nil {
		return nil, err
	}
	return policyToProto(p), nil
}

func msgTemplateToProto(t messaging.Template) *pb.MessageTemplate {
	return &pb.MessageTemplate{BrandId: t.BrandID, Id: t.ID, Name: t.Name, Channel: string(t.Channel), Category: string(t.Category),
		TextZh: t.Zh, TextEn: t.En, ProviderTemplate: t.ProviderTemplate, ProviderTemplateEn: t.ProviderTemplateEn, Fields: t.Fields,
		WechatKind: t.WeChatKind, Url: t.URL}
}

func (s *adminServer) PutMessageTemplate(ctx context.Context, req *pb.MessageTemplate) (*pb.MessageTemplate, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	if err := s.brand(ctx, req.GetBrandId()); err != nil {
		return nil, err
	}
	t := messaging.Template{BrandID: req.GetBrandId(), ID: req.GetId(), Name: req.GetName(), Channel: messaging.Channel(req.GetChannel()),
		Category: messaging.Category(req.GetCategory()), Zh: req.GetTextZh(), En: req.GetTextEn(), ProviderTemplate: req.GetProviderTemplate(),
		ProviderTemplateEn: req.GetProviderTemplateEn(), Fields: req.GetFields(), WeChatKind: req.GetWechatKind(), URL: req.GetUrl()}
	if err := m.PutTemplate(ctx, t); err != nil {
		return nil, err
	}
	return msgTemplateToProto(t), nil
}

func (s *adminServer) ListMessageTemplates(ctx context.Context, req *pb.ListMessageTemplatesRequest) (*pb.ListMessageTemplatesResponse, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	ts, err := m.Store.Templates(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListMessageTemplatesResponse{}
	for _, t := range ts {
		out.Templates = append(out.Templates, msgTemplateToProto(t))
	}
	return out, nil
}

func (s *adminServer) PreviewMessage(ctx context.Context, req *pb.PreviewMessageRequest) (*pb.MessagePreview, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	lang, err := messaging.ParseLang(req.GetLang())
	if err != nil {
		return nil, err
	}
	if req.GetLang() == "" {
		lang = ""
	}
	p, err := m.Preview(ctx, req.GetBrandId(), req.GetTemplateId(), req.GetMemberId(), lang, req.GetVars())
	if err != nil {
		return nil, err
	}
	return &pb.MessagePreview{Text: p.Text, SmsText: p.SMSText, Chars: uint32(p.Chars), Segments: uint32(p.Segments), CostFen: p.CostFen,
		Fields: p.Fields, Url: p.URL}, nil
}

func (s *adminServer) EstimateMessageCost(ctx context.Context, req *pb.EstimateMessageCostRequest) (*pb.MessageCostEstimate, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	if len(req.GetMemberIds()) > 100000 {
		return nil, cloud.Errorf(cloud.Invalid, "at most 100000 members per estimate")
	}
	e, err := m.EstimateCost(ctx, req.GetBrandId(), req.GetTemplateId(), req.GetMemberIds(), req.GetVars())
	if err != nil {
		return nil, err
	}
	return &pb.MessageCostEstimate{Messages: uint32(e.Messages), Segments: uint32(e.Segments), CostFen: e.CostFen, PerSegmentMilliFen: e.PerSegmentMilliFen}, nil
}

func optTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func messageToProto(msg messaging.Message, hist []messaging.StatusChange) *pb.MemberMessage {
	text := messaging.ReasonText(msg.Reason)
	tail := msg.To
	if len(tail) > 4 {
		tail = "…" + tail[len(tail)-4:]
	}
	out := &pb.MemberMessage{BrandId: msg.BrandID, Id: msg.ID, CampaignId: msg.CampaignID, MemberId: msg.MemberID, Occurrence: msg.Occurrence,
		Channel: string(msg.Channel), Category: string(msg.Category), TemplateId: msg.TemplateID, Status: string(msg.Status), Reason: msg.Reason,
		Attempts: uint32(msg.Attempts), ProviderId: msg.ProviderID, ToTail: tail, CreatedAt: optTime(msg.CreatedAt), NotBefore: optTime(msg.NotBefore),
		SentAt: optTime(msg.SentAt), ExpiresAt: optTime(msg.ExpiresAt)}
	if msg.Reason != "" {
		out.ReasonZh, out.ReasonEn = text.Zh, text.En
	}
	for _, h := range hist {
		out.History = append(out.History, &pb.MessageStatusChange{At: optTime(h.At), Status: string(h.Status), Reason: h.Reason})
	}
	return out
}

func (s *adminServer) ListMemberMessages(ctx context.Context, req *pb.ListMemberMessagesRequest) (*pb.ListMemberMessagesResponse, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	msgs, err := m.MemberMessages(ctx, req.GetBrandId(), req.GetMemberId(), int(min(req.GetLimit(), 1000)))
	if err != nil {
		return nil, err
	}
	out := &pb.ListMemberMessagesResponse{}
	for _, msg := range msgs {
		hist, err := m.Store.History(ctx, msg.BrandID, msg.ID)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, messageToProto(msg, hist))
	}
	return out, nil
}

func (s *adminServer) SetMessagingConsent(ctx context.Context, req *pb.SetMessagingConsentRequest) (*pb.MessagingConsent, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	if _, err := s.svc.GetMember(ctx, req.GetBrandId(), req.GetMemberId(), ""); err != nil {
		return nil, err
	}
	c := messaging.Consent{BrandID: req.GetBrandId(), MemberID: req.GetMemberId(), Channel: messaging.Channel(req.GetChannel()),
		Granted: req.GetGranted(), Address: req.GetAddress(), Source: messaging.SourceHQ}
	if err := m.SetConsent(ctx, c); err != nil {
		return nil, err
	}
	got, _, err := m.Store.Consent(ctx, c.BrandID, c.MemberID, c.Channel)
	if err != nil {
		return nil, err
	}
	return &pb.MessagingConsent{BrandId: got.BrandID, MemberId: got.MemberID, Channel: string(got.Channel), Granted: got.Granted, Source: got.Source, At: optTime(got.At)}, nil
}

func (s *adminServer) SendTestMessage(ctx context.Context, req *pb.SendTestMessageRequest) (*pb.MemberMessage, error) {
	m, err := s.messaging()
	if err != nil {
		return nil, err
	}
	if _, err := s.svc.GetMember(ctx, req.GetBrandId(), req.GetMemberId(), ""); err != nil {
		return nil, err
	}
	ch, err := messaging.ParseChannel(req.GetChannel())
	if err != nil {
		return nil, err
	}
	var lang messaging.Lang
	if req.GetLang() != "" {
		if lang, err = messaging.ParseLang(req.GetLang()); err != nil {
			return nil, err
		}
	}
	msg, _, err := m.Enqueue(ctx, messaging.Request{BrandID: req.GetBrandId(), CampaignID: "hq-test", MemberID: req.GetMemberId(),
		Occurrence: fmt.Sprint(time.Now().UnixNano()), Channel: ch, TemplateID: req.GetTemplateId(), Lang: lang, Vars: req.GetVars()})
	if err != nil {
		return nil, err
	}
	return messageToProto(msg, nil), nil
}
