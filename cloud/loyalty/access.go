package loyalty

import (
	"context"
	"crypto/subtle"
	"slices"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// HQ access: API tokens with a role, and the audit log. Which role may
// call which RPC is the transport's table (cloud/grpcapi/permissions.go);
// here are the tokens' life and the log's.

// hqTokenPrefix starts every HQ token, so one found in a log or a file is
// recognised for what it is.
const hqTokenPrefix = "mphq_"

// BootstrapTokenID names the platform operator's first token, the one the
// cloud writes to admin.token on its first start.
const BootstrapTokenID = "bootstrap"

// NewHQToken is what making a token takes.
type NewHQToken struct {
	BrandID  string
	Account  string
	Role     cloud.Role
	StoreIDs []string
	// TTL, if positive, makes the token expire.
	TTL time.Duration
}

// CreateHQToken makes a token and returns it with its secret, shown once.
func (s *Service) CreateHQToken(ctx context.Context, by string, n NewHQToken) (cloud.HQToken, string, error) {
	if err := validHQToken(n); err != nil {
		return cloud.HQToken{}, "", err
	}
	secret := hqTokenPrefix + randomText(40)
	t := cloud.HQToken{BrandID: n.BrandID, ID: randomText(10), Account: n.Account, Role: n.Role, StoreIDs: n.StoreIDs,
		Hash: hashSecret(secret), CreatedAt: s.Now(), CreatedBy: by}
	if n.TTL > 0 {
		t.ExpiresAt = t.CreatedAt.Add(n.TTL)
	}
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		if n.BrandID != "" {
			if _, err := tx.Brand(n.BrandID); err != nil {
				return err
			}
			for _, st := range n.StoreIDs {
				if _, err := tx.Store(n.BrandID, st); err != nil {
					return err
				}
			}
		}
		return tx.PutHQToken(t)
	})
	if err != nil {
		return cloud.HQToken{}, "", err
	}
	s.log.Info("HQ token created", "brand", t.BrandID, "token", t.ID, "account", t.Account, "role", t.Role, "by", by)
	return t, secret, nil
}

func validHQToken(n NewHQToken) error {
	if n.Account == "" || len(n.Account) > 64 || strings.ContainsFunc(n.Account, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return cloud.Errorf(cloud.Invalid, "account must be 1 to 64 characters without control characters")
	}
	if !slices.Contains(cloud.Roles, n.Role) {
		return cloud.Errorf(cloud.Invalid, "role %q is not one of platform, owner, marketing, finance, store_manager, auditor", n.Role)
	}
	switch {
	case n.Role == cloud.RolePlatform && n.BrandID != "":
		return cloud.Errorf(cloud.Invalid, "a platform operator's token spans brands: give no brand")
	case n.Role != cloud.RolePlatform && n.BrandID == "":
		return cloud.Errorf(cloud.Invalid, "a %s token belongs to one brand: give the brand", n.Role)
	case n.Role == cloud.RoleStoreManager && len(n.StoreIDs) == 0:
		return cloud.Errorf(cloud.Invalid, "a store manager's token names the stores it manages")
	case n.Role != cloud.RoleStoreManager && len(n.StoreIDs) > 0:
		return cloud.Errorf(cloud.Invalid, "only a store manager's token names stores")
	case n.TTL < 0:
		return cloud.Errorf(cloud.Invalid, "expiry must be in the future")
	}
	return nil
}

// EnsureBootstrapToken makes the platform operator's first token from
// secret unless a bootstrap token exists (revoked or not): a revoked one
// stays revoked across restarts.
func (s *Service) EnsureBootstrapToken(ctx context.Context, secret string) error {
	return s.store.Update(ctx, func(tx cloud.Tx) error {
		if _, err := tx.HQToken("", BootstrapTokenID); err == nil || !cloud.IsNotFound(err) {
			return err
		}
		return tx.PutHQToken(cloud.HQToken{ID: BootstrapTokenID, Account: "platform-operator", Role: cloud.RolePlatform,
			Hash: hashSecret(secret), CreatedAt: s.Now(), CreatedBy: "first start"})
	})
}

