package checkout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/memberpass/memberpass/agent"
)

// Store is what checkout needs of the local database.
type Store interface {
	Record(ctx context.Context, ev agent.Event) (agent.Event, error)
	Member(id string) (agent.Member, error)
	CouponsOf(memberID string) ([]agent.Coupon, error)
	Voucher(code string) (agent.Voucher, error)
	Programme() (agent.Programme, bool, error)
	// Unreflected are this device's events the replica does not reflect
	// yet: what the counter adds to the replica's balances.
	Unreflected() ([]agent.Event, error)
	State() (agent.SyncState, error)
	EventByKey(key string) (agent.Event, error)
	EventsSince(t time.Time) ([]agent.Event, error)
}

// ErrNotFound is returned for a member or transaction this till does not know.
var ErrNotFound = errors.New("not found")

// Service settles transactions at one counter.
type Service struct {
	store    Store
	identity agent.Identity
	log      *slog.Logger
	// Now is the till's clock; Location is the shop's time zone, for
	// "today" and birthday months.
	Now      func() time.Time
	Location *time.Location
	// IsUnknown tells the store's "not in the replica" error.
	IsUnknown func(error) bool
	// OnRecord, if set, is told of each event recorded (to push it soon).
	OnRecord func(agent.Event)
	// Platforms checks and consumes group-buy platform vouchers through
	// the cloud; nil: every platform voucher is handled as offline.
	Platforms Platforms

	voucherMu sync.Mutex
	// KnownStaff, if set, says whether a staff id is on this store's
	// roster: money moves only for staff it knows.
	KnownStaff func(id string) bool
}

// checkStaff refuses a money request that names no known staff member.
func (s *Service) checkStaff(id string) *Refusal {
	if id == "" || s.KnownStaff != nil && !s.KnownStaff(id) {
		return refuse("staff_unknown", "", "收银员未登录或不在本店员工名单中，请重新登录。", "The cashier is not signed in or not on this store's staff list. Sign in again.")
	}
	return nil
}

// New makes a checkout service.
func New(store Store, id agent.Identity, log *slog.Logger, isUnknown func(error) bool) *Service {
	return &Service{
		store: store, identity: id, log: log, IsUnknown: isUnknown,
		Now: func() time.Time { return time.Now().UTC() }, Location: time.UTC,
	}
}

func (s *Service) dayStart(now time.Time) time.Time {
	l := now.In(s.Location)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.Location).UTC()
}

func (s *Service) limits(now time.Time) (Limits, error) {
	st, err := s.store.State()
	if err != nil {
		return Limits{}, fmt.Errorf("read sync state: %w", err)
	}
	lim := Limits{Now: now, StoreID: s.identity.StoreID, ReplicaAge: -1}
	if !st.ReplicaSyncedAt.IsZero() {
		lim.ReplicaAge = now.Sub(st.ReplicaSyncedAt)
	}
	return lim, nil
}

// Account returns what the counter shows of a member.
func (s *Service) Account(memberID string) (Account, error) {
	a, _, _, _, err := s.load(memberID, s.Now())
	return a, err
}

