package groupbuy

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Adapters finds a brand's adapter for a platform (the brand's own
// credentials); false when the brand has not connected the platform.
type Adapters interface {
	Adapter(brand, platform string) (Adapter, bool)
}

// Registry is Adapters from a fixed map: brand -> platform -> adapter.
type Registry map[string]map[string]Adapter

// Adapter finds a brand's adapter.
func (r Registry) Adapter(brand, platform string) (Adapter, bool) {
	a, ok := r[brand][platform]
	return a, ok
}

// Service verifies and consumes platform vouchers for every brand.
type Service struct {
	store    Store
	adapters Adapters
	log      *slog.Logger
	Now      func() time.Time
	// Location is the platforms' calendar (China Standard Time), for
	// the days reconciliation compares.
	Location *time.Location
	// SettleSkew is how far before a pending consumption began a
	// platform's "consumed at" may lie and still be taken as that
	// consumption (clocks differ); older is an earlier use of the code.
	SettleSkew time.Duration

	// codeLocks serialise the consumptions of one code in this process:
	// a retry of a confirm still in flight waits for it and gets its
	// outcome, instead of racing it to the platform.
	codeLocks [64]sync.Mutex
}

func (s *Service) lockCode(brand, platform, code string) func() {
	h := fnv.New32a()
	h.Write([]byte(brand + "\x00" + platform + "\x00" + code))
	m := &s.codeLocks[h.Sum32()%uint32(len(s.codeLocks))]
	m.Lock()
	return m.Unlock
}

// New makes a service.
func New(store Store, adapters Adapters, log *slog.Logger) *Service {
	return &Service{store: store, adapters: adapters, log: log, Now: func() time.Time { return time.Now().UTC() },
		Location: time.FixedZone("CST", 8*3600), SettleSkew: 2 * time.Minute}
}

// Platforms lists the platforms known, in the order a code of unknown
// platform is tried.
var Platforms = []string{cloud.PlatformMeituan, cloud.PlatformDouyin}

// Bind ties a store to its shop on a platform.
func (s *Service) Bind(ctx context.Context, brand, store, platform, shop string) (cloud.ShopBinding, error) {
	switch {
	case !slices.Contains(Platforms, platform):
		return cloud.ShopBinding{}, cloud.Errorf(cloud.Invalid, "platform %q is not one of %s", platform, strings.Join(Platforms, ", "))
	case shop == "" || len(shop) > 128 || strings.ContainsAny(shop, " \t\r\n"):
		return cloud.ShopBinding{}, cloud.Errorf(cloud.Invalid, "the platform's shop id must be 1 to 128 characters without spaces")
	}
	b := cloud.ShopBinding{BrandID: brand, StoreID: store, Platform: platform, ShopID: shop, BoundAt: s.Now()}
	if err := s.store.PutBinding(ctx, b); err != nil {
		return cloud.ShopBinding{}, fmt.Errorf("bind store %s on %s: %w", store, platform, err)
	}
	s.log.Info("store bound to platform shop", "brand", brand, "store", store, "platform", platform, "shop", shop)
	return b, nil
}

// Bindings lists a brand's bindings.
func (s *Service) Bindings(ctx context.Context, brand string) ([]cloud.ShopBinding, error) {
	return s.store.Bindings(ctx, brand)
}

// route finds the shop and adapter for a store on a platform.
func (s *Service) route(ctx context.Context, brand, store, platform string) (string, Adapter, error) {
	a, ok := s.adapters.Adapter(brand, platform)
	if !ok {
		return "", nil, Refuse(ReasonNoPlatform, "brand %s has no %s credentials", brand, platform)
	}
	b, err := s.store.Binding(ctx, brand, store, platform)
	if cloud.IsNotFound(err) {
		return "", nil, Refuse(ReasonNotBound, "store %s is not bound to a %s shop", store, platform)
	} else if err != nil {
		return "", nil, fmt.Errorf("read binding: %w", err)
	}
	return b.ShopID, a, nil
}

