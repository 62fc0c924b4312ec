// Package cloudstore keeps group-buy platform state in the cloud's
// storage (cloud.Storage: cloud/sqlstore's tables from migration 0400, on
// SQLite or PostgreSQL), so bindings, consumptions and claims share the
// transactions and the backups of everything else.
package cloudstore

import (
	"context"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
)

// Store implements groupbuy.Store on a cloud.Storage.
type Store struct{ db cloud.Storage }

var _ groupbuy.Store = Store{}

// New wraps a storage.
func New(db cloud.Storage) Store { return Store{db: db} }

// Binding reads a store's binding on a platform.
func (s Store) Binding(ctx context.Context, brand, store, platform string) (b cloud.ShopBinding, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		b, err = tx.ShopBinding(brand, store, platform)
		return err
	})
	return b, err
}

// Bindings lists a brand's bindings.
func (s Store) Bindings(ctx context.Context, brand string) (out []cloud.ShopBinding, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		out, err = tx.ShopBindings(brand)
		return err
	})
	return out, err
}

// PutBinding binds a store that exists.
func (s Store) PutBinding(ctx context.Context, b cloud.ShopBinding) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error { return tx.PutShopBinding(b) })
}

// BeginConsumption stores c unless one with its identity exists.
func (s Store) BeginConsumption(ctx context.Context, c cloud.VoucherConsumption) (out cloud.VoucherConsumption, created bool, err error) {
	err = s.db.Update(ctx, func(tx cloud.Tx) error {
		prev, err := tx.VoucherUse(c.BrandID, c.Platform, c.Code, c.Key)
		if err == nil {
			out, created = prev, false
			return nil
		} else if !cloud.IsNotFound(err) {
			return err
		}
		out, created = c, true
		return tx.PutVoucherUse(c)
	})
	return out, created, err
}

// PutConsumption writes a consumption.
func (s Store) PutConsumption(ctx context.Context, c cloud.VoucherConsumption) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error { return tx.PutVoucherUse(c) })
}

// SettleConsumption writes c if the stored one is still pending (or c
// is a confirmed consumption and the stored one a refusal).
func (s Store) SettleConsumption(ctx context.Context, c cloud.VoucherConsumption) (out cloud.VoucherConsumption, err error) {
	err = s.db.Update(ctx, func(tx cloud.Tx) error {
		prev, err := tx.VoucherUse(c.BrandID, c.Platform, c.Code, c.Key)
		if err != nil {
			return err
		}
		// A confirmed consumption replaces a refusal another confirm
		// recorded meanwhile (the platform said "used" because of it).
		if prev.State != cloud.ConsumePending && !(c.State == cloud.ConsumeDone && prev.State == cloud.ConsumeRefused) {
			out = prev
			return nil
		}
		out = c
		return tx.PutVoucherUse(c)
	})
	return out, err
}

// Consumptions lists consumptions.
func (s Store) Consumptions(ctx context.Context, brand, platform, code string) (out []cloud.VoucherConsumption, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		out, err = tx.VoucherUses(brand, platform, code)
		return err
	})
	return out, err
}

// Claims lists up to limit queued claims, brand by brand.
func (s Store) Claims(ctx context.Context, limit int) (out []cloud.VoucherClaim, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		out = nil
		brands, err := tx.BrandIDs()
		if err != nil {
			return err
		}
		for _, b := range brands {
			if len(out) >= limit {
				break
			}
			cs, err := tx.VoucherClaims(b, limit-len(out))
			if err != nil {
				return err
			}
			out = append(out, cs...)
		}
		return nil
	})
	return out, err
}

// PutClaim updates a queued claim.
func (s Store) PutClaim(ctx context.Context, c cloud.VoucherClaim) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error { return tx.PutVoucherClaim(c) })
}

// SettleClaim removes a claim and records its outcome.
func (s Store) SettleClaim(ctx context.Context, c cloud.VoucherClaim, use *cloud.VoucherConsumption, conflict *cloud.ConflictRecord) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error {
		if use != nil {
			if err := tx.PutVoucherUse(*use); err != nil {
				return err
			}
		}
		if conflict != nil {
			if _, err := tx.AppendConflict(c.BrandID, *conflict); err != nil {
				return err
			}
		}
		return tx.DeleteVoucherClaim(c.BrandID, c.EventID)
	})
}