func (s *Service) load(memberID string, now time.Time) (Account, agent.Programme, Limits, []agent.Event, error) {
	known := true
	m, err := s.store.Member(memberID)
	if err != nil {
		if !s.IsUnknown(err) {
			return Account{}, agent.Programme{}, Limits{}, nil, fmt.Errorf("read member %s: %w", memberID, err)
		}
		if memberID == "" {
			return Account{}, agent.Programme{}, Limits{}, nil, ErrNotFound
		}
		known, m = false, agent.Member{ID: memberID}
	}
	provisional := false
	var recent []agent.Event
	if ref, ok := strings.CutPrefix(memberID, LocalPrefix); ok && !known {
		var en *agent.Enrolment
		if en, recent, err = s.enrolment(ref); err == nil && en != nil {
			provisional, m.Name, m.PhoneMasked = true, en.Name, maskPhone(en.Phone)
		}
	}
	coupons, err := s.store.CouponsOf(memberID)
	if err != nil {
		return Account{}, agent.Programme{}, Limits{}, nil, fmt.Errorf("read coupons of member %s: %w", memberID, err)
	}
	prog, _, err := s.store.Programme()
	if err != nil {
		return Account{}, agent.Programme{}, Limits{}, nil, err
	}
	pending, err := s.store.Unreflected()
	if err != nil {
		return Account{}, agent.Programme{}, Limits{}, nil, fmt.Errorf("read events the replica does not reflect: %w", err)
	}
	lim, err := s.limits(now)
	if err != nil {
		return Account{}, agent.Programme{}, Limits{}, nil, err
	}
	// Every approval is made on the replica alone, so the daily bounds
	// count all of today's events here, reflected or not.
	today, err := s.store.EventsSince(s.dayStart(now))
	if err != nil {
		return Account{}, agent.Programme{}, Limits{}, nil, fmt.Errorf("read today's events: %w", err)
	}
	lim.PendingStoredValueTodayFen, lim.PendingPointsToday = pendingUsage(memberID, today, s.dayStart(now))
	folded := pending
	if provisional {
		// The replica knows this member only under the cloud's id, which
		// this counter cannot tie to the reference: every event of the
		// reference counts, acknowledged or not.
		folded = recent
	}
	a := account(m, known, coupons, prog, folded, lim, s.Location)
	a.Provisional = provisional
	return a, prog, lim, pending, nil
}

// LocalPrefix marks a member enrolled at this counter, named by the
// enrolment's local reference until the cloud's id reaches the replica;
// the cloud resolves it too.
const LocalPrefix = "local:"

// enrolment finds this counter's enrolment with a local reference among
// the last day's events.
func (s *Service) enrolment(ref string) (*agent.Enrolment, []agent.Event, error) {
	events, err := s.store.EventsSince(s.Now().Add(-24 * time.Hour))
	if err != nil {
		return nil, nil, err
	}
	for _, ev := range events {
		if ev.Enrolment != nil && ev.Enrolment.LocalRef == ref {
			return ev.Enrolment, events, nil
		}
	}
	return nil, nil, nil
}

func maskPhone(p string) string {
	if len(p) != 11 {
		return p
	}
	return p[:3] + "****" + p[7:]
}

// Quote works out a bill without recording anything.
func (s *Service) Quote(req Request) (Quote, Account, *Refusal, error) {
	if req.MemberID == "" {
		return Quote{}, Account{}, refuse("member_missing", "", "请先扫描会员码或会员卡。", "Scan the member code or card first."), nil
	}
	a, prog, lim, _, err := s.load(req.MemberID, s.Now())
	if err != nil {
		return Quote{}, Account{}, nil, err
	}
	q, r := Compute(req, a, prog, lim)
	return q, a, r, nil
}

var txnPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

func checkTxn(id string) *Refusal {
	if !txnPattern.MatchString(id) {
		return refuse("txn_invalid", "", "交易编号无效，请刷新页面后重试。", "The transaction id is not valid. Reload the page and try again.")
	}
	return nil
}

// Receipt is a settled transaction.
type Receipt struct {
	Event agent.Event `json:"event"`
	Quote *Quote      `json:"quote,omitempty"`
	// Again is true when the transaction had been settled before.
	Again bool `json:"again"`
}

// settled returns the event of a transaction recorded before, if any.
func (s *Service) settled(txnID string) (agent.Event, bool, error) {
	ev, err := s.store.EventByKey(txnID)
	if err != nil {
		if s.IsUnknown(err) {
			return agent.Event{}, false, nil
		}
		return agent.Event{}, false, fmt.Errorf("look up transaction %s: %w", txnID, err)
	}
	return ev, true, nil
}

