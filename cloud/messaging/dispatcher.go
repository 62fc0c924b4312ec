package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Dispatcher sends due messages: it claims a batch with a lease, applies
// the rules to each (expiry, consent, address, quiet hours, caps), waits
// for the provider account's rate, sends, and records the outcome. Several
// dispatchers (in several processes) may share a store.
type Dispatcher struct {
	Service *Service
	Senders map[Channel]Sender
	// Limits are the provider accounts' rates; a channel without one is
	// not rate limited here.
	Limits map[Channel]*Bucket
	// Owner names this dispatcher in leases; unique per process.
	Owner string
	// Lease is how long a claim lasts; a message still sending when it
	// runs out is taken over by another dispatcher (default 1 min).
	Lease time.Duration
	// Batch is how many messages one claim takes (default 200).
	Batch int
	// Workers send at once (default 16).
	Workers int
	// MaxAttempts before a message fails (default 8).
	MaxAttempts int
	// Backoff is the wait before retry n (1, 2, ...); default doubles from
	// 10 s to 1 h with jitter.
	Backoff func(attempt int) time.Duration
	// Poll is how often an idle dispatcher looks for due messages (held
	// messages coming out of quiet hours, retries); default 1 s.
	Poll time.Duration
	// SendTimeout bounds one provider call (default 15 s).
	SendTimeout time.Duration
	Logger      *slog.Logger
	// beforeFinish, when set (tests), runs after a provider accepted a
	// message and before the outcome is recorded: the crash point.
	BeforeFinish func(m Message)
}

func (d *Dispatcher) defaults() {
	if d.Lease <= 0 {
		d.Lease = time.Minute
	}
	if d.Batch <= 0 {
		d.Batch = 200
	}
	if d.Workers <= 0 {
		d.Workers = 16
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 8
	}
	if d.Backoff == nil {
		d.Backoff = DefaultBackoff
	}
	if d.Poll <= 0 {
		d.Poll = time.Second
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = 15 * time.Second
	}
	if d.Owner == "" {
		d.Owner = fmt.Sprintf("dispatcher-%d", rand.Int64())
	}
}

// DefaultBackoff doubles from 10 s up to 1 h, with ±20% jitter so retries
// of one failure do not come back together.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	if d > time.Hour {
		d = time.Hour
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return d.Service.log()
}

// Run dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.defaults()
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		n, err := d.DispatchOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.log().Error("dispatch", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.Service.wake:
		}
	}
}

// DispatchOnce claims one batch of due messages and finishes it; it
// returns how many it claimed.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	d.defaults()
	now := d.Service.now()
	batch, err := d.Service.Store.Claim(ctx, d.Owner, now, d.Lease, d.Batch)
	if err != nil {
		return 0, fmt.Errorf("claim messages: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	work := make(chan Message)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range min(d.Workers, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := newPolicyCache(d.Service.Store)
			for m := range work {
				if err := d.process(ctx, pc, m); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					if !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
						d.log().Error("dispatch message", "brand", m.BrandID, "message", m.ID, "err", err)
					}
				}
			}
		}()
	}
	for _, m := range batch {
		work <- m
	}
	close(work)
	wg.Wait()
	if errors.Is(firstErr, ErrLeaseLost) {
		firstErr = nil
	}
	return len(batch), firstErr
}

// policyCache keeps the policies one worker read during one batch.
type policyCache struct {
	st Store
	m  map[string]Policy
}

func newPolicyCache(st Store) *policyCache { return &policyCache{st: st, m: map[string]Policy{}} }

func (c *policyCache) get(ctx context.Context, brand string) (Policy, error) {
	if p, ok := c.m[brand]; ok {
		return p, nil
	}
	p, err := c.st.Policy(ctx, brand)
	if err != nil {
		return Policy{}, err
	}
	c.m[brand] = p
	return p, nil
}

// finish ends a message with a final or waiting status.
func (d *Dispatcher) finish(ctx context.Context, m Message, st Status, reason string) error {
	m.Status, m.Reason = st, reason
	if err := d.Service.Store.Finish(ctx, m, d.Owner, d.Service.now()); err != nil {
		return fmt.Errorf("record %s for message %s: %w", st, m.ID, err)
	}
	return nil
}

