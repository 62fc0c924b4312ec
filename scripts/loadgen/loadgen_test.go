package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/scripts/loadgen"
	"github.com/memberpass/memberpass/scripts/localcloud"
)

// TestRunCountsWhatTheCloudHolds runs a few stores briefly against an
// in-process cloud and checks that every event the driver counts as
// acknowledged is held by the cloud, once. It asserts nothing on speed.
func TestRunCountsWhatTheCloudHolds(t *testing.T) {
	db := sqltest.OpenSQLite(t)
	c, err := localcloud.Start(db, "token", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	ctx := context.Background()
	res, err := loadgen.Run(ctx, loadgen.Config{
		Addr: c.Addr, AdminToken: "token", Brand: "load-test", Stores: 5, Members: 3, Rate: 20, Batch: 2, Duration: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failures != 0 || res.Pushes == 0 || res.Events == 0 {
		t.Fatalf("%d pushes, %d events acknowledged, %d failures", res.Pushes, res.Events, res.Failures)
	}
	st, err := c.Service.Stats(ctx, "load-test")
	if err != nil {
		t.Fatal(err)
	}
	// Pushes still in flight when the run ended may land after it: the
	// cloud holds at least what was counted, never a duplicate.
	if st.Events < res.Events || st.Visits != st.Events || st.Rejected != 0 {
		t.Errorf("cloud holds %d events (%d visits, %d rejected); driver counted %d acknowledged", st.Events, st.Visits, st.Rejected, res.Events)
	}
	var acked uint64
	for _, d := range st.Devices {
		acked += d.AckedSeq
	}
	if acked != st.Events {
		t.Errorf("devices acknowledged %d events in all, cloud holds %d", acked, st.Events)
	}
}

func TestSeedMembers(t *testing.T) {
	db := sqltest.OpenSQLite(t)
	c, err := localcloud.Start(db, "token", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	ctx := context.Background()
	if _, err := c.Service.CreateBrand(ctx, "seeded", "Seeded", "CNY"); err != nil {
		t.Fatal(err)
	}
	last, err := localcloud.SeedMembers(ctx, db, "seeded", 25, 10)
	if err != nil {
		t.Fatal(err)
	}
	if last < 50 {
		t.Errorf("last change %d, want at least 50 (a member and a card change each)", last)
	}
	m, err := c.Service.GetMember(ctx, "seeded", "25", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cards) != 1 || m.Cards[0] != localcloud.CardOf(25) || m.TierID == "" {
		t.Errorf("member 25: %+v", m)
	}
	if _, err := localcloud.SeedMembers(ctx, db, "seeded", 5, 10); err == nil {
		t.Error("seeding a brand that has members succeeded")
	}
}