// sameTxn says whether a transaction recorded before is the one asked for
// again (a double click, a reload after a lost answer): the same kind, the
// same member and the same amount. A txn_id reused for anything else is
// refused, never answered with the first event as if it were this one.
func sameTxn(ev agent.Event, kind agent.EventKind, memberID string, amountFen int64) bool {
	if ev.Kind != kind || ev.MemberID != memberID {
		return false
	}
	switch {
	case ev.Purchase != nil:
		return ev.Purchase.BillFen == amountFen
	case ev.TopUp != nil:
		return ev.TopUp.AmountFen == amountFen
	}
	return amountFen == 0
}

func txnReused() *Refusal {
	return refuse("txn_reused", "", "此交易编号已用于另一笔交易，请刷新页面后重新开始。",
		"This transaction id was already used for another transaction. Reload the page and start again.")
}

// Transaction returns the event a counter transaction recorded.
func (s *Service) Transaction(txnID string) (agent.Event, error) {
	ev, ok, err := s.settled(txnID)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return ev, err
}

// record writes ev for a transaction, once, and returns after fsync.
func (s *Service) record(ctx context.Context, txnID string, ev agent.Event) (Receipt, error) {
	ev.IdempotencyKey = txnID
	ev.StoreID = s.identity.StoreID
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = s.Now()
	}
	got, err := s.store.Record(ctx, ev)
	if err != nil {
		return Receipt{}, fmt.Errorf("record %s: %w", ev.Kind, err)
	}
	if s.OnRecord != nil {
		s.OnRecord(got)
	}
	// Another request of the same transaction may have won the race.
	return Receipt{Event: got, Again: !got.OccurredAt.Equal(ev.OccurredAt) || got.Kind != ev.Kind}, nil
}

// Checkout settles a bill: one Purchase event, durable before it returns.
func (s *Service) Checkout(ctx context.Context, req Request) (Receipt, *Refusal, error) {
	if r := checkTxn(req.TxnID); r != nil {
		return Receipt{}, r, nil
	}
	if ev, ok, err := s.settled(req.TxnID); err != nil || ok {
		if ok && !sameTxn(ev, agent.EventPurchase, req.MemberID, req.BillFen) {
			return Receipt{}, txnReused(), nil
		}
		return Receipt{Event: ev, Again: true}, nil, err
	}
	if r := s.checkStaff(req.StaffID); r != nil {
		return Receipt{}, r, nil
	}
	q, a, r, err := s.Quote(req)
	if err != nil || r != nil {
		return Receipt{}, r, err
	}
	p := &agent.Purchase{
		BillFen: q.BillFen, TierID: a.Member.TierID, TierDiscountFen: q.TierDiscountFen,
		CouponDiscountFen: q.CouponDiscountFen, PointsBurned: q.PointsBurned, PointsDiscountFen: q.PointsDiscountFen,
		StoredValueFen: q.StoredValueFen, PaidOtherFen: q.PaidOtherFen,
	}
	if q.CouponCode != "" {
		p.CouponCodes = []string{q.CouponCode}
	}
	rec, err := s.record(ctx, req.TxnID, agent.Event{MemberID: req.MemberID, StaffID: req.StaffID, ApprovedBy: req.ApprovedBy, Kind: agent.EventPurchase, Purchase: p})
	if err != nil {
		return Receipt{}, nil, err
	}
	rec.Quote = &q
	s.log.Info("purchase recorded", "seq", rec.Event.Seq, "event", rec.Event.ID, "member", req.MemberID,
		"bill_fen", q.BillFen, "stored_value_fen", q.StoredValueFen, "points", q.PointsBurned, "coupon", q.CouponCode, "again", rec.Again)
	return rec, nil, nil
}

// TopUpRequest adds stored value to a member.
type TopUpRequest struct {
	TxnID    string `json:"txn_id"`
	MemberID string `json:"member_id"`
	StaffID  string `json:"staff_id"`
	// ApprovedBy: see Request.ApprovedBy.
	ApprovedBy string `json:"approved_by,omitempty"`
	AmountFen  int64  `json:"amount_fen"`
}

func refuseUnknownMember() *Refusal {
	return refuse("member_unknown", "", "本机没有该会员的记录，不能为其收款或充值；请重新扫描会员码，或等会员数据同步后再试。",
		"This till has no record of the member, so it cannot take money for them. Scan the member code again, or try once member data has synced.")
}

