// Package kvstore keeps group-buy platform state in the cloud's record
// store (cloud.Storage, on bbolt or PostgreSQL), laid out by package
// records, until the relational store (cloud/sqlstore) takes it in tables.
package kvstore

import (
	"context"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/records"
)

// Store implements groupbuy.Store on a cloud.Storage.
type Store struct{ db cloud.Storage }

var _ groupbuy.Store = Store{}

// New wraps a storage.
func New(db cloud.Storage) Store { return Store{db: db} }

// Binding reads a store's binding on a platform.
func (s Store) Binding(ctx context.Context, brand, store, platform string) (b cloud.ShopBinding, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		b, err = records.ShopBinding(tx, brand, store, platform)
		return err
	})
	return b, err
}

// Bindings lists a brand's bindings.
func (s Store) Bindings(ctx context.Context, brand string) (out []cloud.ShopBinding, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		out, err = records.ShopBindings(tx, brand)
		return err
	})
	return out, err
}

// PutBinding binds a store that exists.
func (s Store) PutBinding(ctx context.Context, b cloud.ShopBinding) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error {
		if _, err := records.Store(tx, b.BrandID, b.StoreID); err != nil {
			return err
		}
		return records.PutShopBinding(tx, b)
	})
}

// BeginConsumption stores c unless one with its identity exists.
func (s Store) BeginConsumption(ctx context.Context, c cloud.VoucherConsumption) (out cloud.VoucherConsumption, created bool, err error) {
	err = s.db.Update(ctx, func(tx cloud.Tx) error {
		prev, err := records.VoucherUse(tx, c.BrandID, c.Platform, c.Code, c.Key)
		if err == nil {
			out, created = prev, false
			return nil
		} else if !cloud.IsNotFound(err) {
			return err
		}
		out, created = c, true
		return records.PutVoucherUse(tx, c)
	})
	return out, created, err
}

// PutConsumption writes a consumption.
func (s Store) PutConsumption(ctx context.Context, c cloud.VoucherConsumption) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error { return records.PutVoucherUse(tx, c) })
}

// Consumptions lists consumptions.
func (s Store) Consumptions(ctx context.Context, brand, platform, code string) (out []cloud.VoucherConsumption, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		out = nil
		return records.VoucherUses(tx, brand, platform, code, func(c cloud.VoucherConsumption) (bool, error) {
			out = append(out, c)
			return true, nil
		})
	})
	return out, err
}

// Claims lists queued claims.
func (s Store) Claims(ctx context.Context, limit int) (out []cloud.VoucherClaim, err error) {
	err = s.db.View(ctx, func(tx cloud.Tx) error {
		out, err = records.VoucherClaims(tx, limit)
		return err
	})
	return out, err
}

// PutClaim updates a queued claim.
func (s Store) PutClaim(ctx context.Context, c cloud.VoucherClaim) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error { return records.PutVoucherClaim(tx, c) })
}

// SettleClaim removes a claim and records its outcome.
func (s Store) SettleClaim(ctx context.Context, c cloud.VoucherClaim, use *cloud.VoucherConsumption, conflict *cloud.ConflictRecord) error {
	return s.db.Update(ctx, func(tx cloud.Tx) error {
		if use != nil {
			if err := records.PutVoucherUse(tx, *use); err != nil {
				return err
			}
		}
		if conflict != nil {
			if _, err := records.AppendConflict(tx, c.BrandID, *conflict); err != nil {
				return err
			}
		}
		return records.DeleteVoucherClaim(tx, c.BrandID, c.EventID)
	})
}
