// Package douyin is the group-buy adapter for Douyin life services
// (抖音生活服务 团购核销): a client token fetched with the app's key and
// secret and refreshed before it expires (or when the platform says it
// expired), certificate prepare (check a code, see its deal and
// certificates), verify (consume), cancel (undo), and the verify records
// for "was it consumed" and the daily reconciliation, per shop by its
// poi_id.
//
// The request shapes follow the public Java SDK
// fengwensheng100/douyin-java-sdk, read for this adapter:
// DouYinLifeConstant.java (https://open.douyin.com/oauth/client_token/,
// /goodlife/v1/fulfilment/certificate/{prepare,verify,cancel,get}/,
// .../certificate/verify_record/query/), DouYinHttpUtils.java (the token
// travels in the "access-token" header, JSON bodies),
// CertificatePrepareResp.java (verify_token, certificates with
// encrypted_code, expire_time in seconds, sku.sku_id/title, amounts in
// fen), CertificateVerifyReq.java (verify_token "for idempotency over a
// short time", poi_id, encrypted_codes), CertificateVerifyResp.java
// (verify_results: result, verify_id, certificate_id, origin_code) and
// CertificateCancelReq.java (verify_id, certificate_id).
//
// Refusal codes other than the token's are not in that source; the ones
// mapped below are what our fake (douyintest) answers and must be checked
// against the platform's error table.
package douyin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
)

// DefaultBaseURL is the platform's API host.
const DefaultBaseURL = "https://open.douyin.com"

// Config is one brand's app on the platform.
type Config struct {
	BaseURL      string `json:"base_url"`
	ClientKey    string `json:"client_key"`
	ClientSecret string `json:"client_secret"`
	// AccountID is the merchant's account (商家总店 id), which the verify
	// records are listed by.
	AccountID string `json:"account_id"`
}

// Client is the adapter for one brand.
type Client struct {
	cfg  Config
	http *http.Client
	Now  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New makes an adapter; hc nil uses a client with a 5 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.ClientKey == "" || cfg.ClientSecret == "" || cfg.AccountID == "" {
		return nil, errors.New("douyin: client_key, client_secret and account_id are all needed")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	return &Client{cfg: cfg, http: hc, Now: time.Now}, nil
}

// Platform names the platform.
func (c *Client) Platform() string { return cloud.PlatformDouyin }

// Error codes (see the package comment).
const (
	codeTokenInvalid = 2190002
	codeTokenExpired = 2190008
	codeRateLimited  = 2100004
	codeNotFound     = 1001
	codeUsed         = 1002
	codeRefunded     = 1003
	codeExpired      = 1004
	codeWrongShop    = 1005
	codeTooLate      = 1007
)

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Extra struct {
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		LogID       string `json:"logid"`
	} `json:"extra"`
	Message string `json:"message"`
}

type status struct {
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
}

// clientToken returns a valid client token, fetching one when there is
// none or it expires within 5 minutes.
func (c *Client) clientToken(ctx context.Context, renew bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !renew && c.token != "" && c.Now().Add(5*time.Minute).Before(c.expires) {
		return c.token, nil
	}
	body, _ := json.Marshal(map[string]string{"client_key": c.cfg.ClientKey, "client_secret": c.cfg.ClientSecret, "grant_type": "client_credential"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/oauth/client_token/", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("douyin client token: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", groupbuy.Refuse(groupbuy.ReasonUnavailable, "douyin client token: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			status
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", groupbuy.Refuse(groupbuy.ReasonUnavailable, "douyin client token: %v", err)
	}
	if out.Data.ErrorCode != 0 || out.Data.AccessToken == "" {
		return "", groupbuy.Refuse(groupbuy.ReasonAuth, "douyin client token: %d %s", out.Data.ErrorCode, out.Data.Description)
	}
	c.token, c.expires = out.Data.AccessToken, c.Now().Add(time.Duration(out.Data.ExpiresIn)*time.Second)
	return c.token, nil
}

// call sends one request with the client token, renewing the token once
// if the platform says it is no longer valid.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.clientToken(ctx, attempt > 0)
		if err != nil {
			return err
		}
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		u := c.cfg.BaseURL + "/goodlife/v1/fulfilment/certificate/" + path + "/"
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return fmt.Errorf("douyin %s: %w", path, err)
		}
		req.Header.Set("access-token", tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return groupbuy.Refuse(groupbuy.ReasonUnavailable, "douyin %s: %v", path, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return groupbuy.Refuse(groupbuy.ReasonUnavailable, "douyin %s: read answer: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return groupbuy.Refuse(groupbuy.ReasonUnavailable, "douyin %s: HTTP %d", path, resp.StatusCode)
		}
		var env envelope
		var st status
		if err := json.Unmarshal(raw, &env); err != nil {
			return groupbuy.Refuse(groupbuy.ReasonUnavailable, "douyin %s: answer is not JSON: %v", path, err)
		}
		_ = json.Unmarshal(env.Data, &st)
		code, desc := st.ErrorCode, st.Description
		if code == 0 {
			code, desc = env.Extra.ErrorCode, env.Extra.Description
		}
		if (code == codeTokenExpired || code == codeTokenInvalid) && attempt == 0 {
			continue
		}
		if code != 0 {
			return refusal(path, code, desc)
		}
		if out != nil {
			if err := json.Unmarshal(env.Data, out); err != nil {
				return fmt.Errorf("douyin %s: decode data: %w", path, err)
			}
		}
		return nil
	}
}

