// Package meituan is the group-buy adapter for Meituan / Dianping's open
// platform (美团·大众点评开放平台, "tuangou" receipts): check a code
// (receipt/prepare), consume it (receipt/consume), ask whether it was
// consumed (receipt/getconsumed), undo (receipt/reverseconsume) and list a
// day's consumptions (receipt/querylistbydate), for one brand's
// credentials (app key, secret and the merchant's authorised session) and
// per shop by its open_shop_uuid.
//
// The request shape and signing follow what public merchant integrations
// of the platform send, read for this adapter:
//   - ITLYS/Warehouse MeiTuanHeXiaoApi/IndexController.class.php: public
//     parameters app_key, timestamp ("Y-m-d H:i:s"), session, format=json,
//     v=1, sign_method=MD5; business parameters requestid, count,
//     receipt_code, open_shop_uuid, app_shop_account(name) for consume,
//     app_deal_id for reverseconsume; form-encoded POST to
//     https://openapi.dianping.com/router/tuangou/receipt/...; the sign is
//     md5(secret + k1v1k2v2... (keys sorted) + secret) in lower-case hex.
//   - winston-One/MahjongMaster ReceiptValidateResultDTO.java: the receipt
//     fields (receipt_code, deal_id, deal_group_id, deal_title, deal_price
//     in yuan, receiptEndDate).
//   - the Dianping Python SDK's ConsumedRequest / ListByDateRequest
//     (getconsumed with receipt_code and open_shop_uuid; querylistbydate
//     with date, offset, limit).
//
// The platform's refusal codes are not in those sources; the ones mapped
// below are what our fake (meituantest) answers and must be checked
// against the error table the platform gives a registered app.
package meituan

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
)

// DefaultBaseURL is the platform's router.
const DefaultBaseURL = "https://openapi.dianping.com"

// Config is one brand's credentials on the platform.
type Config struct {
	BaseURL   string `json:"base_url"`
	AppKey    string `json:"app_key"`
	AppSecret string `json:"app_secret"`
	// Session is the merchant's authorisation (from the platform's
	// OAuth flow), renewed by HQ when it expires.
	Session string `json:"session"`
	// Account and AccountName are what the platform records as who
	// consumed (app_shop_account, app_shop_accountname).
	Account     string `json:"account"`
	AccountName string `json:"account_name"`
}

// Client is the adapter for one brand.
type Client struct {
	cfg  Config
	http *http.Client
	// Now is the clock for request timestamps.
	Now func() time.Time
}

// China is the platform's time zone (timestamps, days).
var China = time.FixedZone("CST", 8*3600)

// New makes an adapter; hc nil uses a client with a 5 s timeout (a
// cashier waits for it).
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.AppKey == "" || cfg.AppSecret == "" || cfg.Session == "" {
		return nil, errors.New("meituan: app_key, app_secret and session are all needed")
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
func (c *Client) Platform() string { return cloud.PlatformMeituan }

// Sign is the platform's request signature: md5 of the secret, every
// parameter but sign as key+value in key order, and the secret again.
func Sign(secret string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(secret)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params.Get(k))
	}
	b.WriteString(secret)
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Response codes (see the package comment on where they come from).
const (
	codeOK          = 200
	codeBadSign     = 401
	codeBadSession  = 402
	codeRateLimited = 429
	codeNotFound    = 1001
	codeUsed        = 1002
	codeRefunded    = 1003
	codeExpired     = 1004
	codeWrongShop   = 1005
	codeCountLeft   = 1006
	codeTooLate     = 1007
	codeNotConsumed = 1008
)

type envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// call sends one signed request; a transport failure is a transient
// refusal, and a refusal code becomes a Refusal.
func (c *Client) call(ctx context.Context, method, path string, biz url.Values, out any) error {
	p := url.Values{}
	for k, v := range biz {
		p[k] = v
	}
	p.Set("app_key", c.cfg.AppKey)
	p.Set("timestamp", c.Now().In(China).Format("2006-01-02 15:04:05"))
	p.Set("session", c.cfg.Session)
	p.Set("format", "json")
	p.Set("v", "1")
	p.Set("sign_method", "MD5")
	p.Set("sign", Sign(c.cfg.AppSecret, p))
	u := c.cfg.BaseURL + "/router/tuangou/receipt/" + path
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(ctx, method, u+"?"+p.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u, strings.NewReader(p.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return fmt.Errorf("meituan %s: %w", path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return groupbuy.Refuse(groupbuy.ReasonUnavailable, "meituan %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return groupbuy.Refuse(groupbuy.ReasonUnavailable, "meituan %s: read answer: %v", path, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return groupbuy.Refuse(groupbuy.ReasonRateLimited, "meituan %s: HTTP 429", path)
	}
	if resp.StatusCode != http.StatusOK {
		return groupbuy.Refuse(groupbuy.ReasonUnavailable, "meituan %s: HTTP %d", path, resp.StatusCode)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return groupbuy.Refuse(groupbuy.ReasonUnavailable, "meituan %s: answer is not JSON: %v", path, err)
	}
	if env.Code != codeOK {
		return refusal(path, env)
	}
	if out != nil {
		d := json.NewDecoder(strings.NewReader(string(env.Data)))
		d.UseNumber()
		if err := d.Decode(out); err != nil {
			return fmt.Errorf("meituan %s: decode data: %w", path, err)
		}
	}
	return nil
}

func refusal(path string, env envelope) error {
	reason := map[int]groupbuy.Reason{
		codeBadSign: groupbuy.ReasonAuth, codeBadSession: groupbuy.ReasonAuth,
		codeRateLimited: groupbuy.ReasonRateLimited, codeNotFound: groupbuy.ReasonNotFound,
		codeUsed: groupbuy.ReasonUsed, codeRefunded: groupbuy.ReasonRefunded, codeExpired: groupbuy.ReasonExpired,
		codeWrongShop: groupbuy.ReasonWrongShop, codeCountLeft: groupbuy.ReasonCountLeft, codeTooLate: groupbuy.ReasonNotReversible,
		codeNotConsumed: groupbuy.ReasonNotFound,
	}[env.Code]
	if reason == "" {
		reason = groupbuy.ReasonUnavailable
	}
	return groupbuy.Refuse(reason, "meituan %s: code %d %s", path, env.Code, env.Msg)
}

// receipt is a receipt as the platform writes one.
type receipt struct {
	ReceiptCode string      `json:"receipt_code"`
	OrderID     string      `json:"order_id"`
	Count       json.Number `json:"count"`
	DealID      json.Number `json:"deal_id"`
	DealGroupID json.Number `json:"dealgroup_id"`
	DealTitle   string      `json:"deal_title"`
	DealPrice   json.Number `json:"deal_price"`
	EndDate     json.Number `json:"receiptEndDate"` // ms since the epoch
	VerifyTime  string      `json:"verify_time"`    // "2006-01-02 15:04:05" CST
}

func (r receipt) price() (int64, error) {
	if r.DealPrice == "" {
		return 0, nil
	}
	return groupbuy.YuanToFen(r.DealPrice.String())
}

// Prepare checks a code at a shop (tuangou/receipt/prepare).
func (c *Client) Prepare(ctx context.Context, shop, code string) (groupbuy.Deal, error) {
	var r receipt
	if err := c.call(ctx, http.MethodPost, "prepare", url.Values{"receipt_code": {code}, "open_shop_uuid": {shop}}, &r); err != nil {
		return groupbuy.Deal{}, err
	}
	price, err := r.price()
	if err != nil {
		return groupbuy.Deal{}, fmt.Errorf("meituan prepare: %w", err)
	}
	n, _ := strconv.Atoi(r.Count.String())
	d := groupbuy.Deal{Platform: cloud.PlatformMeituan, Code: code, DealID: r.DealID.String(), Title: r.DealTitle, PriceFen: price, CountLeft: n}
	if ms, err := r.EndDate.Int64(); err == nil && ms > 0 {
		d.ExpiresAt = time.UnixMilli(ms).UTC()
	}
	return d, nil
}

// Consume uses count uses of a code (tuangou/receipt/consume). key is the
// requestid, which the platform uses to answer a repeated request with
// its first result.
func (c *Client) Consume(ctx context.Context, shop, code string, count int, key string) (groupbuy.Receipt, error) {
	var rs []receipt
	err := c.call(ctx, http.MethodPost, "consume", url.Values{
		"requestid": {key}, "count": {strconv.Itoa(count)}, "receipt_code": {code}, "open_shop_uuid": {shop},
		"app_shop_account": {c.cfg.Account}, "app_shop_accountname": {c.cfg.AccountName},
	}, &rs)
	if r, ok := groupbuy.AsRefusal(err); ok && r.Reason == groupbuy.ReasonUnavailable {
		return groupbuy.Receipt{}, fmt.Errorf("%w: %w", groupbuy.ErrUnsettled, err)
	}
	if err != nil {
		return groupbuy.Receipt{}, err
	}
	if len(rs) == 0 {
		return groupbuy.Receipt{}, fmt.Errorf("%w: meituan consume answered no receipt", groupbuy.ErrUnsettled)
	}
	out := groupbuy.Receipt{Platform: cloud.PlatformMeituan, Code: code, DealID: rs[0].DealID.String(), Title: rs[0].DealTitle, Count: len(rs), ConsumedAt: c.Now().UTC()}
	if out.PriceFen, err = rs[0].price(); err != nil {
		return groupbuy.Receipt{}, fmt.Errorf("meituan consume: %w", err)
	}
	for _, r := range rs {
		out.Refs = append(out.Refs, r.ReceiptCode)
	}
	return out, nil
}

// Consumed asks whether a code was consumed (tuangou/receipt/getconsumed).
func (c *Client) Consumed(ctx context.Context, shop, code string) (groupbuy.Receipt, bool, error) {
	var r receipt
	err := c.call(ctx, http.MethodGet, "getconsumed", url.Values{"receipt_code": {code}, "open_shop_uuid": {shop}}, &r)
	if rf, ok := groupbuy.AsRefusal(err); ok && rf.Reason == groupbuy.ReasonNotFound {
		return groupbuy.Receipt{}, false, nil
	}
	if err != nil {
		return groupbuy.Receipt{}, false, err
	}
	price, err := r.price()
	if err != nil {
		return groupbuy.Receipt{}, false, fmt.Errorf("meituan getconsumed: %w", err)
	}
	at, _ := time.ParseInLocation("2006-01-02 15:04:05", r.VerifyTime, China)
	return groupbuy.Receipt{Platform: cloud.PlatformMeituan, Code: code, DealID: r.DealID.String(), Title: r.DealTitle, PriceFen: price,
		Count: 1, Refs: []string{code}, ConsumedAt: at.UTC()}, true, nil
}

// Reverse undoes each receipt code of a consumption
// (tuangou/receipt/reverseconsume); the platform allows it only for a
// while after consuming.
func (c *Client) Reverse(ctx context.Context, shop string, r groupbuy.Receipt) error {
	refs := r.Refs
	if len(refs) == 0 {
		refs = []string{r.Code}
	}
	for _, code := range refs {
		err := c.call(ctx, http.MethodPost, "reverseconsume", url.Values{
			"app_deal_id": {r.DealID}, "receipt_code": {code}, "open_shop_uuid": {shop},
			"app_shop_account": {c.cfg.Account}, "app_shop_accountname": {c.cfg.AccountName},
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// Settlement lists a day's consumptions at a shop
// (tuangou/receipt/querylistbydate), page by page.
func (c *Client) Settlement(ctx context.Context, shop string, day time.Time) ([]groupbuy.SettlementLine, error) {
	const limit = 100
	var out []groupbuy.SettlementLine
	for offset := 0; offset < 100_000; offset += limit {
		var page struct {
			Total   int       `json:"total_count"`
			Records []receipt `json:"records"`
		}
		err := c.call(ctx, http.MethodGet, "querylistbydate", url.Values{
			"date": {day.Format("2006-01-02")}, "offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}, "open_shop_uuid": {shop},
		}, &page)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			price, err := r.price()
			if err != nil {
				return nil, fmt.Errorf("meituan querylistbydate: %w", err)
			}
			at, _ := time.ParseInLocation("2006-01-02 15:04:05", r.VerifyTime, China)
			out = append(out, groupbuy.SettlementLine{Platform: cloud.PlatformMeituan, ShopID: shop, Code: r.ReceiptCode,
				DealID: r.DealID.String(), Title: r.DealTitle, PriceFen: price, Count: 1, ConsumedAt: at.UTC(), Ref: r.ReceiptCode})
		}
		if len(page.Records) < limit || offset+limit >= page.Total {
			break
		}
	}
	return out, nil
}
