package sms_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
	"github.com/memberpass/memberpass/cloud/messaging/sms"
	"github.com/memberpass/memberpass/cloud/messaging/sms/smstest"
)

// The example of Alibaba Cloud's signature documentation (DescribeRegions,
// secret "testsecret").
func TestSignDocumentedExample(t *testing.T) {
	p := url.Values{}
	for k, v := range map[string]string{"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
		"Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"} {
		p.Set(k, v)
	}
	if got := sms.Sign("GET", p, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("signature %s, want the documented OLeaidS1JvxuMvnyHOwuJ+uX5qY=", got)
	}
	for in, want := range map[string]string{"a b": "a%20b", "a*b": "a%2Ab", "a~b": "a~b", "茶": "%E8%8C%B6", "a+b/c": "a%2Bb%2Fc"} {
		if got := sms.PercentEncode(in); got != want {
			t.Errorf("PercentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func newGateway(t *testing.T) *smstest.Gateway {
	t.Helper()
	g := smstest.New("LTAI-test", "secret-test")
	t.Cleanup(g.Close)
	g.AddSign("茶小满")
	g.AddTemplate("SMS_1001", "name", "code")
	return g
}

func client(t *testing.T, g *smstest.Gateway, secret string) *sms.Client {
	t.Helper()
	c, err := sms.New(sms.Config{Endpoint: g.URL, AccessKeyID: "LTAI-test", AccessKeySecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func out(id, phone, sign, tpl string, vars map[string]string) messaging.Outgoing {
	return messaging.Outgoing{ID: id, To: phone, SignName: sign, Template: tpl, Vars: vars, Channel: messaging.SMS}
}

func TestSendAndErrors(t *testing.T) {
	g := newGateway(t)
	ctx := context.Background()
	c := client(t, g, "secret-test")
	vars := map[string]string{"name": "王芳 & Li*Lei~", "code": "CP8K 2M"}
	biz, err := c.Send(ctx, out("m-1", "13800138000", "茶小满", "SMS_1001", vars))
	if err != nil || biz == "" {
		t.Fatalf("send: %q %v", biz, err)
	}
	sent := g.Sent()
	if len(sent) != 1 || sent[0].BizID != biz || sent[0].OutID != "m-1" || sent[0].Params["name"] != "王芳 & Li*Lei~" || sent[0].SignName != "茶小满" {
		t.Fatalf("gateway got %+v", sent)
	}

	tests := []struct {
		name   string
		c      *sms.Client
		m      messaging.Outgoing
		inject string
		kind   messaging.FailKind
		code   string
	}{
		{"wrong secret", client(t, g, "wrong"), out("m-2", "13800138000", "茶小满", "SMS_1001", vars), "", messaging.Permanent, "SignatureDoesNotMatch"},
		{"bad phone", c, out("m-3", "1380013", "茶小满", "SMS_1001", vars), "", messaging.Permanent, "isv.MOBILE_NUMBER_ILLEGAL"},
		{"unknown sign", c, out("m-4", "13800138000", "别家", "SMS_1001", vars), "", messaging.Permanent, "isv.SMS_SIGNATURE_ILLEGAL"},
		{"unknown template", c, out("m-5", "13800138000", "茶小满", "SMS_9", vars), "", messaging.Permanent, "isv.SMS_TEMPLATE_ILLEGAL"},
		{"missing variable", c, out("m-6", "13800138000", "茶小满", "SMS_1001", map[string]string{"name": "x"}), "", messaging.Permanent, "isv.TEMPLATE_MISSING_PARAMETERS"},
		{"rate limit", c, out("m-7", "13800138000", "茶小满", "SMS_1001", vars), "isv.BUSINESS_LIMIT_CONTROL", messaging.RateLimited, "isv.BUSINESS_LIMIT_CONTROL"},
		{"system error", c, out("m-8", "13800138000", "茶小满", "SMS_1001", vars), "isp.SYSTEM_ERROR", messaging.Transient, "isp.SYSTEM_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.inject != "" {
				g.FailNext(tt.inject)
			}
			_, err := tt.c.Send(ctx, tt.m)
			var se *messaging.SendError
			if !errors.As(err, &se) || se.Kind != tt.kind || se.Code != tt.code {
				t.Errorf("error %v, want kind %d code %s", err, tt.kind, tt.code)
			}
		})
	}
	if n := len(g.Sent()); n != 1 {
		t.Errorf("gateway accepted %d messages, want only the first", n)
	}

	// A message in doubt is found by its OutId; another is not.
	if _, found, err := c.Find(ctx, out("m-1", "13800138000", "", "", nil), time.Now().Add(-time.Hour)); err != nil || !found {
		t.Errorf("find m-1: %v %v", found, err)
	}
	if _, found, err := c.Find(ctx, out("m-9", "13800138000", "", "", nil), time.Now().Add(-time.Hour)); err != nil || found {
		t.Errorf("find m-9: %v %v", found, err)
	}
}

// The fake gateway's own rate limit answers BUSINESS_LIMIT_CONTROL beyond
// its rate; the dispatcher pauses the account and retries, nothing lost.
// Then a delivery report marks the message delivered, and a member's TD
// reply opts them out of marketing SMS at once.
func TestDispatchReceiptsAndTD(t *testing.T) {
	ctx := context.Background()
	g := newGateway(t)
	g.AddTemplate("SMS_2001", "name")
	st := messagingtest.SQLite(t)
	dir := messagingtest.NewDirectory()
	clock := messagingtest.NewClock(time.Now())
	svc := messaging.NewService(st, dir)
	svc.Now = clock.Now
	p := messaging.DefaultPolicy("cha")
	p.SMSSignName, p.QuietHours = "茶小满", messaging.QuietHours{}
	if err := svc.SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutTemplate(ctx, messaging.Template{BrandID: "cha", ID: "promo", Channel: messaging.SMS, Category: messaging.Marketing,
		ProviderTemplate: "SMS_1001", Zh: "${name}您好，新品买一送一 ${code}，回TD退订"}); err != nil {
		t.Fatal(err)
	}
	dir.Add(messaging.Recipient{BrandID: "cha", MemberID: "a", Name: "王芳", Phone: "13800138000", Consent: true})
	dir.Add(messaging.Recipient{BrandID: "cha", MemberID: "b", Name: "李雷", Phone: "13800138001", Consent: true})
	disp := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{messaging.SMS: client(t, g, "secret-test")},
		Limits: map[messaging.Channel]*messaging.Bucket{messaging.SMS: messaging.NewBucket(1000, 10)}, Owner: "t",
		Backoff: func(int) time.Duration { return time.Second }}
	var ms []messaging.Message
	for _, id := range []string{"a", "b"} {
		m, _, err := svc.Enqueue(ctx, messaging.Request{BrandID: "cha", CampaignID: "spring", MemberID: id, Occurrence: "1",
			Channel: messaging.SMS, TemplateID: "promo", Vars: map[string]string{"code": "CP8K2M"}})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	g.FailNext("isv.BUSINESS_LIMIT_CONTROL")
	for range 5 {
		if _, err := disp.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Add(2 * time.Second)
	}
	sent := g.Sent()
	if len(sent) != 2 {
		t.Fatalf("gateway has %d messages, want 2 (one after a rate-limit retry)", len(sent))
	}
	for _, m := range ms {
		got, _ := st.Message(ctx, "cha", m.ID)
		if got.Status != messaging.StatusSent || got.ProviderID == "" {
			t.Errorf("message %s: %s %q", got.MemberID, got.Status, got.ProviderID)
		}
	}

	cb := httptest.NewServer(&sms.Callbacks{Service: svc, Token: "cb-token"})
	defer cb.Close()
	if code, err := smstest.PushReport(cb.URL+"/sms/report?token=wrong", sent[0], true, "DELIVERED"); err == nil || code != 401 {
		t.Errorf("report with a wrong token: %d %v", code, err)
	}
	if _, err := smstest.PushReport(cb.URL+"/sms/report?token=cb-token", sent[0], true, "DELIVERED"); err != nil {
		t.Fatal(err)
	}
	if _, err := smstest.PushReport(cb.URL+"/sms/report?token=cb-token", sent[1], false, "MK:0001"); err != nil {
		t.Fatal(err)
	}
	byPhone := map[string]messaging.Status{}
	for _, m := range ms {
		got, _ := st.Message(ctx, "cha", m.ID)
		byPhone[got.To] = got.Status
		if got.Status == messaging.StatusFailed && got.Reason != messaging.TextUndelivered.Code+":MK:0001" {
			t.Errorf("undelivered reason %q", got.Reason)
		}
	}
	if byPhone[sent[0].Phone] != messaging.StatusDelivered || byPhone[sent[1].Phone] != messaging.StatusFailed {
		t.Errorf("after reports: %v", byPhone)
	}

	if _, err := smstest.PushReply(cb.URL+"/sms/reply?token=cb-token", "13800138000", "退订", "茶小满"); err != nil {
		t.Fatal(err)
	}
	c, ok, err := st.Consent(ctx, "cha", "a", messaging.SMS)
	if err != nil || !ok || c.Granted || c.Source != messaging.SourceSMSReply {
		t.Fatalf("consent after 退订: %+v %v %v", c, ok, err)
	}
	m, _, err := svc.Enqueue(ctx, messaging.Request{BrandID: "cha", CampaignID: "summer", MemberID: "a", Occurrence: "1",
		Channel: messaging.SMS, TemplateID: "promo", Vars: map[string]string{"code": "X"}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(48 * time.Hour)
	if _, err := disp.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Message(ctx, "cha", m.ID); got.Status != messaging.StatusOptedOut {
		t.Errorf("marketing after TD: %s, want opted_out", got.Status)
	}
	if len(g.Sent()) != 2 {
		t.Errorf("gateway got a message after TD")
	}
}
