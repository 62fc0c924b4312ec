package loyalty

import (
	"cmp"
	"context"

	"github.com/memberpass/memberpass/cloud"
)

// BrandTimeZone returns the zone a brand's calendar rules run in, for the
// services beside this one (messaging's quiet hours and daily caps), so
// every rule counts days the same way.
func (s *Service) BrandTimeZone(ctx context.Context, brandID string) (string, error) {
	var zone string
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		b, err := tx.Brand(brandID)
		zone = cmp.Or(b.TimeZone, cloud.DefaultTimeZone)
		return err
	})
	return zone, err
}
