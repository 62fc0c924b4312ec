package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/memberpass/memberpass/cloud/messaging"
)

// DefaultOpenBaseURL is where WeChat's OAuth authorisation page lives.
const DefaultOpenBaseURL = "https://open.weixin.qq.com"

// AuthorizeURL is the page a member opens inside WeChat to let the
// official account know their openid (scope snsapi_base: no prompt).
func (c *Client) AuthorizeURL(redirect, state string) string {
	base := c.cfg.OpenBaseURL
	if base == "" {
		base = DefaultOpenBaseURL
	}
	q := url.Values{"appid": {c.cfg.AppID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"snsapi_base"}, "state": {state}}
	return strings.TrimRight(base, "/") + "/connect/oauth2/authorize?" + q.Encode() + "#wechat_redirect"
}

// OpenID exchanges the code WeChat handed back for the member's openid
// (sns/oauth2/access_token). A code works once, for five minutes.
func (c *Client) OpenID(ctx context.Context, code string) (string, error) {
	q := url.Values{"appid": {c.cfg.AppID}, "secret": {c.cfg.AppSecret}, "code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/sns/oauth2/access_token?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("wechat oauth: %w", err)
	}
	defer resp.Body.Close()
	var r struct {
		apiError
		OpenID string `json:"openid"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&r); err != nil {
		return "", fmt.Errorf("wechat oauth: HTTP %d: %w", resp.StatusCode, err)
	}
	if r.ErrCode != 0 || r.OpenID == "" {
		return "", fmt.Errorf("wechat oauth: errcode %d: %s", r.ErrCode, r.ErrMsg)
	}
	return r.OpenID, nil
}

// Link serves /wechat/link/<brand>/<member>/<card token>: the member opens
// their private card link inside WeChat, is sent through WeChat's OAuth
// page and back, and their openid is recorded with their consent to
// WeChat messages. Verify checks the card token (loyalty's card link), so
// only the member can link their account.
type Link struct {
	Client  *Client
	Service *messaging.Service
	Verify  func(ctx context.Context, brand, member, token string) error
	// PublicURL is the cloud's member page address as WeChat reaches it.
	PublicURL string
	Logger    *slog.Logger
}

func (l *Link) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/wechat/link/"), "/")
	if r.Method != http.MethodGet || len(parts) != 3 || len(r.URL.Path) > 300 {
		http.NotFound(w, r)
		return
	}
	brand, member, token := parts[0], parts[1], parts[2]
	if err := l.Verify(r.Context(), brand, member, token); err != nil {
		page(w, http.StatusForbidden, "链接无效", "This link is not valid")
		return
	}
	code := r.URL.Query().Get("code")
	if code == "" || len(code) > 128 {
		self := strings.TrimRight(l.PublicURL, "/") + r.URL.Path
		http.Redirect(w, r, l.Client.AuthorizeURL(self, "link"), http.StatusFound)
		return
	}
	openid, err := l.Client.OpenID(r.Context(), code)
	if err != nil {
		if l.Logger != nil {
			l.Logger.Warn("WeChat link", "brand", brand, "member", member, "err", err)
		}
		page(w, http.StatusBadGateway, "微信授权失败，请重新打开链接", "WeChat did not confirm; open the link again")
		return
	}
	if err := l.Service.LinkWeChat(r.Context(), brand, member, openid, true); err != nil {
		page(w, http.StatusInternalServerError, "暂时无法关联，请稍后再试", "Could not link now; try again later")
		return
	}
	page(w, http.StatusOK, "已关联微信，将通过公众号接收会员消息", "WeChat linked: member messages will come through the official account")
}

func page(w http.ResponseWriter, status int, zh, en string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta name=viewport content=\"width=device-width\"><p>%s</p><p>%s</p>", html.EscapeString(zh), html.EscapeString(en))
}
