package loyalty

import (
	"context"
	"strconv"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/proto/membercode"
)

// NewMember is what enrolling a member takes.
type NewMember struct {
	Phone    string
	Name     string
	Birthday string
	// BirthdayLunar: Birthday's month and day are lunar.
	BirthdayLunar bool
	Cards         []string
	Tags          []string
	Consent       bool
	Source        cloud.MemberSource
}

// validBirthday accepts YYYY-MM-DD or MM-DD (many members give no year).
func validBirthday(b string) error {
	if b == "" || monthDay.MatchString(b) {
		return nil
	}
	if t, err := time.Parse(time.DateOnly, b); err == nil && t.Year() >= 1900 && t.Before(time.Now()) {
		return nil
	}
	return cloud.Errorf(cloud.Invalid, "birthday %q: want YYYY-MM-DD or MM-DD", b)
}

func validTags(tags []string) error {
	for _, t := range tags {
		if t == "" || len(t) > 32 {
			return cloud.Errorf(cloud.Invalid, "tag %q must be 1 to 32 characters", t)
		}
	}
	return nil
}

// CreateMember enrols a member (by HQ, or the join page).
func (s *Service) CreateMember(ctx context.Context, brandID string, nm NewMember) (cloud.Member, error) {
	phone, err := NormalizePhone(nm.Phone)
	if err != nil {
		return cloud.Member{}, err
	}
	if err := validBirthday(nm.Birthday); err != nil {
		return cloud.Member{}, err
	}
	if err := validTags(nm.Tags); err != nil {
		return cloud.Member{}, err
	}
	if err := validMemberName(nm.Name); err != nil {
		return cloud.Member{}, err
	}
	for _, c := range nm.Cards {
		if err := validCardNumber(c); err != nil {
			return cloud.Member{}, err
		}
	}
	if nm.Source.Channel == "" {
		nm.Source.Channel = "hq"
	}
	var m cloud.Member
	err = s.store.Update(ctx, func(tx cloud.Tx) error {
		b, err := tx.Brand(brandID)
		if err != nil {
			return err
		}
		if id, err := tx.MemberIDByPhone(brandID, phone); err == nil {
			return cloud.Errorf(cloud.Conflict, "phone %s already belongs to member %s", MaskPhone(phone), id)
		}
		if m, err = s.newMember(tx, b, phone, nm.Name, nm.Source, s.Now()); err != nil {
			return err
		}
		m.Birthday, m.BirthdayLunar, m.Tags, m.Consent = nm.Birthday, nm.BirthdayLunar, nm.Tags, nm.Consent
		if err := tx.PutMember(m); err != nil {
			return err
		}
		for _, c := range nm.Cards {
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

// newMember makes a member in the base tier inside a transaction.
func (s *Service) newMember(tx cloud.Tx, b cloud.Brand, phone, name string, src cloud.MemberSource, at time.Time) (cloud.Member, error) {
	n, err := tx.NextSeq(b.ID, "member")
	if err != nil {
		return cloud.Member{}, err
	}
	m := cloud.Member{BrandID: b.ID, ID: strconv.FormatUint(n, 10), Phone: phone, Name: name, CreatedAt: at, Source: src,
		TierID: b.Programme.BaseTier().ID, TierSince: at}
	if err := tx.PutMember(m); err != nil {
		return cloud.Member{}, err
	}
	_, err = tx.AppendChange(b.ID, cloud.ChangeMember, m.ID)
	return m, err
}

// MemberUpdate holds the fields to change; nil keeps the current value.
type MemberUpdate struct {
	Phone, Name, Birthday *string
	BirthdayLunar         *bool
	Tags                  *[]string
	Consent               *bool
}

// UpdateMember changes a member's details.
func (s *Service) UpdateMember(ctx context.Context, brandID, id string, u MemberUpdate) (cloud.Member, error) {
	var m cloud.Member
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		var err error
		if m, err = tx.Member(brandID, id); err != nil {
			return err
		}
		if m.MergedInto != "" {
			return cloud.Errorf(cloud.Invalid, "member %s was merged into %s; update that member", id, m.MergedInto)
		}
		if u.Phone != nil {
			old := m.Phone
			if m.Phone, err = NormalizePhone(*u.Phone); err != nil {
				return err
			}
			if m.Phone != old { // the link was sent to the old phone
				if _, err := tx.BumpCardLinkGeneration(brandID, id); err != nil {
					return err
				}
			}
		}
		if u.Name != nil {
			if err := validMemberName(*u.Name); err != nil {
				return err
			}
			m.Name = *u.Name
		}
		if u.Birthday != nil {
			if err := validBirthday(*u.Birthday); err != nil {
				return err
			}
			m.Birthday = *u.Birthday
		}
		if u.BirthdayLunar != nil {
			m.BirthdayLunar = *u.BirthdayLunar
		}
		if u.Tags != nil {
			if err := validTags(*u.Tags); err != nil {
				return err
			}
			m.Tags = *u.Tags
		}
		if u.Consent != nil {
			m.Consent = *u.Consent
		}
		if err := tx.PutMember(m); err != nil {
			return err
		}
		_, err = tx.AppendChange(brandID, cloud.ChangeMember, m.ID)
		return err
	})
	return m, err
}

// bindCard ties a card to a member inside a transaction.
func bindCard(tx cloud.Tx, m *cloud.Member, number string) error {
	if c, err := tx.Card(m.BrandID, number); err == nil && !c.Revoked {
		return cloud.Errorf(cloud.Conflict, "card %s already belongs to member %s", number, c.MemberID)
	} else if err != nil && !cloud.IsNotFound(err) {
		return err
	}
	if err := tx.PutCard(cloud.Card{BrandID: m.BrandID, Number: number, MemberID: m.ID}); err != nil {
		return err
	}
	m.Cards = append(m.Cards, number)
	if err := tx.PutMember(*m); err != nil {
		return err
	}
	_, err := tx.AppendChange(m.BrandID, cloud.ChangeCard, number)
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
		if m, err = tx.Member(brandID, memberID); err != nil {
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
			if id, err = tx.MemberIDByPhone(brandID, p); err != nil {
				return err
			}
		}
		var err error
		m, err = tx.Member(brandID, id)
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
	b, err := s.brandOfMember(ctx, brandID, memberID)
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

// brandOfMember reads a brand, checking that the member exists in it.
func (s *Service) brandOfMember(ctx context.Context, brandID, memberID string) (cloud.Brand, error) {
	var b cloud.Brand
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		if b, err = tx.Brand(brandID); err != nil {
			return err
		}
		_, err = tx.Member(brandID, memberID)
		return err
	})
	return b, err
}