// Decision is what the rules say about a message now.
type Decision struct {
	Status Status
	Reason string
	// NotBefore: for a held message, when it may go.
	NotBefore time.Time
	To        string
}

// Decide applies expiry, consent, address and quiet hours to a message
// (caps need the store's count and come after). Status Sending means go.
func (s *Service) Decide(ctx context.Context, p Policy, m Message, rc Recipient, now time.Time) (Decision, error) {
	if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
		return Decision{Status: StatusExpired, Reason: TextExpired.Code}, nil
	}
	c, ok, err := s.Store.Consent(ctx, m.BrandID, m.MemberID, m.Channel)
	if err != nil {
		return Decision{}, fmt.Errorf("read consent: %w", err)
	}
	if m.Category == Marketing {
		switch {
		case ok && !c.Granted:
			return Decision{Status: StatusOptedOut, Reason: TextOptedOut.Code}, nil
		case !ok && !rc.Consent:
			return Decision{Status: StatusOptedOut, Reason: TextNoConsent.Code}, nil
		}
	}
	var to string
	switch m.Channel {
	case WeChat:
		to = c.Address
	case SMS:
		to = rc.Phone
		if ok && c.Address != "" {
			to = c.Address
		}
	case Webhook:
		if p.WebhookURL == "" {
			return Decision{Status: StatusFailed, Reason: TextNoSender.Code}, nil
		}
		to = p.WebhookURL
	}
	if to == "" {
		return Decision{Status: StatusFailed, Reason: TextNoAddress.Code}, nil
	}
	if m.Channel == SMS && p.SMSSignName == "" {
		return Decision{Status: StatusFailed, Reason: TextNoSignName.Code}, nil
	}
	if m.Category == Marketing {
		if until := p.QuietHours.Until(now, p.Location()); until.After(now) {
			if !m.ExpiresAt.IsZero() && !until.Before(m.ExpiresAt) {
				return Decision{Status: StatusExpired, Reason: TextExpired.Code}, nil
			}
			return Decision{Status: StatusHeldQuietHours, Reason: TextQuietHours.Code, NotBefore: until}, nil
		}
	}
	return Decision{Status: StatusSending, To: to}, nil
}

