package messaging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// rig is a service, a dispatcher, a directory and recording senders on a
// real store.
type rig struct {
	t     *testing.T
	ctx   context.Context
	clock *messagingtest.Clock
	svc   *messaging.Service
	disp  *messaging.Dispatcher
	dir   *messagingtest.Directory
	sms   *messagingtest.Sender
	wx    *messagingtest.Sender
}

func newRig(t *testing.T, st messaging.Store, start time.Time) *rig {
	t.Helper()
	r := &rig{t: t, ctx: context.Background(), clock: messagingtest.NewClock(start), dir: messagingtest.NewDirectory(),
		sms: &messagingtest.Sender{}, wx: &messagingtest.Sender{}}
	r.svc = messaging.NewService(st, r.dir)
	r.svc.Now = r.clock.Now
	r.disp = &messaging.Dispatcher{Service: r.svc, Senders: map[messaging.Channel]messaging.Sender{messaging.SMS: r.sms, messaging.WeChat: r.wx},
		Owner: "test", Backoff: func(int) time.Duration { return time.Minute }}
	p := messaging.DefaultPolicy("cha")
	p.SMSSignName = "茶小满"
	if err := r.svc.SetPolicy(r.ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, tpl := range []messaging.Template{
		{BrandID: "cha", ID: "promo", Channel: messaging.SMS, Category: messaging.Marketing, ProviderTemplate: "SMS_1001",
			Zh: "${name}您好，本周新品买一送一，${code}。回TD退订", En: "Hi ${name}, buy one get one this week, ${code}. Reply TD to opt out"},
		{BrandID: "cha", ID: "balance", Channel: messaging.SMS, Category: messaging.Transactional, ProviderTemplate: "SMS_2001",
			Zh: "${name}您好，您的储值余额变动，当前余额${stored_value}元。"},
		{BrandID: "cha", ID: "wx-promo", Channel: messaging.WeChat, Category: messaging.Marketing, ProviderTemplate: "tpl-abc",
			WeChatKind: messaging.WeChatTemplate, Zh: "新品上市", Fields: map[string]string{"thing1": "${name}", "thing2": "新品上市"}},
	} {
		if err := r.svc.PutTemplate(r.ctx, tpl); err != nil {
			t.Fatalf("put template %s: %v", tpl.ID, err)
		}
	}
	return r
}

func (r *rig) member(id, phone string, consent bool) {
	r.dir.Add(messaging.Recipient{BrandID: "cha", MemberID: id, Name: "会员" + id, Phone: phone, Lang: messaging.Zh, Consent: consent,
		Vars: map[string]string{"name": "会员" + id, "stored_value": "88.00"}})
}

func (r *rig) enqueue(campaign, member, occurrence string, ch messaging.Channel, tpl string, expires time.Time) messaging.Message {
	r.t.Helper()
	m, _, err := r.svc.Enqueue(r.ctx, messaging.Request{BrandID: "cha", CampaignID: campaign, MemberID: member, Occurrence: occurrence,
		Channel: ch, TemplateID: tpl, Vars: map[string]string{"code": "CP8K2M"}, ExpiresAt: expires})
	if err != nil {
		r.t.Fatalf("enqueue %s to %s: %v", campaign, member, err)
	}
	return m
}

// drain dispatches until nothing is due now.
func (r *rig) drain() {
	r.t.Helper()
	for range 100 {
		n, err := r.disp.DispatchOnce(r.ctx)
		if err != nil {
			r.t.Fatalf("dispatch: %v", err)
		}
		if n == 0 {
			return
		}
	}
	r.t.Fatal("dispatch never drained")
}

func (r *rig) status(m messaging.Message) messaging.Message {
	r.t.Helper()
	got, err := r.svc.Store.Message(r.ctx, m.BrandID, m.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return got
}

func (r *rig) want(m messaging.Message, st messaging.Status, reason string) {
	r.t.Helper()
	got := r.status(m)
	if got.Status != st || (reason != "" && got.Reason != reason) {
		r.t.Errorf("message %s (%s to %s on %s): status %s reason %q, want %s %q", got.ID, got.CampaignID, got.MemberID, got.Channel, got.Status, got.Reason, st, reason)
	}
}

// Two campaigns aim at the same members the same day: the daily marketing
// cap lets one through per member and channel, consent and opt-outs hold,
// transactional messages pass, and the weekly cap stops the fourth day.
func TestTwoCampaignsSameDay(t *testing.T) {
	for _, e := range messagingtest.Engines {
		t.Run(e.Name, func(t *testing.T) {
			r := newRig(t, e.Open(t), time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai))
			r.member("a", "13800000001", true)
			r.member("b", "13800000002", false) // joined without marketing consent
			r.member("c", "13800000003", true)
			if err := r.svc.LinkWeChat(r.ctx, "cha", "a", "oA-openid-a", true); err != nil {
				t.Fatal(err)
			}
			// c replies TD to an earlier SMS: opted out at once.
			if got, err := r.svc.InboundSMS(r.ctx, "13800000003", " td ", "茶小满", time.Time{}); err != nil || len(got) != 1 {
				t.Fatalf("inbound TD: %v, %d opt-outs", err, len(got))
			}

			a1 := r.enqueue("spring", "a", "2026-03-02", messaging.SMS, "promo", time.Time{})
			b1 := r.enqueue("spring", "b", "2026-03-02", messaging.SMS, "promo", time.Time{})
			c1 := r.enqueue("spring", "c", "2026-03-02", messaging.SMS, "promo", time.Time{})
			r.drain()
			a2 := r.enqueue("new-tea", "a", "2026-03-02", messaging.SMS, "promo", time.Time{})
			aw := r.enqueue("new-tea", "a", "2026-03-02", messaging.WeChat, "wx-promo", time.Time{})
			at := r.enqueue("balance", "a", "ev-1", messaging.SMS, "balance", time.Time{})
			ct := r.enqueue("balance", "c", "ev-2", messaging.SMS, "balance", time.Time{})
			again := r.enqueue("spring", "a", "2026-03-02", messaging.SMS, "promo", time.Time{})
			r.drain()

			r.want(a1, messaging.StatusSent, "")
			r.want(b1, messaging.StatusOptedOut, messaging.TextNoConsent.Code)
			r.want(c1, messaging.StatusOptedOut, messaging.TextOptedOut.Code)
			r.want(a2, messaging.StatusCapped, messaging.TextCappedDay.Code)
			r.want(aw, messaging.StatusSent, "") // another channel, its own cap
			r.want(at, messaging.StatusSent, "") // transactional: not blocked by marketing
			r.want(ct, messaging.StatusSent, "") // nor by an SMS marketing opt-out
			if again.ID != a1.ID {
				t.Errorf("same key enqueued twice made a second message %s", again.ID)
			}
			if n := r.sms.Count(); n != 3 {
				t.Errorf("SMS sent %d, want 3 (a's first promo and two balance notices)", n)
			}
			if got := r.sms.Sent[0]; got.To != "13800000001" || got.SignName != "茶小满" || got.Template != "SMS_1001" || got.ID != a1.ID {
				t.Errorf("first SMS %+v", got)
			}
			if got := r.wx.Sent[0]; got.To != "oA-openid-a" || got.Rendered.Fields["thing1"] != "会员a" {
				t.Errorf("WeChat message %+v", got)
			}

			// Days 2 and 3: one a day goes; day 4 is over the 3 a week.
			for day, want := range []messaging.Status{messaging.StatusSent, messaging.StatusSent, messaging.StatusCapped} {
				r.clock.Set(time.Date(2026, 3, 3+day, 10, 0, 0, 0, shanghai))
				m := r.enqueue("daily", "a", r.clock.Now().Format("2006-01-02"), messaging.SMS, "promo", time.Time{})
				r.drain()
				reason := ""
				if want == messaging.StatusCapped {
					reason = messaging.TextCappedWeek.Code
				}
				r.want(m, want, reason)
			}
			// A week after the first: room again.
			r.clock.Set(time.Date(2026, 3, 9, 10, 0, 0, 0, shanghai))
			r.want(r.enqueue("daily", "a", "2026-03-09", messaging.SMS, "promo", time.Time{}), messaging.StatusQueued, "")
			r.drain()
			r.want(r.enqueue("daily", "a", "2026-03-09", messaging.SMS, "promo", time.Time{}), messaging.StatusSent, "")
		})
	}
}

// Marketing in quiet hours waits for the morning and is not dropped; an
// offer expired by then is not sent late; transactional goes at once.
func TestQuietHours(t *testing.T) {
	for _, e := range messagingtest.Engines {
		t.Run(e.Name, func(t *testing.T) {
			r := newRig(t, e.Open(t), time.Date(2026, 3, 2, 22, 30, 0, 0, shanghai))
			r.member("a", "13800000001", true)
			r.member("b", "13800000002", true)
			held := r.enqueue("night", "a", "1", messaging.SMS, "promo", time.Time{})
			gone := r.enqueue("night", "b", "1", messaging.SMS, "promo", time.Date(2026, 3, 3, 8, 0, 0, 0, shanghai))
			now := r.enqueue("balance", "a", "ev-9", messaging.SMS, "balance", time.Time{})
			r.drain()
			r.want(held, messaging.StatusHeldQuietHours, messaging.TextQuietHours.Code)
			r.want(gone, messaging.StatusExpired, messaging.TextExpired.Code)
			r.want(now, messaging.StatusSent, "")
			if got := r.status(held).NotBefore; !got.Equal(time.Date(2026, 3, 3, 9, 0, 0, 0, shanghai)) {
				t.Errorf("held until %v, want 09:00 the next morning", got.In(shanghai))
			}
			r.clock.Set(time.Date(2026, 3, 3, 8, 59, 0, 0, shanghai))
			r.drain()
			r.want(held, messaging.StatusHeldQuietHours, "")
			r.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, shanghai))
			r.drain()
			r.want(held, messaging.StatusSent, "")
			hist, err := r.svc.Store.History(r.ctx, "cha", held.ID)
			if err != nil {
				t.Fatal(err)
			}
			var seq []messaging.Status
			for _, h := range hist {
				seq = append(seq, h.Status)
			}
			want := []messaging.Status{messaging.StatusQueued, messaging.StatusHeldQuietHours, messaging.StatusSending, messaging.StatusSent}
			if len(seq) != len(want) {
				t.Fatalf("history %v, want %v", seq, want)
			}
			for i := range want {
				if seq[i] != want[i] {
					t.Fatalf("history %v, want %v", seq, want)
				}
			}
		})
	}
}