// MaxTopUpFen bounds one top-up (50,000 yuan).
const MaxTopUpFen = 5_000_000

// TopUp records a top-up with the bonus the programme's rules grant.
func (s *Service) TopUp(ctx context.Context, req TopUpRequest) (Receipt, *Refusal, error) {
	if r := checkTxn(req.TxnID); r != nil {
		return Receipt{}, r, nil
	}
	if ev, ok, err := s.settled(req.TxnID); err != nil || ok {
		if ok && !sameTxn(ev, agent.EventTopUp, req.MemberID, req.AmountFen) {
			return Receipt{}, txnReused(), nil
		}
		return Receipt{Event: ev, Again: true}, nil, err
	}
	switch {
	case req.MemberID == "":
		return Receipt{}, refuse("member_missing", "", "请先扫描会员码或会员卡。", "Scan the member code or card first."), nil
	case req.AmountFen <= 0 || req.AmountFen > MaxTopUpFen:
		return Receipt{}, refuse("amount_invalid", "topup", "充值金额须在 0.01 至 50000 元之间。", "The top-up must be between 0.01 and 50,000 yuan."), nil
	}
	if r := s.checkStaff(req.StaffID); r != nil {
		return Receipt{}, r, nil
	}
	// Stored value is bought only for a member this till knows: one in
	// the replica, or one enrolled here and not yet confirmed.
	if a, err := s.Account(req.MemberID); err != nil && !errors.Is(err, ErrNotFound) {
		return Receipt{}, nil, err
	} else if err != nil || !a.Known && !a.Provisional {
		return Receipt{}, refuseUnknownMember(), nil
	}
	prog, _, err := s.store.Programme()
	if err != nil {
		return Receipt{}, nil, err
	}
	rec, err := s.record(ctx, req.TxnID, agent.Event{
		MemberID: req.MemberID, StaffID: req.StaffID, ApprovedBy: req.ApprovedBy, Kind: agent.EventTopUp,
		TopUp: &agent.TopUp{AmountFen: req.AmountFen, BonusFen: prog.TopUpBonus(req.AmountFen)},
	})
	if err != nil {
		return Receipt{}, nil, err
	}
	s.log.Info("top-up recorded", "seq", rec.Event.Seq, "member", req.MemberID, "amount_fen", req.AmountFen, "again", rec.Again)
	return rec, nil, nil
}

// EnrolRequest makes a walk-in a member at the counter.
type EnrolRequest struct {
	TxnID       string `json:"txn_id"`
	StaffID     string `json:"staff_id"`
	Phone       string `json:"phone"`
	Name        string `json:"name"`
	Consent     bool   `json:"consent"`
	VoucherCode string `json:"voucher_code"`
}

// NormalizePhone accepts an 11-digit mainland mobile number, with or
// without +86 or 86 and spaces or dashes, and returns the 11 digits.
func NormalizePhone(raw string) (string, bool) {
	p := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(raw))
	p = strings.TrimPrefix(p, "+86")
	if len(p) == 13 && strings.HasPrefix(p, "86") {
		p = p[2:]
	}
	if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' {
		return "", false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return p, true
}

