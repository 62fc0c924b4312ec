package messaging

import (
	"context"
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
	// Workers send at once per batch (default 16).
	Workers int
	// Loops is how many batches Run keeps in flight (default 4).
	Loops int
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
	if d.Loops <= 0 {
		d.Loops = 4
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

// Run dispatches until ctx ends, with Loops batches in flight so one
// batch's database work overlaps another's sending.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.defaults()
	var wg sync.WaitGroup
	for i := range d.Loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx, fmt.Sprintf("%s/%d", d.Owner, i))
		}()
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) loop(ctx context.Context, owner string) {
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		n, err := d.dispatch(ctx, owner)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log().Error("dispatch", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.Service.wake:
		}
	}
}

// DispatchOnce claims one batch of due messages and finishes it; it
// returns how many it claimed. The batch costs three transactions (claim,
// reserve, finish) whatever its size: with SQLite's fsync per commit, a
// transaction per message would cap the rate below a gateway's.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	d.defaults()
	return d.dispatch(ctx, d.Owner)
}

// claimSize is Batch, or less when the slowest provider account could not
// take a whole batch within half a lease: a lease must not run out while
// its batch is still being sent.
func (d *Dispatcher) claimSize() int {
	n := d.Batch
	for _, b := range d.Limits {
		if b == nil || b.Rate() <= 0 {
			continue
		}
		if most := int(b.Rate() * d.Lease.Seconds() / 2); most < n {
			n = max(most, 1)
		}
	}
	return n
}

