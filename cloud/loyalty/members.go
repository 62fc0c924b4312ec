package loyalty

import (
	"context"
	"strconv"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/records"
	"github.com/memberpass/memberpass/proto/membercode"
)

// CreateMember enrols a member with a phone number and optional cards.
func (s *Service) CreateMember(ctx context.Context, brandID, phone, name string, cards []string) (cloud.Member, error) {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return cloud.Member{}, err
	}
	for _, c := range cards {
		if err := validCardNumber(c); err != nil {
			return cloud.Member{}, err
		}
	}
	var m cloud.Member
	err = s.store.Update(ctx, func(tx cloud.Tx) error {
		if _, err := records.Brand(tx, brandID); err != nil {
			return err
		}
		if id, err := records.MemberIDByPhone(tx, brandID, phone); err == nil {
			return cloud.Errorf(cloud.Conflict, "phone %s already belongs to member %s", MaskPhone(phone), id)
		}
		n, err := tx.NextSeq(brandID, "member")
		if err != nil {
			return err
		}
		m = cloud.Member{BrandID: brandID, ID: strconv.FormatUint(n, 10), Phone: phone, Name: name, CreatedAt: s.Now()}
		if err := records.PutMember(tx, m); err != nil {
			return err
		}
		if _, err := records.AppendChange(tx, brandID, cloud.ChangeMember, m.ID); err != nil {
			return err
		}
		for _, c := range cards {
			if err := bindCard(tx, &m, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return cloud.Member{}, err
	}
	return m, nil
}

// bindCard ties a card to a member inside a transaction.
func bindCard(tx cloud.Tx, m *cloud.Member, number string) error {
	if c, err := records.Card(tx, m.BrandID, number); err == nil && !c.Revoked {
		return cloud.Errorf(cloud.Conflict, "card %s already belongs to member %s", number, c.MemberID)
	} else if err != nil && !cloud.IsNotFound(err) {
		return err
	}
	if err := records.PutCard(tx, cloud.Card{BrandID: m.BrandID, Number: number, MemberID: m.ID}); err != nil {
		return err
	}
	m.Cards = append(m.Cards, number)
	if err := records.PutMember(tx, *m); err != nil {
		return err
	}
	_, err := records.AppendChange(tx, m.BrandID, cloud.ChangeCard, number)
	return err
}

// AddCard ties another card to a member.
func (s *Service) AddCard(ctx context.Context, brandID, memberID, number string) (cloud.Member, error) {
	if err := validCardNumber(number); err != nil {
		return cloud.Member{}, err
	}
	var m cloud.Member
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if m, err = records.Member(tx, brandID, memberID); err != nil {
			return err
		}
		return bindCard(tx, &m, number)
	})
	return m, err
}

// GetMember finds a member by id, or by phone if id is empty.
func (s *Service) GetMember(ctx context.Context, brandID, id, phone string) (cloud.Member, error) {
	var m cloud.Member
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		if id == "" {
			p, err := NormalizePhone(phone)
			if err != nil {
				return err
			}
			if id, err = records.MemberIDByPhone(tx, brandID, p); err != nil {
				return err
			}
		}
		var err error
		m, err = records.Member(tx, brandID, id)
		return err
	})
	return m, err
}

// IssueMemberCode signs a short-lived member code for a member.
func (s *Service) IssueMemberCode(ctx context.Context, brandID, memberID string) (string, time.Time, error) {
	n, err := strconv.ParseUint(memberID, 10, 64)
	if err != nil {
		return "", time.Time{}, cloud.Errorf(cloud.Invalid, "member id %q is not a member number", memberID)
	}
	var b cloud.Brand
	err = s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		if b, err = records.Brand(tx, brandID); err != nil {
			return err
		}
		_, err = records.Member(tx, brandID, memberID)
		return err
	})
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.Now()
	code, err := membercode.Sign(b.MemberCodeKey, n, now, s.MemberCodeTTL)
	if err != nil {
		return "", time.Time{}, err
	}
	return code, now.Add(s.MemberCodeTTL), nil
}
