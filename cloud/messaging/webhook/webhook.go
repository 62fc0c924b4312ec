// Package webhook delivers messages to a brand's own endpoint: a JSON body
// POSTed with an HMAC-SHA256 signature over the timestamp and the body, so
// the brand's system can tell it came from us and is fresh. Every request
// for one message carries the same message id (X-Memberpass-Id): receivers
// drop a repeat, which makes retries after a timeout or a crash safe.
// webhooktest is a receiver that checks all of it.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
)

// Headers of a delivery.
const (
	HeaderID        = "X-Memberpass-Id"
	HeaderTimestamp = "X-Memberpass-Timestamp"
	// HeaderSignature is "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
	HeaderSignature = "X-Memberpass-Signature"
)

// Payload is the JSON body.
type Payload struct {
	ID         string            `json:"id"`
	BrandID    string            `json:"brand_id"`
	MemberID   string            `json:"member_id"`
	CampaignID string            `json:"campaign_id"`
	Category   string            `json:"category"`
	Template   string            `json:"template"`
	Lang       string            `json:"lang"`
	Text       string            `json:"text"`
	URL        string            `json:"url,omitempty"`
	Vars       map[string]string `json:"vars,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
}

// Sign computes the signature header's value.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery's signature and that its timestamp is within
// tolerance of now; brands' receivers call it (or its equivalent).
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: bad timestamp")
	}
	if now.Sub(time.Unix(ts, 0)).Abs() > tolerance {
		return fmt.Errorf("webhook: timestamp outside %s", tolerance)
	}
	want := Sign(secret, ts, body)
	for _, got := range strings.Split(h.Get(HeaderSignature), ",") {
		if hmac.Equal([]byte(strings.TrimSpace(got)), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("webhook: signature does not match")
}

// Client delivers to brands' endpoints (the URL and secret come with each
// message, from the brand's policy).
type Client struct {
	HTTP *http.Client
	Now  func() time.Time
}

// New makes a client with a 10 s timeout.
func New() *Client { return &Client{HTTP: &http.Client{Timeout: 10 * time.Second}, Now: time.Now} }

// Send POSTs one message. 2xx is delivered; 429 and 5xx are retried later,
// other 4xx fail the message.
func (c *Client) Send(ctx context.Context, m messaging.Outgoing) (string, error) {
	body, err := json.Marshal(Payload{ID: m.ID, BrandID: m.BrandID, MemberID: m.MemberID, CampaignID: m.CampaignID, Category: string(m.Category),
		Template: m.Template, Lang: string(m.Lang), Text: m.Rendered.Text, URL: m.Rendered.URL, Vars: m.Vars, CreatedAt: m.CreatedAt})
	if err != nil {
		return "", err
	}
	ts := c.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return "", &messaging.SendError{Kind: messaging.Permanent, Code: "bad_url", Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "memberpass-webhook/1")
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(m.WebhookSecret, ts, body))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return m.ID, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", &messaging.SendError{Kind: messaging.RateLimited, Code: "429", Message: resp.Status}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return "", &messaging.SendError{Kind: messaging.Transient, Code: strconv.Itoa(resp.StatusCode), Message: resp.Status}
	default:
		return "", &messaging.SendError{Kind: messaging.Permanent, Code: strconv.Itoa(resp.StatusCode), Message: resp.Status}
	}
}

// Dedups: receivers key on X-Memberpass-Id, so resending is safe.
func (c *Client) Dedups(messaging.Outgoing) bool { return true }