// Enrol records an enrolment; the cloud makes the member. The store and
// the staff member on duty are the member's source.
func (s *Service) Enrol(ctx context.Context, req EnrolRequest) (Receipt, *Refusal, error) {
	if r := checkTxn(req.TxnID); r != nil {
		return Receipt{}, r, nil
	}
	if ev, ok, err := s.settled(req.TxnID); err != nil || ok {
		if p, _ := NormalizePhone(req.Phone); ok && (ev.Kind != agent.EventEnrolment || ev.Enrolment == nil || ev.Enrolment.Phone != p) {
			return Receipt{}, txnReused(), nil
		}
		return Receipt{Event: ev, Again: true}, nil, err
	}
	phone, ok := NormalizePhone(req.Phone)
	name := strings.TrimSpace(req.Name)
	switch {
	case !ok:
		return Receipt{}, refuse("phone_invalid", "phone", "手机号应为 11 位中国大陆手机号，例如 13800138000。", "Enter an 11-digit mainland China mobile number, e.g. 13800138000."), nil
	case len([]rune(name)) > 40:
		return Receipt{}, refuse("name_invalid", "name", "姓名最多 40 个字。", "The name can have at most 40 characters."), nil
	case !req.Consent:
		return Receipt{}, refuse("consent_missing", "consent", "请顾客同意会员条款后再登记。", "The customer must agree to the membership terms first."), nil
	}
	ref, err := uuid.NewV7()
	if err != nil {
		return Receipt{}, nil, err
	}
	rec, err := s.record(ctx, req.TxnID, agent.Event{
		StaffID: req.StaffID, Kind: agent.EventEnrolment,
		Enrolment: &agent.Enrolment{Phone: phone, Name: name, VoucherCode: strings.TrimSpace(req.VoucherCode), LocalRef: ref.String(), Consent: true},
	})
	if err != nil {
		return Receipt{}, nil, err
	}
	s.log.Info("enrolment recorded", "seq", rec.Event.Seq, "local_ref", rec.Event.Enrolment.LocalRef, "staff", req.StaffID, "again", rec.Again)
	return rec, nil, nil
}

// VoucherRequest redeems a group-buy voucher.
type VoucherRequest struct {
	TxnID    string `json:"txn_id"`
	StaffID  string `json:"staff_id"`
	Code     string `json:"code"`
	MemberID string `json:"member_id"`
}

// RedeemVoucher records a group-buy voucher used at the counter.
func (s *Service) RedeemVoucher(ctx context.Context, req VoucherRequest) (Receipt, *Refusal, error) {
	if r := checkTxn(req.TxnID); r != nil {
		return Receipt{}, r, nil
	}
	if ev, ok, err := s.settled(req.TxnID); err != nil || ok {
		if ok && (!sameTxn(ev, agent.EventVoucherRedemption, req.MemberID, 0) || ev.Voucher == nil || ev.Voucher.Code != req.Code) {
			return Receipt{}, txnReused(), nil
		}
		return Receipt{Event: ev, Again: true}, nil, err
	}
	v, err := s.store.Voucher(req.Code)
	if err != nil {
		if s.IsUnknown(err) {
			return Receipt{}, refuse("voucher_unknown", "voucher", "本店没有这张团购券的记录，请核对券码或联系店长。", "This store has no record of this group-buy voucher. Check the code or call the manager."), nil
		}
		return Receipt{}, nil, fmt.Errorf("read voucher: %w", err)
	}
	now := s.Now()
	if v.Redeemed {
		return Receipt{}, refuse("voucher_used", "voucher", "这张团购券已核销过。", "This group-buy voucher has already been used."), nil
	}
	if !v.ExpiresAt.IsZero() && !now.Before(v.ExpiresAt) {
		return Receipt{}, refuse("voucher_expired", "voucher", "这张团购券已过期。", "This group-buy voucher has expired."), nil
	}
	pending, err := s.store.Unreflected()
	if err != nil {
		return Receipt{}, nil, err
	}
	for _, ev := range pending {
		if ev.Voucher != nil && ev.Voucher.Code == v.Code {
			return Receipt{}, refuse("voucher_used", "voucher", "这张团购券刚在本机核销过。", "This group-buy voucher was just used at this till."), nil
		}
	}
	rec, err := s.record(ctx, req.TxnID, agent.Event{
		MemberID: req.MemberID, StaffID: req.StaffID, Kind: agent.EventVoucherRedemption,
		Voucher: &agent.VoucherRedemption{Code: v.Code},
	})
	if err != nil {
		return Receipt{}, nil, err
	}
	s.log.Info("voucher redeemed", "seq", rec.Event.Seq, "voucher", v.Code, "member", req.MemberID, "again", rec.Again)
	return rec, nil, nil
}
