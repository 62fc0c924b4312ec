// Package sms sends SMS through Alibaba Cloud's Short Message Service
// (dysmsapi, API version 2017-05-25): SendSms with the brand's sign name
// and the template code, QuerySendDetails to settle a message in doubt,
// and the HTTP callbacks for delivery reports (SmsReport) and members'
// replies (SmsUp), where TD, T or 退订 opts the member out at once.
//
// Requests are signed with the RPC signature, version 1.0 (HMAC-SHA1
// over the sorted, percent-encoded parameters). smstest is a fake gateway
// that checks what the real one checks.
package sms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
)

// DefaultEndpoint is Alibaba Cloud's SMS endpoint.
const DefaultEndpoint = "https://dysmsapi.aliyuncs.com"

// APIVersion is the dysmsapi version spoken.
const APIVersion = "2017-05-25"

// Config is an Alibaba Cloud account.
type Config struct {
	// Endpoint is the API's base URL (DefaultEndpoint; a fake in tests).
	Endpoint        string
	AccessKeyID     string
	AccessKeySecret string
	// RegionID is cn-hangzhou unless the account says otherwise.
	RegionID   string
	HTTPClient *http.Client
	Now        func() time.Time
}

// Client speaks to the gateway. It is a messaging.Sender and a
// messaging.Finder.
type Client struct{ cfg Config }

// New makes a client.
func New(cfg Config) (*Client, error) {
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, fmt.Errorf("sms: access key id and secret are required")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.RegionID == "" {
		cfg.RegionID = "cn-hangzhou"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	return &Client{cfg: cfg}, nil
}

// Response is the gateway's answer: Code "OK" or an error code.
type Response struct {
	Code      string
	Message   string
	RequestId string
	BizId     string `json:",omitempty"`
	// QuerySendDetails.
	TotalCount        int `json:",omitempty"`
	SmsSendDetailDTOs *struct {
		SmsSendDetailDTO []SendDetail
	} `json:",omitempty"`
}

// SendDetail is one message in QuerySendDetails: SendStatus 1 waiting
// for a receipt, 2 failed, 3 delivered.
type SendDetail struct {
	PhoneNum     string
	SendStatus   int
	ErrCode      string
	TemplateCode string
	Content      string
	SendDate     string
	ReceiveDate  string
	OutId        string
}

// call signs and posts one action.
func (c *Client) call(ctx context.Context, action string, params url.Values) (Response, error) {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	params.Set("AccessKeyId", c.cfg.AccessKeyID)
	params.Set("Action", action)
	params.Set("Format", "JSON")
	params.Set("RegionId", c.cfg.RegionID)
	params.Set("SignatureMethod", "HMAC-SHA1")
	params.Set("SignatureNonce", hex.EncodeToString(nonce))
	params.Set("SignatureVersion", "1.0")
	params.Set("Timestamp", c.cfg.Now().UTC().Format("2006-01-02T15:04:05Z"))
	params.Set("Version", APIVersion)
	params.Set("Signature", Sign(http.MethodPost, params, c.cfg.AccessKeySecret))
	body := "Signature=" + PercentEncode(params.Get("Signature")) + "&" + CanonicalQuery(params)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint+"/", strings.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("sms %s: %w", action, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, fmt.Errorf("sms %s: read answer: %w", action, err)
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil || r.Code == "" {
		if resp.StatusCode >= 500 {
			return Response{}, &messaging.SendError{Kind: messaging.Transient, Code: fmt.Sprint(resp.StatusCode), Message: "gateway error"}
		}
		return Response{}, fmt.Errorf("sms %s: HTTP %d, answer not understood: %.200q", action, resp.StatusCode, raw)
	}
	if r.Code != "OK" {
		return r, &messaging.SendError{Kind: classify(r.Code, resp.StatusCode), Code: r.Code, Message: r.Message}
	}
	return r, nil
}

// classify says what a gateway error code means for the message.
func classify(code string, httpStatus int) messaging.FailKind {
	switch {
	case code == "isv.BUSINESS_LIMIT_CONTROL" || strings.HasPrefix(code, "Throttling"):
		return messaging.RateLimited
	case code == "isp.SYSTEM_ERROR" || code == "ServiceUnavailable" || code == "InternalError" ||
		code == "SignatureNonceUsed" || code == "InvalidTimeStamp.Expired" || code == "isv.AMOUNT_NOT_ENOUGH" ||
		httpStatus >= 500:
		return messaging.Transient
	}
	return messaging.Permanent
}

// Send sends one SMS and returns its BizId. OutId carries the message ID,
// which delivery reports echo.
func (c *Client) Send(ctx context.Context, m messaging.Outgoing) (string, error) {
	if m.SignName == "" || m.Template == "" {
		return "", &messaging.SendError{Kind: messaging.Permanent, Code: "local.MISSING_SIGN_OR_TEMPLATE", Message: "sign name and template code are required"}
	}
	params := url.Values{}
	params.Set("PhoneNumbers", m.To)
	params.Set("SignName", m.SignName)
	params.Set("TemplateCode", m.Template)
	if len(m.Vars) > 0 {
		tp, err := json.Marshal(m.Vars)
		if err != nil {
			return "", err
		}
		params.Set("TemplateParam", string(tp))
	}
	params.Set("OutId", m.ID)
	r, err := c.call(ctx, "SendSms", params)
	if err != nil {
		return "", err
	}
	return r.BizId, nil
}

// china is the zone SendDate is counted in.
var china = time.FixedZone("CST", 8*3600)

// Find asks the gateway whether a message with this ID (OutId) was sent
// to the phone since a time: QuerySendDetails keeps 30 days.
func (c *Client) Find(ctx context.Context, m messaging.Outgoing, since time.Time) (string, bool, error) {
	now := c.cfg.Now()
	for day := since.In(china); !day.After(now.In(china).Add(24 * time.Hour)); day = day.Add(24 * time.Hour) {
		for page := 1; page <= 20; page++ {
			params := url.Values{}
			params.Set("PhoneNumber", m.To)
			params.Set("SendDate", day.Format("20060102"))
			params.Set("PageSize", "50")
			params.Set("CurrentPage", fmt.Sprint(page))
			r, err := c.call(ctx, "QuerySendDetails", params)
			if err != nil {
				return "", false, err
			}
			if r.SmsSendDetailDTOs == nil || len(r.SmsSendDetailDTOs.SmsSendDetailDTO) == 0 {
				break
			}
			for _, d := range r.SmsSendDetailDTOs.SmsSendDetailDTO {
				if d.OutId == m.ID {
					// The details carry no BizId; reports find the message
					// by its OutId.
					return "", true, nil
				}
			}
			if page*50 >= r.TotalCount {
				break
			}
		}
	}
	return "", false, nil
}
