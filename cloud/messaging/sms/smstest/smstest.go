// Package smstest is a fake Alibaba Cloud SMS gateway for tests. It checks
// what the real one checks (the access key, the HMAC-SHA1 signature over
// the percent-encoded parameters, a fresh nonce, a timestamp within 15
// minutes, the sign name and template code registered, every template
// variable given, an 11-digit phone) and answers with the real codes,
// errors included; it keeps what it sent for QuerySendDetails and can push
// delivery reports and members' replies to the brand's callbacks.
package smstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging/sms"
)

// Sent is one message the fake accepted.
type Sent struct {
	BizID        string
	Phone        string
	SignName     string
	TemplateCode string
	Params       map[string]string
	OutID        string
	At           time.Time
}

// Gateway is the fake.
type Gateway struct {
	*httptest.Server
	KeyID, Secret string
	// PerSecond, when > 0, answers isv.BUSINESS_LIMIT_CONTROL beyond that
	// many SendSms per second.
	PerSecond int

	mu        sync.Mutex
	signs     map[string]bool
	templates map[string][]string
	nonces    map[string]bool
	sent      []Sent
	failNext  []string
	second    int64
	inSecond  int
	requests  int
	now       func() time.Time
}

// New starts a fake gateway for one access key.
func New(keyID, secret string) *Gateway {
	g := &Gateway{KeyID: keyID, Secret: secret, signs: map[string]bool{}, templates: map[string][]string{}, nonces: map[string]bool{}, now: time.Now}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// AddSign registers an approved sign name.
func (g *Gateway) AddSign(name string) { g.mu.Lock(); g.signs[name] = true; g.mu.Unlock() }

// AddTemplate registers an approved template code and its variables.
func (g *Gateway) AddTemplate(code string, vars ...string) {
	g.mu.Lock()
	g.templates[code] = vars
	g.mu.Unlock()
}

// FailNext makes the next SendSms answer with a code (isp.SYSTEM_ERROR, ...).
func (g *Gateway) FailNext(codes ...string) {
	g.mu.Lock()
	g.failNext = append(g.failNext, codes...)
	g.mu.Unlock()
}

// Sent returns the messages accepted so far.
func (g *Gateway) Sent() []Sent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Sent(nil), g.sent...)
}

// Requests is how many API requests arrived.
func (g *Gateway) Requests() int { g.mu.Lock(); defer g.mu.Unlock(); return g.requests }

var phonePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

