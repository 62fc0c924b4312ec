package fleet_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

func TestReportBounds(t *testing.T) {
	long := strings.Repeat("x", 600)
	for name, r := range map[string]fleet.Report{
		"too many devices":  {Devices: make([]fleet.Peripheral, 17)},
		"long version":      {Version: long[:65]},
		"long sync error":   {LastSyncError: long},
		"long device error": {Devices: []fleet.Peripheral{{Name: "scanner", LastError: long}}},
	} {
		if err := r.Check(); cloud.ErrorCode(err) != cloud.Invalid {
			t.Errorf("%s: %v, want an invalid error", name, err)
		}
	}
	if err := (fleet.Report{Version: "v1", Devices: make([]fleet.Peripheral, 16)}).Check(); err != nil {
		t.Errorf("a fair report refused: %v", err)
	}
}

// TestFleetStates: stale by silence, revoked never stale, seq behind from
// a report or a noted collision until a later report shows it caught up.
func TestFleetStates(t *testing.T) {
	ctx := context.Background()
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	svc := loyalty.New(db, log)
	fl := fleet.New(db, db, log)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	fl.Now = func() time.Time { return now }
	if _, err := svc.CreateBrand(ctx, "b1", "B", "CNY"); err != nil {
		t.Fatal(err)
	}
	devs := map[string]cloud.Device{}
	for _, s := range []string{"s1", "s2", "s3"} {
		_, p, err := svc.CreateStore(ctx, "b1", s, s)
		if err != nil {
			t.Fatal(err)
		}
		paired, err := svc.Pair(ctx, p.Code, "till")
		if err != nil {
			t.Fatal(err)
		}
		devs[s] = paired.Device
	}
	if _, err := svc.RevokeDevice(ctx, "b1", devs["s3"].ID); err != nil {
		t.Fatal(err)
	}
	fl.Now = func() time.Time { return now.Add(-20 * time.Minute) }
	if err := fl.Report(ctx, devs["s2"], fleet.Report{LastSeq: 0}); err != nil {
		t.Fatal(err)
	}
	fl.Now = func() time.Time { return now }
	if err := fl.Report(ctx, devs["s1"], fleet.Report{LastSeq: 0}); err != nil {
		t.Fatal(err)
	}
	fl.NoteSeqBehind(ctx, devs["s1"], 1, 5)

	states := func(stale time.Duration) map[string][2]bool {
		got, err := fl.Fleet(ctx, "b1", stale)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]bool{}
		for _, h := range got {
			out[h.Device.StoreID] = [2]bool{h.Stale, h.SeqBehind}
		}
		return out
	}
	want := map[string][2]bool{"s1": {false, true}, "s2": {true, false}, "s3": {false, false}}
	if got := states(0); got["s1"] != want["s1"] || got["s2"] != want["s2"] || got["s3"] != want["s3"] {
		t.Errorf("states %v, want %v (stale, seq behind)", got, want)
	}
	if got := states(time.Hour); got["s2"][0] {
		t.Error("s2 stale within an hour's threshold")
	}
	// A report after the collision clears it.
	fl.Now = func() time.Time { return now.Add(time.Minute) }
	if err := fl.Report(ctx, devs["s1"], fleet.Report{LastSeq: 9}); err != nil {
		t.Fatal(err)
	}
	if got := states(0); got["s1"][1] {
		t.Error("s1 still seq behind after reporting past the cloud")
	}
	if _, err := fl.Fleet(ctx, "nope", 0); cloud.ErrorCode(err) != cloud.NotFound {
		t.Errorf("unknown brand: %v", err)
	}
}
