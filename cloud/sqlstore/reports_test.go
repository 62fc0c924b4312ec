package sqlstore_test

import (
	"testing"

	"github.com/memberpass/memberpass/cloud/report/reporttest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestReports runs the reports' conformance suite (a fixed dataset with
// answers worked out by hand) on both engines.
func TestReports(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *sqlstore.DB{"sqlite": sqltest.OpenSQLite, "postgres": sqltest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			reporttest.Run(t, func(t *testing.T) reporttest.Env {
				db := open(t)
				return reporttest.Env{Storage: db, Reports: db.Reports(), Segments: db.Segments(), SQL: db.SQL()}
			})
		})
	}
}
