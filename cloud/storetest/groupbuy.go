package storetest

import (
	"testing"

	"github.com/memberpass/memberpass/cloud"
)

// testGroupBuy checks the group-buy platform records: bindings need their
// store, consumptions round-trip and are keyed by platform, code and key,
// claims queue and leave, a voucher's origin comes from a consumption or
// a queued claim, a conflict keeps its amount at risk, a member its
// platform source, and one brand never sees another's.
func testGroupBuy(t *testing.T, s cloud.Storage) {
	seed(t, s)
	use := cloud.VoucherConsumption{BrandID: "b1", Platform: cloud.PlatformMeituan, Code: "6100000001", Key: "s1-d1/t-1", StoreID: "s1", ShopID: "mt-1",
		DeviceID: "s1-d1", StaffID: "s01", State: cloud.ConsumeDone, Count: 2, DealID: "501", Title: "双人下午茶", PriceFen: 9800,
		PlatformRefs: []string{"6100000001", "6100000002"}, CreatedAt: at, ConsumedAt: at, UpdatedAt: at}
	claim := cloud.VoucherClaim{BrandID: "b1", EventID: "e9", StoreID: "s1", DeviceID: "s1-d1", StaffID: "s02", Platform: cloud.PlatformDouyin,
		Code: "100000000001", DealID: "sku-1", Count: 1, PriceFen: 16800, OccurredAt: at, ReceivedAt: at}
	update(t, s, func(tx cloud.Tx) error {
		wantCode(t, "binding of a missing store", tx.PutShopBinding(cloud.ShopBinding{BrandID: "b1", StoreID: "nope", Platform: cloud.PlatformMeituan, ShopID: "x", BoundAt: at}), cloud.NotFound)
		return nil
	})
	update(t, s, func(tx cloud.Tx) error {
		for _, b := range []cloud.ShopBinding{
			{BrandID: "b1", StoreID: "s1", Platform: cloud.PlatformMeituan, ShopID: "old", BoundAt: at},
			{BrandID: "b1", StoreID: "s1", Platform: cloud.PlatformMeituan, ShopID: "mt-1", BoundAt: at},
			{BrandID: "b1", StoreID: "s1", Platform: cloud.PlatformDouyin, ShopID: "poi-1", BoundAt: at},
		} {
			if err := tx.PutShopBinding(b); err != nil {
				return err
			}
		}
		if err := tx.PutVoucherUse(use); err != nil {
			return err
		}
		if err := tx.PutVoucherClaim(claim); err != nil {
			return err
		}
		if _, err := tx.AppendConflict("b1", cloud.ConflictRecord{At: at, Kind: "voucher_refused", EventID: "e8", StoreID: "s1", Detail: "d", Resolution: "r", AmountFen: 9800}); err != nil {
			return err
		}
		m := cloud.Member{BrandID: "b1", ID: "3", Name: "团购客", CreatedAt: at, TierID: "regular",
			Source: cloud.MemberSource{Channel: "group_buy", StoreID: "s1", StaffID: "s01", Platform: cloud.PlatformMeituan, DealID: "501"}}
		return tx.PutMember(m)
	})
	view(t, s, func(tx cloud.Tx) error {
		b, err := tx.ShopBinding("b1", "s1", cloud.PlatformMeituan)
		eq(t, "binding", b, cloud.ShopBinding{BrandID: "b1", StoreID: "s1", Platform: cloud.PlatformMeituan, ShopID: "mt-1", BoundAt: at})
		eq(t, "binding error", err, nil)
		bs, _ := tx.ShopBindings("b1")
		eq(t, "bindings", len(bs), 2)
		got, _ := tx.VoucherUse("b1", cloud.PlatformMeituan, use.Code, use.Key)
		eq(t, "consumption", got, use)
		_, err = tx.VoucherUse("b1", cloud.PlatformMeituan, use.Code, "other")
		wantCode(t, "another key", err, cloud.NotFound)
		all, _ := tx.VoucherUses("b1", "", "")
		eq(t, "all consumptions", len(all), 1)
		none, _ := tx.VoucherUses("b1", cloud.PlatformDouyin, "")
		eq(t, "douyin consumptions", len(none), 0)
		claims, _ := tx.VoucherClaims("b1", 10)
		eq(t, "claims", claims, []cloud.VoucherClaim{claim})
		o, found, _ := tx.VoucherOrigin("b1", use.Code)
		eq(t, "origin of a consumption", o, cloud.MemberSource{Channel: "group_buy", StoreID: "s1", StaffID: "s01", Platform: cloud.PlatformMeituan, DealID: "501"})
		eq(t, "found", found, true)
		o, _, _ = tx.VoucherOrigin("b1", claim.Code)
		eq(t, "origin of a claim", o, cloud.MemberSource{Channel: "group_buy", StoreID: "s1", StaffID: "s02", Platform: cloud.PlatformDouyin, DealID: "sku-1"})
		_, found, _ = tx.VoucherOrigin("b2", use.Code)
		eq(t, "another brand's voucher found", found, false)
		cs, _ := tx.Conflicts("b1", 0, 10)
		if len(cs) != 1 || cs[0].AmountFen != 9800 {
			t.Errorf("conflicts %+v, want one with 9800 at risk", cs)
		}
		m, _ := tx.Member("b1", "3")
		eq(t, "member source", m.Source, cloud.MemberSource{Channel: "group_buy", StoreID: "s1", StaffID: "s01", Platform: cloud.PlatformMeituan, DealID: "501"})
		other, _ := tx.VoucherClaims("b2", 10)
		eq(t, "another brand's claims", len(other), 0)
		return nil
	})
	use.State, use.UpdatedAt = cloud.ConsumeReversed, at.Add(1)
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutVoucherUse(use); err != nil {
			return err
		}
		return tx.DeleteVoucherClaim("b1", claim.EventID)
	})
	view(t, s, func(tx cloud.Tx) error {
		got, _ := tx.VoucherUse("b1", cloud.PlatformMeituan, use.Code, use.Key)
		eq(t, "reversed", got.State, cloud.ConsumeReversed)
		claims, _ := tx.VoucherClaims("b1", 10)
		eq(t, "claims after delete", len(claims), 0)
		_, found, _ := tx.VoucherOrigin("b1", use.Code)
		eq(t, "a reversed voucher brings no one", found, false)
		return nil
	})
}