// Prepare checks a code with its platform for a store. With no platform
// given, each platform the brand connected is asked in turn until one
// knows the code.
func (s *Service) Prepare(ctx context.Context, brand, store, platform, code string) (Deal, error) {
	if err := ValidCode(code); err != nil {
		return Deal{}, err
	}
	tries := Platforms
	if platform != "" {
		if !slices.Contains(Platforms, platform) {
			return Deal{}, Refuse(ReasonNoPlatform, "platform %q is not known", platform)
		}
		tries = []string{platform}
	}
	var last error = Refuse(ReasonNoPlatform, "brand %s has connected no platform for store %s", brand, store)
	for _, p := range tries {
		shop, a, err := s.route(ctx, brand, store, p)
		if err != nil {
			if r, ok := AsRefusal(err); ok && platform == "" && (r.Reason == ReasonNoPlatform || r.Reason == ReasonNotBound) {
				continue
			}
			return Deal{}, err
		}
		d, err := a.Prepare(ctx, shop, code)
		if r, ok := AsRefusal(err); ok && r.Reason == ReasonNotFound && platform == "" {
			last = err
			continue
		}
		if err != nil {
			return Deal{}, err
		}
		return d, nil
	}
	return Deal{}, last
}

// ConsumeRequest asks to consume a voucher for a store.
type ConsumeRequest struct {
	BrandID, StoreID, DeviceID, StaffID string
	Platform, Code                      string
	Count                               int
	// Key is the counter's idempotency key (its transaction id): the
	// same key again returns the first outcome.
	Key string
	// EventID and Provisional are set for a claim an offline counter
	// accepted.
	EventID     string
	Provisional bool
}

func (r ConsumeRequest) check() error {
	switch {
	case !slices.Contains(Platforms, r.Platform):
		return cloud.Errorf(cloud.Invalid, "platform %q is not one of %s", r.Platform, strings.Join(Platforms, ", "))
	case r.Count < 1 || r.Count > MaxCount:
		return cloud.Errorf(cloud.Invalid, "count %d is not between 1 and %d", r.Count, MaxCount)
	case r.Key == "" || len(r.Key) > 80:
		return cloud.Errorf(cloud.Invalid, "idempotency key must be 1 to 80 characters")
	case len(r.StaffID) > 64:
		return cloud.Errorf(cloud.Invalid, "staff id is longer than 64 characters")
	}
	return ValidCode(r.Code)
}

// Consume consumes a voucher once per key. A repeated key returns the
// first outcome; a consumption left pending by a timeout is settled by
// asking the platform whether it happened before consuming again, so a
// code is never consumed twice for one key.
func (s *Service) Consume(ctx context.Context, req ConsumeRequest) (cloud.VoucherConsumption, error) {
	if err := req.check(); err != nil {
		return cloud.VoucherConsumption{}, err
	}
	shop, a, err := s.route(ctx, req.BrandID, req.StoreID, req.Platform)
	if err != nil {
		return cloud.VoucherConsumption{}, err
	}
	defer s.lockCode(req.BrandID, req.Platform, req.Code)()
	now := s.Now()
	rec, created, err := s.store.BeginConsumption(ctx, cloud.VoucherConsumption{
		BrandID: req.BrandID, Platform: req.Platform, Code: req.Code, Key: req.Key, StoreID: req.StoreID, ShopID: shop,
		DeviceID: req.DeviceID, StaffID: req.StaffID, State: cloud.ConsumePending, Count: req.Count,
		EventID: req.EventID, Provisional: req.Provisional, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return cloud.VoucherConsumption{}, fmt.Errorf("begin consumption: %w", err)
	}
	if !created {
		if rec.StoreID != req.StoreID || rec.Count != req.Count {
			return cloud.VoucherConsumption{}, cloud.Errorf(cloud.Conflict, "key %q was used for another consumption (store %s, count %d)", req.Key, rec.StoreID, rec.Count)
		}
		switch rec.State {
		case cloud.ConsumeDone, cloud.ConsumeReversed:
			return rec, nil
		case cloud.ConsumeRefused:
			return rec, &Refusal{Reason: Reason(rec.Refusal), Detail: rec.Detail}
		}
		// Pending: an earlier attempt's outcome is unknown. Ask first.
		r, done, err := s.consumedSince(ctx, a, shop, rec)
		if err != nil {
			return rec, err
		}
		if done {
			return s.finish(ctx, rec, r)
		}
	}
	return s.attempt(ctx, a, shop, rec)
}

// consumedSince asks the platform whether rec's consumption happened: the
// code consumed at the shop no earlier than rec began (less the skew).
func (s *Service) consumedSince(ctx context.Context, a Adapter, shop string, rec cloud.VoucherConsumption) (Receipt, bool, error) {
	r, ok, err := a.Consumed(ctx, shop, rec.Code)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("ask %s whether %s was consumed: %w", rec.Platform, rec.Code, err)
	}
	if !ok || (!r.ConsumedAt.IsZero() && r.ConsumedAt.Before(rec.CreatedAt.Add(-s.SettleSkew))) {
		return Receipt{}, false, nil
	}
	return r, true, nil
}

