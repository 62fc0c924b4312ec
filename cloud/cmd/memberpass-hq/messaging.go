package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func messagingCommands() []command {
	return []command{
		{"message policy", "--brand [--set] [--quiet-hours 21:00-09:00 --marketing-per-day 1 --marketing-per-week 3 --transactional-per-day 20 --timezone --sms-sign --opt-out-text --webhook-url --webhook-secret]: show or change caps and quiet hours", messagePolicy},
		{"message template", "--brand --id --channel sms|wechat|webhook --category marketing|transactional --zh TEXT [--en --provider-template --field key=text --wechat-kind --url]", messageTemplate},
		{"message preview", "--brand --template --member [--var k=v --lang]: the text with the member's data, and its SMS cost", messagePreview},
		{"message list", "--brand --member [--limit 50]: a member's messages and every status", messageList},
		{"message consent", "--brand --member --channel (--grant | --revoke) [--address phone|openid]", messageConsent},
		{"message send-test", "--brand --member --channel --template [--var k=v --lang]: one message through every rule", messageSendTest},
	}
}

// kv collects repeated key=value flags.
type kv map[string]string

func (m kv) String() string { return "" }
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want key=value", s)
	}
	m[k] = v
	return nil
}

func messagePolicy(ctx context.Context, c *client, args []string) error {
	fs := flags("message policy")
	brand := fs.String("brand", "", "brand id")
	set := fs.Bool("set", false, "change the given settings (others stay)")
	tz, qh := fs.String("timezone", "", "IANA time zone for quiet hours and caps; empty: the brand's"), fs.String("quiet-hours", "", "HH:MM-HH:MM or off")
	mDay, mWeek, tDay := fs.Int("marketing-per-day", -1, "marketing messages per member per channel per day"), fs.Int("marketing-per-week", -1, "per 7 days"), fs.Int("transactional-per-day", -1, "transactional per day")
	sign, optOut := fs.String("sms-sign", "", "SMS sign name (签名)"), fs.String("opt-out-text", "", "opt-out text marketing SMS carry")
	hook, secret := fs.String("webhook-url", "", "brand's webhook endpoint"), fs.String("webhook-secret", "", "webhook signing secret (16+ characters)")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	p, err := c.admin.GetMessagingPolicy(ctx, &pb.GetMessagingPolicyRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	if *set {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		for name, apply := range map[string]func(){
			"timezone": func() { p.TimeZone = *tz }, "quiet-hours": func() { p.QuietHours = *qh },
			"marketing-per-day": func() { p.MarketingPerDay = uint32(max(*mDay, 0)) }, "marketing-per-week": func() { p.MarketingPerWeek = uint32(max(*mWeek, 0)) },
			"transactional-per-day": func() { p.TransactionalPerDay = uint32(max(*tDay, 0)) },
			"sms-sign":              func() { p.SmsSignName = *sign }, "opt-out-text": func() { p.OptOutText = *optOut },
			"webhook-url": func() { p.WebhookUrl = *hook }, "webhook-secret": func() { p.WebhookSecret = *secret },
		} {
			if given[name] {
				apply()
			}
		}
		if p, err = c.admin.SetMessagingPolicy(ctx, p); err != nil {
			return err
		}
	}
	c.print(p, func() {
		zone := p.GetTimeZone()
		if zone == "" {
			zone = "the brand's"
		}
		fmt.Fprintf(c.out, "brand %s  time zone %s  quiet hours %s\n", p.GetBrandId(), zone, p.GetQuietHours())
		fmt.Fprintf(c.out, "caps per member per channel: marketing %d a day, %d a week; transactional %d a day\n",
			p.GetMarketingPerDay(), p.GetMarketingPerWeek(), p.GetTransactionalPerDay())
		fmt.Fprintf(c.out, "SMS sign %q  opt-out text %q  webhook %q (secret set: %v)\n", p.GetSmsSignName(), p.GetOptOutText(), p.GetWebhookUrl(), p.GetWebhookSecretSet())
	})
	return nil
}

func messageTemplate(ctx context.Context, c *client, args []string) error {
	fs := flags("message template")
	t := &pb.MessageTemplate{Fields: map[string]string{}}
	fs.StringVar(&t.BrandId, "brand", "", "brand id")
	fs.StringVar(&t.Id, "id", "", "template id")
	fs.StringVar(&t.Name, "name", "", "name")
	fs.StringVar(&t.Channel, "channel", "", "sms, wechat or webhook")
	fs.StringVar(&t.Category, "category", "marketing", "marketing or transactional")
	fs.StringVar(&t.TextZh, "zh", "", "Chinese text with ${variables}")
	fs.StringVar(&t.TextEn, "en", "", "English text")
	fs.StringVar(&t.ProviderTemplate, "provider-template", "", "Alibaba TemplateCode or WeChat template_id")
	fs.StringVar(&t.ProviderTemplateEn, "provider-template-en", "", "the English one, if apart")
	fs.Var(kv(t.Fields), "field", "WeChat data key=text (repeat)")
	fs.StringVar(&t.WechatKind, "wechat-kind", "", "template or subscribe")
	fs.StringVar(&t.Url, "url", "", "link")
	if err := parse(fs, args, "brand", "id", "channel", "zh"); err != nil {
		return err
	}
	got, err := c.admin.PutMessageTemplate(ctx, t)
	if err != nil {
		return err
	}
	c.print(got, func() {
		fmt.Fprintf(c.out, "message template %s saved (%s, %s)\n", got.GetId(), got.GetChannel(), got.GetCategory())
	})
	return nil
}

func messagePreview(ctx context.Context, c *client, args []string) error {
	fs := flags("message preview")
	req := &pb.PreviewMessageRequest{Vars: map[string]string{}}
	fs.StringVar(&req.BrandId, "brand", "", "brand id")
	fs.StringVar(&req.TemplateId, "template", "", "template id")
	fs.StringVar(&req.MemberId, "member", "", "member id")
	fs.StringVar(&req.Lang, "lang", "", "zh or en")
	fs.Var(kv(req.Vars), "var", "variable key=value (repeat)")
	if err := parse(fs, args, "brand", "template", "member"); err != nil {
		return err
	}
	p, err := c.admin.PreviewMessage(ctx, req)
	if err != nil {
		return err
	}
	c.print(p, func() {
		fmt.Fprintln(c.out, p.GetText())
		for k, v := range p.GetFields() {
			fmt.Fprintf(c.out, "  %s: %s\n", k, v)
		}
		if p.GetSmsText() != "" {
			fmt.Fprintf(c.out, "SMS as shown: %s\n%d characters, %d segment(s), %s\n", p.GetSmsText(), p.GetChars(), p.GetSegments(), yuan(p.GetCostFen()))
		}
	})
	return nil
}

func messageList(ctx context.Context, c *client, args []string) error {
	fs := flags("message list")
	brand, member, limit := fs.String("brand", "", "brand id"), fs.String("member", "", "member id"), fs.Uint("limit", 50, "at most this many")
	if err := parse(fs, args, "brand", "member"); err != nil {
		return err
	}
	r, err := c.admin.ListMemberMessages(ctx, &pb.ListMemberMessagesRequest{BrandId: *brand, MemberId: *member, Limit: uint32(min(*limit, 1000))})
	if err != nil {
		return err
	}
	c.print(r, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "created\tcampaign\tchannel\tcategory\tstatus\treason\tto\thistory")
		for _, m := range r.GetMessages() {
			var hist []string
			for _, h := range m.GetHistory() {
				hist = append(hist, h.GetAt().AsTime().Local().Format("01-02 15:04:05")+" "+h.GetStatus())
			}
			reason := m.GetReason()
			if m.GetReasonEn() != "" {
				reason = m.GetReasonZh() + " / " + m.GetReasonEn()
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.GetCreatedAt().AsTime().Local().Format("2006-01-02 15:04"), m.GetCampaignId(),
				m.GetChannel(), m.GetCategory(), m.GetStatus(), reason, m.GetToTail(), strings.Join(hist, ", "))
		}
		w.Flush()
	})
	return nil
}

