package sqlstore

import (
	"database/sql"

	"github.com/memberpass/memberpass/cloud"
)

// Group-buy platform state (migration 0400): shop bindings, consumptions
// and provisional claims.

func (t *tx) ShopBinding(brand, store, platform string) (cloud.ShopBinding, error) {
	b := cloud.ShopBinding{BrandID: brand, StoreID: store, Platform: platform}
	found, err := t.one("read shop binding", `select shop_id, bound_at from voucher_shop_bindings where brand_id = $1 and store_id = $2 and platform = $3`,
		[]any{brand, store, platform}, &b.ShopID, tm{&b.BoundAt})
	if err == nil && !found {
		err = notFound("store %q's shop on %s", store, platform)
	}
	return b, err
}

func (t *tx) PutShopBinding(b cloud.ShopBinding) error {
	if _, err := t.Store(b.BrandID, b.StoreID); err != nil {
		return err
	}
	_, err := t.exec("write shop binding", `insert into voucher_shop_bindings (brand_id, store_id, platform, shop_id, bound_at) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, store_id, platform) do update set shop_id = excluded.shop_id, bound_at = excluded.bound_at`,
		b.BrandID, b.StoreID, b.Platform, b.ShopID, ts(b.BoundAt))
	return err
}

func (t *tx) ShopBindings(brand string) ([]cloud.ShopBinding, error) {
	var out []cloud.ShopBinding
	err := t.query("list shop bindings", `select store_id, platform, shop_id, bound_at from voucher_shop_bindings where brand_id = $1 order by store_id, platform`,
		[]any{brand}, func(r *sql.Rows) error {
			b := cloud.ShopBinding{BrandID: brand}
			err := r.Scan(&b.StoreID, &b.Platform, &b.ShopID, tm{&b.BoundAt})
			out = append(out, b)
			return err
		})
	return out, err
}

const useCols = `brand_id, platform, code, idem_key, store_id, shop_id, device_id, staff_id, state, uses, deal_id, title, price_fen,
	platform_refs, refusal, detail, event_id, provisional, created_at, consumed_at, updated_at`

func scanUse(r interface{ Scan(...any) error }) (cloud.VoucherConsumption, error) {
	var c cloud.VoucherConsumption
	err := r.Scan(&c.BrandID, &c.Platform, &c.Code, &c.Key, &c.StoreID, &c.ShopID, str{&c.DeviceID}, str{&c.StaffID}, &c.State, &c.Count,
		str{&c.DealID}, str{&c.Title}, &c.PriceFen, jsonCol{&c.PlatformRefs}, str{&c.Refusal}, str{&c.Detail}, str{&c.EventID},
		boolean{&c.Provisional}, tm{&c.CreatedAt}, tm{&c.ConsumedAt}, tm{&c.UpdatedAt})
	return c, err
}

func (t *tx) uses(what, where string, args []any) ([]cloud.VoucherConsumption, error) {
	var out []cloud.VoucherConsumption
	err := t.query(what, `select `+useCols+` from voucher_consumptions where brand_id = $1`+where+` order by platform, code, idem_key`, args, func(r *sql.Rows) error {
		c, err := scanUse(r)
		out = append(out, c)
		return err
	})
	return out, err
}

func (t *tx) VoucherUse(brand, platform, code, key string) (cloud.VoucherConsumption, error) {
	got, err := t.uses("read voucher consumption", ` and platform = $2 and code = $3 and idem_key = $4`, []any{brand, platform, code, key})
	if err != nil {
		return cloud.VoucherConsumption{}, err
	}
	if len(got) == 0 {
		return cloud.VoucherConsumption{}, notFound("consumption of %s voucher %q", platform, code)
	}
	return got[0], nil
}

func (t *tx) VoucherUses(brand, platform, code string) ([]cloud.VoucherConsumption, error) {
	switch {
	case platform != "" && code != "":
		return t.uses("list voucher consumptions", ` and platform = $2 and code = $3`, []any{brand, platform, code})
	case platform != "":
		return t.uses("list voucher consumptions", ` and platform = $2`, []any{brand, platform})
	}
	return t.uses("list voucher consumptions", ``, []any{brand})
}