func refusal(path string, code int, desc string) error {
	reason := map[int]groupbuy.Reason{
		codeTokenExpired: groupbuy.ReasonAuth, codeTokenInvalid: groupbuy.ReasonAuth, codeRateLimited: groupbuy.ReasonRateLimited,
		codeNotFound: groupbuy.ReasonNotFound, codeUsed: groupbuy.ReasonUsed, codeRefunded: groupbuy.ReasonRefunded,
		codeExpired: groupbuy.ReasonExpired, codeWrongShop: groupbuy.ReasonWrongShop, codeTooLate: groupbuy.ReasonNotReversible,
	}[code]
	if reason == "" {
		reason = groupbuy.ReasonUnavailable
	}
	return groupbuy.Refuse(reason, "douyin %s: %d %s", path, code, desc)
}

type certificate struct {
	EncryptedCode string `json:"encrypted_code"`
	ExpireTime    int64  `json:"expire_time"`
	Sku           struct {
		SkuID       string `json:"sku_id"`
		Title       string `json:"title"`
		MarketPrice int64  `json:"market_price"`
		AccountID   string `json:"account_id"`
	} `json:"sku"`
	Amount struct {
		OriginalAmount  int64 `json:"original_amount"`
		PayAmount       int64 `json:"pay_amount"`
		CouponPayAmount int64 `json:"coupon_pay_amount"`
	} `json:"amount"`
}

// price is what one certificate sold for: what the guest and the payment
// discount paid together (coupon_pay_amount), else the original amount.
func (ct certificate) price() int64 {
	if ct.Amount.CouponPayAmount > 0 {
		return ct.Amount.CouponPayAmount
	}
	return ct.Amount.OriginalAmount
}

type prepared struct {
	VerifyToken  string        `json:"verify_token"`
	OrderID      string        `json:"order_id"`
	Certificates []certificate `json:"certificates"`
}

func (c *Client) prepare(ctx context.Context, shop, code string) (prepared, error) {
	var p prepared
	err := c.call(ctx, http.MethodGet, "prepare", url.Values{"code": {code}, "poi_id": {shop}}, nil, &p)
	if err == nil && len(p.Certificates) == 0 {
		err = groupbuy.Refuse(groupbuy.ReasonUsed, "douyin prepare: no certificate left on code")
	}
	return p, err
}

// Prepare checks a code at a shop (certificate/prepare).
func (c *Client) Prepare(ctx context.Context, shop, code string) (groupbuy.Deal, error) {
	p, err := c.prepare(ctx, shop, code)
	if err != nil {
		return groupbuy.Deal{}, err
	}
	ct := p.Certificates[0]
	return groupbuy.Deal{Platform: cloud.PlatformDouyin, Code: code, DealID: ct.Sku.SkuID, Title: ct.Sku.Title, PriceFen: ct.price(),
		CountLeft: len(p.Certificates), ExpiresAt: time.Unix(ct.ExpireTime, 0).UTC()}, nil
}

// Consume prepares the code again (for a fresh verify_token and the
// encrypted codes) and verifies count certificates (certificate/verify).
// The platform keys its short-term idempotency on the verify_token, not on
// our key: a timed-out verify is settled with Consumed.
func (c *Client) Consume(ctx context.Context, shop, code string, count int, key string) (groupbuy.Receipt, error) {
	p, err := c.prepare(ctx, shop, code)
	if err != nil {
		return groupbuy.Receipt{}, err
	}
	if count > len(p.Certificates) {
		return groupbuy.Receipt{}, groupbuy.Refuse(groupbuy.ReasonCountLeft, "douyin: %d asked, %d left", count, len(p.Certificates))
	}
	codes := make([]string, 0, count)
	for _, ct := range p.Certificates[:count] {
		codes = append(codes, ct.EncryptedCode)
	}
	var out struct {
		Results []struct {
			Result        int    `json:"result"`
			Msg           string `json:"msg"`
			VerifyID      string `json:"verify_id"`
			CertificateID string `json:"certificate_id"`
			OriginCode    string `json:"origin_code"`
		} `json:"verify_results"`
	}
	err = c.call(ctx, http.MethodPost, "verify", nil, map[string]any{"verify_token": p.VerifyToken, "poi_id": shop, "encrypted_codes": codes}, &out)
	if r, ok := groupbuy.AsRefusal(err); ok && r.Reason == groupbuy.ReasonUnavailable {
		return groupbuy.Receipt{}, fmt.Errorf("%w: %w", groupbuy.ErrUnsettled, err)
	}
	if err != nil {
		return groupbuy.Receipt{}, err
	}
	ct := p.Certificates[0]
	rc := groupbuy.Receipt{Platform: cloud.PlatformDouyin, Code: code, DealID: ct.Sku.SkuID, Title: ct.Sku.Title, PriceFen: ct.price(), ConsumedAt: c.Now().UTC()}
	for _, r := range out.Results {
		if r.Result != 0 {
			continue
		}
		rc.Count++
		rc.Refs = append(rc.Refs, r.VerifyID+":"+r.CertificateID)
	}
	if rc.Count == 0 {
		msg := ""
		if len(out.Results) > 0 {
			msg = out.Results[0].Msg
		}
		return groupbuy.Receipt{}, groupbuy.Refuse(groupbuy.ReasonUsed, "douyin verify: no certificate verified: %s", msg)
	}
	return rc, nil
}

