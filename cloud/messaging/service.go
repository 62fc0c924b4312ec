package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
)

// Recipient is what the service needs to know about a member: where to
// reach them, in which language, their consent given at joining, and the
// member's own variables for templates (name, points, balances).
type Recipient struct {
	BrandID  string
	MemberID string
	Name     string
	Phone    string
	Lang     Lang
	// Consent is the member's marketing consent given when joining (join
	// page, counter, import), used for a channel with no consent record.
	Consent       bool
	ConsentSource string
	ConsentAt     time.Time
	Vars          map[string]string
}

// MemberVars are the variables every template may use without the caller
// giving them: the Directory fills them from the member.
var MemberVars = []string{"name", "phone_tail", "points", "stored_value", "tier"}

// Directory finds members for the service; the cloud's member store
// implements it.
type Directory interface {
	// Recipient returns a member, or a NotFound error.
	Recipient(ctx context.Context, brand, member string) (Recipient, error)
	// MembersByPhone finds the members with a phone, in every brand.
	MembersByPhone(ctx context.Context, phone string) ([]Recipient, error)
	// BrandTimeZone is the zone the brand's calendar rules run in; quiet
	// hours and daily caps use it unless the messaging policy names another.
	BrandTimeZone(ctx context.Context, brand string) (string, error)
}

// Service is the messaging service: callers (campaigns, member care, join
// codes, balance notices, HQ) enqueue messages and read their statuses;
// a Dispatcher sends them.
type Service struct {
	Store     Store
	Directory Directory
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// SMSPriceMilliFen is the price of one SMS segment in 1/1000 fen
	// (¥0.045 = 4500); the cost estimate uses it.
	SMSPriceMilliFen int64
	Logger           *slog.Logger
	// wake tells a dispatcher in this process that work arrived.
	wake chan struct{}
}

