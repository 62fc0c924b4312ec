package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestDeviceHealth keeps the latest report per device, on both engines,
// and keeps a noted sequence regression across later reports.
func TestDeviceHealth(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *sqlstore.DB{"sqlite": sqltest.OpenSQLite, "postgres": sqltest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			at := time.Date(2026, 11, 29, 10, 0, 0, 123456000, time.UTC)
			first := fleet.Record{BrandID: "b1", StoreID: "s1", DeviceID: "d1", ReportedAt: at, Report: fleet.Report{
				Version: "v1.2.3", OutboxPending: 7, LastSeq: 100, AckedSeq: 93, ReplicaSyncedAt: at.Add(-time.Minute),
				Devices:       []fleet.Peripheral{{Name: "scanner", Kind: "scanner", Connected: false, LastError: "open /dev/memberpass/scanner: no such file", Frames: 12}},
				DiskFreeBytes: 1 << 40, AgentTime: at.Add(3 * time.Second), LastSyncError: "cloud unreachable",
			}}
			if err := db.PutHealth(ctx, first); err != nil {
				t.Fatal(err)
			}
			// Another brand's device of the same id stays apart.
			if err := db.PutHealth(ctx, fleet.Record{BrandID: "b2", StoreID: "s9", DeviceID: "d1", ReportedAt: at}); err != nil {
				t.Fatal(err)
			}
			got, err := db.Health(ctx, "b1")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("brand b1 has %d records, want 1", len(got))
			}
			g := got[0]
			if g.DeviceID != "d1" || g.StoreID != "s1" || !g.ReportedAt.Equal(at) || g.Report.Version != "v1.2.3" || g.Report.OutboxPending != 7 ||
				g.Report.LastSeq != 100 || g.Report.AckedSeq != 93 || !g.Report.ReplicaSyncedAt.Equal(at.Add(-time.Minute)) ||
				g.Report.DiskFreeBytes != 1<<40 || !g.Report.AgentTime.Equal(at.Add(3*time.Second)) || g.Report.LastSyncError != "cloud unreachable" ||
				len(g.Report.Devices) != 1 || g.Report.Devices[0] != first.Report.Devices[0] || !g.SeqBehindAt.IsZero() {
				t.Errorf("read back %+v\nwant %+v", g, first)
			}

			behind := at.Add(time.Minute)
			if err := db.NoteSeqBehind(ctx, "b1", "s1", "d1", behind); err != nil {
				t.Fatal(err)
			}
			if err := db.NoteSeqBehind(ctx, "b1", "s2", "d2", behind); err != nil { // never reported
				t.Fatal(err)
			}
			later := first
			later.ReportedAt, later.Report.OutboxPending, later.Report.Devices = at.Add(2*time.Minute), 0, nil
			if err := db.PutHealth(ctx, later); err != nil {
				t.Fatal(err)
			}
			got, err = db.Health(ctx, "b1")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].DeviceID != "d1" || got[1].DeviceID != "d2" {
				t.Fatalf("records %+v", got)
			}
			if !got[0].SeqBehindAt.Equal(behind) || !got[0].ReportedAt.Equal(later.ReportedAt) || got[0].Report.OutboxPending != 0 || len(got[0].Report.Devices) != 0 {
				t.Errorf("after a later report: %+v", got[0])
			}
			if !got[1].ReportedAt.IsZero() || !got[1].SeqBehindAt.Equal(behind) {
				t.Errorf("never reported, seq behind: %+v", got[1])
			}
		})
	}
}
