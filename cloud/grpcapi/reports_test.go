package grpcapi

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/report/reporttest"
	"github.com/memberpass/memberpass/cloud/segment"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// TestReportAndSegmentRoles checks who may read reports and members of
// segments: a store manager only their stores' reports, member lists
// (phones) only owner and marketing.
func TestReportAndSegmentRoles(t *testing.T) {
	ctx := context.Background()
	db := sqltest.OpenSQLite(t)
	reporttest.Load(t, db)
	log := slog.New(slog.DiscardHandler)
	svc := loyalty.New(db, log)
	srv, _ := NewServer(Config{Service: svc, Log: log, AdminToken: "mphq_bootstrap-secret-for-the-roles-test",
		Reports: db.Reports(), Segments: &segment.Service{Store: db.Segments()}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	admin := pb.NewAdminServiceClient(conn)
	as := func(role cloud.Role, stores ...string) context.Context {
		_, secret, err := svc.CreateHQToken(ctx, "test", loyalty.NewHQToken{BrandID: reporttest.Brand, Account: string(role), Role: role, StoreIDs: stores})
		if err != nil {
			t.Fatal(err)
		}
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret)
	}
	owner, manager, finance := as(cloud.RoleOwner), as(cloud.RoleStoreManager, "s1"), as(cloud.RoleFinance)
	if _, err := admin.SaveSegment(owner, &pb.SaveSegmentRequest{BrandId: reporttest.Brand, Name: "vip", RulesJson: `{"tags":["vip"]}`}); err != nil {
		t.Fatal(err)
	}
	report := func(store string) *pb.GetReportRequest {
		return &pb.GetReportRequest{BrandId: reporttest.Brand, Report: "dashboard", StoreId: store, From: "2026-03-10", To: "2026-03-10"}
	}
	cases := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"manager, own store", func() error { _, err := admin.GetReport(manager, report("s1")); return err }, codes.OK},
		{"manager, every store", func() error { _, err := admin.GetReport(manager, report("")); return err }, codes.PermissionDenied},
		{"manager, another store", func() error { _, err := admin.GetReport(manager, report("s2")); return err }, codes.PermissionDenied},
		{"finance, every store", func() error { _, err := admin.GetReport(finance, report("")); return err }, codes.OK},
		{"finance counts", func() error {
			_, err := admin.CountSegment(finance, &pb.CountSegmentRequest{BrandId: reporttest.Brand, Name: "vip"})
			return err
		}, codes.OK},
		{"finance may not list members", func() error {
			_, err := admin.ExportSegment(finance, &pb.ExportSegmentRequest{BrandId: reporttest.Brand, Name: "vip"})
			return err
		}, codes.PermissionDenied},
		{"owner lists members", func() error {
			_, err := admin.ExportSegment(owner, &pb.ExportSegmentRequest{BrandId: reporttest.Brand, Name: "vip"})
			return err
		}, codes.OK},
		{"finance may not save", func() error {
			_, err := admin.SaveSegment(finance, &pb.SaveSegmentRequest{BrandId: reporttest.Brand, Name: "x", RulesJson: `{}`})
			return err
		}, codes.PermissionDenied},
		{"other brand", func() error {
			_, err := admin.GetReport(owner, &pb.GetReportRequest{BrandId: reporttest.Other, Report: "dashboard"})
			return err
		}, codes.PermissionDenied},
	}
	for _, c := range cases {
		if got := status.Code(c.call()); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