// NewService makes a service.
func NewService(st Store, dir Directory) *Service {
	return &Service{Store: st, Directory: dir, SMSPriceMilliFen: 4500, wake: make(chan struct{}, 1)}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Request asks for one message to one member.
type Request struct {
	BrandID    string
	CampaignID string
	MemberID   string
	// Occurrence tells apart sendings of one campaign to one member (a
	// date, a year, an attempt); with campaign, member and channel it is
	// the idempotency key.
	Occurrence string
	Channel    Channel
	TemplateID string
	// Lang overrides the member's language.
	Lang      Lang
	Vars      map[string]string
	NotBefore time.Time
	ExpiresAt time.Time
}

// Bounds on requests.
const (
	maxID   = 64
	maxVars = 32
)

func checkID(field, v string, required bool) error {
	if v == "" && !required {
		return nil
	}
	if v == "" || len(v) > maxID || !utf8.ValidString(v) {
		return invalidf(TextBadField, field, fmt.Sprintf("%q, want 1 to %d bytes", v, maxID))
	}
	return nil
}

// Enqueue queues a message. The same (campaign, member, occurrence,
// channel) queued again returns the first message and created false, so
// callers may retry freely.
func (s *Service) Enqueue(ctx context.Context, r Request) (Message, bool, error) {
	m, err := s.message(ctx, r, nil)
	if err != nil {
		return Message{}, false, err
	}
	stored, created, err := s.Store.Enqueue(ctx, m)
	if err != nil {
		return Message{}, false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	if created {
		s.Wake()
	}
	return stored, created, nil
}

// MaxBatch is the most messages one EnqueueBatch takes.
const MaxBatch = 5000

// EnqueueBatch queues many messages in one transaction (a campaign's
// audience, a page at a time); every request is checked first and one bad
// request refuses the batch. Keys already queued are skipped, so a
// campaign that stopped half-way can enqueue its whole audience again.
func (s *Service) EnqueueBatch(ctx context.Context, rs []Request) (created int, err error) {
	if len(rs) > MaxBatch {
		return 0, invalidf(TextBadField, "batch", fmt.Sprintf("%d messages, at most %d", len(rs), MaxBatch))
	}
	templates := map[string]Template{}
	ms := make([]Message, 0, len(rs))
	for i, r := range rs {
		m, err := s.message(ctx, r, templates)
		if err != nil {
			return 0, fmt.Errorf("message %d (member %s): %w", i+1, r.MemberID, err)
		}
		ms = append(ms, m)
	}
	n, err := s.Store.EnqueueBatch(ctx, ms)
	if err != nil {
		return 0, fmt.Errorf("enqueue batch: %w", err)
	}
	if n > 0 {
		s.Wake()
	}
	return n, nil
}

// message checks a request and makes the message it asks for; templates,
// when given, caches the templates read.
func (s *Service) message(ctx context.Context, r Request, templates map[string]Template) (Message, error) {
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"brand", r.BrandID, true}, {"campaign", r.CampaignID, true}, {"member", r.MemberID, true}, {"occurrence", r.Occurrence, true}, {"template", r.TemplateID, true}} {
		if err := checkID(f.name, f.v, f.required); err != nil {
			return Message{}, err
		}
	}
	if _, err := ParseChannel(string(r.Channel)); err != nil {
		return Message{}, err
	}
	if len(r.Vars) > maxVars {
		return Message{}, invalidf(TextBadField, "variables", fmt.Sprintf("%d, at most %d", len(r.Vars), maxVars))
	}
	for k, v := range r.Vars {
		if len(k) > 32 || !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxVarValue {
			return Message{}, invalidf(TextBadField, "variable "+k, fmt.Sprintf("name up to 32 bytes, value up to %d characters", maxVarValue))
		}
	}
	t, ok := templates[r.BrandID+"\x00"+r.TemplateID]
	if !ok {
		var err error
		t, err = s.Store.Template(ctx, r.BrandID, r.TemplateID)
		if cloud.IsNotFound(err) {
			return Message{}, textError(cloud.NotFound, TextNoTemplate)
		} else if err != nil {
			return Message{}, fmt.Errorf("enqueue: read template: %w", err)
		}
		if templates != nil {
			templates[r.BrandID+"\x00"+r.TemplateID] = t
		}
	}
	if t.Channel != r.Channel {
		return Message{}, invalidf(TextBadField, "channel", fmt.Sprintf("template %s is for %s, not %s", t.ID, t.Channel, r.Channel))
	}
	for _, v := range t.Vars() {
		if _, ok := r.Vars[v]; !ok && !slices.Contains(MemberVars, v) {
			return Message{}, invalidf(TextMissingVar, v)
		}
	}
	now := s.now()
	m := Message{
		BrandID: r.BrandID, Key: MakeKey(r.CampaignID, r.MemberID, r.Occurrence, r.Channel),
		CampaignID: r.CampaignID, MemberID: r.MemberID, Occurrence: r.Occurrence,
		Channel: r.Channel, Category: t.Category, TemplateID: t.ID, Lang: r.Lang, Vars: r.Vars,
		NotBefore: r.NotBefore.UTC(), ExpiresAt: r.ExpiresAt.UTC(), Status: StatusQueued,
		CreatedAt: now, UpdatedAt: now,
	}
	if r.NotBefore.IsZero() {
		m.NotBefore = now
	}
	if r.ExpiresAt.IsZero() {
		m.ExpiresAt = time.Time{}
	}
	return m, nil
}

