package loyalty

import (
	"context"

	"github.com/memberpass/memberpass/cloud"
)

// Brand reads a brand (NotFound when HQ never created it), for callers
// that need its zone or want to refuse an unknown brand.
func (s *Service) Brand(ctx context.Context, id string) (cloud.Brand, error) {
	var b cloud.Brand
	err := s.store.View(ctx, func(tx cloud.Tx) error {
		var err error
		b, err = tx.Brand(id)
		return err
	})
	return b, err
}