func (d *Dispatcher) process(ctx context.Context, pc *policyCache, m Message) error {
	s := d.Service
	p, err := pc.get(ctx, m.BrandID)
	if err != nil {
		return fmt.Errorf("read policy of %s: %w", m.BrandID, err)
	}
	t, err := s.Store.Template(ctx, m.BrandID, m.TemplateID)
	if cloud.IsNotFound(err) {
		return d.finish(ctx, m, StatusFailed, TextNoTemplate.Code)
	} else if err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	rc, err := s.Directory.Recipient(ctx, m.BrandID, m.MemberID)
	if cloud.IsNotFound(err) {
		return d.finish(ctx, m, StatusFailed, TextNoAddress.Code)
	} else if err != nil {
		return fmt.Errorf("read member: %w", err)
	}
	sender := d.Senders[m.Channel]
	if sender == nil {
		return d.finish(ctx, m, StatusFailed, TextNoSender.Code)
	}
	inDoubt := m.Status == StatusSending
	now := s.now()
	if !inDoubt {
		dec, err := s.Decide(ctx, p, m, rc, now)
		if err != nil {
			return err
		}
		switch dec.Status {
		case StatusHeldQuietHours:
			m.NotBefore = dec.NotBefore
			return d.finish(ctx, m, StatusHeldQuietHours, dec.Reason)
		case StatusSending:
			m.To = dec.To
		default:
			return d.finish(ctx, m, dec.Status, dec.Reason)
		}
		perDay, perWeek := p.Limits(m.Category)
		day, week := p.Windows(now)
		ok, dayCount, err := s.Store.Reserve(ctx, m, d.Owner, now, day, week, perDay, perWeek)
		if err != nil {
			return fmt.Errorf("reserve caps: %w", err)
		}
		if !ok {
			reason := TextCappedWeek.Code
			if dayCount >= perDay {
				reason = TextCappedDay.Code
			}
			return d.finish(ctx, m, StatusCapped, reason)
		}
		if !m.Reserved {
			m.ReservedAt = now
		}
		m.Status, m.Reserved = StatusSending, true
	}
	lang := m.Lang
	if lang == "" {
		lang = rc.Lang
	}
	r, err := t.RenderFor(lang, mergeVars(rc.Vars, m.Vars), p)
	if err != nil {
		m.Reserved = false
		return d.finish(ctx, m, StatusFailed, TextMissingVar.Code)
	}
	out := Outgoing{ID: m.ID, BrandID: m.BrandID, MemberID: m.MemberID, Channel: m.Channel, Category: m.Category,
		To: m.To, Lang: lang, Template: t.Provider(lang), WeChatKind: t.WeChatKind, Vars: templateVars(t, mergeVars(rc.Vars, m.Vars)), Rendered: r,
		SignName: p.SMSSignName, WebhookURL: p.WebhookURL, WebhookSecret: p.WebhookSecret, CampaignID: m.CampaignID, CreatedAt: m.CreatedAt}
	if inDoubt {
		if f, ok := sender.(Finder); ok {
			id, found, err := f.Find(ctx, out, m.CreatedAt)
			if err != nil {
				return d.retry(ctx, m, fmt.Errorf("look up in-doubt message: %w", err))
			}
			if found {
				m.ProviderID, m.SentAt = id, now
				d.log().Info("in-doubt message found at the provider", "brand", m.BrandID, "message", m.ID)
				return d.finish(ctx, m, StatusSent, "")
			}
		} else if dd, ok := sender.(Deduper); !ok || !dd.Dedups(out) {
			// Neither asking nor resending is safe: say so rather than
			// risk sending twice.
			return d.finish(ctx, m, StatusFailed, TextInDoubt.Code)
		}
	}
	if err := d.Limits[m.Channel].Wait(ctx); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, d.SendTimeout)
	id, err := sender.Send(sctx, out)
	cancel()
	if err != nil {
		return d.failed(ctx, m, err)
	}
	if d.BeforeFinish != nil {
		d.BeforeFinish(m)
	}
	m.ProviderID, m.SentAt, m.Attempts = id, s.now(), m.Attempts+1
	return d.finish(ctx, m, StatusSent, "")
}

// failed records a provider's refusal by its kind.
func (d *Dispatcher) failed(ctx context.Context, m Message, err error) error {
	kind, code := FailKindOf(err)
	switch kind {
	case Permanent:
		m.Reserved, m.Attempts = false, m.Attempts+1
		return d.finish(ctx, m, StatusFailed, TextProviderRefused.Code+":"+code)
	case Refused:
		m.Reserved, m.Attempts = false, m.Attempts+1
		if m.Channel == WeChat {
			c := Consent{BrandID: m.BrandID, MemberID: m.MemberID, Channel: m.Channel, Granted: false, Source: SourceWeChat, At: d.Service.now()}
			if err := d.Service.Store.SetConsent(ctx, c); err != nil {
				return fmt.Errorf("record refusal: %w", err)
			}
		}
		return d.finish(ctx, m, StatusOptedOut, TextUserRefused.Code)
	case RateLimited:
		d.Limits[m.Channel].Pause(time.Now(), time.Second)
	}
	return d.retry(ctx, m, err)
}

// retry puts a message back in the queue after a backoff, or fails it
// after MaxAttempts. It keeps its place in the caps: it will be sent.
func (d *Dispatcher) retry(ctx context.Context, m Message, cause error) error {
	_, code := FailKindOf(cause)
	m.Attempts++
	if m.Attempts >= d.MaxAttempts {
		m.Reserved = false
		return d.finish(ctx, m, StatusFailed, TextTooManyAttempts.Code+":"+code)
	}
	m.NotBefore = d.Service.now().Add(d.Backoff(m.Attempts))
	d.log().Warn("message retry", "brand", m.BrandID, "message", m.ID, "attempt", m.Attempts, "err", cause)
	return d.finish(ctx, m, StatusQueued, TextRetrying.Code+":"+code)
}

// templateVars keeps the variables a template uses: a gateway given
// variables its template lacks may refuse the message.
func templateVars(t Template, vars map[string]string) map[string]string {
	out := map[string]string{}
	for _, v := range t.Vars() {
		out[v] = vars[v]
	}
	return out
}
