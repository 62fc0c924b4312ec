// Package memberdir is the messaging service's view of the members the
// loyalty service keeps: where to reach a member, their consent at joining
// and the member variables templates use (name, phone tail, points, stored
// value in yuan, tier).
package memberdir

import (
	"context"
	"fmt"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/messaging"
)

// Directory implements messaging.Directory over the loyalty service.
type Directory struct {
	Loyalty *loyalty.Service
}

var _ messaging.Directory = Directory{}

// Recipient reads a member.
func (d Directory) Recipient(ctx context.Context, brand, member string) (messaging.Recipient, error) {
	m, err := d.Loyalty.GetMember(ctx, brand, member, "")
	if err != nil {
		return messaging.Recipient{}, err
	}
	if m.MergedInto != "" {
		return d.Recipient(ctx, brand, m.MergedInto)
	}
	return recipient(brand, m), nil
}

// MembersByPhone finds a phone's members in every brand.
func (d Directory) MembersByPhone(ctx context.Context, phone string) ([]messaging.Recipient, error) {
	brands, err := d.Loyalty.BrandIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []messaging.Recipient
	for _, b := range brands {
		m, err := d.Loyalty.GetMember(ctx, b, "", phone)
		if cloud.IsNotFound(err) || cloud.ErrorCode(err) == cloud.Invalid {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, recipient(b, m))
	}
	return out, nil
}

func recipient(brand string, m cloud.Member) messaging.Recipient {
	tail := m.Phone
	if len(tail) > 4 {
		tail = tail[len(tail)-4:]
	}
	sv := m.StoredValue()
	return messaging.Recipient{
		BrandID: brand, MemberID: m.ID, Name: m.Name, Phone: m.Phone, Lang: messaging.Zh,
		Consent: m.Consent, ConsentSource: m.Source.Channel, ConsentAt: m.CreatedAt,
		Vars: map[string]string{
			"name": m.Name, "phone_tail": tail, "points": fmt.Sprint(m.Points),
			"stored_value": fmt.Sprintf("%d.%02d", sv/100, sv%100), "tier": m.TierID,
		},
	}
}

// BrandTimeZone is the brand's zone as the programme keeps it.
func (d Directory) BrandTimeZone(ctx context.Context, brand string) (string, error) {
	return d.Loyalty.BrandTimeZone(ctx, brand)
}
