// Package messaging is the cloud's messaging service: what a message to a
// member is, the rules every message obeys (consent per channel, frequency
// caps across campaigns, quiet hours in the brand's time zone, dedup by an
// idempotency key), templates with their preview and cost, and the
// dispatcher that hands due messages to a provider at the provider's rate.
//
// The package imports no database, no transport and no provider: it
// defines the Store it keeps its state in and the Sender a provider
// implements (wechat/, sms/, webhook/ beside it), so the rules are tested
// once and every provider obeys them.
//
// Promise: a message is sent at most once in effect, whatever crashes: it is
// claimed with a lease before it is handed to a provider, the provider gets
// a stable idempotency key (the message ID), and the provider's own message
// ID is recorded in the same write that marks it sent.
package messaging

import (
	"fmt"
	"strings"
	"time"
)

// Channel is the way a message reaches a member.
type Channel string

// Channels.
const (
	WeChat  Channel = "wechat"
	SMS     Channel = "sms"
	Webhook Channel = "webhook"
)

// Channels lists every channel, in a stable order.
var Channels = []Channel{WeChat, SMS, Webhook}

// ParseChannel checks a channel name from HQ or a caller.
func ParseChannel(s string) (Channel, error) {
	for _, c := range Channels {
		if string(c) == s {
			return c, nil
		}
	}
	return "", invalidf(TextBadChannel, s)
}

// Category decides which rules apply: marketing asks for consent, is
// capped tightly and waits out quiet hours; transactional messages (a
// balance change, a join code, a coupon about to expire) answer something
// the member did or owns, have their own looser cap and are never blocked
// by marketing.
type Category string

// Categories.
const (
	Marketing     Category = "marketing"
	Transactional Category = "transactional"
)

// ParseCategory checks a category name.
func ParseCategory(s string) (Category, error) {
	switch Category(s) {
	case Marketing, Transactional:
		return Category(s), nil
	}
	return "", invalidf(TextBadCategory, s)
}

// Status is where a message is. HQ sees every status.
type Status string

// Statuses. Queued and HeldQuietHours wait for the dispatcher; Sending is
// claimed by a dispatcher and maybe with the provider; Sent, Delivered,
// Failed, Capped, OptedOut and Expired are final (Sent may still become
// Delivered or Failed by a receipt).
const (
	StatusQueued         Status = "queued"
	StatusHeldQuietHours Status = "held_quiet_hours"
	StatusSending        Status = "sending"
	StatusSent           Status = "sent"
	StatusDelivered      Status = "delivered"
	StatusFailed         Status = "failed"
	StatusCapped         Status = "capped"
	StatusOptedOut       Status = "opted_out"
	StatusExpired        Status = "expired"
)

// Final reports whether the dispatcher is done with a message in status s.
func (s Status) Final() bool {
	switch s {
	case StatusQueued, StatusHeldQuietHours, StatusSending:
		return false
	}
	return true
}

// Message is one message to one member on one channel.
type Message struct {
	BrandID string
	// ID is assigned by the store; providers get it as their idempotency
	// key (WeChat client_msg_id, Alibaba OutId, the webhook's message id).
	ID string
	// Key deduplicates: one message per (campaign, member, occurrence,
	// channel); enqueuing the same key again returns the first message.
	Key        string
	CampaignID string
	MemberID   string
	// Occurrence names which sending of a campaign this is (a date, a
	// birthday year, a join attempt).
	Occurrence string
	Channel    Channel
	Category   Category
	TemplateID string
	Lang       Lang
	Vars       map[string]string
	// To is the address: a phone for SMS, an openid for WeChat, empty for
	// a webhook (the brand's endpoint is in its policy).
	To string
	// NotBefore is when the message may next be tried (quiet hours, retry
	// backoff).
	NotBefore time.Time
	// ExpiresAt is when the offer stops making sense; a message not sent by
	// then is Expired, never sent late. Zero: never.
	ExpiresAt time.Time
	Status    Status
	// Reason says why a message is Failed, Capped, OptedOut, Expired, or
	// why its last attempt failed; a text code from this package.
	Reason   string
	Attempts int
	// ProviderID is the provider's id for the message (WeChat msgid,
	// Alibaba BizId), recorded when it is sent; receipts find it by this.
	ProviderID string
	// Reserved is set once the message counts against the member's caps;
	// a retry after a crash does not count it twice.
	Reserved   bool
	ReservedAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	SentAt     time.Time
	// LeaseOwner and LeaseUntil: the dispatcher working on the message.
	LeaseOwner string
	LeaseUntil time.Time
}

// MakeKey builds the idempotency key of a message: the same campaign,
// member, occurrence and channel give the same key.
func MakeKey(campaignID, memberID, occurrence string, ch Channel) string {
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), "|", "%7C") }
	return fmt.Sprintf("%s|%s|%s|%s", esc(campaignID), esc(memberID), esc(occurrence), ch)
}

// StatusChange is one line of a message's history.
type StatusChange struct {
	BrandID   string
	MessageID string
	At        time.Time
	Status    Status
	Reason    string
}
