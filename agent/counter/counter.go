// Package counter is the agent's work at the counter: a frame arrives,
// the member is identified from the replica, the visit is recorded durably,
// and the result is told to whoever watches (the log, the kiosk).
package counter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/frame"
	"github.com/memberpass/memberpass/agent/scan"
	"github.com/memberpass/memberpass/proto/membercode"
)

// Store is what the counter needs of the local database.
type Store interface {
	Record(ctx context.Context, ev agent.Event) (agent.Event, error)
	Member(id string) (agent.Member, error)
	MemberByCard(number string) (agent.Member, error)
}

// Refusal says why a scan was not accepted, in words for the cashier.
type Refusal struct {
	Code string `json:"code"`
	// Zh and En say what happened and what to do next.
	Zh string `json:"zh"`
	En string `json:"en"`
}

func (r *Refusal) Error() string { return r.Code + ": " + r.En }

// Refusal codes.
var (
	RefuseUnknownScan = Refusal{Code: "unknown_scan", Zh: "无法识别此条码，请出示会员码或会员卡。", En: "This code is not a member code or card. Ask for the member code or card."}
	RefuseExpired     = Refusal{Code: "code_expired", Zh: "会员码已过期，请会员刷新后再扫。", En: "The member code has expired. Ask the member to refresh it and scan again."}
	RefuseNotYet      = Refusal{Code: "code_not_yet_valid", Zh: "会员码时间异常，请检查收银机时间。", En: "The member code is not valid yet. Check this till's clock."}
	RefuseForged      = Refusal{Code: "code_forged", Zh: "会员码无效（签名不符），请会员打开官方会员卡页面。", En: "The member code is not genuine. Ask the member to open the official card page."}
	RefuseWrongBrand  = Refusal{Code: "code_other_brand", Zh: "这是其他品牌的会员码。", En: "This member code belongs to another brand."}
	RefuseMalformed   = Refusal{Code: "code_malformed", Zh: "会员码读取不完整，请重新扫描。", En: "The member code was not read completely. Scan it again."}
	RefuseReplayed    = Refusal{Code: "code_replayed", Zh: "此会员码已使用过，请会员刷新后再扫。", En: "This member code was already used. Ask the member to refresh it."}
	RefuseUnknownCard = Refusal{Code: "card_unknown", Zh: "此卡未登记，可为顾客办理入会。", En: "This card is not registered. Offer to enrol the customer."}
	RefuseBadFrame    = Refusal{Code: "bad_frame", Zh: "扫描数据不完整，请重新扫描。", En: "The scan was garbled. Scan again."}
	RefuseBadCardRead = Refusal{Code: "card_read_failed", Zh: "读卡校验失败，请重新刷卡或贴卡。", En: "The card was not read correctly. Swipe or tap it again."}
)

// Notice says what a scan that is not a member was, in words for the
// cashier. Nothing is recorded for it here: coupons and vouchers are
// redeemed through their own flow.
type Notice struct {
	Code string `json:"code"`
	Zh   string `json:"zh"`
	En   string `json:"en"`
}

// Notices for scans that are not members.
var (
	NoticeVoucher = Notice{Code: "voucher_scanned", Zh: "已扫描团购券。", En: "Group-buy voucher scanned."}
	NoticeCoupon  = Notice{Code: "coupon_scanned", Zh: "已扫描优惠券。", En: "Coupon scanned."}
	NoticeProduct = Notice{Code: "product_scanned", Zh: "这是商品条码，不是会员码。", En: "Product barcode scanned; this is not a member code."}
)

// Result is what happened to one scan.
type Result struct {
	At   time.Time `json:"at"`
	Scan scan.Kind `json:"scan"`
	// Device is the name of the device the scan came from.
	Device string `json:"device,omitempty"`
	// Symbology is the scanner's AIM identifier ("]Q1"), if it sent one.
	Symbology string `json:"symbology,omitempty"`
	// Code is the scanned voucher, coupon or product code, for the flow
	// that handles it; empty for members, whose identifiers stay masked.
	Code string `json:"code,omitempty"`
	// Platform names a voucher's group-buy platform when its prefix told.
	Platform string        `json:"platform,omitempty"`
	Member   *agent.Member `json:"member,omitempty"`
	Event    *agent.Event  `json:"event,omitempty"`
	Refusal  *Refusal      `json:"refusal,omitempty"`
	Notice   *Notice       `json:"notice,omitempty"`
	// Repeat marks a scanner's second read of the same scan, ignored.
	Repeat bool `json:"repeat,omitempty"`
}

// Counter handles scans for one device.
type Counter struct {
	store    Store
	verifier *membercode.Verifier
	identity agent.Identity
	log      *slog.Logger
	// Now is the till's clock.
	Now func() time.Time
	// Debounce ignores the same scan read again within this time.
	Debounce time.Duration
	// OnResult, if set, is told every result (the kiosk listens here).
	OnResult func(Result)
	// Rules tell vouchers, coupons and products from members.
	Rules scan.Rules

	mu       sync.Mutex
	lastText string
	lastAt   time.Time
	usedRefs map[string]time.Time // member codes already accepted, until they expire
}

// New makes a counter for a paired identity.
func New(store Store, id agent.Identity, verifier *membercode.Verifier, log *slog.Logger) *Counter {
	return &Counter{
		store: store, identity: id, verifier: verifier, log: log,
		Now: func() time.Time { return time.Now().UTC() }, Debounce: 2 * time.Second,
		usedRefs: map[string]time.Time{},
	}
}

// HandleFrame deals with one line of scanner text (Handle without a
// device name or symbology).
func (c *Counter) HandleFrame(ctx context.Context, text string, frameErr error) Result {
	return c.Handle(ctx, "", frame.Frame{Text: text, Err: frameErr})
}

