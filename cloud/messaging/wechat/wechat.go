// Package wechat sends messages through a WeChat official account: the
// access token fetched with the AppID and AppSecret and cached (fetched
// again before it expires and at once on errcode 40001, 40014 or 42001),
// template messages (cgi-bin/message/template/send, deduplicated by
// client_msg_id) and subscription messages (cgi-bin/message/subscribe/bizsend
// for an official account; a mini program's is subscribe/send), and the
// server callback that reports template delivery (TEMPLATESENDJOBFINISH)
// and unfollows. wechattest is a fake API server.
package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
)

// DefaultBaseURL is WeChat's API.
const DefaultBaseURL = "https://api.weixin.qq.com"

// Paths of the API.
const (
	TokenPath             = "/cgi-bin/token"
	TemplateSendPath      = "/cgi-bin/message/template/send"
	SubscribeBizSendPath  = "/cgi-bin/message/subscribe/bizsend"
	MiniSubscribeSendPath = "/cgi-bin/message/subscribe/send"
)

// Config is an official account.
type Config struct {
	BaseURL   string
	AppID     string
	AppSecret string
	// SubscribePath is SubscribeBizSendPath (official account, default)
	// or MiniSubscribeSendPath (mini program).
	SubscribePath string
	// MiniProgramAppID, when set, makes template messages open the mini
	// program at the template's URL as page path.
	MiniProgramAppID string
	// OpenBaseURL is where the OAuth page lives (DefaultOpenBaseURL).
	OpenBaseURL string
	// RefreshBefore: fetch a new token this long before the old one
	// expires (default 5 min).
	RefreshBefore time.Duration
	HTTPClient    *http.Client
	Now           func() time.Time
}

// Client is a messaging.Sender for one official account.
type Client struct {
	cfg     Config
	mu      sync.Mutex
	token   string
	expires time.Time
}

// New makes a client.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, fmt.Errorf("wechat: app id and secret are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.SubscribePath == "" {
		cfg.SubscribePath = SubscribeBizSendPath
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 5 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

// apiError is WeChat's error answer.
type apiError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Token returns a valid access token, fetching one when there is none or
// the cached one is about to expire. Fetches are serialised: every new
// token invalidates the one before, so two at once would race.
func (c *Client) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.cfg.Now().Add(c.cfg.RefreshBefore).Before(c.expires) {
		return c.token, nil
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.cfg.AppID}, "secret": {c.cfg.AppSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+TokenPath+"?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("wechat token: %w", err)
	}
	defer resp.Body.Close()
	var r struct {
		apiError
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&r); err != nil {
		return "", fmt.Errorf("wechat token: HTTP %d: %w", resp.StatusCode, err)
	}
	if r.ErrCode != 0 || r.AccessToken == "" {
		return "", &messaging.SendError{Kind: classify(r.ErrCode), Code: fmt.Sprint(r.ErrCode), Message: "token: " + r.ErrMsg}
	}
	c.token, c.expires = r.AccessToken, c.cfg.Now().Add(time.Duration(r.ExpiresIn)*time.Second)
	return c.token, nil
}

// forget drops a token WeChat refused, unless another call already
// replaced it.
func (c *Client) forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

// Token errors that mean "fetch a new token and try again".
func tokenExpired(code int) bool { return code == 40001 || code == 40014 || code == 42001 }

// classify says what an errcode means for the message.
func classify(code int) messaging.FailKind {
	switch code {
	case 45009, 45047, 45011:
		return messaging.RateLimited
	case 43101, 43004:
		return messaging.Refused
	case -1, 40001, 40014, 42001:
		return messaging.Transient
	}
	return messaging.Permanent
}

// DataItem is one value of a template's data.
type DataItem struct {
	Value string `json:"value"`
}

// MiniProgram is where a template message opens a mini program.
type MiniProgram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath"`
}

// TemplateMessage is the body of template/send.
type TemplateMessage struct {
	ToUser      string              `json:"touser"`
	TemplateID  string              `json:"template_id"`
	URL         string              `json:"url,omitempty"`
	MiniProgram *MiniProgram        `json:"miniprogram,omitempty"`
	Data        map[string]DataItem `json:"data"`
	ClientMsgID string              `json:"client_msg_id,omitempty"`
}

// SubscribeMessage is the body of subscribe/bizsend (and a mini
// program's subscribe/send).
type SubscribeMessage struct {
	ToUser      string              `json:"touser"`
	TemplateID  string              `json:"template_id"`
	Page        string              `json:"page,omitempty"`
	MiniProgram *MiniProgram        `json:"miniprogram,omitempty"`
	Data        map[string]DataItem `json:"data"`
}

// Send sends a template or subscription message and returns WeChat's
// msgid (the message ID when WeChat gives none).
func (c *Client) Send(ctx context.Context, m messaging.Outgoing) (string, error) {
	data := make(map[string]DataItem, len(m.Rendered.Fields))
	for k, v := range m.Rendered.Fields {
		data[k] = DataItem{Value: v}
	}
	var path string
	var body any
	switch m.WeChatKind {
	case messaging.WeChatSubscribe:
		path, body = c.cfg.SubscribePath, SubscribeMessage{ToUser: m.To, TemplateID: m.Template, Page: m.Rendered.URL, Data: data}
	default:
		tm := TemplateMessage{ToUser: m.To, TemplateID: m.Template, URL: m.Rendered.URL, Data: data, ClientMsgID: m.ID}
		if c.cfg.MiniProgramAppID != "" && m.Rendered.URL != "" {
			tm.URL, tm.MiniProgram = "", &MiniProgram{AppID: c.cfg.MiniProgramAppID, PagePath: m.Rendered.URL}
		}
		path, body = TemplateSendPath, tm
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	for try := 0; ; try++ {
		token, err := c.Token(ctx)
		if err != nil {
			return "", err
		}
		r, err := c.post(ctx, path, token, raw)
		if err != nil {
			return "", err
		}
		if r.ErrCode == 0 {
			if r.MsgID == 0 {
				return m.ID, nil
			}
			return fmt.Sprint(r.MsgID), nil
		}
		if tokenExpired(r.ErrCode) && try == 0 {
			c.forget(token)
			continue
		}
		return "", &messaging.SendError{Kind: classify(r.ErrCode), Code: fmt.Sprint(r.ErrCode), Message: r.ErrMsg}
	}
}

type sendAnswer struct {
	apiError
	MsgID int64 `json:"msgid"`
}

func (c *Client) post(ctx context.Context, path, token string, body []byte) (sendAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+path+"?access_token="+url.QueryEscape(token), bytes.NewReader(body))
	if err != nil {
		return sendAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return sendAnswer{}, fmt.Errorf("wechat send: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return sendAnswer{}, &messaging.SendError{Kind: messaging.Transient, Code: fmt.Sprint(resp.StatusCode), Message: "server error"}
	}
	var r sendAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&r); err != nil {
		return sendAnswer{}, fmt.Errorf("wechat send: HTTP %d: %w", resp.StatusCode, err)
	}
	return r, nil
}

// Dedups: template messages carry client_msg_id, which WeChat uses to drop
// a repeat; subscription messages have no such key, so an in-doubt one is
// not resent (the dispatcher marks it in_doubt).
func (c *Client) Dedups(m messaging.Outgoing) bool { return m.WeChatKind != messaging.WeChatSubscribe }
