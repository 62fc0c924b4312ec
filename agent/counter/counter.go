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
	"syscall"
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

// VoucherStore is a Store that also holds the brand's group-buy vouchers;
// with one, a scanned voucher is shown with its details.
type VoucherStore interface {
	Voucher(code string) (agent.Voucher, error)
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
	RefuseNotRecorded = Refusal{Code: "not_recorded", Zh: "记录失败，请重试；如仍失败请联系店长。", En: "Could not record the visit. Try again; if it keeps failing, call the manager."}
	RefuseDiskFull    = Refusal{Code: "disk_full", Zh: "收银机磁盘已满，无法记录；请店长清理空间或联系支持。已记录的数据安全。", En: "This till's disk is full: the visit was not recorded. Ask the manager to free space or call support. What was recorded is safe."}
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
	// NoticeAlreadyRecorded answers a rescan, across a restart, of a
	// member whose visit was just recorded: no second visit.
	NoticeAlreadyRecorded = Notice{Code: "already_recorded", Zh: "该会员本次到店已记录，无需重扫。", En: "This member's visit is already recorded; no need to scan again."}
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
	// Voucher is a group-buy voucher the replica knows, scanned at the
	// counter: the kiosk offers to redeem it and, for a walk-in, to join.
	Voucher *agent.Voucher `json:"voucher,omitempty"`
	// Repeat marks a scanner's second read of the same scan, ignored.
	Repeat bool `json:"repeat,omitempty"`
	// Again marks a member identified again within the debounce window
	// of a visit the last run recorded: Event is that visit.
	Again bool `json:"again,omitempty"`
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

	// Location is the shop's time zone: "per day" limits follow its days.
	Location *time.Location

	mu       sync.Mutex
	lastText string
	lastAt   time.Time
	// before are the last run's visits by member (Remember).
	before map[string]agent.Event
	buy    sync.Mutex // purchases are decided one at a time
}

// New makes a counter for a paired identity.
func New(store Store, id agent.Identity, verifier *membercode.Verifier, log *slog.Logger) *Counter {
	return &Counter{
		store: store, identity: id, verifier: verifier, log: log,
		Now: func() time.Time { return time.Now().UTC() }, Debounce: 2 * time.Second, Location: time.Local,
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
		m     agent.Member
		by    agent.Identification
		visit agent.Visit
	)
	switch s.Kind {
	case scan.MemberCode:
		claims, err := c.verifier.Verify(s.Value, now)
		if err != nil {
			res.Refusal = codeRefusal(err)
			c.log.Warn("member code refused", "reason", res.Refusal.Code, "err", err)
			return res
		}
		// The store refuses a code already used, durably, in the same
		// commit as the visit: a restart does not reopen a replay.
		visit.CodeRef = claims.Ref()
		visit.CodeExpiresAt = claims.ExpiresAt().Add(c.verifier.Skew)
		id := strconv.FormatUint(claims.MemberID, 10)
		m, err = c.store.Member(id)
		if err != nil {
			// Signed by the brand: the member exists even if the replica
			// has not heard of them yet.
			m = agent.Member{ID: id}
		}
		by = agent.ByMemberCode
	case scan.Card:
		var err error
		m, err = c.store.MemberByCard(s.Value)
		if err != nil {
			if c.lookUpVoucher(&res, s.Value) {
				return res
			}
			res.Refusal = &RefuseUnknownCard
			c.log.Warn("card refused", "reason", res.Refusal.Code, "card", scan.Hint(s.Value))
			return res
		}
		by = agent.ByCard
	case scan.Voucher, scan.Coupon, scan.Product:
		n := map[scan.Kind]*Notice{scan.Voucher: &NoticeVoucher, scan.Coupon: &NoticeCoupon, scan.Product: &NoticeProduct}[s.Kind]
		res.Notice, res.Code, res.Platform = n, s.Value, s.Platform
		if s.Kind == scan.Voucher {
			c.lookUpVoucher(&res, s.Value)
		}
		c.log.Info("scan is not a member", "scan", s.Kind, "platform", s.Platform, "symbology", s.Symbology)
		return res
	default:
		if c.lookUpVoucher(&res, s.Value) {
			return res
		}
		res.Refusal = &RefuseUnknownScan
		c.log.Warn("scan refused", "reason", res.Refusal.Code, "length", len(s.Value))
		return res
	}
	if prev, ok := c.recentBefore(m.ID, now); ok {
		// The same member scanned again just after a restart: the cashier
		// saw no answer before it; the visit is already on disk.
		res.Member, res.Event, res.Again, res.Notice = &m, &prev, true, &NoticeAlreadyRecorded
		c.log.Info("scan already recorded before the restart", "seq", prev.Seq, "event", prev.ID, "member", m.ID)
		return res
	}
	visit.IdentifiedBy, visit.IdentifierHint = by, scan.Hint(s.Value)
	ev, err := c.store.Record(ctx, agent.Event{
		OccurredAt: now, StoreID: c.identity.StoreID, MemberID: m.ID, Kind: agent.EventVisit,
		Visit: &visit,
	})
	if errors.Is(err, agent.ErrCodeReplayed) {
		res.Refusal = &RefuseReplayed
		c.log.Warn("member code refused", "reason", res.Refusal.Code, "member", m.ID)
		return res
	}
	if err != nil {
		res.Refusal = &RefuseNotRecorded
		if errors.Is(err, syscall.ENOSPC) {
			res.Refusal = &RefuseDiskFull
		}
		c.log.Error("visit not recorded", "reason", res.Refusal.Code, "member", m.ID, "err", err)
		return res
	}
	res.Member, res.Event = &m, &ev
	c.log.Info("scan recorded", "seq", ev.Seq, "event", ev.ID, "member", m.ID, "by", by)
	return res
}

