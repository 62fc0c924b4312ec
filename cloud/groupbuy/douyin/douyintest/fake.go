// Package douyintest is a fake Douyin life-services platform for tests:
// an httptest server that issues client tokens (client_key, client_secret,
// grant_type checked), refuses a missing, wrong or expired token the way
// the platform does, checks the poi_id against the shops the app is
// authorised for and the certificate's shop, and answers prepare, verify
// (idempotent by verify_token), cancel and verify-record queries as the
// platform does, refusals and faults included.
package douyintest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Certificate states.
const (
	Unused   = "unused"
	Verified = "verified"
	Refunded = "refunded"
)

// Certificate is one use the fake platform sold; Code is its original
// 12-digit code.
type Certificate struct {
	Code, OrderID, Poi string
	SkuID, Title       string
	PriceFen           int64
	Expire             time.Time
	State              string
	VerifyID           string
	VerifiedAt         time.Time
	Cancelled          bool
}

// Fault is something to do to the next request of a path.
type Fault int

// Faults.
const (
	TimeoutBefore Fault = iota + 1
	TimeoutAfter
	RateLimit
)

// Platform is the fake.
type Platform struct {
	*httptest.Server
	ClientKey, ClientSecret, AccountID string
	Pois                               map[string]bool
	CancelWindow                       time.Duration
	Now                                func() time.Time

	done    chan struct{}
	mu      sync.Mutex
	certs   map[string]*Certificate
	enc     map[string]string // encrypted code -> code
	tokens  map[string]time.Time
	vtokens map[string][]string // verify_token -> codes it may verify
	vdone   map[string]any      // verify_token -> first answer
	faults  map[string][]Fault
	seq     int
	// TokenFetches counts client tokens issued.
	TokenFetches int
	verifies     map[string]int
}

// New starts a fake platform; it is closed when the test ends.
func New(t testing.TB, pois ...string) *Platform {
	t.Helper()
	p := &Platform{ClientKey: "dy-client-key", ClientSecret: "dy-client-secret", AccountID: "7000001", Pois: map[string]bool{},
		CancelWindow: time.Hour, Now: time.Now,
		certs: map[string]*Certificate{}, enc: map[string]string{}, tokens: map[string]time.Time{}, vtokens: map[string][]string{},
		vdone: map[string]any{}, faults: map[string][]Fault{}, verifies: map[string]int{}}
	for _, s := range pois {
		p.Pois[s] = true
	}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Server.Close)
	p.done = make(chan struct{})
	t.Cleanup(func() { close(p.done) }) // runs first: hung requests end
	return p
}

// Sell adds an order of certificates, one per code.
func (p *Platform) Sell(poi, skuID, title string, priceFen int64, codes ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range codes {
		p.certs[c] = &Certificate{Code: c, OrderID: "D" + codes[0], Poi: poi, SkuID: skuID, Title: title, PriceFen: priceFen, Expire: p.Now().Add(30 * 24 * time.Hour), State: Unused}
	}
}

// Set changes a certificate.
func (p *Platform) Set(code string, fn func(*Certificate)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.certs[code])
}

// Fail queues a fault for the next request to path ("verify", "prepare", ...).
func (p *Platform) Fail(path string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[path] = append(p.faults[path], f)
}

// ExpireTokens makes every issued client token expired.
func (p *Platform) ExpireTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.tokens {
		p.tokens[k] = time.Time{}
	}
}

// Verifies counts how many times a code was verified.
func (p *Platform) Verifies(code string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.verifies[code]
}

// Fetches returns how many client tokens were issued.
func (p *Platform) Fetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.TokenFetches
}

func write(w http.ResponseWriter, data any, code int, desc string) {
	w.Header().Set("Content-Type", "application/json")
	if data == nil {
		data = map[string]any{}
	}
	if m, ok := data.(map[string]any); ok {
		m["error_code"], m["description"] = code, desc
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "extra": map[string]any{"error_code": code, "description": desc, "logid": "fake"}, "message": "success"})
}

func (p *Platform) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/client_token/" {
		var req map[string]string
		_ = json.NewDecoder(r.Body).Decode(&req)
		if r.Method != http.MethodPost || req["client_key"] != p.ClientKey || req["client_secret"] != p.ClientSecret || req["grant_type"] != "client_credential" {
			write(w, map[string]any{}, 10003, "client_key 或 client_secret 错误")
			return
		}
		p.mu.Lock()
		p.seq++
		p.TokenFetches++
		tok := fmt.Sprintf("clt.fake%d", p.seq)
		p.tokens[tok] = p.Now().Add(2 * time.Hour)
		p.mu.Unlock()
		write(w, map[string]any{"access_token": tok, "expires_in": 7200}, 0, "")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/goodlife/v1/fulfilment/certificate/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	path = strings.TrimSuffix(path, "/")
	// Read the whole body first, so the server notices when a client
	// gives up on a request held below.
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	p.mu.Lock()
	exp, known := p.tokens[r.Header.Get("access-token")]
	var fault Fault
	if q := p.faults[path]; len(q) > 0 {
		fault, p.faults[path] = q[0], q[1:]
	}
	p.mu.Unlock()
	switch {
	case !known:
		write(w, nil, 2190002, "access_token 无效")
		return
	case !p.Now().Before(exp):
		write(w, nil, 2190008, "access_token 过期")
		return
	case fault == RateLimit:
		write(w, nil, 2100004, "请求太频繁")
		return
	case fault == TimeoutBefore:
		p.hang(r)
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		if err := json.Unmarshal(raw, &body); err != nil {
			write(w, nil, 400, "bad json")
			return
		}
	}
	p.mu.Lock()
	data, code, desc := p.handle(path, r.URL.Query(), body)
	p.mu.Unlock()
	if fault == TimeoutAfter {
		p.hang(r)
		return
	}
	write(w, data, code, desc)
}

