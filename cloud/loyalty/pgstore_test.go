package loyalty_test

import (
	"testing"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
)

// The loyalty tests also run on PostgreSQL, each on a fresh schema of the
// test server (see package pgtest: it fails, never skips, when the server
// is down).
func init() {
	storages["postgres"] = func(t testing.TB) cloud.Storage { return pgtest.Open(t) }
}
