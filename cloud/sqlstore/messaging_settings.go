package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/messaging"
)

// Policy returns the brand's policy, or the default one.
func (s *MessagingStore) Policy(ctx context.Context, brand string) (messaging.Policy, error) {
	p := messaging.Policy{BrandID: brand}
	var upd int64
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT time_zone, marketing_per_day, marketing_per_week, transactional_per_day,
		quiet_start, quiet_end, sms_sign_name, opt_out_text, webhook_url, webhook_secret, updated_at_ms
		FROM msg_policies WHERE brand_id = ?`), brand).Scan(&p.TimeZone, &p.Caps.MarketingPerDay, &p.Caps.MarketingPerWeek,
		&p.Caps.TransactionalPerDay, &p.QuietHours.Start, &p.QuietHours.End, &p.SMSSignName, &p.OptOutText, &p.WebhookURL, &p.WebhookSecret, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return messaging.DefaultPolicy(brand), nil
	}
	if err != nil {
		return messaging.Policy{}, fmt.Errorf("read policy: %w", err)
	}
	p.UpdatedAt = msgFromMS(upd)
	return p, nil
}

// SetPolicy writes the brand's policy.
func (s *MessagingStore) SetPolicy(ctx context.Context, p messaging.Policy) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO msg_policies (brand_id, time_zone, marketing_per_day, marketing_per_week,
		transactional_per_day, quiet_start, quiet_end, sms_sign_name, opt_out_text, webhook_url, webhook_secret, updated_at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (brand_id) DO UPDATE SET time_zone = excluded.time_zone, marketing_per_day = excluded.marketing_per_day,
		marketing_per_week = excluded.marketing_per_week, transactional_per_day = excluded.transactional_per_day,
		quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, sms_sign_name = excluded.sms_sign_name,
		opt_out_text = excluded.opt_out_text, webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret,
		updated_at_ms = excluded.updated_at_ms`),
		p.BrandID, p.TimeZone, p.Caps.MarketingPerDay, p.Caps.MarketingPerWeek, p.Caps.TransactionalPerDay,
		p.QuietHours.Start, p.QuietHours.End, p.SMSSignName, p.OptOutText, p.WebhookURL, p.WebhookSecret, msgMS(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}

const msgTemplateCols = `brand_id, template_id, name, channel, category, text_zh, text_en, provider_template, provider_template_en,
	fields_json, wechat_kind, url, updated_at_ms`

// PutTemplate writes a template.
func (s *MessagingStore) PutTemplate(ctx context.Context, t messaging.Template) error {
	fields, err := json.Marshal(t.Fields)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO msg_templates (`+msgTemplateCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (brand_id, template_id) DO UPDATE SET name = excluded.name, channel = excluded.channel,
		category = excluded.category, text_zh = excluded.text_zh, text_en = excluded.text_en,
		provider_template = excluded.provider_template, provider_template_en = excluded.provider_template_en,
		fields_json = excluded.fields_json, wechat_kind = excluded.wechat_kind, url = excluded.url,
		updated_at_ms = excluded.updated_at_ms`),
		t.BrandID, t.ID, t.Name, string(t.Channel), string(t.Category), t.Zh, t.En, t.ProviderTemplate, t.ProviderTemplateEn,
		string(fields), t.WeChatKind, t.URL, msgMS(t.UpdatedAt))
	if err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	return nil
}

type msgScanner interface{ Scan(...any) error }

func scanMsgTemplate(r msgScanner) (messaging.Template, error) {
	var t messaging.Template
	var ch, cat, fields string
	var upd int64
	if err := r.Scan(&t.BrandID, &t.ID, &t.Name, &ch, &cat, &t.Zh, &t.En, &t.ProviderTemplate, &t.ProviderTemplateEn,
		&fields, &t.WeChatKind, &t.URL, &upd); err != nil {
		return t, err
	}
	t.Channel, t.Category, t.UpdatedAt = messaging.Channel(ch), messaging.Category(cat), msgFromMS(upd)
	if err := json.Unmarshal([]byte(fields), &t.Fields); err != nil {
		return t, fmt.Errorf("template %s fields: %w", t.ID, err)
	}
	return t, nil
}

