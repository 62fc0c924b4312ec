package loyalty

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"

	"github.com/memberpass/memberpass/cloud"
)

// A member's card page link is /card/<brand>/<member>/<token>: the token is
// an HMAC of brand and member under a key derived from the brand's secret
// member-code key, so it is unguessable, needs no storage, and changes
// only if the brand's key does.

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// The link also carries the member's card link generation: raising it
// (RevokeCardLinks: by HQ, on a phone change, on a merge) stops every
// link made before. Generation 0 keeps the links made before generations
// existed working.
func cardLinkToken(b cloud.Brand, memberID string, generation uint64) string {
	seed := sha256.Sum256(append([]byte("memberpass/card-link/v1\x00"), b.MemberCodeKey.Seed()...))
	mac := hmac.New(sha256.New, seed[:])
	mac.Write([]byte(b.ID + "\x00" + memberID))
	if generation > 0 {
		mac.Write([]byte("\x00" + strconv.FormatUint(generation, 10)))
	}
	return strings.ToLower(tokenEncoding.EncodeToString(mac.Sum(nil)[:20]))
}

// RevokeCardLinks stops every card link of a member; CardLinkPath then
// gives a new one.
func (s *Service) RevokeCardLinks(ctx context.Context, brandID, memberID string) error {
	return s.store.Update(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Member(brandID, memberID); err != nil {
			return err
		}
		_, err := tx.BumpCardLinkGeneration(brandID, memberID)
		return err
	})
}

// CardLinkPath returns the private path of a member's card page.
func (s *Service) CardLinkPath(ctx context.Context, brandID, memberID string) (string, error) {
	b, err := s.brandOfMember(ctx, brandID, memberID)
	if err != nil {
		return "", err
	}
	var gen uint64
	if err := s.store.View(ctx, func(tx cloud.Tx) error {
		gen, err = tx.CardLinkGeneration(brandID, memberID)
		return err
	}); err != nil {
		return "", err
	}
	return "/card/" + brandID + "/" + memberID + "/" + cardLinkToken(b, memberID, gen), nil
}

// MemberByCardLink returns the member a card page link belongs to. A
// wrong token and an unknown member look the same to the caller.
func (s *Service) MemberByCardLink(ctx context.Context, brandID, memberID, token string) (cloud.Brand, cloud.Member, error) {
	var (
		b cloud.Brand
		m cloud.Member
	)
	fail := cloud.Errorf(cloud.NotFound, "no such member card")
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		if b, err = tx.Brand(brandID); err != nil {
			return fail
		}
		gen, err := tx.CardLinkGeneration(brandID, memberID)
		if err != nil {
			return err
		}
		if !hmac.Equal([]byte(cardLinkToken(b, memberID, gen)), []byte(strings.ToLower(token))) {
			return fail
		}
		if m, err = tx.Member(brandID, memberID); cloud.IsNotFound(err) {
			return fail
		}
		return err
	})
	return b, m, err
}
