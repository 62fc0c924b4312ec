// Package meituantest is a fake Meituan / Dianping open platform for
// tests: an httptest server that checks what the real one checks (the MD5
// signature, app key, session, timestamp, the shop bound to the session)
// and answers as it does, refusals included (unknown, used, refunded,
// expired, wrong shop, count exceeded, rate limited), with faults on
// demand (a timeout before or after the consumption is applied).
package meituantest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Receipt states in the fake.
const (
	Unused   = "unused"
	Used     = "used"
	Refunded = "refunded"
)

// Receipt is one code (one use) the fake platform sold.
type Receipt struct {
	Code      string
	OrderID   string
	Shop      string // open_shop_uuid it is valid at
	DealID    int64
	DealTitle string
	// Price in yuan as the platform writes it ("98.00").
	Price      string
	EndDate    time.Time
	State      string
	VerifiedAt time.Time
	RequestID  string
}

// Fault is something to do to the next consume.
type Fault int

// Faults.
const (
	// TimeoutBefore hangs without consuming.
	TimeoutBefore Fault = iota + 1
	// TimeoutAfter consumes, then hangs: the answer is lost.
	TimeoutAfter
	// RateLimit answers the platform's rate-limit code.
	RateLimit
)

// Platform is the fake.
type Platform struct {
	*httptest.Server
	AppKey, Secret, Session string
	// Shops are the open_shop_uuids the session is authorised for.
	Shops map[string]bool
	// ReverseWindow is how long after consuming a reverse is allowed.
	ReverseWindow time.Duration
	Now           func() time.Time

	done     chan struct{}
	mu       sync.Mutex
	receipts map[string]*Receipt
	faults   map[string][]Fault // by path
	byReq    map[string][]string
	// Consumes counts consumptions applied per code (double consumption
	// shows here as 2).
	consumes map[string]int
	calls    map[string]int
}

// New starts a fake platform; it is closed when the test ends.
func New(t testing.TB, shops ...string) *Platform {
	t.Helper()
	p := &Platform{
		AppKey: "mt-app-key", Secret: "mt-app-secret", Session: "mt-session", Shops: map[string]bool{},
		ReverseWindow: time.Hour, Now: time.Now,
		receipts: map[string]*Receipt{}, faults: map[string][]Fault{}, byReq: map[string][]string{}, consumes: map[string]int{}, calls: map[string]int{},
	}
	for _, s := range shops {
		p.Shops[s] = true
	}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Server.Close)
	p.done = make(chan struct{})
	t.Cleanup(func() { close(p.done) }) // runs first: hung requests end
	return p
}

// Sell adds receipt codes of one order (several codes: several uses).
func (p *Platform) Sell(shop string, dealID int64, title, price string, codes ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	order := "O" + codes[0]
	for _, c := range codes {
		p.receipts[c] = &Receipt{Code: c, OrderID: order, Shop: shop, DealID: dealID, DealTitle: title, Price: price, EndDate: p.Now().Add(30 * 24 * time.Hour), State: Unused}
	}
}

// Set changes a receipt (refund it, expire it).
func (p *Platform) Set(code string, fn func(*Receipt)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.receipts[code])
}

// Fail queues a fault for the next request to path ("consume", "prepare", ...).
func (p *Platform) Fail(path string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[path] = append(p.faults[path], f)
}

// Consumes says how many times a code was consumed.
func (p *Platform) Consumes(code string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.consumes[code]
}

// Calls says how many requests reached a path.
func (p *Platform) Calls(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[path]
}

// State returns a receipt's state.
func (p *Platform) State(code string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.receipts[code]; r != nil {
		return r.State
	}
	return ""
}

func sign(secret string, form map[string][]string) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	s := secret
	for _, k := range keys {
		s += k + form[k][0]
	}
	s += secret
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func answer(w http.ResponseWriter, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "msg": msg, "data": data})
}

func (p *Platform) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/router/tuangou/receipt/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		answer(w, 400, "bad form", nil)
		return
	}
	f := r.Form
	p.mu.Lock()
	p.calls[path]++
	var fault Fault
	if q := p.faults[path]; len(q) > 0 {
		fault, p.faults[path] = q[0], q[1:]
	}
	p.mu.Unlock()
	switch {
	case f.Get("app_key") != p.AppKey:
		answer(w, 401, "app_key 不存在", nil)
		return
	case f.Get("sign") != sign(p.Secret, f):
		answer(w, 401, "签名错误", nil)
		return
	case f.Get("session") != p.Session:
		answer(w, 402, "session 无效或已过期", nil)
		return
	case f.Get("sign_method") != "MD5" || f.Get("v") != "1" || f.Get("format") != "json":
		answer(w, 400, "公共参数错误", nil)
		return
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05", f.Get("timestamp"), time.FixedZone("CST", 8*3600))
	if err != nil || p.Now().Sub(ts).Abs() > 10*time.Minute {
		answer(w, 400, "timestamp 无效", nil)
		return
	}
	if fault == RateLimit {
		answer(w, 429, "调用频率超限", nil)
		return
	}
	if fault == TimeoutBefore {
		p.hang(r)
		return
	}
	shop := f.Get("open_shop_uuid")
	if !p.Shops[shop] {
		answer(w, 1005, "门店未授权", nil)
		return
	}
	p.mu.Lock()
	code, data, msg := p.handle(path, shop, f)
	p.mu.Unlock()
	if fault == TimeoutAfter {
		p.hang(r)
		return
	}
	answer(w, code, msg, data)
}

