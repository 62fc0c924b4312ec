package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/report/reporttest"
	"github.com/memberpass/memberpass/cloud/segment"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestSegmentsAndReports runs the segment and report commands against a
// real cloud holding the reports' fixture (cloud/report/reporttest).
func TestSegmentsAndReports(t *testing.T) {
	db := sqltest.OpenSQLite(t)
	reporttest.Load(t, db)
	log := slog.New(slog.DiscardHandler)
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: loyalty.New(db, log), Log: log, AdminToken: "tok",
		Reports: db.Reports(), Segments: &segment.Service{Store: db.Segments()}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	csvFile := filepath.Join(t.TempDir(), "vip.csv")

	steps := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"segment", "create", "--brand", "b1", "--name", "vip", "--rules", `{"tags":["vip"]}`}, "segment vip saved: 2 members now", ""},
		{[]string{"segment", "list", "--brand", "b1"}, `{"tags":["vip"]}`, ""},
		{[]string{"segment", "count", "--brand", "b1", "--name", "vip"}, "2\n", ""},
		{[]string{"segment", "count", "--brand", "b1", "--rules", `{"home_stores":["s2"]}`}, "2\n", ""},
		{[]string{"segment", "export", "--brand", "b1", "--name", "vip"}, "m1,One,13800000001,gold,", ""},
		{[]string{"segment", "export", "--brand", "b1", "--name", "vip", "--out", csvFile}, "2 members written", ""},
		{[]string{"segment", "settings", "--brand", "b1"}, "new 30 days, active 60 days, lapsed after 180 days", ""},
		{[]string{"segment", "settings", "--brand", "b1", "--new-days", "7", "--active-days", "30", "--lapsed-days", "90"}, "new 7 days, active 30 days", ""},
		{[]string{"segment", "settings", "--brand", "b1", "--new-days", "7", "--active-days", "90", "--lapsed-days", "30"}, "", "must be less than"},
		{[]string{"segment", "create", "--brand", "b1", "--name", "bad", "--rules", `{"stages":["zombie"]}`}, "", "not a stage"},
		{[]string{"segment", "create", "--brand", "nope", "--name", "x", "--rules", `{}`}, "", "not found"},
		{[]string{"segment", "delete", "--brand", "b1", "--name", "vip"}, "segment vip deleted", ""},
		{[]string{"segment", "count", "--brand", "b1", "--name", "vip"}, "", "not found"},
		// Hand-worked in cloud/report/reporttest: 10 March against 3 March.
		{[]string{"report", "dashboard", "--brand", "b1", "--from", "2026-03-10", "--to", "2026-03-10", "--csv"}, "visits,1,3,-6667\n", ""},
		{[]string{"report", "dashboard", "--brand", "b1", "--from", "2026-03-10", "--to", "2026-03-10"}, "¥28.00", ""},
		{[]string{"report", "conflicts", "--brand", "b1", "--from", "2026-03-01", "--to", "2026-03-31", "--csv"}, "overdraft,s1,1,4500,1", ""},
		{[]string{"report", "conversion", "--brand", "b1", "--from", "2026-03-01", "--to", "2026-03-31", "--store", "s2", "--csv"}, "s2,st2,1,2,20000,2000", ""},
		{[]string{"report", "liabilities", "--brand", "b1", "--from", "2026-03-01", "--to", "2026-03-31", "--json"}, `"closing_principal_fen"`, ""},
		{[]string{"report", "rfm", "--brand", "b1", "--from", "2026-03-01", "--to", "2026-03-31"}, "r0-30", ""},
		{[]string{"report", "retention", "--brand", "b1", "--from", "2026-03-01", "--to", "2026-03-31", "--csv"}, "2026-03,2,2", ""},
		{[]string{"report", "groupbuy", "--brand", "b1", "--from", "2026-03-01", "--to", "2026-03-31", "--csv"}, "meituan,mt-deal-1,1,1,1,1,1,1,0,6000", ""},
		{[]string{"report", "dashboard", "--brand", "b1"}, "dashboard, brand b1, all stores", ""},
		{[]string{"report", "sales", "--brand", "b1"}, "", "no report named"},
		{[]string{"report", "dashboard", "--brand", "b1", "--from", "2026-03-10", "--to", "2026-03-01"}, "", "before from"},
		{[]string{"report", "dashboard", "--brand", "b1", "--store", "s'1"}, "", "not a store id"},
		{[]string{"report"}, "", "name a report"},
	}
	for _, s := range steps {
		var out, errOut bytes.Buffer
		err := run(append([]string{"--cloud", lis.Addr().String(), "--token", "tok", "--insecure"}, s.args...), &out, &errOut)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("%v: error %v, want %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Errorf("%v: %v", s.args, err)
		case !strings.Contains(out.String(), s.want):
			t.Errorf("%v: output\n%s\nwant %q", s.args, out.String(), s.want)
		}
	}
	raw, err := os.ReadFile(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(raw), "\n"); lines != 3 {
		t.Errorf("exported file has %d lines, want a header and 2 members:\n%s", lines, raw)
	}
}
