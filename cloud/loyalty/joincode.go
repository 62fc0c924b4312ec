package loyalty

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/ratelimit"
)

// Joining on the member's own phone proves the phone: the join page asks
// for a one-time code sent to it, and answers the same whether or not the
// phone is a member already (no oracle). A proven phone that is already a
// member gets that member's card link; a new one becomes a member.

// CodeSender delivers a one-time code to a phone. The messaging package
// provides the real channels (SMS); tests use a fake provider.
type CodeSender interface {
	SendJoinCode(ctx context.Context, brandID, phone, code string) error
}

// Join code policy.
const (
	joinCodeTTL      = 10 * time.Minute
	joinCodeAttempts = 5
	// codesPerPhone bounds codes sent to one phone per hour (SMS costs
	// money and annoys the phone's owner).
	codesPerPhone = 5
)

// joinCodes holds the codes sent and not yet used. They live in memory:
// a restart or another cloud process forgets them and the member asks
// for a new one.
type joinCodes struct {
	mu    sync.Mutex
	codes map[string]*joinCode
	sends *ratelimit.Window
}

type joinCode struct {
	hash     []byte
	expires  time.Time
	attempts int
}

func newJoinCodes() *joinCodes {
	return &joinCodes{codes: map[string]*joinCode{}, sends: ratelimit.New(codesPerPhone, time.Hour)}
}

// ErrNoCodeSender is returned when the cloud has no way to send codes.
var ErrNoCodeSender = cloud.Errorf(cloud.Unavailable, "joining on the phone needs a text message channel, which this cloud does not have; ask the cashier to enrol you")

// SendJoinCode sends a one-time code to phone for joining brand. It
// answers the same for a phone that is a member and one that is not.
func (s *Service) SendJoinCode(ctx context.Context, brandID, phone string) error {
	if s.JoinCodeSender == nil {
		return ErrNoCodeSender
	}
	p, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	if err := s.store.View(ctx, func(tx cloud.Tx) error { _, err := tx.Brand(brandID); return err }); err != nil {
		return err
	}
	key := brandID + "/" + p
	if !s.joinCodes.sends.Allow(key) {
		return cloud.Errorf(cloud.TooMany, "too many codes sent to this phone; try again in an hour")
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	s.joinCodes.mu.Lock()
	s.joinCodes.codes[key] = &joinCode{hash: codeHash(key, code), expires: s.Now().Add(joinCodeTTL)}
	s.joinCodes.mu.Unlock()
	if err := s.JoinCodeSender.SendJoinCode(ctx, brandID, p, code); err != nil {
		return fmt.Errorf("send join code: %w", err)
	}
	return nil
}

func codeHash(key, code string) []byte {
	sum := sha256.Sum256([]byte(key + "\x00" + code))
	return sum[:]
}

// checkJoinCode uses up a code if it is right; a code is good for one
// join and a few wrong tries.
func (s *Service) checkJoinCode(brandID, phone, code string) error {
	key := brandID + "/" + phone
	bad := cloud.Errorf(cloud.Forbidden, "the code is wrong or expired; ask for a new one")
	s.joinCodes.mu.Lock()
	defer s.joinCodes.mu.Unlock()
	c, ok := s.joinCodes.codes[key]
	if !ok || s.Now().After(c.expires) {
		return bad
	}
	if !hmac.Equal(c.hash, codeHash(key, code)) {
		c.attempts++
		if c.attempts >= joinCodeAttempts {
			delete(s.joinCodes.codes, key)
		}
		return bad
	}
	delete(s.joinCodes.codes, key)
	return nil
}

// LogCodeSender writes join codes to the log instead of texting them: for
// a demo or a trial without a text message provider, never in production
// (whoever reads the log can join as any phone).
type LogCodeSender struct{ Log *slog.Logger }

// SendJoinCode logs the code.
func (l LogCodeSender) SendJoinCode(_ context.Context, brandID, phone, code string) error {
	l.Log.Warn("join code (--join-codes-to-log: not texted)", "brand", brandID, "phone", MaskPhone(phone), "code", code)
	return nil
}