// AuthenticateHQ finds the usable token a bearer secret names.
func (s *Service) AuthenticateHQ(ctx context.Context, secret string) (cloud.HQToken, error) {
	fail := cloud.Errorf(cloud.Unauthenticated, "HQ token is missing, wrong, revoked or expired")
	if secret == "" {
		return cloud.HQToken{}, fail
	}
	var t cloud.HQToken
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		t, err = tx.HQTokenByHash(hashSecret(secret))
		return err
	})
	if cloud.IsNotFound(err) {
		return cloud.HQToken{}, fail
	} else if err != nil {
		return cloud.HQToken{}, err
	}
	if subtle.ConstantTimeCompare(t.Hash, hashSecret(secret)) != 1 || !t.Usable(s.Now()) {
		return cloud.HQToken{}, fail
	}
	return t, nil
}

// HQTokens lists a brand's tokens ("" the platform's), hashes removed.
func (s *Service) HQTokens(ctx context.Context, brandID string) ([]cloud.HQToken, error) {
	var out []cloud.HQToken
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		out, err = tx.HQTokens(brandID)
		return err
	})
	for i := range out {
		out[i].Hash = nil
	}
	return out, err
}

// RevokeHQToken stops a token at once.
func (s *Service) RevokeHQToken(ctx context.Context, brandID, id string) (cloud.HQToken, error) {
	var t cloud.HQToken
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if t, err = tx.HQToken(brandID, id); err != nil {
			return err
		}
		if t.RevokedAt.IsZero() {
			t.RevokedAt = s.Now()
		}
		return tx.PutHQToken(t)
	})
	t.Hash = nil
	if err == nil {
		s.log.Warn("HQ token revoked", "brand", brandID, "token", id, "account", t.Account)
	}
	return t, err
}

// RotateHQToken gives a token a new secret (the old one stops at once)
// and returns it, shown once.
func (s *Service) RotateHQToken(ctx context.Context, brandID, id string) (cloud.HQToken, string, error) {
	secret := hqTokenPrefix + randomText(40)
	var t cloud.HQToken
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if t, err = tx.HQToken(brandID, id); err != nil {
			return err
		}
		if !t.Usable(s.Now()) {
			return cloud.Errorf(cloud.Invalid, "token %s is revoked or expired; make a new one", id)
		}
		t.Hash = hashSecret(secret)
		return tx.PutHQToken(t)
	})
	if err != nil {
		return cloud.HQToken{}, "", err
	}
	t.Hash = nil
	s.log.Info("HQ token rotated", "brand", brandID, "token", id, "account", t.Account)
	return t, secret, nil
}

// RecordAudit appends to a brand's audit log.
func (s *Service) RecordAudit(ctx context.Context, e cloud.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.Now()
	}
	return s.store.Update(ctx, func(tx cloud.Tx) error {
		_, err := tx.AppendAudit(e)
		return err
	})
}

// AuditLog pages through a brand's audit log ("" the platform's).
func (s *Service) AuditLog(ctx context.Context, brandID, pageToken string, limit int) ([]cloud.AuditEntry, string, error) {
	after, limit, err := paging(pageToken, limit)
	if err != nil {
		return nil, "", err
	}
	var out []cloud.AuditEntry
	err = s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		out, err = tx.AuditLog(brandID, after, limit)
		return err
	})
	if err != nil || len(out) < limit {
		return out, "", err
	}
	return out, itoa(out[len(out)-1].Seq), nil
}

// IssuePairingCode makes a new one-time pairing code for an existing
// store (a replaced POS box, an expired code).
func (s *Service) IssuePairingCode(ctx context.Context, brandID, storeID string) (cloud.Store, cloud.Pairing, error) {
	var st cloud.Store
	p := cloud.Pairing{Code: randomText(4) + "-" + randomText(4) + "-" + randomText(4), BrandID: brandID, StoreID: storeID, ExpiresAt: s.Now().Add(s.PairingTTL)}
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if st, err = tx.Store(brandID, storeID); err != nil {
			return err
		}
		return tx.PutPairing(p)
	})
	if err != nil {
		return cloud.Store{}, cloud.Pairing{}, err
	}
	s.log.Info("pairing code issued", "brand", brandID, "store", storeID)
	return st, p, nil
}

// DeviceStore names the store of a device, for store managers' checks.
func (s *Service) DeviceStore(ctx context.Context, brandID, deviceID string) (string, error) {
	var d cloud.Device
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		d, err = tx.Device(brandID, deviceID)
		return err
	})
	return d.StoreID, err
}