// dispatch is DispatchOnce under a lease owner of its own: each of Run's
// loops has one, so one loop never takes over another's messages.
func (d *Dispatcher) dispatch(ctx context.Context, owner string) (int, error) {
	s := d.Service
	now := s.now()
	batch, err := s.Store.Claim(ctx, owner, now, d.Lease, d.claimSize())
	if err != nil {
		return 0, fmt.Errorf("claim messages: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	pc := newPolicyCache(s.Store, s.Directory)
	consents, err := d.consents(ctx, batch)
	if err != nil {
		return len(batch), err
	}
	var done []Message
	var rs []Reservation
	var jobs []*job
	pending := map[string]*job{}
	for _, m := range batch {
		j, final, err := d.prepare(ctx, pc, consents, m, now)
		switch {
		case err != nil:
			// Left leased: another try when the lease runs out.
			d.log().Error("prepare message", "brand", m.BrandID, "message", m.ID, "err", err)
		case final != nil:
			done = append(done, *final)
		case j.inDoubt:
			jobs = append(jobs, j)
		default:
			perDay, perWeek := j.policy.Limits(m.Category)
			day, week := j.policy.Windows(now)
			rs = append(rs, Reservation{Message: j.m, DayStart: day, WeekStart: week, PerDay: perDay, PerWeek: perWeek})
			pending[m.ID] = j
		}
	}
	results, err := s.Store.Reserve(ctx, owner, now, rs)
	if err != nil {
		return len(batch), fmt.Errorf("reserve caps: %w", err)
	}
	for i, r := range results {
		j := pending[rs[i].Message.ID]
		switch {
		case r.LeaseLost:
		case !r.OK:
			reason := TextCappedWeek.Code
			if r.DayCount >= rs[i].PerDay {
				reason = TextCappedDay.Code
			}
			done = append(done, with(j.m, StatusCapped, reason))
		default:
			if !j.m.Reserved {
				j.m.ReservedAt = now
			}
			j.m.Status, j.m.Reserved = StatusSending, true
			jobs = append(jobs, j)
		}
	}
	done = append(done, d.sendAll(ctx, jobs)...)
	if ctx.Err() != nil {
		return len(batch), ctx.Err()
	}
	if _, err := s.Store.Finish(ctx, owner, s.now(), done); err != nil {
		return len(batch), fmt.Errorf("record outcomes: %w", err)
	}
	return len(batch), nil
}

// consents reads the batch's members' consent records, one query per
// brand and channel, keyed brand, channel, member.
func (d *Dispatcher) consents(ctx context.Context, batch []Message) (map[string]Consent, error) {
	groups := map[[2]string][]string{}
	for _, m := range batch {
		k := [2]string{m.BrandID, string(m.Channel)}
		groups[k] = append(groups[k], m.MemberID)
	}
	out := map[string]Consent{}
	for k, members := range groups {
		cs, err := d.Service.Store.Consents(ctx, k[0], Channel(k[1]), members)
		if err != nil {
			return nil, fmt.Errorf("read consents: %w", err)
		}
		for id, c := range cs {
			out[k[0]+"\x00"+k[1]+"\x00"+id] = c
		}
	}
	return out, nil
}

// job is a message ready to go to its provider.
type job struct {
	m       Message
	out     Outgoing
	sender  Sender
	policy  Policy
	inDoubt bool
}

func with(m Message, st Status, reason string) Message {
	m.Status, m.Reason = st, reason
	return m
}

// prepare reads what a message needs and applies the rules that need no
// count: it returns a job, or the message's final state.
func (d *Dispatcher) prepare(ctx context.Context, pc *policyCache, consents map[string]Consent, m Message, now time.Time) (*job, *Message, error) {
	s := d.Service
	final := func(st Status, reason string) (*job, *Message, error) {
		f := with(m, st, reason)
		return nil, &f, nil
	}
	p, err := pc.get(ctx, m.BrandID)
	if err != nil {
		return nil, nil, fmt.Errorf("read policy of %s: %w", m.BrandID, err)
	}
	t, err := pc.template(ctx, m.BrandID, m.TemplateID)
	if cloud.IsNotFound(err) {
		return final(StatusFailed, TextNoTemplate.Code)
	} else if err != nil {
		return nil, nil, fmt.Errorf("read template: %w", err)
	}
	rc, err := s.Directory.Recipient(ctx, m.BrandID, m.MemberID)
	if cloud.IsNotFound(err) {
		return final(StatusFailed, TextNoAddress.Code)
	} else if err != nil {
		return nil, nil, fmt.Errorf("read member: %w", err)
	}
	sender := d.Senders[m.Channel]
	if sender == nil {
		return final(StatusFailed, TextNoSender.Code)
	}
	inDoubt := m.Status == StatusSending
	if !inDoubt {
		c, ok := consents[m.BrandID+"\x00"+string(m.Channel)+"\x00"+m.MemberID]
		dec := Decide(p, m, rc, c, ok, now)
		switch dec.Status {
		case StatusHeldQuietHours:
			m.NotBefore = dec.NotBefore
			return final(StatusHeldQuietHours, dec.Reason)
		case StatusSending:
			m.To = dec.To
		default:
			return final(dec.Status, dec.Reason)
		}
	}
	lang := m.Lang
	if lang == "" {
		lang = rc.Lang
	}
	vars := mergeVars(rc.Vars, m.Vars)
	r, err := t.RenderFor(lang, vars, p)
	if err != nil {
		m.Reserved = false
		return final(StatusFailed, TextMissingVar.Code)
	}
	out := Outgoing{ID: m.ID, BrandID: m.BrandID, MemberID: m.MemberID, Channel: m.Channel, Category: m.Category,
		To: m.To, Lang: lang, Template: t.Provider(lang), WeChatKind: t.WeChatKind, Vars: templateVars(t, vars), Rendered: r,
		SignName: p.SMSSignName, WebhookURL: p.WebhookURL, WebhookSecret: p.WebhookSecret, CampaignID: m.CampaignID, CreatedAt: m.CreatedAt}
	return &job{m: m, out: out, sender: sender, policy: p, inDoubt: inDoubt}, nil, nil
}

// sendAll sends jobs with Workers at once, each at its account's rate,
// and returns their outcomes.
func (d *Dispatcher) sendAll(ctx context.Context, jobs []*job) []Message {
	if len(jobs) == 0 {
		return nil
	}
	work := make(chan *job)
	results := make(chan Message, len(jobs))
	var wg sync.WaitGroup
	for range min(d.Workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if m, ok := d.send(ctx, j); ok {
					results <- m
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	close(results)
	out := make([]Message, 0, len(jobs))
	for m := range results {
		out = append(out, m)
	}
	return out
}

// send hands one message to its provider; ok false leaves it leased (the
// dispatcher is stopping, or the provider could not be asked).
func (d *Dispatcher) send(ctx context.Context, j *job) (Message, bool) {
	m, s := j.m, d.Service
	if j.inDoubt {
		if f, ok := j.sender.(Finder); ok {
			id, found, err := f.Find(ctx, j.out, m.CreatedAt)
			if err != nil {
				return d.retry(m, fmt.Errorf("look up in-doubt message: %w", err)), true
			}
			if found {
				m.ProviderID, m.SentAt = id, s.now()
				d.log().Info("in-doubt message found at the provider", "brand", m.BrandID, "message", m.ID)
				return with(m, StatusSent, ""), true
			}
		} else if dd, ok := j.sender.(Deduper); !ok || !dd.Dedups(j.out) {
			// Neither asking nor resending is safe: say so rather than
			// risk sending twice.
			return with(m, StatusFailed, TextInDoubt.Code), true
		}
	}
	if err := d.Limits[m.Channel].Wait(ctx); err != nil {
		return m, false
	}
	sctx, cancel := context.WithTimeout(ctx, d.SendTimeout)
	id, err := j.sender.Send(sctx, j.out)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return m, false
		}
		return d.failed(ctx, m, err), true
	}
	if d.BeforeFinish != nil {
		d.BeforeFinish(m)
	}
	m.ProviderID, m.SentAt, m.Attempts = id, s.now(), m.Attempts+1
	return with(m, StatusSent, ""), true
}

// failed turns a provider's refusal into the message's next state.
func (d *Dispatcher) failed(ctx context.Context, m Message, err error) Message {
	kind, code := FailKindOf(err)
	switch kind {
	case Permanent:
		m.Reserved, m.Attempts = false, m.Attempts+1
		return with(m, StatusFailed, TextProviderRefused.Code+":"+code)
	case Refused:
		m.Reserved, m.Attempts = false, m.Attempts+1
		if m.Channel == WeChat {
			c := Consent{BrandID: m.BrandID, MemberID: m.MemberID, Channel: m.Channel, Granted: false, Source: SourceWeChat, At: d.Service.now()}
			if err := d.Service.Store.SetConsent(ctx, c); err != nil {
				d.log().Error("record WeChat refusal", "member", m.MemberID, "err", err)
			}
		}
		return with(m, StatusOptedOut, TextUserRefused.Code)
	case RateLimited:
		// Hold the account briefly: its window is short, and every worker
		// hitting the limit at once would only waste requests.
		d.Limits[m.Channel].Pause(time.Now(), 200*time.Millisecond)
	}
	return d.retry(m, err)
}

// retry puts a message back in the queue after a backoff, or fails it
// after MaxAttempts. It keeps its place in the caps: it will be sent.
func (d *Dispatcher) retry(m Message, cause error) Message {
	_, code := FailKindOf(cause)
	m.Attempts++
	if m.Attempts >= d.MaxAttempts {
		m.Reserved = false
		return with(m, StatusFailed, TextTooManyAttempts.Code+":"+code)
	}
	m.NotBefore = d.Service.now().Add(d.Backoff(m.Attempts))
	d.log().Warn("message retry", "brand", m.BrandID, "message", m.ID, "attempt", m.Attempts, "err", cause)
	return with(m, StatusQueued, TextRetrying.Code+":"+code)
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

// policyCache keeps the policies and templates read for one batch.
type policyCache struct {
	st        Store
	dir       Directory
	m         map[string]Policy
	templates map[string]Template
}

func newPolicyCache(st Store, dir Directory) *policyCache {
	return &policyCache{st: st, dir: dir, m: map[string]Policy{}, templates: map[string]Template{}}
}

func (c *policyCache) get(ctx context.Context, brand string) (Policy, error) {
	if p, ok := c.m[brand]; ok {
		return p, nil
	}
	p, err := c.st.Policy(ctx, brand)
	if err != nil {
		return Policy{}, err
	}
	zone := ""
	if p.TimeZone == "" {
		if zone, err = c.dir.BrandTimeZone(ctx, brand); err != nil {
			return Policy{}, fmt.Errorf("brand time zone: %w", err)
		}
	}
	p = p.WithLocation(zone)
	c.m[brand] = p
	return p, nil
}

func (c *policyCache) template(ctx context.Context, brand, id string) (Template, error) {
	key := brand + "\x00" + id
	if t, ok := c.templates[key]; ok {
		return t, nil
	}
	t, err := c.st.Template(ctx, brand, id)
	if err != nil {
		return Template{}, err
	}
	c.templates[key] = t
	return t, nil
}

// Decision is what the rules say about a message now.
type Decision struct {
	Status Status
	Reason string
	// NotBefore: for a held message, when it may go.
	NotBefore time.Time
	To        string
}

// Decide applies expiry, consent, address and quiet hours to a message,
// given the brand's policy, the member, and the member's consent record
// on the channel (ok false: none recorded). Caps need the store's count
// and come after. Status Sending means go.
func Decide(p Policy, m Message, rc Recipient, c Consent, ok bool, now time.Time) Decision {
	if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
		return Decision{Status: StatusExpired, Reason: TextExpired.Code}
	}
	if m.Category == Marketing {
		switch {
		case ok && !c.Granted:
			return Decision{Status: StatusOptedOut, Reason: TextOptedOut.Code}
		case !ok && !rc.Consent:
			return Decision{Status: StatusOptedOut, Reason: TextNoConsent.Code}
		}
	}
	var to string
	switch m.Channel {
	case WeChat:
		to = c.Address
	case SMS:
		// The member's phone as the programme knows it now; the one kept
		// with the consent may be an old one.
		to = rc.Phone
		if to == "" {
			to = c.Address
		}
	case Webhook:
		if p.WebhookURL == "" {
			return Decision{Status: StatusFailed, Reason: TextNoSender.Code}
		}
		to = p.WebhookURL
	}
	if to == "" {
		return Decision{Status: StatusFailed, Reason: TextNoAddress.Code}
	}
	if m.Channel == SMS && p.SMSSignName == "" {
		return Decision{Status: StatusFailed, Reason: TextNoSignName.Code}
	}
	if m.Category == Marketing {
		if until := p.QuietHours.Until(now, p.Location()); until.After(now) {
			if !m.ExpiresAt.IsZero() && !until.Before(m.ExpiresAt) {
				return Decision{Status: StatusExpired, Reason: TextExpired.Code}
			}
			return Decision{Status: StatusHeldQuietHours, Reason: TextQuietHours.Code, NotBefore: until}
		}
	}
	return Decision{Status: StatusSending, To: to}
}
