package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
	"github.com/memberpass/memberpass/cloud/messaging/webhook"
	"github.com/memberpass/memberpass/cloud/messaging/webhook/webhooktest"
)

func TestSignVerify(t *testing.T) {
	body := []byte(`{"id":"m-1"}`)
	h := http.Header{}
	h.Set(webhook.HeaderTimestamp, "1700000000")
	h.Set(webhook.HeaderSignature, webhook.Sign("secret-0123456789", 1700000000, body))
	now := time.Unix(1700000060, 0)
	if err := webhook.Verify("secret-0123456789", h, body, now, 5*time.Minute); err != nil {
		t.Errorf("valid delivery refused: %v", err)
	}
	for name, check := range map[string]func() error{
		"other secret": func() error { return webhook.Verify("another-secret-xx", h, body, now, 5*time.Minute) },
		"other body": func() error {
			return webhook.Verify("secret-0123456789", h, []byte(`{"id":"m-2"}`), now, 5*time.Minute)
		},
		"stale": func() error { return webhook.Verify("secret-0123456789", h, body, now.Add(time.Hour), 5*time.Minute) },
	} {
		if check() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Through the dispatcher: a 503 is retried with backoff, a wrong secret
// (401) fails the message, a repeat is taken once.
func TestDispatchToReceiver(t *testing.T) {
	ctx := context.Background()
	rcv := webhooktest.New("brand-secret-0123456789")
	defer rcv.Close()
	st := messagingtest.SQLite(t)
	dir := messagingtest.NewDirectory()
	dir.Add(messaging.Recipient{BrandID: "cha", MemberID: "a", Name: "王芳", Consent: true})
	clock := messagingtest.NewClock(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	svc := messaging.NewService(st, dir)
	svc.Now = clock.Now
	p := messaging.DefaultPolicy("cha")
	p.WebhookURL, p.WebhookSecret = rcv.URL, "brand-secret-0123456789"
	if err := svc.SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutTemplate(ctx, messaging.Template{BrandID: "cha", ID: "bal", Channel: messaging.Webhook, Category: messaging.Transactional,
		Zh: "${name}，余额变动 ${amount}", En: "${name}, balance changed by ${amount}"}); err != nil {
		t.Fatal(err)
	}
	disp := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{messaging.Webhook: webhook.New()}, Owner: "t",
		Backoff: func(int) time.Duration { return time.Minute }}
	m, _, err := svc.Enqueue(ctx, messaging.Request{BrandID: "cha", CampaignID: "balance", MemberID: "a", Occurrence: "ev-1",
		Channel: messaging.Webhook, TemplateID: "bal", Lang: messaging.En, Vars: map[string]string{"amount": "-¥12.00"}})
	if err != nil {
		t.Fatal(err)
	}
	rcv.FailNext(http.StatusServiceUnavailable)
	disp.DispatchOnce(ctx)
	if got, _ := st.Message(ctx, "cha", m.ID); got.Status != messaging.StatusQueued || got.Attempts != 1 {
		t.Fatalf("after a 503: %s attempts %d", got.Status, got.Attempts)
	}
	clock.Add(time.Minute)
	disp.DispatchOnce(ctx)
	if got, _ := st.Message(ctx, "cha", m.ID); got.Status != messaging.StatusSent {
		t.Fatalf("after the retry: %s %s", got.Status, got.Reason)
	}
	got := rcv.Got()
	if len(got) != 1 || got[0].ID != m.ID || got[0].Text != "王芳, balance changed by -¥12.00" || got[0].MemberID != "a" {
		t.Fatalf("receiver got %+v", got)
	}
	// The same message again (a retry after a lost answer) is taken once.
	c := webhook.New()
	out := messaging.Outgoing{ID: m.ID, WebhookURL: rcv.URL, WebhookSecret: "brand-secret-0123456789", Rendered: messaging.Rendered{Text: "x"}}
	if _, err := c.Send(ctx, out); err != nil || len(rcv.Got()) != 1 {
		t.Errorf("repeat: %v, receiver has %d", err, len(rcv.Got()))
	}
	out.WebhookSecret = "not-the-brand-secret"
	_, err = c.Send(ctx, out)
	var se *messaging.SendError
	if !errors.As(err, &se) || se.Kind != messaging.Permanent || se.Code != "401" {
		t.Errorf("wrong secret: %v", err)
	}
}