// Handle deals with one frame from the named device. A refused frame (Err
// set by the framer or parser) is reported and records nothing.
func (c *Counter) Handle(ctx context.Context, device string, f frame.Frame) Result {
	now := c.Now()
	var res Result
	if f.Err != nil {
		res = Result{At: now, Scan: scan.Unknown, Refusal: &RefuseBadFrame}
		switch {
		case errors.Is(f.Err, frame.ErrLRC), errors.Is(f.Err, frame.ErrChecksum), errors.Is(f.Err, frame.ErrTrackRead), errors.Is(f.Err, frame.ErrMismatch):
			res.Scan, res.Refusal = scan.Card, &RefuseBadCardRead
		}
	} else {
		res = c.handle(ctx, f, now)
	}
	res.Device = device
	if c.OnResult != nil && !res.Repeat {
		c.OnResult(res)
	}
	return res
}

func (c *Counter) knownCard(number string) bool {
	_, err := c.store.MemberByCard(number)
	return err == nil
}

func (c *Counter) handle(ctx context.Context, f frame.Frame, now time.Time) Result {
	s := c.Rules.Classify(scan.Input{Text: f.Text, Symbology: f.Symbology, FromCardReader: f.Card}, c.knownCard)
	res := Result{At: now, Scan: s.Kind, Symbology: s.Symbology}
	if c.repeat(s.Value, now) {
		res.Repeat = true
		c.log.Debug("repeated read ignored", "scan", s.Kind)
		return res
	}
	var (
		m   agent.Member
		by  agent.Identification
		ref string
	)
	switch s.Kind {
	case scan.MemberCode:
		claims, err := c.verifier.Verify(s.Value, now)
		if err != nil {
			res.Refusal = codeRefusal(err)
			c.log.Warn("member code refused", "reason", res.Refusal.Code, "err", err)
			return res
		}
		ref = claims.Ref()
		if c.used(ref, now) {
			res.Refusal = &RefuseReplayed
			c.log.Warn("member code refused", "reason", res.Refusal.Code, "member", claims.MemberID)
			return res
		}
		id := strconv.FormatUint(claims.MemberID, 10)
		m, err = c.store.Member(id)
		if err != nil {
			// Signed by the brand: the member exists even if the replica
			// has not heard of them yet.
			m = agent.Member{ID: id}
		}
		by = agent.ByMemberCode
		defer func() {
			if res.Event != nil {
				c.markUsed(ref, claims.ExpiresAt().Add(c.verifier.Skew))
			}
		}()
	case scan.Card:
		var err error
		m, err = c.store.MemberByCard(s.Value)
		if err != nil {
			res.Refusal = &RefuseUnknownCard
			c.log.Warn("card refused", "reason", res.Refusal.Code, "card", scan.Hint(s.Value))
			return res
		}
		by = agent.ByCard
	case scan.Voucher, scan.Coupon, scan.Product:
		n := map[scan.Kind]*Notice{scan.Voucher: &NoticeVoucher, scan.Coupon: &NoticeCoupon, scan.Product: &NoticeProduct}[s.Kind]
		res.Notice, res.Code, res.Platform = n, s.Value, s.Platform
		c.log.Info("scan is not a member", "scan", s.Kind, "platform", s.Platform, "symbology", s.Symbology)
		return res
	default:
		res.Refusal = &RefuseUnknownScan
		c.log.Warn("scan refused", "reason", res.Refusal.Code, "length", len(s.Value))
		return res
	}
	ev, err := c.store.Record(ctx, agent.Event{
		OccurredAt: now, StoreID: c.identity.StoreID, MemberID: m.ID, Kind: agent.EventVisit,
		Visit: &agent.Visit{IdentifiedBy: by, IdentifierHint: scan.Hint(s.Value)},
	})
	if err != nil {
		c.log.Error("visit not recorded", "member", m.ID, "err", err)
		res.Refusal = &Refusal{Code: "not_recorded", Zh: "记录失败，请重试；如仍失败请联系店长。", En: "Could not record the visit. Try again; if it keeps failing, call the manager."}
		return res
	}
	res.Member, res.Event = &m, &ev
	c.log.Info("scan recorded", "seq", ev.Seq, "event", ev.ID, "member", m.ID, "by", by)
	return res
}

func codeRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, membercode.ErrExpired):
		return &RefuseExpired
	case errors.Is(err, membercode.ErrNotYet):
		return &RefuseNotYet
	case errors.Is(err, membercode.ErrForged):
		return &RefuseForged
	case errors.Is(err, membercode.ErrUnknownKey):
		return &RefuseWrongBrand
	}
	return &RefuseMalformed
}

// repeat reports whether text is the same scan read again within Debounce.
func (c *Counter) repeat(text string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if text == c.lastText && now.Sub(c.lastAt) < c.Debounce {
		return true
	}
	c.lastText, c.lastAt = text, now
	return false
}

func (c *Counter) used(ref string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for r, until := range c.usedRefs {
		if now.After(until) {
			delete(c.usedRefs, r)
		}
	}
	_, ok := c.usedRefs[ref]
	return ok
}

func (c *Counter) markUsed(ref string, until time.Time) {
	c.mu.Lock()
	c.usedRefs[ref] = until
	c.mu.Unlock()
}

// String describes a result for logs and the demo.
func (r Result) String() string {
	switch {
	case r.Refusal != nil:
		return "refused: " + r.Refusal.En
	case r.Event != nil:
		return fmt.Sprintf("recorded visit seq %d for member %s", r.Event.Seq, r.Member.ID)
	case r.Notice != nil:
		return fmt.Sprintf("%s %s (nothing recorded)", r.Notice.En, r.Code)
	}
	return "ignored repeat"
}