// attempt consumes with the platform; after a timeout it asks, and
// consumes once more only if the platform says it did not happen.
func (s *Service) attempt(ctx context.Context, a Adapter, shop string, rec cloud.VoucherConsumption) (cloud.VoucherConsumption, error) {
	for try := 0; try < 2; try++ {
		r, err := a.Consume(ctx, shop, rec.Code, rec.Count, rec.Key)
		if err == nil {
			return s.finish(ctx, rec, r)
		}
		if !Unsettled(err) {
			if rf, ok := AsRefusal(err); ok && !rf.Transient() {
				rec.State, rec.Refusal, rec.Detail, rec.UpdatedAt = cloud.ConsumeRefused, string(rf.Reason), rf.Detail, s.Now()
				got, perr := s.store.SettleConsumption(ctx, rec)
				if perr != nil {
					return rec, fmt.Errorf("record refusal: %w", perr)
				}
				if got.State == cloud.ConsumeDone {
					return got, nil // settled as consumed by a confirm in another process
				}
				s.log.Info("platform refused voucher", "brand", rec.BrandID, "platform", rec.Platform, "code", rec.Code, "reason", rf.Reason)
			}
			return rec, err
		}
		s.log.Warn("voucher consumption timed out; asking the platform", "brand", rec.BrandID, "platform", rec.Platform, "code", rec.Code, "key", rec.Key)
		got, done, qerr := s.consumedSince(ctx, a, shop, rec)
		if qerr != nil {
			return rec, errors.Join(Refuse(ReasonUnavailable, "consumption of %s left pending: %v", rec.Code, err), qerr)
		}
		if done {
			return s.finish(ctx, rec, got)
		}
	}
	return rec, Refuse(ReasonUnavailable, "consumption of %s timed out twice; it is pending and will be settled by asking the platform", rec.Code)
}

func (s *Service) finish(ctx context.Context, rec cloud.VoucherConsumption, r Receipt) (cloud.VoucherConsumption, error) {
	rec.State, rec.DealID, rec.Title, rec.PriceFen, rec.PlatformRefs = cloud.ConsumeDone, r.DealID, r.Title, r.PriceFen, r.Refs
	if r.Count > 0 {
		rec.Count = r.Count
	}
	rec.ConsumedAt = r.ConsumedAt
	if rec.ConsumedAt.IsZero() {
		rec.ConsumedAt = s.Now()
	}
	rec.UpdatedAt = s.Now()
	got, err := s.store.SettleConsumption(ctx, rec)
	if err != nil {
		// The platform consumed; the record stays pending and the next
		// ask settles it by asking the platform.
		return rec, fmt.Errorf("record consumption: %w", err)
	}
	if got.State != cloud.ConsumePending && got.State != rec.State {
		rec = got
	}
	s.log.Info("voucher consumed", "brand", rec.BrandID, "store", rec.StoreID, "platform", rec.Platform, "code", rec.Code, "count", rec.Count, "deal", rec.DealID)
	return rec, nil
}

// Reverse undoes a consumption with its platform, within the platform's
// window.
func (s *Service) Reverse(ctx context.Context, brand, platform, code, key string) (cloud.VoucherConsumption, error) {
	defer s.lockCode(brand, platform, code)()
	uses, err := s.store.Consumptions(ctx, brand, platform, code)
	if err != nil {
		return cloud.VoucherConsumption{}, err
	}
	for _, rec := range uses {
		if rec.Key != key {
			continue
		}
		if rec.State != cloud.ConsumeDone {
			return rec, cloud.Errorf(cloud.Conflict, "consumption of %s is %s, not consumed", code, rec.State)
		}
		shop, a, err := s.route(ctx, brand, rec.StoreID, platform)
		if err != nil {
			return rec, err
		}
		if err := a.Reverse(ctx, shop, Receipt{Platform: platform, Code: code, DealID: rec.DealID, Count: rec.Count, Refs: rec.PlatformRefs}); err != nil {
			return rec, err
		}
		rec.State, rec.UpdatedAt = cloud.ConsumeReversed, s.Now()
		if err := s.store.PutConsumption(ctx, rec); err != nil {
			return rec, fmt.Errorf("record reversal: %w", err)
		}
		s.log.Info("voucher consumption reversed", "brand", brand, "platform", platform, "code", code)
		return rec, nil
	}
	return cloud.VoucherConsumption{}, cloud.Errorf(cloud.NotFound, "no consumption of %s voucher %s with key %q", platform, code, key)
}

