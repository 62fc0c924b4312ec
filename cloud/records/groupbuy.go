package records

import (
	"encoding/json"
	"fmt"

	"github.com/memberpass/memberpass/cloud"
)

// Kinds of group-buy platform record.
const (
	KindShopBinding  = "gbbinding" // store \x00 platform -> binding
	KindVoucherUse   = "gbuse"     // platform \x00 code \x00 key -> consumption
	KindVoucherClaim = "gbclaim"   // event id -> provisional claim
	// KindClaimIndex in the empty brand: brand \x00 event id -> nothing,
	// so the claims of every brand are found without scanning brands.
	KindClaimIndex = "gbclaims"
)

func join(parts ...string) []byte {
	var k []byte
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

// ShopBinding reads a store's binding on a platform.
func ShopBinding(tx cloud.Tx, brand, store, platform string) (cloud.ShopBinding, error) {
	return Get[cloud.ShopBinding](tx, brand, KindShopBinding, join(store, platform), fmt.Sprintf("store %q's shop on %s", store, platform))
}

// PutShopBinding writes a binding.
func PutShopBinding(tx cloud.Tx, b cloud.ShopBinding) error {
	return Put(tx, b.BrandID, KindShopBinding, join(b.StoreID, b.Platform), b)
}

// ShopBindings lists a brand's bindings, by store then platform.
func ShopBindings(tx cloud.Tx, brand string) ([]cloud.ShopBinding, error) {
	out, _, err := List[cloud.ShopBinding](tx, brand, KindShopBinding, nil, 0)
	return out, err
}

// VoucherUse reads one consumption by its identity.
func VoucherUse(tx cloud.Tx, brand, platform, code, key string) (cloud.VoucherConsumption, error) {
	return Get[cloud.VoucherConsumption](tx, brand, KindVoucherUse, join(platform, code, key), fmt.Sprintf("consumption of %s voucher %q", platform, code))
}

// PutVoucherUse writes a consumption.
func PutVoucherUse(tx cloud.Tx, c cloud.VoucherConsumption) error {
	return Put(tx, c.BrandID, KindVoucherUse, join(c.Platform, c.Code, c.Key), c)
}

// VoucherUses calls fn for a brand's consumptions of one code (platform
// and code given), or of every code (code empty), or of every platform
// (both empty).
func VoucherUses(tx cloud.Tx, brand, platform, code string, fn func(cloud.VoucherConsumption) (bool, error)) error {
	var prefix []byte
	switch {
	case platform != "" && code != "":
		prefix = append(join(platform, code), 0)
	case platform != "":
		prefix = append([]byte(platform), 0)
	}
	return ScanPrefix(tx, brand, KindVoucherUse, prefix, func(_, v []byte) (bool, error) {
		var c cloud.VoucherConsumption
		if err := json.Unmarshal(v, &c); err != nil {
			return false, fmt.Errorf("decode voucher consumption: %w", err)
		}
		return fn(c)
	})
}

// PutVoucherClaim queues a provisional voucher for the cloud to consume.
func PutVoucherClaim(tx cloud.Tx, c cloud.VoucherClaim) error {
	if err := tx.Put("", KindClaimIndex, join(c.BrandID, c.EventID), nil); err != nil {
		return err
	}
	return Put(tx, c.BrandID, KindVoucherClaim, []byte(c.EventID), c)
}

// VoucherClaim reads a queued claim.
func VoucherClaim(tx cloud.Tx, brand, eventID string) (cloud.VoucherClaim, error) {
	return Get[cloud.VoucherClaim](tx, brand, KindVoucherClaim, []byte(eventID), fmt.Sprintf("voucher claim of event %q", eventID))
}

// DeleteVoucherClaim removes a settled claim.
func DeleteVoucherClaim(tx cloud.Tx, brand, eventID string) error {
	if err := tx.Delete("", KindClaimIndex, join(brand, eventID)); err != nil {
		return err
	}
	return tx.Delete(brand, KindVoucherClaim, []byte(eventID))
}

// VoucherClaims lists up to limit queued claims of every brand.
func VoucherClaims(tx cloud.Tx, limit int) ([]cloud.VoucherClaim, error) {
	var keys [][2]string
	err := tx.Scan("", KindClaimIndex, nil, func(k, _ []byte) (bool, error) {
		for i, b := range k {
			if b == 0 {
				keys = append(keys, [2]string{string(k[:i]), string(k[i+1:])})
				break
			}
		}
		return len(keys) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]cloud.VoucherClaim, 0, len(keys))
	for _, k := range keys {
		c, err := VoucherClaim(tx, k[0], k[1])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// VoucherOrigin finds how a platform voucher code was used at the brand:
// a consumption (consumed or under way) or, while it is still queued, a
// provisional claim. It is what a member the voucher brought keeps as
// their source. found is false for a code not used on any platform.
func VoucherOrigin(tx cloud.Tx, brand, code string) (origin cloud.MemberSource, found bool, err error) {
	for _, p := range []string{cloud.PlatformMeituan, cloud.PlatformDouyin} {
		err = VoucherUses(tx, brand, p, code, func(c cloud.VoucherConsumption) (bool, error) {
			if c.State == cloud.ConsumeDone || c.State == cloud.ConsumePending {
				origin = cloud.MemberSource{Channel: "group_buy", StoreID: c.StoreID, StaffID: c.StaffID, Platform: c.Platform, DealID: c.DealID}
				found = true
				return false, nil
			}
			return true, nil
		})
		if err != nil || found {
			return origin, found, err
		}
	}
	err = tx.Scan(brand, KindVoucherClaim, nil, func(_, v []byte) (bool, error) {
		var c cloud.VoucherClaim
		if err := json.Unmarshal(v, &c); err != nil {
			return false, fmt.Errorf("decode voucher claim: %w", err)
		}
		if c.Code == code {
			origin = cloud.MemberSource{Channel: "group_buy", StoreID: c.StoreID, StaffID: c.StaffID, Platform: c.Platform, DealID: c.DealID}
			found = true
			return false, nil
		}
		return true, nil
	})
	return origin, found, err
}
