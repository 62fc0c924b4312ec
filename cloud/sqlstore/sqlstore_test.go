package sqlstore_test

import (
	"testing"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/cloud/storetest"
)

// TestConformance runs the storage conformance suite on both engines.
func TestConformance(t *testing.T) {
	for name, open := range sqltest.Engines {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) cloud.Storage { return open(t) })
		})
	}
}
