package loyalty

import (
	"context"
	"strings"

	"github.com/memberpass/memberpass/cloud"
)

// JoinRequest is a walk-in joining on the brand's join page, reached by a
// store's "scan to join" QR code.
type JoinRequest struct {
	BrandID     string
	StoreID     string
	StaffID     string
	VoucherCode string
	Phone       string
	Name        string
	Consent     bool
	// Code is the one-time code SendJoinCode sent to the phone.
	Code string
}

// Join makes a member from the join page once the phone is proven by its
// one-time code. The store and staff member (and the voucher, if one
// brought them) are the member's source. A proven phone that is a member
// already gets that member, so the answer never tells whether a phone is
// known before it is proven.
func (s *Service) Join(ctx context.Context, r JoinRequest) (cloud.Member, error) {
	if s.JoinCodeSender == nil {
		return cloud.Member{}, ErrNoCodeSender
	}
	name := strings.TrimSpace(r.Name)
	switch {
	case !r.Consent:
		return cloud.Member{}, cloud.Errorf(cloud.Invalid, "consent to the membership terms is needed to join")
	case len([]rune(name)) > 40:
		return cloud.Member{}, cloud.Errorf(cloud.Invalid, "name is longer than 40 characters")
	case validMemberName(name) != nil:
		return cloud.Member{}, validMemberName(name)
	case len(r.StaffID) > 64 || len(r.VoucherCode) > 64:
		return cloud.Member{}, cloud.Errorf(cloud.Invalid, "staff or voucher reference is too long")
	}
	src := cloud.MemberSource{Channel: "join_page", StoreID: r.StoreID, StaffID: r.StaffID}
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		if _, err := tx.Store(r.BrandID, r.StoreID); err != nil {
			return err
		}
		if r.VoucherCode != "" {
			var err error
			src, err = voucherSource(tx, r.BrandID, r.VoucherCode, src)
			return err
		}
		return nil
	})
	if err != nil {
		return cloud.Member{}, err
	}
	phone, err := NormalizePhone(r.Phone)
	if err != nil {
		return cloud.Member{}, err
	}
	if err := s.checkJoinCode(r.BrandID, phone, r.Code); err != nil {
		return cloud.Member{}, err
	}
	var known cloud.Member
	err = s.store.View(ctx, func(tx cloud.Tx) error {
		id, err := tx.MemberIDByPhone(r.BrandID, phone)
		if err != nil {
			return err
		}
		known, err = resolveMember(tx, r.BrandID, id)
		return err
	})
	if err == nil {
		s.log.Info("member proved their phone on the join page", "brand", r.BrandID, "member", known.ID)
		return known, nil
	} else if !cloud.IsNotFound(err) {
		return cloud.Member{}, err
	}
	m, err := s.CreateMember(ctx, r.BrandID, NewMember{Phone: phone, Name: name, Consent: true, Source: src})
	if err != nil {
		return cloud.Member{}, err
	}
	s.log.Info("member joined on the join page", "brand", r.BrandID, "member", m.ID, "store", r.StoreID, "staff", r.StaffID, "voucher", r.VoucherCode != "")
	return m, nil
}
