package sqlstore

import (
	"database/sql"

	"github.com/memberpass/memberpass/cloud"
)

const templateCols = `brand_id, template_id, name, kind, amount_off_fen, percent_off_bp, free_item, min_spend_fen,
	valid_from, valid_until, valid_days, store_ids, per_member_limit, created_at`

func scanTemplate(r interface{ Scan(...any) error }) (cloud.CouponTemplate, error) {
	var c cloud.CouponTemplate
	err := r.Scan(&c.BrandID, &c.ID, &c.Name, &c.Kind, &c.AmountOffFen, &c.PercentOffBP, str{&c.FreeItem}, &c.MinSpendFen,
		tm{&c.ValidFrom}, tm{&c.ValidUntil}, &c.ValidDays, jsonCol{&c.StoreIDs}, &c.PerMemberLimit, tm{&c.CreatedAt})
	return c, err
}

func (t *tx) CouponTemplate(brand, id string) (cloud.CouponTemplate, error) {
	var c cloud.CouponTemplate
	found := false
	err := t.query("read coupon template", `select `+templateCols+` from coupon_templates where brand_id = $1 and template_id = $2`, []any{brand, id}, func(r *sql.Rows) error {
		var err error
		c, err = scanTemplate(r)
		found = true
		return err
	})
	if err == nil && !found {
		err = notFound("coupon template %q", id)
	}
	return c, err
}

func (t *tx) PutCouponTemplate(c cloud.CouponTemplate) error {
	_, err := t.exec("write coupon template", `insert into coupon_templates (`+templateCols+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		on conflict (brand_id, template_id) do update set name = excluded.name, kind = excluded.kind, amount_off_fen = excluded.amount_off_fen,
		percent_off_bp = excluded.percent_off_bp, free_item = excluded.free_item, min_spend_fen = excluded.min_spend_fen,
		valid_from = excluded.valid_from, valid_until = excluded.valid_until, valid_days = excluded.valid_days, store_ids = excluded.store_ids,
		per_member_limit = excluded.per_member_limit`,
		c.BrandID, c.ID, c.Name, string(c.Kind), c.AmountOffFen, c.PercentOffBP, ns(c.FreeItem), c.MinSpendFen,
		nts(c.ValidFrom), nts(c.ValidUntil), c.ValidDays, js(c.StoreIDs), c.PerMemberLimit, ts(c.CreatedAt))
	return err
}

func (t *tx) CouponTemplates(brand string) ([]cloud.CouponTemplate, error) {
	var out []cloud.CouponTemplate
	err := t.query("list coupon templates", `select `+templateCols+` from coupon_templates where brand_id = $1 order by template_id`, []any{brand}, func(r *sql.Rows) error {
		c, err := scanTemplate(r)
		out = append(out, c)
		return err
	})
	return out, err
}

const couponCols = `brand_id, code, template_id, member_id, state, issued_at, valid_from, expires_at`

// coupons reads coupons by a condition on the coupons table (after the
// brand, from $2 on) with their history.
func (t *tx) coupons(what, where string, args []any) ([]cloud.Coupon, error) {
	var out []cloud.Coupon
	at := map[string]int{}
	err := t.query(what, `select `+couponCols+` from coupons where brand_id = $1 and `+where+` order by code`, args, func(r *sql.Rows) error {
		var c cloud.Coupon
		err := r.Scan(&c.BrandID, &c.Code, &c.TemplateID, &c.MemberID, &c.State, tm{&c.IssuedAt}, tm{&c.ValidFrom}, tm{&c.ExpiresAt})
		at[c.Code] = len(out)
		out = append(out, c)
		return err
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	err = t.query(what+" history", `select code, at, from_state, to_state, event_id, store_id, reason from coupon_history
		where brand_id = $1 and code in (select code from coupons where brand_id = $1 and `+where+`) order by code, pos`, args, func(r *sql.Rows) error {
		var code string
		var h cloud.CouponTransition
		if err := r.Scan(&code, tm{&h.At}, str{(*string)(&h.From)}, &h.To, str{&h.EventID}, str{&h.StoreID}, str{&h.Reason}); err != nil {
			return err
		}
		c := &out[at[code]]
		c.History = append(c.History, h)
		return nil
	})
	return out, err
}

func (t *tx) Coupon(brand, code string) (cloud.Coupon, error) {
	got, err := t.coupons("read coupon", "code = $2", []any{brand, code})
	if err != nil {
		return cloud.Coupon{}, err
	}
	if len(got) == 0 {
		return cloud.Coupon{}, notFound("coupon %q", code)
	}
	return got[0], nil
}

func (t *tx) MemberCoupons(brand, memberID string) ([]cloud.Coupon, error) {
	return t.coupons("list member's coupons", "member_id = $2", []any{brand, memberID})
}

func (t *tx) PutCoupon(c cloud.Coupon) error {
	_, err := t.exec("write coupon", `insert into coupons (`+couponCols+`) values ($1, $2, $3, $4, $5, $6, $7, $8)
		on conflict (brand_id, code) do update set template_id = excluded.template_id, member_id = excluded.member_id, state = excluded.state,
		issued_at = excluded.issued_at, valid_from = excluded.valid_from, expires_at = excluded.expires_at`,
		c.BrandID, c.Code, c.TemplateID, c.MemberID, string(c.State), ts(c.IssuedAt), nts(c.ValidFrom), nts(c.ExpiresAt))
	if err != nil {
		return err
	}
	var held int
	if _, err := t.one("count coupon history", `select count(*) from coupon_history where brand_id = $1 and code = $2`, []any{c.BrandID, c.Code}, &held); err != nil {
		return err
	}
	for i := held; i < len(c.History); i++ {
		h := c.History[i]
		if _, err := t.exec("append coupon history", `insert into coupon_history (brand_id, code, pos, at, from_state, to_state, event_id, store_id, reason)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.BrandID, c.Code, i, ts(h.At), ns(string(h.From)), string(h.To), ns(h.EventID), ns(h.StoreID), ns(h.Reason)); err != nil {
			return err
		}
	}
	return nil
}