type record struct {
	VerifyID      string `json:"verify_id"`
	CertificateID string `json:"certificate_id"`
	Code          string `json:"code"`
	OrderID       string `json:"order_id"`
	PoiID         string `json:"poi_id"`
	VerifyTime    int64  `json:"verify_time"`
	// Status 1: verified; 2: cancelled.
	Status int `json:"status"`
	Sku    struct {
		SkuID string `json:"sku_id"`
		Title string `json:"title"`
	} `json:"sku"`
	Amount struct {
		CouponPayAmount int64 `json:"coupon_pay_amount"`
		OriginalAmount  int64 `json:"original_amount"`
	} `json:"amount"`
}

// records lists the verify records at a shop between two times
// (certificate/verify_record/query), page by page.
func (c *Client) records(ctx context.Context, shop string, from, to time.Time) ([]record, error) {
	var all []record
	cursor := "0"
	for range 1000 {
		var page struct {
			Records []record `json:"records"`
			Cursor  string   `json:"cursor"`
			HasMore bool     `json:"has_more"`
		}
		err := c.call(ctx, http.MethodGet, "verify_record/query", url.Values{
			"account_id": {c.cfg.AccountID}, "poi_id": {shop}, "start_time": {strconv.FormatInt(from.Unix(), 10)},
			"end_time": {strconv.FormatInt(to.Unix(), 10)}, "cursor": {cursor}, "size": {"50"},
		}, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Records...)
		if !page.HasMore || page.Cursor == cursor {
			break
		}
		cursor = page.Cursor
	}
	return all, nil
}

// Consumed looks for the code among the shop's verify records of the last
// day: what a timed-out verify did.
func (c *Client) Consumed(ctx context.Context, shop, code string) (groupbuy.Receipt, bool, error) {
	now := c.Now()
	recs, err := c.records(ctx, shop, now.Add(-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		return groupbuy.Receipt{}, false, err
	}
	var rc groupbuy.Receipt
	for _, r := range recs {
		if r.Code != code || r.Status != 1 {
			continue
		}
		price := r.Amount.CouponPayAmount
		if price == 0 {
			price = r.Amount.OriginalAmount
		}
		rc = groupbuy.Receipt{Platform: cloud.PlatformDouyin, Code: code, DealID: r.Sku.SkuID, Title: r.Sku.Title, PriceFen: price,
			ConsumedAt: time.Unix(r.VerifyTime, 0).UTC()}
		// Every certificate of the same verification (one verify_id).
		for _, o := range recs {
			if o.VerifyID == r.VerifyID && o.Status == 1 {
				rc.Count++
				rc.Refs = append(rc.Refs, o.VerifyID+":"+o.CertificateID)
			}
		}
		return rc, true, nil
	}
	return groupbuy.Receipt{}, false, nil
}

// Reverse cancels each certificate of a consumption (certificate/cancel).
func (c *Client) Reverse(ctx context.Context, shop string, r groupbuy.Receipt) error {
	for _, ref := range r.Refs {
		verifyID, certID, ok := strings.Cut(ref, ":")
		if !ok {
			return fmt.Errorf("douyin cancel: reference %q is not verify_id:certificate_id", ref)
		}
		if err := c.call(ctx, http.MethodPost, "cancel", nil, map[string]string{"verify_id": verifyID, "certificate_id": certID}, nil); err != nil {
			return err
		}
	}
	return nil
}

// China is the platform's time zone for days.
var China = time.FixedZone("CST", 8*3600)

// Settlement lists the day's verified certificates at a shop.
func (c *Client) Settlement(ctx context.Context, shop string, day time.Time) ([]groupbuy.SettlementLine, error) {
	d := day.In(China)
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, China)
	recs, err := c.records(ctx, shop, from, from.AddDate(0, 0, 1).Add(-time.Second))
	if err != nil {
		return nil, err
	}
	var out []groupbuy.SettlementLine
	for _, r := range recs {
		if r.Status != 1 {
			continue
		}
		price := r.Amount.CouponPayAmount
		if price == 0 {
			price = r.Amount.OriginalAmount
		}
		out = append(out, groupbuy.SettlementLine{Platform: cloud.PlatformDouyin, ShopID: shop, Code: r.Code, DealID: r.Sku.SkuID, Title: r.Sku.Title,
			PriceFen: price, Count: 1, ConsumedAt: time.Unix(r.VerifyTime, 0).UTC(), Ref: r.VerifyID + ":" + r.CertificateID})
	}
	return out, nil
}