// lookUpVoucher finds a scanned code among the group-buy vouchers the
// replica holds (a bare-digit voucher may look like a card number).
func (c *Counter) lookUpVoucher(res *Result, code string) bool {
	vs, ok := c.store.(VoucherStore)
	if !ok {
		return false
	}
	v, err := vs.Voucher(code)
	if err != nil {
		return false
	}
	res.Voucher, res.Code, res.Notice = &v, v.Code, &NoticeVoucher
	c.log.Info("group-buy voucher scanned", "voucher", scan.Hint(code))
	return true
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

// Remember takes the visits the last run recorded just before it stopped
// (those within Debounce of now): a member scanned again within the
// window is answered "already recorded" instead of a second visit.
func (c *Counter) Remember(events []agent.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range events {
		if ev.Visit == nil || ev.MemberID == "" {
			continue
		}
		if c.before == nil {
			c.before = map[string]agent.Event{}
		}
		if old, ok := c.before[ev.MemberID]; !ok || ev.OccurredAt.After(old.OccurredAt) {
			c.before[ev.MemberID] = ev
		}
	}
}

// recentBefore returns the last run's visit of a member within Debounce.
func (c *Counter) recentBefore(memberID string, now time.Time) (agent.Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, ok := c.before[memberID]
	if !ok {
		return agent.Event{}, false
	}
	if age := now.Sub(ev.OccurredAt); age < 0 || age >= c.Debounce {
		delete(c.before, memberID)
		return agent.Event{}, false
	}
	return ev, true
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

// String describes a result for logs and the demo.
func (r Result) String() string {
	switch {
	case r.Refusal != nil:
		return "refused: " + r.Refusal.En
	case r.Again && r.Event != nil:
		return fmt.Sprintf("already recorded: visit seq %d for member %s", r.Event.Seq, r.Member.ID)
	case r.Event != nil:
		return fmt.Sprintf("recorded visit seq %d for member %s", r.Event.Seq, r.Member.ID)
	case r.Voucher != nil:
		return "group-buy voucher " + r.Voucher.Code
	case r.Notice != nil:
		return fmt.Sprintf("%s %s (nothing recorded)", r.Notice.En, r.Code)
	}
	return "ignored repeat"
}
