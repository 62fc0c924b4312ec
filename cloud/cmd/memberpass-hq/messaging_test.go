package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/memberdir"
	"github.com/memberpass/memberpass/cloud/messaging/sms"
	"github.com/memberpass/memberpass/cloud/messaging/sms/smstest"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// HQ sets caps and quiet hours, writes a template, previews it with a
// member's data, sends a test message through the rules to a fake SMS
// gateway, and lists the member's messages with their statuses.
func TestHQMessaging(t *testing.T) {
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	ls := loyalty.New(db, log)
	svc := messaging.NewService(db.Messaging(), memberdir.Directory{Loyalty: ls})
	svc.Logger = log
	g := smstest.New("LTAI-hq", "secret-hq")
	defer g.Close()
	g.AddSign("茶小满")
	g.AddTemplate("SMS_1001", "name", "code")
	client, err := sms.New(sms.Config{Endpoint: g.URL, AccessKeyID: "LTAI-hq", AccessKeySecret: "secret-hq"})
	if err != nil {
		t.Fatal(err)
	}
	disp := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{messaging.SMS: client}, Owner: "hq-test", Logger: log}
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: ls, Messaging: svc, Log: log, AdminToken: "tok"})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	addr := lis.Addr().String()

	steps := []struct {
		args     []string
		dispatch bool
		want     string
		wantErr  string
	}{
		{args: []string{"brand", "create", "--id", "cha", "--name", "茶小满"}, want: "created"},
		{args: []string{"member", "create", "--brand", "cha", "--phone", "13800000001", "--name", "王芳", "--consent"}, want: "member 1"},
		{args: []string{"message", "policy", "--brand", "cha"}, want: "quiet hours 21:00-09:00"},
		{args: []string{"message", "policy", "--brand", "cha", "--set", "--sms-sign", "茶小满", "--quiet-hours", "off", "--marketing-per-day", "2", "--marketing-per-week", "5"},
			want: "marketing 2 a day, 5 a week"},
		{args: []string{"message", "policy", "--brand", "cha", "--set", "--quiet-hours", "25:00-09:00"}, wantErr: "quiet hours"},
		{args: []string{"message", "template", "--brand", "cha", "--id", "promo", "--channel", "sms", "--zh", "${name}您好，新品买一送一"}, wantErr: "template code"},
		{args: []string{"message", "template", "--brand", "cha", "--id", "promo", "--channel", "sms", "--provider-template", "SMS_1001", "--zh", "${name}您好，新品买一送一"}, wantErr: "opt-out"},
		{args: []string{"message", "template", "--brand", "cha", "--id", "promo", "--channel", "sms", "--provider-template", "SMS_1001",
			"--zh", "${name}您好，新品买一送一，券码${code}，回TD退订"}, want: "message template promo saved"},
		{args: []string{"message", "preview", "--brand", "cha", "--template", "promo", "--member", "1", "--var", "code=CP8K2M"},
			want: "【茶小满】王芳您好，新品买一送一，券码CP8K2M，回TD退订\n31 characters, 1 segment(s), ¥0.05"},
		{args: []string{"message", "send-test", "--brand", "cha", "--member", "1", "--channel", "sms", "--template", "promo"}, wantErr: "{code}"},
		{args: []string{"message", "send-test", "--brand", "cha", "--member", "1", "--channel", "sms", "--template", "promo", "--var", "code=CP8K2M"}, dispatch: true, want: "queued"},
		{args: []string{"message", "list", "--brand", "cha", "--member", "1"}, want: "sent"},
		{args: []string{"message", "consent", "--brand", "cha", "--member", "1", "--channel", "sms", "--revoke"}, want: "granted false (source hq)"},
		{args: []string{"message", "send-test", "--brand", "cha", "--member", "1", "--channel", "sms", "--template", "promo", "--var", "code=X"}, dispatch: true, want: "queued"},
		{args: []string{"message", "list", "--brand", "cha", "--member", "1"}, want: "opted_out"},
	}
	for _, s := range steps {
		var out, errOut bytes.Buffer
		err := run(append([]string{"--cloud", addr, "--token", "tok", "--insecure"}, s.args...), &out, &errOut)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("%v: error %v, want %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Errorf("%v: %v", s.args, err)
		case !strings.Contains(out.String(), s.want):
			t.Errorf("%v: output\n%s\nwant %q", s.args, out.String(), s.want)
		}
		if s.dispatch {
			if _, err := disp.DispatchOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(g.Sent()); n != 1 {
		t.Errorf("gateway got %d messages, want 1 (the second was opted out)", n)
	}
}
