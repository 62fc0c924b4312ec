// Package loyalty is the member programme's logic: it turns HQ's commands
// and the events stores push into state, through a cloud.Storage. It knows
// nothing of gRPC or of which database holds the state.
package loyalty

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"log/slog"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/ratelimit"
)

// Service runs the programme for every brand.
type Service struct {
	store cloud.Storage
	log   *slog.Logger
	// Now is the service's clock; tests replace it.
	Now func() time.Time
	// PairingTTL is how long a store's pairing code stays valid.
	PairingTTL time.Duration
	// MemberCodeTTL is how long a member code is valid.
	MemberCodeTTL time.Duration
	// CodeUseRetention is how long past its validity the cloud remembers
	// that a member code was used: longer than a store stays offline, so a
	// code replayed at two stores is caught when the later one syncs.
	CodeUseRetention time.Duration
	// MaxFutureSkew is how far ahead of the cloud's clock an event's time
	// may be; PairingClockMargin how far before its device's pairing.
	// Beyond either the event is rejected with its reason.
	MaxFutureSkew      time.Duration
	PairingClockMargin time.Duration

	// JoinCodeSender sends the join page's one-time codes; nil: members
	// cannot join on their own phones (the cashier enrols them).
	JoinCodeSender CodeSender
	// CodeSigning bounds member codes signed per member card link, so a
	// leaked link cannot mint codes in bulk.
	CodeSigning *ratelimit.Window

	// OnApplied, if set, sees each applied event inside the push's
	// transaction, with its member as the event left it: campaigns act on
	// events there, so an event and what its campaigns give commit
	// together, once. An error aborts the push (it is retried).
	OnApplied func(tx cloud.Tx, b cloud.Brand, ev cloud.Event, after cloud.Member) error
	// WantsEvents, if set, says whether a brand's events need OnApplied at
	// all; for a brand with no event campaigns the push skips its reads.
	WantsEvents func(ctx context.Context, brandID string) bool

	pushes    pushGroup
	joinCodes *joinCodes
}

// New makes a service on a storage.
func New(store cloud.Storage, log *slog.Logger) *Service {
	return &Service{
		store:              store,
		log:                log,
		Now:                func() time.Time { return time.Now().UTC() },
		PairingTTL:         72 * time.Hour,
		MemberCodeTTL:      60 * time.Second,
		CodeUseRetention:   7 * 24 * time.Hour,
		MaxFutureSkew:      time.Hour,
		CodeSigning:        ratelimit.New(codesPerLinkMinute, time.Minute),
		joinCodes:          newJoinCodes(),
		PairingClockMargin: 24 * time.Hour,
	}
}

// codesPerLinkMinute bounds the member codes one card link may have signed
// a minute: the page refreshes a 60 s code every 30 s.
const codesPerLinkMinute = 6

// MaxPushBatch caps the events one push may carry.
const MaxPushBatch = 1000

// MaxPullBatch caps the changes one pull returns.
const MaxPullBatch = 1000

var codeAlphabet = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// randomText returns n random characters that are easy to read aloud
// (no 0/O, 1/I).
func randomText(n int) string {
	raw := make([]byte, (n*5+7)/8)
	if _, err := rand.Read(raw); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no entropy: nothing can be made safely
	}
	return codeAlphabet.EncodeToString(raw)[:n]
}

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// CreateBrand starts a new brand with its own member-code signing key.
func (s *Service) CreateBrand(ctx context.Context, id, name, currency string) (cloud.Brand, error) {
	if err := validSlug("brand id", id); err != nil {
		return cloud.Brand{}, err
	}
	if name == "" {
		return cloud.Brand{}, cloud.Errorf(cloud.Invalid, "brand name is empty")
	}
	if currency == "" {
		currency = "CNY"
	}
	if !validCurrency(currency) {
		return cloud.Brand{}, cloud.Errorf(cloud.Invalid, "currency %q is not an ISO 4217 code such as CNY", currency)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return cloud.Brand{}, err
	}
	b := cloud.Brand{ID: id, Name: name, Currency: currency, TimeZone: cloud.DefaultTimeZone, MemberCodeKey: priv, Programme: cloud.DefaultProgramme(), CreatedAt: s.Now()}
	err = s.store.Update(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Brand(id); err == nil {
			return cloud.Errorf(cloud.Conflict, "brand %q already exists", id)
		} else if !cloud.IsNotFound(err) {
			return err
		}
		if err := tx.PutBrand(b); err != nil {
			return err
		}
		_, err := tx.AppendChange(id, cloud.ChangeProgramme, "")
		return err
	})
	if err != nil {
		return cloud.Brand{}, err
	}
	s.log.Info("brand created", "brand", id)
	return b, nil
}

