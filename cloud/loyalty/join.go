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
}

// Join makes a member from the join page. The store and staff member (and
// the voucher, if one brought them) are the member's source.
func (s *Service) Join(ctx context.Context, r JoinRequest) (cloud.Member, error) {
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
	m, err := s.CreateMember(ctx, r.BrandID, NewMember{Phone: r.Phone, Name: name, Consent: true, Source: src})
	if err != nil {
		return cloud.Member{}, err
	}
	s.log.Info("member joined on the join page", "brand", r.BrandID, "member", m.ID, "store", r.StoreID, "staff", r.StaffID, "voucher", r.VoucherCode != "")
	return m, nil
}
