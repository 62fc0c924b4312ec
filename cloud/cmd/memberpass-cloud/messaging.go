package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/memberdir"
	"github.com/memberpass/memberpass/cloud/messaging/sms"
	"github.com/memberpass/memberpass/cloud/messaging/webhook"
	"github.com/memberpass/memberpass/cloud/messaging/wechat"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// messagingConfig is how the messaging service reaches its providers.
// Secrets may come from the environment (MEMBERPASS_SMS_ACCESS_KEY_SECRET,
// MEMBERPASS_WECHAT_APP_SECRET) to keep them out of process lists.
type messagingConfig struct {
	dispatch bool

	smsEndpoint, smsKeyID, smsKeySecret, smsRegion, smsCallbackToken string
	smsRate                                                          float64
	smsPriceMilliFen                                                 int64

	wechatBaseURL, wechatAppID, wechatAppSecret, wechatCallbackToken, wechatSubscribePath string
	wechatRate                                                                            float64

	webhookRate float64
}

func registerMessagingFlags(fs *flag.FlagSet, c *messagingConfig) {
	fs.BoolVar(&c.dispatch, "messaging-dispatch", true, "run the message dispatcher in this process (several processes may; they share the database)")
	fs.StringVar(&c.smsEndpoint, "sms-endpoint", sms.DefaultEndpoint, "Alibaba Cloud SMS API base URL")
	fs.StringVar(&c.smsKeyID, "sms-access-key-id", "", "Alibaba Cloud AccessKey ID for SMS; empty: no SMS")
	fs.StringVar(&c.smsKeySecret, "sms-access-key-secret", "", "Alibaba Cloud AccessKey secret (better from MEMBERPASS_SMS_ACCESS_KEY_SECRET)")
	fs.StringVar(&c.smsRegion, "sms-region", "cn-hangzhou", "Alibaba Cloud region of the SMS API")
	fs.Float64Var(&c.smsRate, "sms-rate", 100, "SMS the account may send per second (its QPS limit)")
	fs.Int64Var(&c.smsPriceMilliFen, "sms-price-milli-fen", 4500, "price of one SMS segment in 1/1000 fen (¥0.045 = 4500), for cost estimates")
	fs.StringVar(&c.smsCallbackToken, "sms-callback-token", "", "secret token in the SMS report and reply push URLs (<public-url>/callbacks/sms/report?token=...); empty: callbacks off")
	fs.StringVar(&c.wechatBaseURL, "wechat-base-url", wechat.DefaultBaseURL, "WeChat API base URL")
	fs.StringVar(&c.wechatAppID, "wechat-app-id", "", "WeChat official account AppID; empty: no WeChat")
	fs.StringVar(&c.wechatAppSecret, "wechat-app-secret", "", "WeChat AppSecret (better from MEMBERPASS_WECHAT_APP_SECRET)")
	fs.StringVar(&c.wechatSubscribePath, "wechat-subscribe-path", wechat.SubscribeBizSendPath, "path of subscription messages: the official account's bizsend, or a mini program's subscribe/send")
	fs.Float64Var(&c.wechatRate, "wechat-rate", 200, "WeChat messages per second")
	fs.StringVar(&c.wechatCallbackToken, "wechat-callback-token", "", "the Token set in the official account's server configuration (URL <public-url>/callbacks/wechat); empty: callback off")
	fs.Float64Var(&c.webhookRate, "webhook-rate", 50, "webhook deliveries per second, all brands together")
}

// messagingRuntime is the messaging service and what runs beside it.
type messagingRuntime struct {
	svc        *messaging.Service
	dispatcher *messaging.Dispatcher
	// callbacks serves /callbacks/ (providers) and /wechat/link/ (members).
	callbacks http.Handler
}

// startMessaging builds the messaging service on the cloud's database
// (its msg_* tables), its senders and its callbacks.
func startMessaging(c config, db *sqlstore.DB, ls *loyalty.Service, publicURL string, log *slog.Logger) (*messagingRuntime, error) {
	st := db.Messaging()
	svc := messaging.NewService(st, memberdir.Directory{Loyalty: ls})
	svc.Logger, svc.SMSPriceMilliFen = log, c.msg.smsPriceMilliFen
	d := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{}, Limits: map[messaging.Channel]*messaging.Bucket{},
		Logger: log, Owner: fmt.Sprintf("%s-%d", hostname(), os.Getpid())}
	mux := http.NewServeMux()
	m := c.msg
	if m.smsKeyID != "" {
		client, err := sms.New(sms.Config{Endpoint: m.smsEndpoint, AccessKeyID: m.smsKeyID, AccessKeySecret: m.smsKeySecret, RegionID: m.smsRegion})
		if err != nil {
			return nil, err
		}
		d.Senders[messaging.SMS], d.Limits[messaging.SMS] = client, messaging.NewBucket(m.smsRate, 1)
		if m.smsCallbackToken != "" {
			mux.Handle("/callbacks/sms/", &sms.Callbacks{Service: svc, Token: m.smsCallbackToken, Logger: log})
		}
	}
	if m.wechatAppID != "" {
		client, err := wechat.New(wechat.Config{BaseURL: m.wechatBaseURL, AppID: m.wechatAppID, AppSecret: m.wechatAppSecret, SubscribePath: m.wechatSubscribePath})
		if err != nil {
			return nil, err
		}
		d.Senders[messaging.WeChat], d.Limits[messaging.WeChat] = client, messaging.NewBucket(m.wechatRate, 1)
		if m.wechatCallbackToken != "" {
			mux.Handle("/callbacks/wechat", &wechat.Callback{Service: svc, Token: m.wechatCallbackToken, Logger: log})
		}
		// Members link their openid from their private card link.
		mux.Handle("/wechat/link/", &wechat.Link{Client: client, Service: svc, PublicURL: publicURL, Logger: log,
			Verify: func(ctx context.Context, brand, member, token string) error {
				_, _, err := ls.MemberByCardLink(ctx, brand, member, token)
				return err
			}})
	}
	d.Senders[messaging.Webhook], d.Limits[messaging.Webhook] = webhook.New(), messaging.NewBucket(m.webhookRate, 1)
	var channels []string
	for _, ch := range messaging.Channels {
		if d.Senders[ch] != nil {
			channels = append(channels, string(ch))
		}
	}
	log.Info("messaging ready", "channels", channels, "dispatch", m.dispatch)
	return &messagingRuntime{svc: svc, dispatcher: d, callbacks: mux}, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "cloud"
	}
	return h
}

// campaignMessenger hands campaigns' messages to the messaging service.
// A message the service refuses as it is (a template missing, a variable
// not given) is logged and left: retrying it would stop every message
// queued behind it; anything else is returned, for the campaign engine to
// try again.
type campaignMessenger struct {
	svc *messaging.Service
	log *slog.Logger
}

func (m campaignMessenger) Enqueue(ctx context.Context, r campaign.MessageRequest) error {
	_, _, err := m.svc.Enqueue(ctx, messaging.Request{BrandID: r.BrandID, CampaignID: r.CampaignID, MemberID: r.MemberID,
		Occurrence: r.Occurrence, Channel: messaging.Channel(r.Channel), TemplateID: r.TemplateID, Vars: r.Vars})
	switch cloud.ErrorCode(err) {
	case "":
		return nil
	case cloud.Invalid, cloud.NotFound:
		m.log.Error("campaign message refused", "brand", r.BrandID, "campaign", r.CampaignID, "member", r.MemberID,
			"channel", r.Channel, "template", r.TemplateID, "err", err)
		return nil
	}
	return err
}