// Provider refusals: transient ones are retried with backoff and then
// fail; permanent ones fail at once and give the cap back; a WeChat
// refusal (43101) opts the member out of WeChat.
func TestRetriesAndRefusals(t *testing.T) {
	r := newRig(t, messagingtest.SQLite(t), time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai))
	r.disp.MaxAttempts = 3
	r.member("a", "13800000001", true)
	r.member("b", "13800000002", true)
	if err := r.svc.LinkWeChat(r.ctx, "cha", "b", "oB", true); err != nil {
		t.Fatal(err)
	}
	r.sms.SetErr(&messaging.SendError{Kind: messaging.Transient, Code: "503"})
	m := r.enqueue("p", "a", "1", messaging.SMS, "promo", time.Time{})
	for attempt := 1; attempt <= 3; attempt++ {
		r.drain()
		got := r.status(m)
		if attempt < 3 && (got.Status != messaging.StatusQueued || got.Attempts != attempt || !got.NotBefore.Equal(r.clock.Now().Add(time.Minute).Truncate(time.Millisecond))) {
			t.Fatalf("attempt %d: %+v", attempt, got)
		}
		r.clock.Add(time.Minute)
	}
	r.want(m, messaging.StatusFailed, messaging.TextTooManyAttempts.Code+":503")

	r.sms.SetErr(&messaging.SendError{Kind: messaging.Permanent, Code: "isv.MOBILE_NUMBER_ILLEGAL"})
	m2 := r.enqueue("p", "b", "1", messaging.SMS, "promo", time.Time{})
	r.drain()
	r.want(m2, messaging.StatusFailed, messaging.TextProviderRefused.Code+":isv.MOBILE_NUMBER_ILLEGAL")
	// The cap was given back: b's next marketing SMS today goes.
	r.sms.SetErr(nil)
	m3 := r.enqueue("p2", "b", "1", messaging.SMS, "promo", time.Time{})
	r.drain()
	r.want(m3, messaging.StatusSent, "")

	r.wx.SetErr(&messaging.SendError{Kind: messaging.Refused, Code: "43101"})
	w := r.enqueue("p", "b", "1", messaging.WeChat, "wx-promo", time.Time{})
	r.drain()
	r.want(w, messaging.StatusOptedOut, messaging.TextUserRefused.Code)
	c, ok, err := r.svc.Store.Consent(r.ctx, "cha", "b", messaging.WeChat)
	if err != nil || !ok || c.Granted || c.Source != messaging.SourceWeChat || c.Address != "oB" {
		t.Errorf("consent after 43101: %+v %v %v", c, ok, err)
	}
}

