// Package wechattest is a fake WeChat API server for tests. It checks what
// WeChat checks (the app id and secret for a token; a token that exists,
// is not expired and not revoked; an openid that follows the account; a
// template registered with its keys; the JSON shape) and answers with
// WeChat's errcodes: 40001, 40003, 40013, 40037, 40125, 41001, 42001,
// 43004, 43101, 45009, 47001, 47003. Template messages with a
// client_msg_id already seen are not delivered again, as WeChat does.
package wechattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging/wechat"
)

// Sent is a message the fake delivered.
type Sent struct {
	Kind        string // template or subscribe
	MsgID       int64
	ToUser      string
	TemplateID  string
	Data        map[string]string
	URL         string
	ClientMsgID string
}

type token struct {
	expires time.Time
	revoked bool
}

// Server is the fake.
type Server struct {
	*httptest.Server
	AppID, Secret string
	// TTL of the tokens it hands out (default 7200 s).
	TTL time.Duration
	// PerSecond, when > 0, answers 45009 beyond that many sends a second.
	PerSecond int

	mu        sync.Mutex
	tokens    map[string]*token
	fetches   int
	followers map[string]bool
	refused   map[string]bool
	templates map[string][]string
	sent      []Sent
	seen      map[string]int64
	failNext  []int
	codes     map[string]string
	second    int64
	inSecond  int
}

// New starts a fake for one official account.
func New(appID, secret string) *Server {
	s := &Server{AppID: appID, Secret: secret, TTL: 7200 * time.Second, tokens: map[string]*token{}, followers: map[string]bool{},
		refused: map[string]bool{}, templates: map[string][]string{}, seen: map[string]int64{}, codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wechat.TokenPath, s.token)
	mux.HandleFunc("GET /sns/oauth2/access_token", s.oauth)
	mux.HandleFunc("POST "+wechat.TemplateSendPath, s.send("template"))
	mux.HandleFunc("POST "+wechat.SubscribeBizSendPath, s.send("subscribe"))
	mux.HandleFunc("POST "+wechat.MiniSubscribeSendPath, s.send("subscribe"))
	s.Server = httptest.NewServer(mux)
	return s
}

// AddFollower makes an openid follow the account.
func (s *Server) AddFollower(openid string) { s.mu.Lock(); s.followers[openid] = true; s.mu.Unlock() }

// Refuse makes an openid refuse subscription messages (43101) and
// unfollow (template messages get 43004).
func (s *Server) Refuse(openid string) { s.mu.Lock(); s.refused[openid] = true; s.mu.Unlock() }

// AddTemplate registers a template id and its data keys.
func (s *Server) AddTemplate(id string, keys ...string) {
	s.mu.Lock()
	s.templates[id] = keys
	s.mu.Unlock()
}

// ExpireTokens makes every token handed out so far expired (42001).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expires = time.Now().Add(-time.Second)
	}
}

// RevokeTokens makes every token so far invalid (40001), as when another
// server fetched a new one long ago.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
}

// FailNext makes the next sends answer these errcodes.
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	s.failNext = append(s.failNext, codes...)
	s.mu.Unlock()
}

// TokenFetches is how many tokens were handed out.
func (s *Server) TokenFetches() int { s.mu.Lock(); defer s.mu.Unlock(); return s.fetches }

// Sent returns what was delivered.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

func reply(w http.ResponseWriter, code int, msg string, extra map[string]any) {
	body := map[string]any{"errcode": code, "errmsg": msg}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	json.NewEncoder(w).Encode(body)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case q.Get("grant_type") != "client_credential":
		reply(w, 40002, "invalid grant_type", nil)
	case q.Get("appid") != s.AppID:
		reply(w, 40013, "invalid appid", nil)
	case q.Get("secret") != s.Secret:
		reply(w, 40125, "invalid appsecret", nil)
	default:
		s.fetches++
		tok := fmt.Sprintf("ACCESS_TOKEN_%d_%d", s.fetches, time.Now().UnixNano())
		s.tokens[tok] = &token{expires: time.Now().Add(s.TTL)}
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(s.TTL.Seconds())})
	}
}

type body struct {
	ToUser      string `json:"touser"`
	TemplateID  string `json:"template_id"`
	URL         string `json:"url"`
	Page        string `json:"page"`
	ClientMsgID string `json:"client_msg_id"`
	Data        map[string]struct {
		Value *string `json:"value"`
	} `json:"data"`
}