const voucherCols = `brand_id, code, platform, campaign_id, title, face_value_fen, expires_at, imported_at, redeemed, redeemed_at, store_id, event_id, member_id`

func (t *tx) Voucher(brand, code string) (cloud.Voucher, error) {
	var v cloud.Voucher
	found, err := t.one("read voucher", `select `+voucherCols+` from vouchers where brand_id = $1 and code = $2`, []any{brand, code},
		&v.BrandID, &v.Code, &v.Platform, &v.CampaignID, str{&v.Title}, &v.FaceValueFen, tm{&v.ExpiresAt}, tm{&v.ImportedAt},
		boolean{&v.Redeemed}, tm{&v.RedeemedAt}, str{&v.StoreID}, str{&v.EventID}, str{&v.MemberID})
	if err == nil && !found {
		err = notFound("voucher %q", code)
	}
	return v, err
}

func (t *tx) PutVoucher(v cloud.Voucher) error {
	_, err := t.exec("write voucher", `insert into vouchers (`+voucherCols+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		on conflict (brand_id, code) do update set platform = excluded.platform, campaign_id = excluded.campaign_id, title = excluded.title,
		face_value_fen = excluded.face_value_fen, expires_at = excluded.expires_at, redeemed = excluded.redeemed, redeemed_at = excluded.redeemed_at,
		store_id = excluded.store_id, event_id = excluded.event_id, member_id = excluded.member_id`,
		v.BrandID, v.Code, v.Platform, v.CampaignID, ns(v.Title), v.FaceValueFen, nts(v.ExpiresAt), ts(v.ImportedAt),
		v.Redeemed, nts(v.RedeemedAt), ns(v.StoreID), ns(v.EventID), ns(v.MemberID))
	return err
}
