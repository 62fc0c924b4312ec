package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// TestStoresHealth: one store's till reported a minute ago, another's two
// hours ago and a third never: the first is ok, the others stale.
func TestStoresHealth(t *testing.T) {
	ctx := context.Background()
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	svc := loyalty.New(db, log)
	fleetSvc := fleet.New(db, db, log)
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: svc, Log: log, AdminToken: "tok", Fleet: fleetSvc})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	if _, err := svc.CreateBrand(ctx, "cha", "茶小满", "CNY"); err != nil {
		t.Fatal(err)
	}
	reportedAgo := map[string]time.Duration{"sh-1": time.Minute, "sh-2": 2 * time.Hour}
	for _, store := range []string{"sh-1", "sh-2", "sh-3"} {
		_, p, err := svc.CreateStore(ctx, "cha", store, store)
		if err != nil {
			t.Fatal(err)
		}
		paired, err := svc.Pair(ctx, p.Code, "till-"+store)
		if err != nil {
			t.Fatal(err)
		}
		ago, ok := reportedAgo[store]
		if !ok {
			continue
		}
		fleetSvc.Now = func() time.Time { return time.Now().Add(-ago) }
		err = fleetSvc.Report(ctx, paired.Device, fleet.Report{
			Version: "v1.2.3", OutboxPending: 4, DiskFreeBytes: 3 << 30,
			Devices: []fleet.Peripheral{{Name: "scanner", Kind: "scanner", Connected: true}, {Name: "reader", Kind: "em4100", LastError: "no device"}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fleetSvc.Now = time.Now

	var out, errOut bytes.Buffer
	if err := run([]string{"--cloud", lis.Addr().String(), "--token", "tok", "--insecure", "stores", "health", "--brand", "cha"}, &out, &errOut); err != nil {
		t.Fatalf("stores health: %v\n%s", err, errOut.String())
	}
	status := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 3 && strings.HasPrefix(f[0], "sh-") {
			status[f[0]] = f[3]
		}
	}
	want := map[string]string{"sh-1": "ok", "sh-2": "STALE", "sh-3": "STALE"}
	for store, st := range want {
		if status[store] != st {
			t.Errorf("store %s: status %q, want %q\n%s", store, status[store], st, out.String())
		}
	}
	if !strings.Contains(out.String(), "3 devices, 2 stale") {
		t.Errorf("summary missing:\n%s", out.String())
	}

	// A longer threshold makes the two-hour silence fine.
	out.Reset()
	if err := run([]string{"--cloud", lis.Addr().String(), "--token", "tok", "--insecure", "--json", "stores", "health", "--brand", "cha", "--stale-after", "3h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	// protojson varies its spacing on purpose: match the field, not the layout.
	if n := len(regexp.MustCompile(`"stale":\s*true`).FindAllString(out.String(), -1)); n != 1 {
		t.Errorf("with --stale-after 3h, %d stale devices, want 1 (never seen):\n%s", n, out.String())
	}
}
