package checkout

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/memberpass/memberpass/agent"
)

// Platforms is the cloud, as far as group-buy platform vouchers go: it
// checks and consumes them with the platform that sold them. An error
// means the cloud was not reached.
type Platforms interface {
	PrepareVoucher(ctx context.Context, platform, code string) (agent.PlatformDeal, string, string, error)
	ConsumeVoucher(ctx context.Context, req agent.ConsumeVoucher) (agent.PlatformConsumption, error)
}

// VoucherCheckRequest is a scanned or typed voucher code.
type VoucherCheckRequest struct {
	Code string `json:"code"`
	// Platform when the scan's prefix told (meituan, douyin); empty: the
	// cloud asks each platform the brand connected.
	Platform string `json:"platform"`
}

// VoucherCheck is what the counter shows for a voucher code.
type VoucherCheck struct {
	Code string `json:"code"`
	// Imported is a brand's own voucher from its CSV import (redeemed
	// with RedeemVoucher, as before).
	Imported *agent.Voucher `json:"imported,omitempty"`
	// Deal is what the platform says the code buys.
	Deal *agent.PlatformDeal `json:"deal,omitempty"`
	// Offline: the cloud could not be reached. ProvisionalDeals are the
	// deals the brand lets this counter accept without it, and
	// ProvisionalLeft how many more it may accept today.
	Offline          bool                    `json:"offline,omitempty"`
	ProvisionalDeals []agent.ProvisionalDeal `json:"provisional_deals,omitempty"`
	ProvisionalLeft  int                     `json:"provisional_left,omitempty"`
}

// platformWords are the cashier's sentences for the cloud's refusal codes
// (code -> zh, en), in one place until the message catalogue lands.
var platformWords = map[string][2]string{
	"voucher_not_found":       {"平台查无此券，请核对券码。", "The platform does not know this code. Check it."},
	"voucher_used":            {"这张团购券已核销过。", "This group-buy voucher has already been used."},
	"voucher_refunded":        {"顾客已退款，这张团购券不能使用。", "The guest was refunded; this voucher cannot be used."},
	"voucher_expired":         {"这张团购券已过期。", "This group-buy voucher has expired."},
	"voucher_wrong_shop":      {"这张团购券不适用于本店。", "This voucher is not valid at this shop."},
	"voucher_count_exceeded":  {"券的剩余次数不够。", "The voucher has fewer uses left than asked."},
	"platform_rate_limited":   {"平台繁忙，请稍后再试。", "The platform is busy. Try again in a moment."},
	"platform_unavailable":    {"暂时连不上平台，请稍后再试。", "The platform cannot be reached now. Try again shortly."},
	"platform_pending":        {"平台尚未确认，请再点一次确认；不会重复核销。", "The platform has not confirmed yet. Confirm again; it will not be used twice."},
	"shop_not_bound":          {"本店尚未绑定该平台门店，请联系总部。", "This store is not bound to its shop on this platform. Call HQ."},
	"platform_not_configured": {"品牌未接入该平台。", "The brand has not connected this platform."},
	"platform_auth_failed":    {"平台授权失效，请联系总部。", "The platform refused our credentials. Call HQ."},
	"cloud_unreachable":       {"连不上云端，无法向平台验券。", "The cloud cannot be reached, so the platform cannot check the voucher."},
	"voucher_offline_refused": {"离线时不能接受这张团购券（超出今日限额或不在允许的套餐内）。", "This voucher cannot be accepted offline (over today's limit or not an allowed deal)."},
	"voucher_code_invalid":    {"团购券码应为 6 到 64 位字母或数字。", "A voucher code has 6 to 64 letters or digits."},
	"voucher_count_invalid":   {"核销数量应为 1 到 100。", "The number of uses must be 1 to 100."},
}

func platformRefusal(code, field string) *Refusal {
	w, ok := platformWords[code]
	if !ok {
		w = platformWords["platform_unavailable"]
	}
	return refuse(code, field, w[0], w[1])
}