func (p *Platform) view(rc *Receipt) map[string]any {
	deal, _ := strconv.ParseFloat(rc.Price, 64)
	v := map[string]any{
		"receipt_code": rc.Code, "order_id": rc.OrderID, "deal_id": rc.DealID, "dealgroup_id": rc.DealID * 10,
		"deal_title": rc.DealTitle, "deal_price": json.Number(rc.Price), "deal_marketprice": deal * 1.5,
		"receiptEndDate": rc.EndDate.UnixMilli(),
	}
	if !rc.VerifiedAt.IsZero() {
		v["verify_time"] = rc.VerifiedAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	}
	return v
}

// usable checks a receipt for use at a shop; it returns a refusal code.
func (p *Platform) usable(rc *Receipt, shop string) (int, string) {
	switch {
	case rc == nil:
		return 1001, "券码不存在"
	case rc.Shop != shop:
		return 1005, "券码不适用于该门店"
	case rc.State == Used:
		return 1002, "券码已使用"
	case rc.State == Refunded:
		return 1003, "券码已退款"
	case !p.Now().Before(rc.EndDate):
		return 1004, "券码已过期"
	}
	return 200, ""
}

// siblings are the unused codes of a receipt's order, the receipt first.
func (p *Platform) siblings(rc *Receipt) []*Receipt {
	out := []*Receipt{rc}
	codes := make([]string, 0)
	for c, o := range p.receipts {
		if o.OrderID == rc.OrderID && o != rc && o.State == Unused {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	for _, c := range codes {
		out = append(out, p.receipts[c])
	}
	return out
}

func (p *Platform) handle(path, shop string, f map[string][]string) (int, any, string) {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	rc := p.receipts[get("receipt_code")]
	switch path {
	case "prepare":
		if code, msg := p.usable(rc, shop); code != 200 {
			return code, nil, msg
		}
		v := p.view(rc)
		v["count"] = len(p.siblings(rc))
		return 200, v, "success"
	case "consume":
		req := get("requestid")
		if req == "" {
			return 400, nil, "requestid 不能为空"
		}
		if done, ok := p.byReq[req]; ok {
			out := []any{}
			for _, c := range done {
				out = append(out, p.view(p.receipts[c]))
			}
			return 200, out, "success"
		}
		if code, msg := p.usable(rc, shop); code != 200 {
			return code, nil, msg
		}
		n, err := strconv.Atoi(get("count"))
		sib := p.siblings(rc)
		if err != nil || n < 1 {
			return 400, nil, "count 无效"
		}
		if n > len(sib) {
			return 1006, nil, fmt.Sprintf("可验证张数不足，剩余 %d", len(sib))
		}
		out := []any{}
		for _, s := range sib[:n] {
			s.State, s.VerifiedAt, s.RequestID = Used, p.Now(), req
			p.consumes[s.Code]++
			p.byReq[req] = append(p.byReq[req], s.Code)
			out = append(out, p.view(s))
		}
		return 200, out, "success"
	case "getconsumed":
		if rc == nil || rc.Shop != shop || rc.State != Used {
			return 1008, nil, "未查询到验券记录"
		}
		return 200, p.view(rc), "success"
	case "reverseconsume":
		if rc == nil || rc.Shop != shop || rc.State != Used {
			return 1008, nil, "未查询到验券记录"
		}
		if strconv.FormatInt(rc.DealID, 10) != get("app_deal_id") {
			return 400, nil, "app_deal_id 不匹配"
		}
		if p.Now().Sub(rc.VerifiedAt) > p.ReverseWindow {
			return 1007, nil, "已超过可撤销时间"
		}
		rc.State, rc.VerifiedAt = Unused, time.Time{}
		delete(p.byReq, rc.RequestID)
		rc.RequestID = ""
		return 200, nil, "success"
	case "querylistbydate":
		day := get("date")
		offset, _ := strconv.Atoi(get("offset"))
		limit, _ := strconv.Atoi(get("limit"))
		var all []*Receipt
		for _, r := range p.receipts {
			if r.Shop == shop && r.State == Used && r.VerifiedAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02") == day {
				all = append(all, r)
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Code < all[j].Code })
		recs := []any{}
		for i := offset; i < len(all) && i < offset+limit; i++ {
			recs = append(recs, p.view(all[i]))
		}
		return 200, map[string]any{"total_count": len(all), "records": recs}, "success"
	}
	return 404, nil, "unknown api"
}

// hang holds a request until the client gives up (a timeout as the
// client sees it) or the test ends.
func (p *Platform) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.done:
	}
}