func (p *Platform) certView(c *Certificate, enc string) map[string]any {
	return map[string]any{
		"encrypted_code": enc, "expire_time": c.Expire.Unix(),
		"sku":    map[string]any{"sku_id": c.SkuID, "title": c.Title, "market_price": c.PriceFen * 3 / 2, "account_id": p.AccountID},
		"amount": map[string]any{"original_amount": c.PriceFen, "pay_amount": c.PriceFen - 100, "coupon_pay_amount": c.PriceFen},
	}
}

func (p *Platform) handle(path string, q map[string][]string, body map[string]any) (any, int, string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch path {
	case "prepare":
		poi := get("poi_id")
		c := p.certs[get("code")]
		switch {
		case !p.Pois[poi]:
			return nil, 1005, "门店未授权"
		case c == nil:
			return nil, 1001, "券码不存在"
		case c.Poi != poi:
			return nil, 1005, "券码不适用于该门店"
		case c.State == Verified:
			return nil, 1002, "券码已核销"
		case c.State == Refunded:
			return nil, 1003, "券码已退款"
		case !p.Now().Before(c.Expire):
			return nil, 1004, "券码已过期"
		}
		p.seq++
		vt := fmt.Sprintf("vt%d", p.seq)
		var same []*Certificate
		for _, o := range p.certs {
			if o.OrderID == c.OrderID && o != c && o.State == Unused && p.Now().Before(o.Expire) {
				same = append(same, o)
			}
		}
		sort.Slice(same, func(i, j int) bool { return same[i].Code < same[j].Code })
		certs := []any{}
		for i, o := range append([]*Certificate{c}, same...) {
			enc := fmt.Sprintf("ENC-%s-%d", vt, i)
			p.enc[enc] = o.Code
			p.vtokens[vt] = append(p.vtokens[vt], enc)
			certs = append(certs, p.certView(o, enc))
		}
		return map[string]any{"verify_token": vt, "order_id": c.OrderID, "certificates": certs}, 0, ""
	case "verify":
		vt, _ := body["verify_token"].(string)
		poi, _ := body["poi_id"].(string)
		if prev, ok := p.vdone[vt]; ok {
			return prev, 0, ""
		}
		allowed, ok := p.vtokens[vt]
		if !ok {
			return nil, 1001, "verify_token 无效"
		}
		if !p.Pois[poi] {
			return nil, 1005, "门店未授权"
		}
		codes, _ := body["encrypted_codes"].([]any)
		results := []any{}
		p.seq++
		vid := fmt.Sprintf("V%d", p.seq)
		for _, e := range codes {
			enc, _ := e.(string)
			c := p.certs[p.enc[enc]]
			if c == nil || !contains(allowed, enc) || c.Poi != poi {
				results = append(results, map[string]any{"result": 1001, "msg": "券码无效", "code": enc})
				continue
			}
			if c.State != Unused {
				results = append(results, map[string]any{"result": 1002, "msg": "券码已核销", "code": enc})
				continue
			}
			c.State, c.VerifyID, c.VerifiedAt, c.Cancelled = Verified, vid, p.Now(), false
			p.verifies[c.Code]++
			results = append(results, map[string]any{"result": 0, "msg": "", "code": enc, "verify_id": vid, "certificate_id": "C" + c.Code, "origin_code": c.Code, "account_id": p.AccountID})
		}
		out := map[string]any{"verify_results": results}
		p.vdone[vt] = out
		return out, 0, ""
	case "cancel":
		vid, _ := body["verify_id"].(string)
		cid, _ := body["certificate_id"].(string)
		c := p.certs[strings.TrimPrefix(cid, "C")]
		if c == nil || c.VerifyID != vid || c.State != Verified {
			return nil, 1001, "核销记录不存在"
		}
		if p.Now().Sub(c.VerifiedAt) > p.CancelWindow {
			return nil, 1007, "超过可撤销时间"
		}
		c.State, c.Cancelled = Unused, true
		return map[string]any{}, 0, ""
	case "verify_record/query":
		if get("account_id") != p.AccountID {
			return nil, 1005, "account_id 不匹配"
		}
		poi := get("poi_id")
		from, _ := strconv.ParseInt(get("start_time"), 10, 64)
		to, _ := strconv.ParseInt(get("end_time"), 10, 64)
		var recs []*Certificate
		for _, c := range p.certs {
			if c.Poi == poi && c.VerifyID != "" && c.VerifiedAt.Unix() >= from && c.VerifiedAt.Unix() <= to {
				recs = append(recs, c)
			}
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].Code < recs[j].Code })
		out := []any{}
		for _, c := range recs {
			st := 1
			if c.Cancelled {
				st = 2
			}
			out = append(out, map[string]any{"verify_id": c.VerifyID, "certificate_id": "C" + c.Code, "code": c.Code, "order_id": c.OrderID,
				"poi_id": c.Poi, "verify_time": c.VerifiedAt.Unix(), "status": st,
				"sku": map[string]any{"sku_id": c.SkuID, "title": c.Title}, "amount": map[string]any{"coupon_pay_amount": c.PriceFen, "original_amount": c.PriceFen}})
		}
		return map[string]any{"records": out, "cursor": "0", "has_more": false}, 0, ""
	}
	return nil, 404, "unknown api"
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// hang holds a request until the client gives up (a timeout as the
// client sees it) or the test ends.
func (p *Platform) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.done:
	}
}