// A campaign enqueues its audience in batches; enqueuing it again after a
// stop adds nothing, and one bad request refuses its batch.
func TestEnqueueBatch(t *testing.T) {
	r := newRig(t, messagingtest.SQLite(t), time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai))
	var rs []messaging.Request
	for i := range 30 {
		rs = append(rs, messaging.Request{BrandID: "cha", CampaignID: "spring", MemberID: fmt.Sprint(i), Occurrence: "2026-03",
			Channel: messaging.SMS, TemplateID: "promo", Vars: map[string]string{"code": "X"}})
	}
	if n, err := r.svc.EnqueueBatch(r.ctx, rs[:20]); err != nil || n != 20 {
		t.Fatalf("first batch: %d %v", n, err)
	}
	if n, err := r.svc.EnqueueBatch(r.ctx, rs); err != nil || n != 10 {
		t.Fatalf("whole audience again: %d new, %v; want 10", n, err)
	}
	bad := append([]messaging.Request{}, rs[:2]...)
	bad[0].MemberID, bad = "new", append(bad, messaging.Request{BrandID: "cha", CampaignID: "spring", MemberID: "x", Occurrence: "1", Channel: messaging.SMS, TemplateID: "promo"})
	if n, err := r.svc.EnqueueBatch(r.ctx, bad); err == nil || n != 0 {
		t.Fatalf("batch with a missing variable: %d %v", n, err)
	}
	counts, _ := r.svc.Store.Counts(r.ctx, "cha")
	if counts[messaging.StatusQueued] != 30 {
		t.Errorf("queued %v, want 30", counts)
	}
}

