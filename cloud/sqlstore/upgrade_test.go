package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestFailedMigrationLeavesTheOldSchemaWorking: a newer binary whose
// migrations fail half-way (the first step applies, the second is broken)
// changes nothing: the old schema serves, its data intact, and the store
// stays ready for the old binary. A good upgrade then applies.
func TestFailedMigrationLeavesTheOldSchemaWorking(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *sqlstore.DB{"sqlite": sqltest.OpenSQLite, "postgres": sqltest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			at := time.Now().UTC().Truncate(time.Second)
			if err := db.PutHealth(ctx, fleet.Record{BrandID: "b1", StoreID: "s1", DeviceID: "d1", ReportedAt: at, Report: fleet.Report{Version: "old"}}); err != nil {
				t.Fatal(err)
			}
			err := db.MigrateWith(ctx, map[int]string{
				598: `create table upgrade_probe (brand_id text not null, n bigint, primary key (brand_id));
				      alter table device_health add column upgrade_note text;`,
				599: `create table broken (;`,
			})
			if err == nil {
				t.Fatal("a broken migration applied")
			}
			if err := db.Ready(ctx); err != nil {
				t.Errorf("old schema not ready after a failed upgrade: %v", err)
			}
			got, err := db.Health(ctx, "b1")
			if err != nil || len(got) != 1 || got[0].Report.Version != "old" {
				t.Fatalf("old data after a failed upgrade: %+v, %v", got, err)
			}
			var n int
			if err := db.SQL().QueryRowContext(ctx, `select count(*) from schema_migrations where version in (598, 599)`).Scan(&n); err != nil || n != 0 {
				t.Errorf("failed upgrade recorded %d migrations (%v)", n, err)
			}
			if _, err := db.SQL().ExecContext(ctx, `select count(*) from upgrade_probe`); err == nil {
				t.Error("the failed upgrade's first step stayed")
			}
			if err := db.PutHealth(ctx, fleet.Record{BrandID: "b1", StoreID: "s1", DeviceID: "d1", ReportedAt: at, Report: fleet.Report{Version: "still old"}}); err != nil {
				t.Errorf("old schema does not take writes after a failed upgrade: %v", err)
			}

			// The fixed release applies, and the old binary then refuses the newer database.
			if err := db.MigrateWith(ctx, map[int]string{598: `create table upgrade_probe (brand_id text not null, n bigint, primary key (brand_id));`}); err != nil {
				t.Fatalf("good upgrade: %v", err)
			}
			if _, err := db.SQL().ExecContext(ctx, `insert into upgrade_probe (brand_id, n) values ('b1', 1)`); err != nil {
				t.Errorf("upgraded table: %v", err)
			}
			if err := db.MigrateWith(ctx, nil); err == nil {
				t.Error("an older binary took a database with a migration it does not know")
			}
		})
	}
}

// TestReadyNeedsEveryMigration: a schema missing a migration this binary
// knows (a restore of an older database under a running process) is not
// ready.
func TestReadyNeedsEveryMigration(t *testing.T) {
	ctx := context.Background()
	db := sqltest.OpenSQLite(t)
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `delete from schema_migrations where version = 500`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil {
		t.Error("ready without migration 0500")
	}
}
