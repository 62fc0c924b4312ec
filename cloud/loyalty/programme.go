package loyalty

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

var monthDay = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)

// ValidateProgramme checks a brand's rules for sense.
func ValidateProgramme(p cloud.Programme) error {
	if len(p.Tiers) == 0 {
		return cloud.Errorf(cloud.Invalid, "a programme needs at least one tier")
	}
	ids, ranks := map[string]bool{}, map[int]bool{}
	for _, t := range p.Tiers {
		if err := validSlug("tier id", t.ID); err != nil {
			return err
		}
		if ids[t.ID] || ranks[t.Rank] {
			return cloud.Errorf(cloud.Invalid, "tier %s: ids and ranks must be unique", t.ID)
		}
		ids[t.ID], ranks[t.Rank] = true, true
		if t.Name == "" {
			return cloud.Errorf(cloud.Invalid, "tier %s has no name", t.ID)
		}
		if t.DiscountBP < 0 || t.DiscountBP > 5000 {
			return cloud.Errorf(cloud.Invalid, "tier %s: discount %d bp is outside 0 to 5000 (50%%)", t.ID, t.DiscountBP)
		}
		if t.PointsMultiplierPct < 0 || t.PointsMultiplierPct > 1000 {
			return cloud.Errorf(cloud.Invalid, "tier %s: points multiplier %d%% is outside 0 to 1000", t.ID, t.PointsMultiplierPct)
		}
		if t.UpgradeSpendFen < 0 || t.UpgradeVisits < 0 {
			return cloud.Errorf(cloud.Invalid, "tier %s: upgrade thresholds must not be negative", t.ID)
		}
	}
	if p.TierWindowDays < 1 || p.TierWindowDays > 3660 {
		return cloud.Errorf(cloud.Invalid, "tier window of %d days is outside 1 to 3660", p.TierWindowDays)
	}
	if p.PointsPerYuan < 0 || p.PointsPerYuan > 1000 || p.PointValueFen < 0 || p.PointValueFen > 10000 || p.PointsExpireYears < 0 {
		return cloud.Errorf(cloud.Invalid, "points rules out of range (per yuan 0-1000, value 0-10000 fen, expiry years >= 0)")
	}
	for _, d := range p.BonusDays {
		if d.Date != "" && !monthDay.MatchString(d.Date) {
			return cloud.Errorf(cloud.Invalid, "bonus day date %q: want MM-DD", d.Date)
		}
		if d.Date == "" && (d.Weekday < 0 || d.Weekday > 6) {
			return cloud.Errorf(cloud.Invalid, "bonus day weekday %d: want 0 (Sunday) to 6", d.Weekday)
		}
		if d.MultiplierPct < 100 || d.MultiplierPct > 1000 {
			return cloud.Errorf(cloud.Invalid, "bonus day multiplier %d%% is outside 100 to 1000", d.MultiplierPct)
		}
	}
	for _, r := range p.TopUpRules {
		if r.MinAmountFen <= 0 || r.BonusFen < 0 || r.BonusFen > r.MinAmountFen {
			return cloud.Errorf(cloud.Invalid, "top-up rule %d/%d: the minimum must be positive and the bonus at most the minimum", r.MinAmountFen, r.BonusFen)
		}
	}
	o := p.Offline
	if o.MaxStoredValuePerMemberDayFen < 0 || o.MaxPointsBurnPerMemberDay < 0 || o.MaxReplicaAge < 0 || o.MaxReplicaAge > 30*24*time.Hour {
		return cloud.Errorf(cloud.Invalid, "offline policy out of range (limits >= 0, replica age at most 30 days)")
	}
	if o.MaxProvisionalVouchersPerDay < 0 || o.MaxProvisionalVouchersPerDay > 1000 || len(o.ProvisionalDeals) > 200 {
		return cloud.Errorf(cloud.Invalid, "provisional vouchers per day must be 0 to 1000, with at most 200 deals")
	}
	for _, d := range o.ProvisionalDeals {
		if d.Platform != cloud.PlatformMeituan && d.Platform != cloud.PlatformDouyin || d.DealID == "" || len(d.DealID) > 64 ||
			len([]rune(d.Title)) > 60 || d.PriceFen <= 0 || d.PriceFen > maxAmountFen {
			return cloud.Errorf(cloud.Invalid, "provisional deal %q: platform meituan or douyin, a deal id up to 64 characters, a title up to 60, a price above 0", d.DealID)
		}
	}
	return nil
}

// SetProgramme replaces a brand's rules. Members in a tier that no longer
// exists move to the base tier.
func (s *Service) SetProgramme(ctx context.Context, brandID string, p cloud.Programme) (cloud.Programme, error) {
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		p, err = s.SetProgrammeInTx(tx, brandID, p)
		return err
	})
	return p, err
}

// SetProgrammeInTx is SetProgramme inside the caller's transaction (HQ's
// console writes its audit entry in the same one).
func (s *Service) SetProgrammeInTx(tx cloud.Tx, brandID string, p cloud.Programme) (cloud.Programme, error) {
	if err := ValidateProgramme(p); err != nil {
		return p, err
	}
	slices.SortFunc(p.Tiers, func(a, b cloud.Tier) int { return a.Rank - b.Rank })
	err := func() error {
		b, err := tx.Brand(brandID)
		if err != nil {
			return err
		}
		b.Programme = p
		if err := tx.PutBrand(b); err != nil {
			return err
		}
		var orphans []cloud.Member
		err = tx.Members(brandID, func(m cloud.Member) (bool, error) {
			if _, ok := p.Tier(m.TierID); !ok {
				orphans = append(orphans, m)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, m := range orphans {
			if err := setTier(tx, &m, p.BaseTier(), s.Now(), "tier "+m.TierID+" removed from the programme"); err != nil {
				return err
			}
			if err := tx.PutMember(m); err != nil {
				return err
			}
			if _, err := tx.AppendChange(brandID, cloud.ChangeMember, m.ID); err != nil {
				return err
			}
		}
		_, err = tx.AppendChange(brandID, cloud.ChangeProgramme, "")
		return err
	}()
	return p, err
}

// Programme returns a brand's rules.
func (s *Service) Programme(ctx context.Context, brandID string) (cloud.Programme, error) {
	var b cloud.Brand
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		b, err = tx.Brand(brandID)
		return err
	})
	return b.Programme, err
}

// SetTimeZone sets the zone a brand's calendar rules run in (an IANA name
// such as Asia/Shanghai): bonus days, points expiry, the tier window's days
// and per-day limits. Agents take it from the brand.
func (s *Service) SetTimeZone(ctx context.Context, brandID, zone string) (cloud.Brand, error) {
	if _, err := cloud.LoadZone(zone); err != nil || zone == "" {
		return cloud.Brand{}, cloud.Errorf(cloud.Invalid, "time zone %q is not an IANA zone name such as Asia/Shanghai", zone)
	}
	var b cloud.Brand
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if b, err = tx.Brand(brandID); err != nil {
			return err
		}
		b.TimeZone = zone
		if err := tx.PutBrand(b); err != nil {
			return err
		}
		_, err = tx.AppendChange(brandID, cloud.ChangeProgramme, "")
		return err
	})
	return b, err
}