// Template reads a template.
func (s *MessagingStore) Template(ctx context.Context, brand, id string) (messaging.Template, error) {
	t, err := scanMsgTemplate(s.read.QueryRowContext(ctx, s.rebind(`SELECT `+msgTemplateCols+` FROM msg_templates WHERE brand_id = ? AND template_id = ?`), brand, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, cloud.Errorf(cloud.NotFound, "no template %s", id)
	}
	if err != nil {
		return t, fmt.Errorf("read template: %w", err)
	}
	return t, nil
}

// Templates lists a brand's templates by id.
func (s *MessagingStore) Templates(ctx context.Context, brand string) ([]messaging.Template, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT `+msgTemplateCols+` FROM msg_templates WHERE brand_id = ? ORDER BY template_id`), brand)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	defer rows.Close()
	var out []messaging.Template
	for rows.Next() {
		t, err := scanMsgTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetConsent writes a member's consent for a channel; an empty address
// keeps the one known.
func (s *MessagingStore) SetConsent(ctx context.Context, c messaging.Consent) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO msg_consents (brand_id, member_id, channel, granted, address, source, at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (brand_id, member_id, channel) DO UPDATE SET granted = excluded.granted,
		address = CASE WHEN excluded.address = '' THEN msg_consents.address ELSE excluded.address END,
		source = excluded.source, at_ms = excluded.at_ms`),
		c.BrandID, c.MemberID, string(c.Channel), msgB2I(c.Granted), c.Address, c.Source, msgMS(c.At))
	if err != nil {
		return fmt.Errorf("write consent: %w", err)
	}
	return nil
}

func scanMsgConsent(r msgScanner) (messaging.Consent, error) {
	var c messaging.Consent
	var ch string
	var granted int
	var at int64
	err := r.Scan(&c.BrandID, &c.MemberID, &ch, &granted, &c.Address, &c.Source, &at)
	c.Channel, c.Granted, c.At = messaging.Channel(ch), granted == 1, msgFromMS(at)
	return c, err
}

// Consent reads a member's consent for a channel.
func (s *MessagingStore) Consent(ctx context.Context, brand, member string, ch messaging.Channel) (messaging.Consent, bool, error) {
	c, err := scanMsgConsent(s.read.QueryRowContext(ctx, s.rebind(`SELECT brand_id, member_id, channel, granted, address, source, at_ms
		FROM msg_consents WHERE brand_id = ? AND member_id = ? AND channel = ?`), brand, member, string(ch)))
	if errors.Is(err, sql.ErrNoRows) {
		return messaging.Consent{}, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("read consent: %w", err)
	}
	return c, true, nil
}

// Consents reads several members' consents on a channel.
func (s *MessagingStore) Consents(ctx context.Context, brand string, ch messaging.Channel, members []string) (map[string]messaging.Consent, error) {
	out := map[string]messaging.Consent{}
	for len(members) > 0 {
		part := members[:min(len(members), 500)]
		members = members[len(part):]
		args := []any{brand, string(ch)}
		for _, m := range part {
			args = append(args, m)
		}
		rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT brand_id, member_id, channel, granted, address, source, at_ms
			FROM msg_consents WHERE brand_id = ? AND channel = ? AND member_id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("read consents: %w", err)
		}
		for rows.Next() {
			c, err := scanMsgConsent(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read consents: %w", err)
			}
			out[c.MemberID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ConsentsByAddress finds consents by address on a channel.
func (s *MessagingStore) ConsentsByAddress(ctx context.Context, brand string, ch messaging.Channel, address string) ([]messaging.Consent, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT brand_id, member_id, channel, granted, address, source, at_ms
		FROM msg_consents WHERE channel = ? AND address = ? AND (? = '' OR brand_id = ?) ORDER BY brand_id, member_id`), string(ch), address, brand, brand)
	if err != nil {
		return nil, fmt.Errorf("find consents: %w", err)
	}
	defer rows.Close()
	var out []messaging.Consent
	for rows.Next() {
		c, err := scanMsgConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("find consents: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
