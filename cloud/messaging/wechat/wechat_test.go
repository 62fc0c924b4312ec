package wechat_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
	"github.com/memberpass/memberpass/cloud/messaging/wechat"
	"github.com/memberpass/memberpass/cloud/messaging/wechat/wechattest"
)

func fake(t *testing.T) *wechattest.Server {
	t.Helper()
	s := wechattest.New("wx-app", "wx-secret")
	t.Cleanup(s.Close)
	s.AddFollower("oA")
	s.AddFollower("oB")
	s.AddTemplate("tpl-new", "thing1", "time2")
	return s
}

func msg(id, to, kind, tpl string, fields map[string]string) messaging.Outgoing {
	return messaging.Outgoing{ID: id, To: to, WeChatKind: kind, Template: tpl, Channel: messaging.WeChat,
		Rendered: messaging.Rendered{Fields: fields, URL: "https://m.example.com/card"}}
}

var fields = map[string]string{"thing1": "新品上市", "time2": "2026-03-02"}

func TestTokenCacheAndRefresh(t *testing.T) {
	ctx := context.Background()
	s := fake(t)
	clock := messagingtest.NewClock(time.Now())
	c, err := wechat.New(wechat.Config{BaseURL: s.URL, AppID: "wx-app", AppSecret: "wx-secret", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.Send(ctx, msg("m-"+strconv.Itoa(i), "oA", messaging.WeChatTemplate, "tpl-new", fields)); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.TokenFetches(); n != 1 {
		t.Errorf("3 sends fetched %d tokens, want 1 (cached)", n)
	}
	// Five minutes before expiry the client fetches a new one.
	clock.Add(7200*time.Second - 4*time.Minute)
	if _, err := c.Send(ctx, msg("m-3", "oA", messaging.WeChatTemplate, "tpl-new", fields)); err != nil {
		t.Fatal(err)
	}
	if n := s.TokenFetches(); n != 2 {
		t.Errorf("near expiry: %d fetches, want 2", n)
	}
	// WeChat says expired (42001) or invalid (40001): fetch and retry once.
	s.ExpireTokens()
	if _, err := c.Send(ctx, msg("m-4", "oA", messaging.WeChatTemplate, "tpl-new", fields)); err != nil {
		t.Fatalf("after 42001: %v", err)
	}
	s.RevokeTokens()
	if _, err := c.Send(ctx, msg("m-5", "oA", messaging.WeChatSubscribe, "tpl-new", fields)); err != nil {
		t.Fatalf("after 40001: %v", err)
	}
	if n := s.TokenFetches(); n != 4 {
		t.Errorf("after 42001 and 40001: %d fetches, want 4", n)
	}
	if n := len(s.Sent()); n != 6 {
		t.Errorf("delivered %d, want 6", n)
	}

	bad, _ := wechat.New(wechat.Config{BaseURL: s.URL, AppID: "wx-app", AppSecret: "nope"})
	_, err = bad.Send(ctx, msg("m-6", "oA", messaging.WeChatTemplate, "tpl-new", fields))
	var se *messaging.SendError
	if !errors.As(err, &se) || se.Code != "40125" || se.Kind != messaging.Permanent {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestSendErrorsAndDedup(t *testing.T) {
	ctx := context.Background()
	s := fake(t)
	s.Refuse("oB")
	c, _ := wechat.New(wechat.Config{BaseURL: s.URL, AppID: "wx-app", AppSecret: "wx-secret"})
	id1, err := c.Send(ctx, msg("same", "oA", messaging.WeChatTemplate, "tpl-new", fields))
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.Send(ctx, msg("same", "oA", messaging.WeChatTemplate, "tpl-new", fields))
	if err != nil || id1 != id2 {
		t.Fatalf("resend with the same client_msg_id: %s vs %s, %v", id1, id2, err)
	}
	if got := s.Sent(); len(got) != 1 || got[0].ClientMsgID != "same" || got[0].Data["thing1"] != "新品上市" || got[0].URL != "https://m.example.com/card" {
		t.Fatalf("delivered %+v", got)
	}
	tests := []struct {
		name   string
		m      messaging.Outgoing
		inject int
		kind   messaging.FailKind
		code   string
	}{
		{"rate limit", msg("a", "oA", messaging.WeChatTemplate, "tpl-new", fields), 45009, messaging.RateLimited, "45009"},
		{"system busy", msg("b", "oA", messaging.WeChatTemplate, "tpl-new", fields), -1, messaging.Transient, "-1"},
		{"refused subscription", msg("c", "oB", messaging.WeChatSubscribe, "tpl-new", fields), 0, messaging.Refused, "43101"},
		{"unfollowed", msg("d", "oB", messaging.WeChatTemplate, "tpl-new", fields), 0, messaging.Refused, "43004"},
		{"unknown openid", msg("e", "oZ", messaging.WeChatTemplate, "tpl-new", fields), 0, messaging.Permanent, "40003"},
		{"unknown template", msg("f", "oA", messaging.WeChatTemplate, "tpl-x", fields), 0, messaging.Permanent, "40037"},
		{"missing key", msg("g", "oA", messaging.WeChatTemplate, "tpl-new", map[string]string{"thing1": "x"}), 0, messaging.Permanent, "47003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.inject != 0 {
				s.FailNext(tt.inject)
			}
			_, err := c.Send(ctx, tt.m)
			var se *messaging.SendError
			if !errors.As(err, &se) || se.Kind != tt.kind || se.Code != tt.code {
				t.Errorf("error %v, want kind %d code %s", err, tt.kind, tt.code)
			}
		})
	}
}

// Delivery reports and unfollows arrive at the account's server URL,
// signed; the service applies them.
func TestCallback(t *testing.T) {
	ctx := context.Background()
	s := fake(t)
	st := messagingtest.SQLite(t)
	dir := messagingtest.NewDirectory()
	dir.Add(messaging.Recipient{BrandID: "cha", MemberID: "a", Name: "王芳", Consent: true})
	svc := messaging.NewService(st, dir)
	p := messaging.DefaultPolicy("cha")
	p.QuietHours = messaging.QuietHours{}
	if err := svc.SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutTemplate(ctx, messaging.Template{BrandID: "cha", ID: "new", Channel: messaging.WeChat, Category: messaging.Marketing,
		ProviderTemplate: "tpl-new", WeChatKind: messaging.WeChatTemplate, Zh: "新品", Fields: map[string]string{"thing1": "${name}，新品上市", "time2": "${date}"}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkWeChat(ctx, "cha", "a", "oA", true); err != nil {
		t.Fatal(err)
	}
	c, _ := wechat.New(wechat.Config{BaseURL: s.URL, AppID: "wx-app", AppSecret: "wx-secret"})
	disp := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{messaging.WeChat: c}, Owner: "t"}
	m, _, err := svc.Enqueue(ctx, messaging.Request{BrandID: "cha", CampaignID: "new", MemberID: "a", Occurrence: "1", Channel: messaging.WeChat,
		TemplateID: "new", Vars: map[string]string{"date": "3月2日"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := disp.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}
	sent := s.Sent()
	if len(sent) != 1 || sent[0].Data["thing1"] != "王芳，新品上市" || sent[0].ClientMsgID != m.ID {
		t.Fatalf("delivered %+v", sent)
	}
	srv := httptest.NewServer(&wechat.Callback{Service: svc, Token: "cb-token"})
	defer srv.Close()
	if code, _ := wechattest.PushJobFinish(srv.URL, "wrong-token", sent[0].MsgID, "oA", "success"); code != 401 {
		t.Errorf("push signed with another token: HTTP %d, want 401", code)
	}
	if code, err := wechattest.PushJobFinish(srv.URL, "cb-token", sent[0].MsgID, "oA", "success"); err != nil || code != 200 {
		t.Fatalf("push: %d %v", code, err)
	}
	if got, _ := st.Message(ctx, "cha", m.ID); got.Status != messaging.StatusDelivered {
		t.Errorf("after TEMPLATESENDJOBFINISH success: %s", got.Status)
	}
	unfollow := `<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[oA]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event></xml>`
	if code, err := wechattest.PushEvent(srv.URL, "cb-token", unfollow); err != nil || code != 200 {
		t.Fatalf("unfollow push: %d %v", code, err)
	}
	if cs, ok, _ := st.Consent(ctx, "cha", "a", messaging.WeChat); !ok || cs.Granted || cs.Source != messaging.SourceWeChat {
		t.Errorf("consent after unfollow: %+v", cs)
	}
}