func messageConsent(ctx context.Context, c *client, args []string) error {
	fs := flags("message consent")
	req := &pb.SetMessagingConsentRequest{}
	fs.StringVar(&req.BrandId, "brand", "", "brand id")
	fs.StringVar(&req.MemberId, "member", "", "member id")
	fs.StringVar(&req.Channel, "channel", "", "sms, wechat or webhook")
	fs.StringVar(&req.Address, "address", "", "phone or openid")
	grant, revoke := fs.Bool("grant", false, "the member agrees"), fs.Bool("revoke", false, "the member opts out")
	if err := parse(fs, args, "brand", "member", "channel"); err != nil {
		return err
	}
	if *grant == *revoke {
		return fmt.Errorf("message consent: give one of --grant and --revoke")
	}
	req.Granted = *grant
	got, err := c.admin.SetMessagingConsent(ctx, req)
	if err != nil {
		return err
	}
	c.print(got, func() {
		fmt.Fprintf(c.out, "member %s %s: granted %v (source %s)\n", got.GetMemberId(), got.GetChannel(), got.GetGranted(), got.GetSource())
	})
	return nil
}

func messageSendTest(ctx context.Context, c *client, args []string) error {
	fs := flags("message send-test")
	req := &pb.SendTestMessageRequest{Vars: map[string]string{}}
	fs.StringVar(&req.BrandId, "brand", "", "brand id")
	fs.StringVar(&req.MemberId, "member", "", "member id")
	fs.StringVar(&req.Channel, "channel", "", "sms, wechat or webhook")
	fs.StringVar(&req.TemplateId, "template", "", "template id")
	fs.StringVar(&req.Lang, "lang", "", "zh or en")
	fs.Var(kv(req.Vars), "var", "variable key=value (repeat)")
	if err := parse(fs, args, "brand", "member", "channel", "template"); err != nil {
		return err
	}
	m, err := c.admin.SendTestMessage(ctx, req)
	if err != nil {
		return err
	}
	c.print(m, func() {
		fmt.Fprintf(c.out, "message %s queued (%s); see it with: memberpass-hq message list --brand %s --member %s\n", m.GetId(), m.GetStatus(), m.GetBrandId(), m.GetMemberId())
	})
	return nil
}
