package groupbuy

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Mismatch kinds.
const (
	// MissingAtPlatform: consumed here, not in the platform's settlement
	// (the platform will not pay for it).
	MissingAtPlatform = "missing_at_platform"
	// MissingHere: in the platform's settlement, no consumption here
	// (consumed by another system or by hand in the platform's app).
	MissingHere = "missing_here"
	// AmountDiffers: both sides have it, at different prices.
	AmountDiffers = "amount_differs"
	// PendingHere: a consumption whose outcome is still unknown here.
	PendingHere = "pending_here"
)

// Mismatch is one difference between the two sides, named.
type Mismatch struct {
	Kind        string
	Code        string
	Ref         string
	DealID      string
	HereFen     int64
	PlatformFen int64
	Detail      string
}

// Report compares one day of one store on one platform.
type Report struct {
	BrandID, StoreID, Platform, ShopID string
	Day                                string // YYYY-MM-DD in the platforms' calendar
	// Source says where the platform's side came from: "api" or "statement".
	Source       string
	HereUses     int
	HereFen      int64
	PlatformUses int
	PlatformFen  int64
	Matched      int
	Mismatches   []Mismatch
}

// Reconcile compares what was consumed here for a store on a day with
// what the platform's settlement lists: from the platform's API when
// statement is nil, else from an imported statement.
func (s *Service) Reconcile(ctx context.Context, brand, platform, store string, day time.Time, statement []SettlementLine) (Report, error) {
	if !slices.Contains(Platforms, platform) {
		return Report{}, cloud.Errorf(cloud.Invalid, "platform %q is not one of %s", platform, strings.Join(Platforms, ", "))
	}
	b, err := s.store.Binding(ctx, brand, store, platform)
	if err != nil {
		return Report{}, fmt.Errorf("read binding of store %s on %s: %w", store, platform, err)
	}
	from, to := dayBounds(day, s.Location)
	rep := Report{BrandID: brand, StoreID: store, Platform: platform, ShopID: b.ShopID, Day: from.In(s.Location).Format("2006-01-02"), Source: "statement"}
	if statement == nil {
		rep.Source = "api"
		a, ok := s.adapters.Adapter(brand, platform)
		if !ok {
			return Report{}, Refuse(ReasonNoPlatform, "brand %s has no %s credentials", brand, platform)
		}
		if statement, err = a.Settlement(ctx, b.ShopID, from.In(s.Location)); err != nil {
			return Report{}, fmt.Errorf("read %s settlement: %w", platform, err)
		}
	}
	uses, err := s.store.Consumptions(ctx, brand, platform, "")
	if err != nil {
		return Report{}, fmt.Errorf("read consumptions: %w", err)
	}
	type unit struct {
		code, deal string
		fen        int64
	}
	here := map[string]unit{}
	var hereOrder []string
	for _, u := range uses {
		if u.StoreID != store {
			continue
		}
		if u.State == cloud.ConsumePending && !u.CreatedAt.Before(from) && u.CreatedAt.Before(to) {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: PendingHere, Code: u.Code, DealID: u.DealID,
				Detail: fmt.Sprintf("consumption of %s (key %s) is still pending here", u.Code, u.Key)})
			continue
		}
		if u.State != cloud.ConsumeDone || u.ConsumedAt.Before(from) || !u.ConsumedAt.Before(to) {
			continue
		}
		refs := u.PlatformRefs
		for len(refs) < u.Count {
			refs = append(refs, u.Code+"#"+strconv.Itoa(len(refs)+1))
		}
		for _, r := range refs {
			here[r] = unit{u.Code, u.DealID, u.PriceFen}
			hereOrder = append(hereOrder, r)
			rep.HereUses++
			rep.HereFen += u.PriceFen
		}
	}
	seen := map[string]bool{}
	for _, l := range statement {
		if l.ShopID != "" && l.ShopID != b.ShopID {
			continue
		}
		n := max(l.Count, 1)
		rep.PlatformUses += n
		rep.PlatformFen += l.PriceFen * int64(n)
		ref := l.Ref
		if ref == "" {
			ref = l.Code
		}
		h, ok := here[ref]
		switch {
		case !ok:
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MissingHere, Code: l.Code, Ref: ref, DealID: l.DealID, PlatformFen: l.PriceFen * int64(n),
				Detail: fmt.Sprintf("%s lists %s (%s, %s) consumed at %s; no consumption here", platform, l.Code, l.Title, yuan(l.PriceFen*int64(n)), b.ShopID)})
		case h.fen != l.PriceFen:
			seen[ref] = true
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: AmountDiffers, Code: l.Code, Ref: ref, DealID: l.DealID, HereFen: h.fen, PlatformFen: l.PriceFen,
				Detail: fmt.Sprintf("%s: %s here, %s at %s", l.Code, yuan(h.fen), yuan(l.PriceFen), platform)})
		default:
			seen[ref] = true
			rep.Matched++
		}
	}
	for _, r := range hereOrder {
		if seen[r] {
			continue
		}
		h := here[r]
		rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MissingAtPlatform, Code: h.code, Ref: r, DealID: h.deal, HereFen: h.fen,
			Detail: fmt.Sprintf("%s consumed here (%s) is not in %s's settlement for %s", h.code, yuan(h.fen), platform, rep.Day)})
	}
	return rep, nil
}