func (t *tx) PutVoucherUse(c cloud.VoucherConsumption) error {
	_, err := t.exec("write voucher consumption", `insert into voucher_consumptions (`+useCols+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
		on conflict (brand_id, platform, code, idem_key) do update set store_id = excluded.store_id, shop_id = excluded.shop_id,
		device_id = excluded.device_id, staff_id = excluded.staff_id, state = excluded.state, uses = excluded.uses, deal_id = excluded.deal_id,
		title = excluded.title, price_fen = excluded.price_fen, platform_refs = excluded.platform_refs, refusal = excluded.refusal,
		detail = excluded.detail, event_id = excluded.event_id, provisional = excluded.provisional, consumed_at = excluded.consumed_at,
		updated_at = excluded.updated_at`,
		c.BrandID, c.Platform, c.Code, c.Key, c.StoreID, c.ShopID, ns(c.DeviceID), ns(c.StaffID), string(c.State), c.Count,
		ns(c.DealID), ns(c.Title), c.PriceFen, js(c.PlatformRefs), ns(c.Refusal), ns(c.Detail), ns(c.EventID), c.Provisional,
		ts(c.CreatedAt), nts(c.ConsumedAt), ts(c.UpdatedAt))
	return err
}

const claimCols = `brand_id, event_id, store_id, device_id, staff_id, platform, code, deal_id, uses, price_fen, occurred_at, received_at, attempts, last_error`

func (t *tx) PutVoucherClaim(c cloud.VoucherClaim) error {
	_, err := t.exec("queue voucher claim", `insert into voucher_claims (`+claimCols+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		on conflict (brand_id, event_id) do update set attempts = excluded.attempts, last_error = excluded.last_error`,
		c.BrandID, c.EventID, c.StoreID, c.DeviceID, ns(c.StaffID), c.Platform, c.Code, ns(c.DealID), c.Count, c.PriceFen,
		ts(c.OccurredAt), ts(c.ReceivedAt), c.Attempts, ns(c.LastError))
	return err
}

func (t *tx) claims(what, where string, args []any) ([]cloud.VoucherClaim, error) {
	var out []cloud.VoucherClaim
	err := t.query(what, `select `+claimCols+` from voucher_claims where brand_id = $1`+where, args, func(r *sql.Rows) error {
		var c cloud.VoucherClaim
		err := r.Scan(&c.BrandID, &c.EventID, &c.StoreID, &c.DeviceID, str{&c.StaffID}, &c.Platform, &c.Code, str{&c.DealID}, &c.Count, &c.PriceFen,
			tm{&c.OccurredAt}, tm{&c.ReceivedAt}, &c.Attempts, str{&c.LastError})
		out = append(out, c)
		return err
	})
	return out, err
}

func (t *tx) VoucherClaims(brand string, limit int) ([]cloud.VoucherClaim, error) {
	return t.claims("list voucher claims", ` order by received_at, event_id limit $2`, []any{brand, limit})
}

func (t *tx) DeleteVoucherClaim(brand, eventID string) error {
	_, err := t.exec("delete voucher claim", `delete from voucher_claims where brand_id = $1 and event_id = $2`, brand, eventID)
	return err
}

func (t *tx) VoucherOrigin(brand, code string) (cloud.MemberSource, bool, error) {
	uses, err := t.uses("find voucher consumption", ` and code = $2 and state in ('consumed', 'pending')`, []any{brand, code})
	if err != nil {
		return cloud.MemberSource{}, false, err
	}
	for _, c := range uses {
		return cloud.MemberSource{Channel: "group_buy", StoreID: c.StoreID, StaffID: c.StaffID, Platform: c.Platform, DealID: c.DealID}, true, nil
	}
	claims, err := t.claims("find voucher claim", ` and code = $2 order by received_at limit 1`, []any{brand, code})
	if err != nil || len(claims) == 0 {
		return cloud.MemberSource{}, false, err
	}
	c := claims[0]
	return cloud.MemberSource{Channel: "group_buy", StoreID: c.StoreID, StaffID: c.StaffID, Platform: c.Platform, DealID: c.DealID}, true, nil
}