// CreateStore adds a store to a brand and returns a one-time pairing code
// for its agent.
func (s *Service) CreateStore(ctx context.Context, brandID, id, name string) (cloud.Store, cloud.Pairing, error) {
	if err := validSlug("store id", id); err != nil {
		return cloud.Store{}, cloud.Pairing{}, err
	}
	if name == "" {
		name = id
	}
	st := cloud.Store{BrandID: brandID, ID: id, Name: name, CreatedAt: s.Now()}
	p := cloud.Pairing{Code: randomText(4) + "-" + randomText(4) + "-" + randomText(4), BrandID: brandID, StoreID: id, ExpiresAt: s.Now().Add(s.PairingTTL)}
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Brand(brandID); err != nil {
			return err
		}
		if _, err := tx.Store(brandID, id); err == nil {
			return cloud.Errorf(cloud.Conflict, "store %q already exists in brand %q", id, brandID)
		}
		if err := tx.PutStore(st); err != nil {
			return err
		}
		return tx.PutPairing(p)
	})
	if err != nil {
		return cloud.Store{}, cloud.Pairing{}, err
	}
	s.log.Info("store created", "brand", brandID, "store", id)
	return st, p, nil
}

// Paired is what a device receives when it pairs.
type Paired struct {
	Device cloud.Device
	Secret string
	Brand  cloud.Brand
	Store  cloud.Store
}

// Pair uses a pairing code once and makes a device with its own secret.
func (s *Service) Pair(ctx context.Context, code, deviceName string) (Paired, error) {
	var out Paired
	secret := randomText(40)
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		p, err := tx.Pairing(code)
		if cloud.IsNotFound(err) {
			return cloud.Errorf(cloud.Unauthenticated, "pairing code is unknown or already used")
		} else if err != nil {
			return err
		}
		if s.Now().After(p.ExpiresAt) {
			return cloud.Errorf(cloud.Unauthenticated, "pairing code expired at %s; ask HQ for a new one", p.ExpiresAt.Format(time.RFC3339))
		}
		if out.Brand, err = tx.Brand(p.BrandID); err != nil {
			return err
		}
		if out.Store, err = tx.Store(p.BrandID, p.StoreID); err != nil {
			return err
		}
		n, err := tx.NextSeq(p.BrandID, "device")
		if err != nil {
			return err
		}
		out.Device = cloud.Device{
			BrandID: p.BrandID, StoreID: p.StoreID, ID: p.StoreID + "-d" + itoa(n), Name: deviceName,
			SecretHash: hashSecret(secret), PairedAt: s.Now(),
		}
		if err := tx.PutDevice(out.Device); err != nil {
			return err
		}
		return tx.DeletePairing(code)
	})
	if err != nil {
		return Paired{}, err
	}
	out.Secret = secret
	s.log.Info("device paired", "brand", out.Device.BrandID, "store", out.Device.StoreID, "device", out.Device.ID)
	return out, nil
}

// AuthenticateDevice checks a device's credentials.
func (s *Service) AuthenticateDevice(ctx context.Context, brandID, deviceID, secret string) (cloud.Device, error) {
	var d cloud.Device
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		d, err = tx.Device(brandID, deviceID)
		return err
	})
	fail := cloud.Errorf(cloud.Unauthenticated, "device credentials are not valid")
	if cloud.IsNotFound(err) {
		return cloud.Device{}, fail
	} else if err != nil {
		return cloud.Device{}, err
	}
	if subtle.ConstantTimeCompare(d.SecretHash, hashSecret(secret)) != 1 {
		return cloud.Device{}, fail
	}
	if d.Revoked {
		return cloud.Device{}, cloud.Errorf(cloud.Forbidden, "device %s was revoked by HQ", deviceID)
	}
	return d, nil
}