// MaxStatementLines bounds an imported statement.
const MaxStatementLines = 100_000

// ParseStatement reads a platform statement exported to CSV with the
// header ref,code,deal_id,title,price,count,consumed_at: price in yuan
// ("98.00"), count optional (1), consumed_at as RFC 3339 or
// "2006-01-02 15:04:05" in China Standard Time. Every error names its line.
func ParseStatement(r io.Reader, platform, shop string) ([]SettlementLine, error) {
	cr := csv.NewReader(io.LimitReader(r, 32<<20))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, cloud.Errorf(cloud.Invalid, "statement has no header line: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"code", "price", "consumed_at"} {
		if _, ok := col[need]; !ok {
			return nil, cloud.Errorf(cloud.Invalid, "statement header lacks %q (want ref,code,deal_id,title,price,count,consumed_at)", need)
		}
	}
	cst := time.FixedZone("CST", 8*3600)
	var out []SettlementLine
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cloud.Errorf(cloud.Invalid, "line %d: %v", line, err)
		}
		if len(out) == MaxStatementLines {
			return nil, cloud.Errorf(cloud.Invalid, "statement has more than %d lines", MaxStatementLines)
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		l := SettlementLine{Platform: platform, ShopID: shop, Code: get("code"), Ref: get("ref"), DealID: get("deal_id"), Title: get("title"), Count: 1}
		if err := ValidCode(l.Code); err != nil || len(l.Ref) > 128 || len(l.DealID) > 64 || len([]rune(l.Title)) > 200 {
			return nil, cloud.Errorf(cloud.Invalid, "line %d code: %q is not a voucher code of 6 to 64 letters and digits, or a field is too long", line, l.Code)
		}
		if l.PriceFen, err = YuanToFen(get("price")); err != nil {
			return nil, cloud.Errorf(cloud.Invalid, "line %d price: %v", line, err)
		}
		if c := get("count"); c != "" {
			if l.Count, err = strconv.Atoi(c); err != nil || l.Count < 1 || l.Count > MaxCount {
				return nil, cloud.Errorf(cloud.Invalid, "line %d count: %q is not between 1 and %d", line, c, MaxCount)
			}
		}
		at := get("consumed_at")
		if l.ConsumedAt, err = time.Parse(time.RFC3339, at); err != nil {
			if l.ConsumedAt, err = time.ParseInLocation("2006-01-02 15:04:05", at, cst); err != nil {
				return nil, cloud.Errorf(cloud.Invalid, "line %d consumed_at: %q is neither RFC 3339 nor 2006-01-02 15:04:05", line, at)
			}
		}
		out = append(out, l)
	}
	if out == nil {
		out = []SettlementLine{}
	}
	return out, nil
}