func (s *Server) send(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		tokStr := r.URL.Query().Get("access_token")
		tok := s.tokens[tokStr]
		switch {
		case tokStr == "":
			reply(w, 41001, "access_token missing", nil)
			return
		case tok == nil || tok.revoked:
			reply(w, 40001, "invalid credential, access_token is invalid or not latest", nil)
			return
		case time.Now().After(tok.expires):
			reply(w, 42001, "access_token expired", nil)
			return
		}
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		var b body
		if err := json.Unmarshal(raw, &b); err != nil {
			reply(w, 47001, "data format error", nil)
			return
		}
		if len(s.failNext) > 0 {
			code := s.failNext[0]
			s.failNext = s.failNext[1:]
			reply(w, code, "injected", nil)
			return
		}
		if s.PerSecond > 0 {
			if sec := time.Now().Unix(); sec != s.second {
				s.second, s.inSecond = sec, 0
			}
			if s.inSecond >= s.PerSecond {
				reply(w, 45009, "reach max api daily quota limit", nil)
				return
			}
			s.inSecond++
		}
		if !s.followers[b.ToUser] {
			reply(w, 40003, "invalid openid", nil)
			return
		}
		if s.refused[b.ToUser] {
			if kind == "subscribe" {
				reply(w, 43101, "user refuse to accept the msg", nil)
			} else {
				reply(w, 43004, "require subscribe", nil)
			}
			return
		}
		keys, ok := s.templates[b.TemplateID]
		if !ok {
			reply(w, 40037, "invalid template_id", nil)
			return
		}
		data := map[string]string{}
		for _, k := range keys {
			v, ok := b.Data[k]
			if !ok || v.Value == nil {
				reply(w, 47003, "argument invalid! data."+k+".value is empty", nil)
				return
			}
			data[k] = *v.Value
		}
		if kind == "template" && b.ClientMsgID != "" {
			if id, ok := s.seen[b.ToUser+"\x00"+b.ClientMsgID]; ok {
				reply(w, 0, "ok", map[string]any{"msgid": id})
				return
			}
		}
		id := int64(200000000 + len(s.sent))
		url := b.URL
		if kind == "subscribe" {
			url = b.Page
		}
		s.sent = append(s.sent, Sent{Kind: kind, MsgID: id, ToUser: b.ToUser, TemplateID: b.TemplateID, Data: data, URL: url, ClientMsgID: b.ClientMsgID})
		if kind == "template" && b.ClientMsgID != "" {
			s.seen[b.ToUser+"\x00"+b.ClientMsgID] = id
		}
		if kind == "template" {
			reply(w, 0, "ok", map[string]any{"msgid": id})
		} else {
			reply(w, 0, "ok", nil)
		}
	}
}

// PushJobFinish posts a TEMPLATESENDJOBFINISH event, signed with token, to
// the account's server URL, and returns the HTTP status.
func PushJobFinish(serverURL, token string, msgID int64, openid, status string) (int, error) {
	xml := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>%d</MsgID><Status><![CDATA[%s]]></Status></xml>`,
		openid, time.Now().Unix(), msgID, status)
	return PushEvent(serverURL, token, xml)
}

// PushEvent posts an event's XML with a valid signature.
func PushEvent(serverURL, token, xml string) (int, error) {
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), "n"+strconv.FormatInt(time.Now().UnixNano(), 36)
	u := fmt.Sprintf("%s?signature=%s&timestamp=%s&nonce=%s", serverURL, wechat.Signature(token, ts, nonce), ts, nonce)
	resp, err := http.Post(u, "text/xml", bytes.NewReader([]byte(xml)))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// IssueCode is what WeChat's OAuth page hands back for a member: a code
// for their openid, good once.
func (s *Server) IssueCode(openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := fmt.Sprintf("CODE%d", len(s.codes)+1)
	s.codes[code] = openid
	return code
}

func (s *Server) oauth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case q.Get("grant_type") != "authorization_code":
		reply(w, 40002, "invalid grant_type", nil)
	case q.Get("appid") != s.AppID:
		reply(w, 40013, "invalid appid", nil)
	case q.Get("secret") != s.Secret:
		reply(w, 40125, "invalid appsecret", nil)
	case s.codes[q.Get("code")] == "":
		reply(w, 40029, "invalid code", nil)
	default:
		openid := s.codes[q.Get("code")]
		delete(s.codes, q.Get("code"))
		json.NewEncoder(w).Encode(map[string]any{"access_token": "WEB_TOKEN", "expires_in": 7200, "refresh_token": "R", "openid": openid, "scope": "snsapi_base"})
	}
}
