package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/sms/smstest"
	"github.com/memberpass/memberpass/cloud/messaging/wechat/wechattest"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// The provider flags (secrets from the environment) give the dispatcher
// its senders, and the callbacks answer on the member page server: a TD
// reply pushed to /callbacks/sms/reply opts the member out.
func TestMessagingWiring(t *testing.T) {
	ctx := context.Background()
	g := smstest.New("LTAI-cloud", "sms-secret")
	defer g.Close()
	wx := wechattest.New("wx-cloud", "wx-secret")
	defer wx.Close()
	t.Setenv("MEMBERPASS_SMS_ACCESS_KEY_SECRET", "sms-secret")
	t.Setenv("MEMBERPASS_WECHAT_APP_SECRET", "wx-secret")
	c, err := parseFlags([]string{"--sms-endpoint", g.URL, "--sms-access-key-id", "LTAI-cloud", "--sms-callback-token", "cb",
		"--wechat-base-url", wx.URL, "--wechat-app-id", "wx-cloud", "--wechat-callback-token", "wxcb"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.msg.smsKeySecret != "sms-secret" || c.msg.wechatAppSecret != "wx-secret" {
		t.Fatalf("secrets from the environment not read: %+v", c.msg)
	}
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	ls := loyalty.New(db, log)
	if _, err := ls.CreateBrand(ctx, "cha", "茶小满", "CNY"); err != nil {
		t.Fatal(err)
	}
	m, err := ls.CreateMember(ctx, "cha", loyalty.NewMember{Phone: "13800000009", Name: "王芳", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := startMessaging(c, db, ls, "https://m.example.com", log)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range messaging.Channels {
		if rt.dispatcher.Senders[ch] == nil || rt.dispatcher.Limits[ch] == nil {
			t.Errorf("no sender or rate for %s", ch)
		}
	}
	p := messaging.DefaultPolicy("cha")
	p.SMSSignName = "茶小满"
	if err := rt.svc.SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.callbacks)
	defer srv.Close()
	if _, err := smstest.PushReply(srv.URL+"/callbacks/sms/reply?token=cb", "13800000009", "TD", "茶小满"); err != nil {
		t.Fatal(err)
	}
	cs, ok, err := rt.svc.Store.Consent(ctx, "cha", m.ID, messaging.SMS)
	if err != nil || !ok || cs.Granted || cs.Source != messaging.SourceSMSReply {
		t.Errorf("consent after TD through the cloud's route: %+v %v %v", cs, ok, err)
	}
	if code, _ := wechattest.PushEvent(srv.URL+"/callbacks/wechat", "wxcb", `<xml><MsgType>event</MsgType><Event>unsubscribe</Event><FromUserName>o1</FromUserName></xml>`); code != 200 {
		t.Errorf("WeChat callback route: HTTP %d", code)
	}
}