// Wake tells a dispatcher in this process to look for work now.
func (s *Service) Wake() {
	if s.wake == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SetPolicy validates and stores a brand's policy.
func (s *Service) SetPolicy(ctx context.Context, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = s.now()
	if err := s.Store.SetPolicy(ctx, p); err != nil {
		return fmt.Errorf("set policy of %s: %w", p.BrandID, err)
	}
	return nil
}

// PutTemplate validates and stores a template.
func (s *Service) PutTemplate(ctx context.Context, t Template) error {
	p, err := s.Store.Policy(ctx, t.BrandID)
	if err != nil {
		return fmt.Errorf("put template: read policy: %w", err)
	}
	if err := t.Validate(p); err != nil {
		return err
	}
	t.UpdatedAt = s.now()
	if err := s.Store.PutTemplate(ctx, t); err != nil {
		return fmt.Errorf("put template %s: %w", t.ID, err)
	}
	return nil
}

// SetConsent records a member's consent for a channel, effective at once:
// the dispatcher reads it before every message.
func (s *Service) SetConsent(ctx context.Context, c Consent) error {
	if _, err := ParseChannel(string(c.Channel)); err != nil {
		return err
	}
	if err := checkID("member", c.MemberID, true); err != nil {
		return err
	}
	if len(c.Address) > 128 || len(c.Source) > 32 {
		return invalidf(TextBadField, "consent", "address or source too long")
	}
	if c.At.IsZero() {
		c.At = s.now()
	}
	if err := s.Store.SetConsent(ctx, c); err != nil {
		return fmt.Errorf("set consent of member %s on %s: %w", c.MemberID, c.Channel, err)
	}
	return nil
}

// LinkWeChat records a member's openid on the brand's official account
// with their consent: the member page calls it after the OAuth round.
func (s *Service) LinkWeChat(ctx context.Context, brand, member, openid string, granted bool) error {
	if openid == "" || len(openid) > 64 {
		return invalidf(TextBadField, "openid", "1 to 64 characters")
	}
	return s.SetConsent(ctx, Consent{BrandID: brand, MemberID: member, Channel: WeChat, Granted: granted, Address: openid, Source: SourceMemberPage})
}

// InboundSMS takes a member's reply to an SMS. An opt-out (TD, T, 退订...)
// takes effect at once for every member with that phone in the brands
// using the sign name (in every brand if no brand uses it). It returns the
// consents it revoked.
func (s *Service) InboundSMS(ctx context.Context, phone, content, signName string, at time.Time) ([]Consent, error) {
	if !IsOptOutReply(content) {
		s.log().Info("inbound SMS kept", "phone_tail", tail(phone), "sign", signName)
		return nil, nil
	}
	members, err := s.Directory.MembersByPhone(ctx, phone)
	if err != nil {
		return nil, fmt.Errorf("inbound SMS: find members: %w", err)
	}
	var signed []Recipient
	for _, m := range members {
		p, err := s.Store.Policy(ctx, m.BrandID)
		if err != nil {
			return nil, fmt.Errorf("inbound SMS: policy of %s: %w", m.BrandID, err)
		}
		if signName != "" && p.SMSSignName == signName {
			signed = append(signed, m)
		}
	}
	if len(signed) > 0 {
		members = signed
	}
	if at.IsZero() {
		at = s.now()
	}
	var out []Consent
	for _, m := range members {
		c := Consent{BrandID: m.BrandID, MemberID: m.MemberID, Channel: SMS, Granted: false, Address: phone, Source: SourceSMSReply, At: at}
		if err := s.Store.SetConsent(ctx, c); err != nil {
			return out, fmt.Errorf("inbound SMS: opt out %s/%s: %w", m.BrandID, m.MemberID, err)
		}
		out = append(out, c)
	}
	s.log().Info("SMS opt-out", "phone_tail", tail(phone), "members", len(out))
	return out, nil
}

// OptOutAddress revokes consent on a channel for every member reached at
// an address (a WeChat unfollow names the openid only).
func (s *Service) OptOutAddress(ctx context.Context, ch Channel, address, source string) ([]Consent, error) {
	cs, err := s.Store.ConsentsByAddress(ctx, "", ch, address)
	if err != nil {
		return nil, fmt.Errorf("opt out %s: %w", ch, err)
	}
	var out []Consent
	for _, c := range cs {
		if !c.Granted {
			continue
		}
		c.Granted, c.Source, c.At = false, source, s.now()
		if err := s.Store.SetConsent(ctx, c); err != nil {
			return out, fmt.Errorf("opt out %s/%s: %w", c.BrandID, c.MemberID, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Receipt applies a provider's delivery report.
// A report for a message nobody knows is a NotFound error.
func (s *Service) Receipt(ctx context.Context, ch Channel, providerID, messageID string, delivered bool, reason string, at time.Time) (Message, error) {
	if at.IsZero() {
		at = s.now()
	}
	if len(providerID) > 128 || len(messageID) > 128 || len(reason) > 200 {
		return Message{}, invalidf(TextBadField, "receipt", "field too long")
	}
	m, err := s.Store.Receipt(ctx, ch, providerID, messageID, delivered, reason, at)
	if err != nil {
		return Message{}, fmt.Errorf("receipt %s %s/%s: %w", ch, providerID, messageID, err)
	}
	return m, nil
}

// MemberMessages lists a member's messages, newest first.
func (s *Service) MemberMessages(ctx context.Context, brand, member string, limit int) ([]Message, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.Store.MemberMessages(ctx, brand, member, limit)
}

// Preview renders a template for a real member, with the variables the
// caller would give, and says what it costs.
type Preview struct {
	Rendered
	To      string
	Lang    Lang
	CostFen int64
}

// Preview fills a template with a member's data.
func (s *Service) Preview(ctx context.Context, brand, templateID, member string, lang Lang, vars map[string]string) (Preview, error) {
	t, err := s.Store.Template(ctx, brand, templateID)
	if err != nil {
		return Preview{}, fmt.Errorf("preview: %w", err)
	}
	p, err := s.Store.Policy(ctx, brand)
	if err != nil {
		return Preview{}, fmt.Errorf("preview: %w", err)
	}
	rc, err := s.Directory.Recipient(ctx, brand, member)
	if err != nil {
		return Preview{}, fmt.Errorf("preview: %w", err)
	}
	if lang == "" {
		lang = rc.Lang
	}
	r, err := t.RenderFor(lang, mergeVars(rc.Vars, vars), p)
	if err != nil {
		return Preview{}, err
	}
	pv := Preview{Rendered: r, Lang: lang, To: rc.Phone}
	if t.Channel == SMS {
		pv.CostFen = costFen(int64(r.Segments), s.SMSPriceMilliFen)
	}
	return pv, nil
}

// EstimateCost renders a template for each member and adds up what the
// send would cost (SMS: per segment; WeChat and webhooks: nothing).
func (s *Service) EstimateCost(ctx context.Context, brand, templateID string, members []string, vars map[string]string) (Estimate, error) {
	t, err := s.Store.Template(ctx, brand, templateID)
	if err != nil {
		return Estimate{}, fmt.Errorf("estimate: %w", err)
	}
	p, err := s.Store.Policy(ctx, brand)
	if err != nil {
		return Estimate{}, fmt.Errorf("estimate: %w", err)
	}
	e := Estimate{PerSegmentMilliFen: s.SMSPriceMilliFen}
	for _, id := range members {
		rc, err := s.Directory.Recipient(ctx, brand, id)
		if err != nil {
			return Estimate{}, fmt.Errorf("estimate: member %s: %w", id, err)
		}
		r, err := t.RenderFor(rc.Lang, mergeVars(rc.Vars, vars), p)
		if err != nil {
			return Estimate{}, err
		}
		e.Messages++
		e.Segments += r.Segments
	}
	if t.Channel == SMS {
		e.CostFen = costFen(int64(e.Segments), s.SMSPriceMilliFen)
	}
	return e, nil
}

// costFen is segments × price, rounded up to whole fen; the price is
// bounded by HQ's configuration, the product cannot overflow for any
// realistic count (2^63 milli-fen is 92 trillion yuan).
func costFen(segments, milliFen int64) int64 {
	return (segments*milliFen + 999) / 1000
}

func mergeVars(member, given map[string]string) map[string]string {
	out := make(map[string]string, len(member)+len(given))
	for k, v := range member {
		out[k] = v
	}
	for k, v := range given {
		out[k] = v
	}
	return out
}

func tail(phone string) string {
	if len(phone) <= 4 {
		return phone
	}
	return phone[len(phone)-4:]
}
