package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// CouponView is a coupon with what its template says, as a counter or a
// member needs it.
type CouponView struct {
	cloud.Coupon
	Template cloud.CouponTemplate
}

func couponView(tx cloud.Tx, c cloud.Coupon) (CouponView, error) {
	t, err := tx.CouponTemplate(c.BrandID, c.TemplateID)
	if err != nil {
		return CouponView{}, err
	}
	return CouponView{Coupon: c, Template: t}, nil
}

func validateTemplate(t cloud.CouponTemplate) error {
	if err := validSlug("coupon template id", t.ID); err != nil {
		return err
	}
	if t.Name == "" {
		return cloud.Errorf(cloud.Invalid, "coupon template %s has no name", t.ID)
	}
	switch t.Kind {
	case cloud.AmountOff:
		if t.AmountOffFen <= 0 || t.AmountOffFen > maxAmountFen {
			return cloud.Errorf(cloud.Invalid, "amount off must be 1 to %d fen, not %d", maxAmountFen, t.AmountOffFen)
		}
	case cloud.PercentOff:
		if t.PercentOffBP <= 0 || t.PercentOffBP > 10000 {
			return cloud.Errorf(cloud.Invalid, "percent off must be 1 to 10000 basis points, not %d", t.PercentOffBP)
		}
	case cloud.FreeItem:
		if t.FreeItem == "" {
			return cloud.Errorf(cloud.Invalid, "a free-item coupon names its item")
		}
	default:
		return cloud.Errorf(cloud.Invalid, "coupon kind %q: want amount_off, percent_off or free_item", t.Kind)
	}
	if t.MinSpendFen < 0 || t.MinSpendFen > maxAmountFen {
		return cloud.Errorf(cloud.Invalid, "minimum spend %d fen is out of range", t.MinSpendFen)
	}
	fixed := !t.ValidUntil.IsZero()
	if fixed == (t.ValidDays > 0) {
		return cloud.Errorf(cloud.Invalid, "give either valid_until (a fixed window) or valid_days (from issue), not both or neither")
	}
	if fixed && !t.ValidFrom.IsZero() && !t.ValidFrom.Before(t.ValidUntil) {
		return cloud.Errorf(cloud.Invalid, "valid_from must be before valid_until")
	}
	if t.ValidDays < 0 || t.ValidDays > 3660 || t.PerMemberLimit < 0 {
		return cloud.Errorf(cloud.Invalid, "valid_days and per_member_limit must be 0 or more (valid_days at most 3660)")
	}
	return nil
}

// CreateCouponTemplate defines a kind of coupon.
func (s *Service) CreateCouponTemplate(ctx context.Context, t cloud.CouponTemplate) (cloud.CouponTemplate, error) {
	if err := validateTemplate(t); err != nil {
		return t, err
	}
	t.CreatedAt = s.Now()
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Brand(t.BrandID); err != nil {
			return err
		}
		for _, st := range t.StoreIDs {
			if _, err := tx.Store(t.BrandID, st); err != nil {
				return cloud.Errorf(cloud.Invalid, "coupon template %s names store %q, which does not exist", t.ID, st)
			}
		}
		if _, err := tx.CouponTemplate(t.BrandID, t.ID); err == nil {
			return cloud.Errorf(cloud.Conflict, "coupon template %q already exists", t.ID)
		}
		return tx.PutCouponTemplate(t)
	})
	return t, err
}

// CouponTemplates lists a brand's coupon templates.
func (s *Service) CouponTemplates(ctx context.Context, brandID string) ([]cloud.CouponTemplate, error) {
	var out []cloud.CouponTemplate
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Brand(brandID); err != nil {
			return err
		}
		var err error
		out, err = tx.CouponTemplates(brandID)
		return err
	})
	return out, err
}

// IssueCoupons gives one coupon of a template to each member named, or to
// every member with tag. Members at the template's limit, or merged into
// another, are skipped with the reason.
func (s *Service) IssueCoupons(ctx context.Context, brandID, templateID string, memberIDs []string, tag string) ([]CouponView, []string, error) {
	if len(memberIDs) == 0 && tag == "" {
		return nil, nil, cloud.Errorf(cloud.Invalid, "name members or a tag to issue coupons to")
	}
	var out []CouponView
	var skipped []string
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		out, skipped = out[:0], skipped[:0]
		t, err := tx.CouponTemplate(brandID, templateID)
		if err != nil {
			return err
		}
		targets := memberIDs
		if tag != "" {
			err := tx.Members(brandID, func(m cloud.Member) (bool, error) {
				if m.MergedInto == "" && hasTag(m.Tags, tag) {
					targets = append(targets, m.ID)
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		now := s.Now()
		for _, id := range targets {
			m, err := tx.Member(brandID, id)
			if cloud.IsNotFound(err) {
				return cloud.Errorf(cloud.NotFound, "member %q does not exist", id)
			} else if err != nil {
				return err
			}
			if m.MergedInto != "" {
				skipped = append(skipped, fmt.Sprintf("%s: merged into %s", id, m.MergedInto))
				continue
			}
			if t.PerMemberLimit > 0 {
				held, err := tx.MemberCoupons(brandID, id)
				if err != nil {
					return err
				}
				n := 0
				for _, c := range held {
					if c.TemplateID == t.ID {
						n++
					}
				}
				if n >= t.PerMemberLimit {
					skipped = append(skipped, fmt.Sprintf("%s: already holds %d of %s (limit %d)", id, n, t.ID, t.PerMemberLimit))
					continue
				}
			}
			c := cloud.Coupon{BrandID: brandID, Code: "CP" + randomText(10), TemplateID: t.ID, MemberID: id, State: cloud.CouponIssued, IssuedAt: now}
			if t.ValidDays > 0 {
				c.ValidFrom, c.ExpiresAt = now, now.Add(time.Duration(t.ValidDays)*24*time.Hour)
			} else {
				c.ValidFrom, c.ExpiresAt = t.ValidFrom, t.ValidUntil
			}
			c.History = []cloud.CouponTransition{{At: now, To: cloud.CouponIssued, Reason: "issued by HQ"}}
			if err := tx.PutCoupon(c); err != nil {
				return err
			}
			if _, err := tx.AppendChange(brandID, cloud.ChangeCoupon, c.Code); err != nil {
				return err
			}
			out = append(out, CouponView{Coupon: c, Template: t})
		}
		return nil
	})
	return out, skipped, err
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}