// A cost estimate renders the template for each member: a name long
// enough to push one member's SMS past 70 characters costs two segments.
func TestEstimateCost(t *testing.T) {
	r := newRig(t, messagingtest.SQLite(t), time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai))
	long := "欧阳" + strings.Repeat("长", 40)
	r.dir.Add(messaging.Recipient{BrandID: "cha", MemberID: "long", Name: long, Phone: "13800000009", Consent: true, Vars: map[string]string{"name": long}})
	r.member("a", "13800000001", true)
	r.member("b", "13800000002", true)
	e, err := r.svc.EstimateCost(r.ctx, "cha", "promo", []string{"a", "b", "long"}, map[string]string{"code": "CP8K2M"})
	if err != nil {
		t.Fatal(err)
	}
	// 4500 milli-fen a segment: 4 segments = 18 fen.
	if e.Messages != 3 || e.Segments != 4 || e.CostFen != 18 {
		t.Errorf("estimate %+v, want 3 messages, 4 segments, 18 fen", e)
	}
	p, err := r.svc.Preview(r.ctx, "cha", "promo", "long", messaging.Zh, map[string]string{"code": "CP8K2M"})
	if err != nil || p.Segments != 2 || !strings.HasPrefix(p.SMSText, "【茶小满】欧阳长") || p.CostFen != 9 {
		t.Errorf("preview %+v %v", p, err)
	}
	if _, err := r.svc.Preview(r.ctx, "cha", "promo", "nobody", "", nil); err == nil {
		t.Error("preview for an unknown member")
	}
}

// Quiet hours and days run in the brand's time zone when the messaging
// policy names none: 22:30 in New York is quiet, whatever Shanghai says.
func TestBrandTimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, messagingtest.SQLite(t), time.Date(2026, 3, 2, 22, 30, 0, 0, ny)) // 11:30 in Shanghai
	r.dir.SetZone("cha", "America/New_York")
	r.member("a", "13800000001", true)
	m := r.enqueue("night", "a", "1", messaging.SMS, "promo", time.Time{})
	r.drain()
	r.want(m, messaging.StatusHeldQuietHours, messaging.TextQuietHours.Code)
	if got := r.status(m).NotBefore; !got.Equal(time.Date(2026, 3, 3, 9, 0, 0, 0, ny)) {
		t.Errorf("held until %v, want 09:00 in New York", got.In(ny))
	}
}
