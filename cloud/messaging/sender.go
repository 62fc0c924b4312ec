package messaging

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Outgoing is a message as a provider needs it.
type Outgoing struct {
	// ID is the message's ID: the provider's idempotency key.
	ID       string
	BrandID  string
	MemberID string
	Channel  Channel
	Category Category
	To       string
	Lang     Lang
	// Template is the gateway's template (TemplateCode, template_id).
	Template string
	// WeChatKind: template or subscribe.
	WeChatKind string
	// Vars are the template's variables (SMS TemplateParam).
	Vars     map[string]string
	Rendered Rendered
	// SignName is the brand's SMS signature.
	SignName string
	// Webhook endpoint and secret (the brand's).
	WebhookURL    string
	WebhookSecret string
	CampaignID    string
	CreatedAt     time.Time
}

// Sender hands messages to one provider. Send returns the provider's id
// for the message, or an error; a *SendError says what kind.
type Sender interface {
	Send(ctx context.Context, m Outgoing) (providerID string, err error)
}

// Finder is a Sender that can tell whether a message reached it before,
// by the message's ID: after a crash between handing a message over and
// recording that, the dispatcher asks before sending it again.
type Finder interface {
	Find(ctx context.Context, m Outgoing, since time.Time) (providerID string, found bool, err error)
}

// Deduper is a Sender whose provider drops a second request with the same
// idempotency key (WeChat's client_msg_id, a webhook consumer keyed on the
// message id), so resending an in-doubt message is safe.
type Deduper interface {
	Dedups(m Outgoing) bool
}

// FailKind says what a provider's refusal means for the message.
type FailKind int

// Kinds of failure.
const (
	// Transient: try again later with backoff (network, 5xx, busy).
	Transient FailKind = iota
	// RateLimited: the provider wants fewer requests; retry later and slow
	// the account down.
	RateLimited
	// Permanent: this message can never be sent as it is (bad number,
	// bad template); fail it.
	Permanent
	// Refused: the member refused the channel (WeChat 43101); record the
	// opt-out.
	Refused
)

// SendError is a provider's refusal with its own code.
type SendError struct {
	Kind FailKind
	// Code is the provider's code (errcode 45009, isv.BUSINESS_LIMIT_CONTROL, HTTP 503).
	Code    string
	Message string
}

func (e *SendError) Error() string { return fmt.Sprintf("provider %s: %s", e.Code, e.Message) }

// FailKindOf classifies an error from a Sender; errors that are not
// SendErrors (a broken connection) are transient.
func FailKindOf(err error) (FailKind, string) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind, se.Code
	}
	return Transient, "network"
}