// ProcessClaims consumes the provisional vouchers offline counters
// accepted: each is consumed with its platform (keyed by its event, so a
// retry never consumes twice); a refusal becomes a conflict for HQ with
// the amount at risk; an unreachable platform leaves the claim for the
// next run. It returns how many claims it settled.
func (s *Service) ProcessClaims(ctx context.Context, limit int) (int, error) {
	claims, err := s.store.Claims(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("list voucher claims: %w", err)
	}
	settled := 0
	for _, c := range claims {
		rec, err := s.Consume(ctx, ConsumeRequest{BrandID: c.BrandID, StoreID: c.StoreID, DeviceID: c.DeviceID, StaffID: c.StaffID,
			Platform: c.Platform, Code: c.Code, Count: c.Count, Key: "event:" + c.EventID, EventID: c.EventID, Provisional: true})
		atRisk := c.PriceFen * int64(c.Count)
		conflict := &cloud.ConflictRecord{At: s.Now(), EventID: c.EventID, DeviceID: c.DeviceID, StoreID: c.StoreID, AmountFen: atRisk}
		rf, refused := AsRefusal(err)
		switch {
		case err == nil && rec.State == cloud.ConsumeDone:
			if c.DealID != "" && rec.DealID != c.DealID {
				conflict.Kind = "voucher_deal_mismatch"
				conflict.Detail = fmt.Sprintf("%s voucher %s was accepted offline as deal %s (%s) but the platform consumed it as deal %s %q (%s)",
					c.Platform, c.Code, c.DealID, yuan(atRisk), rec.DealID, rec.Title, yuan(rec.AmountFen()))
				conflict.Resolution = "consumed with the platform; the difference is HQ's to settle with the store"
			} else {
				conflict = nil
			}
		case err == nil && rec.State == cloud.ConsumeReversed:
			conflict = nil
		case refused && rf.AboutVoucher():
			conflict.Kind = "voucher_refused"
			conflict.Detail = fmt.Sprintf("%s refused voucher %s accepted offline at store %s: %s (%s); amount at risk %s",
				c.Platform, c.Code, c.StoreID, rf.Reason, rf.Detail, yuan(atRisk))
			conflict.Resolution = "served at the counter without the platform paying; HQ to settle with the guest or the store"
			if rec.Key == "" {
				rec = cloud.VoucherConsumption{}
			}
		default:
			c.Attempts++
			c.LastError = fmt.Sprint(err)
			if perr := s.store.PutClaim(ctx, c); perr != nil {
				return settled, fmt.Errorf("update voucher claim: %w", perr)
			}
			s.log.Warn("provisional voucher not settled yet", "brand", c.BrandID, "platform", c.Platform, "code", c.Code, "attempts", c.Attempts, "err", err)
			continue
		}
		var use *cloud.VoucherConsumption
		if rec.Key != "" {
			use = &rec
		}
		if err := s.store.SettleClaim(ctx, c, use, conflict); err != nil {
			return settled, fmt.Errorf("settle voucher claim %s: %w", c.EventID, err)
		}
		settled++
		if conflict != nil {
			s.log.Warn("provisional voucher became a conflict", "brand", c.BrandID, "kind", conflict.Kind, "code", c.Code, "amount_fen", atRisk)
		}
	}
	return settled, nil
}

// yuan writes fen as "¥12.34".
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

// RunClaims settles provisional claims every interval until ctx ends.
func (s *Service) RunClaims(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.ProcessClaims(ctx, 100); err != nil {
			s.log.Error("settle provisional vouchers", "err", err)
		} else if n > 0 {
			s.log.Info("provisional vouchers settled", "count", n)
		}
	}
}