func answer(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	body := map[string]any{"Code": code, "Message": msg, "RequestId": fmt.Sprintf("F%d", time.Now().UnixNano())}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		answer(w, 400, "MissingParameter", err.Error(), nil)
		return
	}
	p := r.Form
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests++
	for _, k := range []string{"AccessKeyId", "Action", "Format", "RegionId", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp", "Version", "Signature"} {
		if p.Get(k) == "" {
			answer(w, 400, "MissingParameter", "missing "+k, nil)
			return
		}
	}
	if p.Get("AccessKeyId") != g.KeyID {
		answer(w, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", nil)
		return
	}
	if p.Get("SignatureMethod") != "HMAC-SHA1" || p.Get("SignatureVersion") != "1.0" || p.Get("Version") != sms.APIVersion {
		answer(w, 400, "InvalidParameter", "signature method, signature version or version", nil)
		return
	}
	if want := signature(r.Method, p, g.Secret); p.Get("Signature") != want {
		answer(w, 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", nil)
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p.Get("Timestamp"))
	if err != nil || ts.Sub(g.now()).Abs() > 15*time.Minute {
		answer(w, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", nil)
		return
	}
	if g.nonces[p.Get("SignatureNonce")] {
		answer(w, 400, "SignatureNonceUsed", "Specified signature nonce was used already.", nil)
		return
	}
	g.nonces[p.Get("SignatureNonce")] = true
	switch p.Get("Action") {
	case "SendSms":
		g.sendSMS(w, p)
	case "QuerySendDetails":
		g.query(w, p)
	default:
		answer(w, 400, "InvalidAction.NotFound", "Specified api is not found", nil)
	}
}

func (g *Gateway) sendSMS(w http.ResponseWriter, p url.Values) {
	if len(g.failNext) > 0 {
		code := g.failNext[0]
		g.failNext = g.failNext[1:]
		answer(w, 200, code, "injected", nil)
		return
	}
	if g.PerSecond > 0 {
		sec := g.now().Unix()
		if sec != g.second {
			g.second, g.inSecond = sec, 0
		}
		if g.inSecond >= g.PerSecond {
			answer(w, 200, "isv.BUSINESS_LIMIT_CONTROL", "触发流控", nil)
			return
		}
		g.inSecond++
	}
	phone := p.Get("PhoneNumbers")
	if !phonePattern.MatchString(phone) {
		answer(w, 200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号", nil)
		return
	}
	if !g.signs[p.Get("SignName")] {
		answer(w, 200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名", nil)
		return
	}
	vars, ok := g.templates[p.Get("TemplateCode")]
	if !ok {
		answer(w, 200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板", nil)
		return
	}
	params := map[string]string{}
	if tp := p.Get("TemplateParam"); tp != "" {
		if err := json.Unmarshal([]byte(tp), &params); err != nil {
			answer(w, 200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值", nil)
			return
		}
	}
	for _, v := range vars {
		if _, ok := params[v]; !ok {
			answer(w, 200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量", nil)
			return
		}
	}
	biz := fmt.Sprintf("%d^%d", 900000000+len(g.sent), 0)
	g.sent = append(g.sent, Sent{BizID: biz, Phone: phone, SignName: p.Get("SignName"), TemplateCode: p.Get("TemplateCode"), Params: params, OutID: p.Get("OutId"), At: g.now()})
	answer(w, 200, "OK", "OK", map[string]any{"BizId": biz})
}

var china = time.FixedZone("CST", 8*3600)

func (g *Gateway) query(w http.ResponseWriter, p url.Values) {
	phone, date := p.Get("PhoneNumber"), p.Get("SendDate")
	size, _ := strconv.Atoi(p.Get("PageSize"))
	page, _ := strconv.Atoi(p.Get("CurrentPage"))
	if !phonePattern.MatchString(phone) || len(date) != 8 || size < 1 || size > 50 || page < 1 {
		answer(w, 200, "isv.INVALID_PARAMETERS", "参数异常", nil)
		return
	}
	var all []map[string]any
	for _, s := range g.sent {
		if s.Phone == phone && s.At.In(china).Format("20060102") == date {
			all = append(all, map[string]any{"PhoneNum": s.Phone, "SendStatus": 3, "ErrCode": "DELIVERED", "TemplateCode": s.TemplateCode,
				"Content": "", "SendDate": s.At.In(china).Format("2006-01-02 15:04:05"), "ReceiveDate": s.At.In(china).Format("2006-01-02 15:04:05"), "OutId": s.OutID})
		}
	}
	from := min((page-1)*size, len(all))
	to := min(from+size, len(all))
	answer(w, 200, "OK", "OK", map[string]any{"TotalCount": len(all), "SmsSendDetailDTOs": map[string]any{"SmsSendDetailDTO": all[from:to]}})
}

// PushReport posts a delivery report for a sent message to a callback URL,
// as the gateway's SmsReport push does, and returns the HTTP status.
func PushReport(url string, s Sent, success bool, errCode string) (int, error) {
	rep := []sms.Report{{PhoneNumber: s.Phone, SendTime: s.At.In(china).Format("2006-01-02 15:04:05"), ReportTime: s.At.In(china).Format("2006-01-02 15:04:05"),
		Success: success, ErrCode: errCode, ErrMsg: errCode, SMSSize: "1", BizID: s.BizID, OutID: s.OutID}}
	return push(url, rep)
}

// PushReply posts a member's reply, as the gateway's SmsUp push does.
func PushReply(url, phone, content, signName string) (int, error) {
	return push(url, []sms.Reply{{PhoneNumber: phone, SendTime: time.Now().In(china).Format("2006-01-02 15:04:05"), Content: content, SignName: signName, DestCode: "1234", SequenceID: 1}})
}

func push(url string, v any) (int, error) {
	body, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var a struct {
		Code int `json:"code"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &a); err != nil || a.Code != 0 {
		return resp.StatusCode, fmt.Errorf("push answered %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// signature is the gateway's own computation of the RPC signature,
// written apart from the client's: the documented rule byte by byte.
func signature(method string, p url.Values, secret string) string {
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	var keys []string
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, enc(k)+"="+enc(p.Get(k)))
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&" + enc("/") + "&" + enc(strings.Join(pairs, "&"))))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