func validVoucherCode(code string) bool {
	if len(code) < 6 || len(code) > 64 {
		return false
	}
	for _, r := range code {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

func validPlatform(p string) bool { return p == "" || p == "meituan" || p == "douyin" }

// CheckVoucher shows what a voucher code is: a brand's imported voucher,
// or a platform voucher checked with its platform through the cloud, or,
// with the cloud out of reach, what the offline policy lets this counter
// accept provisionally.
func (s *Service) CheckVoucher(ctx context.Context, req VoucherCheckRequest) (VoucherCheck, *Refusal, error) {
	code := strings.TrimSpace(req.Code)
	if !validVoucherCode(code) || !validPlatform(req.Platform) {
		return VoucherCheck{}, platformRefusal("voucher_code_invalid", "voucher"), nil
	}
	if v, err := s.store.Voucher(code); err == nil {
		return VoucherCheck{Code: code, Imported: &v}, nil, nil
	} else if !s.IsUnknown(err) {
		return VoucherCheck{}, nil, fmt.Errorf("read voucher: %w", err)
	}
	if s.Platforms == nil {
		return s.offlineCheck(code, req.Platform)
	}
	deal, reason, _, err := s.Platforms.PrepareVoucher(ctx, req.Platform, code)
	if err != nil {
		s.log.Warn("voucher check: cloud not reached", "code", code, "err", err)
		return s.offlineCheck(code, req.Platform)
	}
	if reason != "" {
		return VoucherCheck{}, platformRefusal(reason, "voucher"), nil
	}
	return VoucherCheck{Code: code, Deal: &deal}, nil, nil
}

func (s *Service) offlineCheck(code, platform string) (VoucherCheck, *Refusal, error) {
	prog, _, err := s.store.Programme()
	if err != nil {
		return VoucherCheck{}, nil, err
	}
	left, err := s.provisionalLeft(prog)
	if err != nil {
		return VoucherCheck{}, nil, err
	}
	out := VoucherCheck{Code: code, Offline: true, ProvisionalLeft: left}
	for _, d := range prog.Offline.ProvisionalDeals {
		if platform == "" || d.Platform == platform {
			out.ProvisionalDeals = append(out.ProvisionalDeals, d)
		}
	}
	return out, nil, nil
}

// provisionalLeft is how many platform vouchers this counter may still
// accept provisionally today.
func (s *Service) provisionalLeft(prog agent.Programme) (int, error) {
	today, err := s.store.EventsSince(s.dayStart(s.Now()))
	if err != nil {
		return 0, fmt.Errorf("read today's events: %w", err)
	}
	used := 0
	for _, ev := range today {
		if ev.Voucher != nil && ev.Voucher.Provisional {
			used += max(ev.Voucher.Count, 1)
		}
	}
	return max(prog.Offline.MaxProvisionalVouchersPerDay-used, 0), nil
}

// PlatformVoucherRequest consumes a platform voucher: online with
// ConsumeVoucher, or provisionally (DealID from the offline policy) with
// AcceptProvisional.
type PlatformVoucherRequest struct {
	TxnID    string `json:"txn_id"`
	StaffID  string `json:"staff_id"`
	Code     string `json:"code"`
	Platform string `json:"platform"`
	Count    int    `json:"count"`
	MemberID string `json:"member_id"`
	DealID   string `json:"deal_id"`
}

func (r PlatformVoucherRequest) check() *Refusal {
	if rf := checkTxn(r.TxnID); rf != nil {
		return rf
	}
	switch {
	case !validVoucherCode(strings.TrimSpace(r.Code)) || r.Platform == "" || !validPlatform(r.Platform):
		return platformRefusal("voucher_code_invalid", "voucher")
	case r.Count < 1 || r.Count > 100:
		return platformRefusal("voucher_count_invalid", "count")
	case len(r.MemberID) > 80 || len(r.StaffID) > 64 || len(r.DealID) > 64:
		return refuse("field_too_long", "", "输入过长。", "A field is too long.")
	}
	return nil
}

// ConsumeVoucher consumes uses of a platform voucher through the cloud,
// once per transaction: a second confirm of the same transaction (double
// tap, reload) returns the first, and the cloud keys the consumption by
// the transaction too, so an answer lost on the way is asked for again,
// never consumed again. What the platform confirmed is recorded here as
// the counter's event.
func (s *Service) ConsumeVoucher(ctx context.Context, req PlatformVoucherRequest) (Receipt, *Refusal, error) {
	if r := req.check(); r != nil {
		return Receipt{}, r, nil
	}
	// One consumption at a time at this till: two taps of the same
	// transaction wait for each other instead of racing to the cloud.
	s.voucherMu.Lock()
	defer s.voucherMu.Unlock()
	if ev, ok, err := s.settled(req.TxnID); err != nil || ok {
		return Receipt{Event: ev, Again: true}, nil, err
	}
	if r := s.checkStaff(req.StaffID); r != nil {
		return Receipt{}, r, nil
	}
	if s.Platforms == nil {
		return Receipt{}, platformRefusal("cloud_unreachable", "voucher"), nil
	}
	code := strings.TrimSpace(req.Code)
	got, err := s.Platforms.ConsumeVoucher(ctx, agent.ConsumeVoucher{Platform: req.Platform, Code: code, Count: req.Count, Key: req.TxnID, StaffID: req.StaffID})
	if err != nil {
		s.log.Warn("voucher consume: cloud not reached", "code", code, "err", err)
		return Receipt{}, platformRefusal("cloud_unreachable", "voucher"), nil
	}
	switch got.State {
	case "consumed":
	case "pending":
		return Receipt{}, platformRefusal("platform_pending", "voucher"), nil
	default:
		return Receipt{}, platformRefusal(cmp.Or(got.Refusal, "platform_unavailable"), "voucher"), nil
	}
	rec, err := s.record(ctx, req.TxnID, agent.Event{
		MemberID: req.MemberID, StaffID: req.StaffID, Kind: agent.EventVoucherRedemption,
		Voucher: &agent.VoucherRedemption{Code: code, Platform: req.Platform, Count: got.Count, DealID: got.Deal.DealID, Title: got.Deal.Title,
			PriceFen: got.Deal.PriceFen, ConsumptionKey: req.TxnID},
	})
	if err != nil {
		return Receipt{}, nil, err
	}
	s.log.Info("platform voucher consumed", "seq", rec.Event.Seq, "platform", req.Platform, "voucher", code, "count", got.Count, "again", rec.Again)
	return rec, nil, nil
}

// AcceptProvisional records a platform voucher the cloud could not check,
// within the brand's offline policy: a deal it lists, and no more than
// its daily number at this counter. The cloud consumes it with the
// platform when the event arrives; a refusal then is a conflict for HQ.
func (s *Service) AcceptProvisional(ctx context.Context, req PlatformVoucherRequest) (Receipt, *Refusal, error) {
	if r := req.check(); r != nil {
		return Receipt{}, r, nil
	}
	s.voucherMu.Lock()
	defer s.voucherMu.Unlock()
	if ev, ok, err := s.settled(req.TxnID); err != nil || ok {
		return Receipt{Event: ev, Again: true}, nil, err
	}
	if r := s.checkStaff(req.StaffID); r != nil {
		return Receipt{}, r, nil
	}
	prog, _, err := s.store.Programme()
	if err != nil {
		return Receipt{}, nil, err
	}
	var deal *agent.ProvisionalDeal
	for i, d := range prog.Offline.ProvisionalDeals {
		if d.Platform == req.Platform && d.DealID == req.DealID {
			deal = &prog.Offline.ProvisionalDeals[i]
		}
	}
	left, err := s.provisionalLeft(prog)
	if err != nil {
		return Receipt{}, nil, err
	}
	if deal == nil || req.Count > left {
		return Receipt{}, platformRefusal("voucher_offline_refused", "voucher"), nil
	}
	code := strings.TrimSpace(req.Code)
	today, err := s.store.EventsSince(s.dayStart(s.Now()))
	if err != nil {
		return Receipt{}, nil, err
	}
	for _, ev := range today {
		if ev.Voucher != nil && ev.Voucher.Code == code && ev.Voucher.Platform == req.Platform {
			return Receipt{}, platformRefusal("voucher_used", "voucher"), nil
		}
	}
	rec, err := s.record(ctx, req.TxnID, agent.Event{
		MemberID: req.MemberID, StaffID: req.StaffID, Kind: agent.EventVoucherRedemption,
		Voucher: &agent.VoucherRedemption{Code: code, Platform: req.Platform, Count: req.Count, DealID: deal.DealID, Title: deal.Title,
			PriceFen: deal.PriceFen, Provisional: true},
	})
	if err != nil {
		return Receipt{}, nil, err
	}
	s.log.Warn("platform voucher accepted provisionally", "seq", rec.Event.Seq, "platform", req.Platform, "voucher", code, "deal", deal.DealID, "count", req.Count)
	return rec, nil, nil
}
