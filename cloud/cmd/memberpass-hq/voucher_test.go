package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/groupbuy/cloudstore"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan/meituantest"
	"github.com/memberpass/memberpass/cloud/grpcapi"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

func TestVoucherCommands(t *testing.T) {
	mt := meituantest.New(t, "mt-shop-1")
	mt.Sell("mt-shop-1", 501, "双人下午茶", "98.00", "6100000001", "6100000002")
	mc, err := meituan.New(meituan.Config{BaseURL: mt.URL, AppKey: mt.AppKey, AppSecret: mt.Secret, Session: mt.Session}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	gb := groupbuy.New(cloudstore.New(db), groupbuy.Registry{"cha": {cloud.PlatformMeituan: mc}}, log)
	srv, _ := grpcapi.NewServer(grpcapi.Config{Service: loyalty.New(db, log), Log: log, AdminToken: "tok", GroupBuy: gb})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	addr := lis.Addr().String()

	today := time.Now().In(time.FixedZone("CST", 8*3600))
	stmt := filepath.Join(t.TempDir(), "statement.csv")
	os.WriteFile(stmt, []byte("ref,code,deal_id,title,price,count,consumed_at\n6100000001,6100000001,501,双人下午茶,98.00,1,"+today.Format("2006-01-02 15:04:05")+"\n"), 0o600)
	day := today.Format("2006-01-02")
	steps := []struct {
		args          []string
		want, wantErr string
		before        func()
	}{
		{args: []string{"brand", "create", "--id", "cha", "--name", "茶小满"}, want: "created"},
		{args: []string{"store", "create", "--brand", "cha", "--id", "sh-1"}, want: "pairing code"},
		{args: []string{"voucher", "bind", "--brand", "cha", "--store", "sh-9", "--platform", "meituan", "--shop", "x"}, wantErr: "not found"},
		{args: []string{"voucher", "bind", "--brand", "cha", "--store", "sh-1", "--platform", "ele.me", "--shop", "x"}, wantErr: "not one of"},
		{args: []string{"voucher", "bind", "--brand", "cha", "--store", "sh-1", "--platform", "meituan", "--shop", "mt-shop-1"}, want: "store sh-1 is shop mt-shop-1 on meituan"},
		{args: []string{"voucher", "shops", "--brand", "cha"}, want: "mt-shop-1"},
		{args: []string{"voucher", "reconcile", "--brand", "cha", "--store", "sh-1", "--platform", "meituan", "--day", day}, want: "no mismatch"},
		// Consumed in the platform's own app: the platform lists it, we do not.
		{args: []string{"voucher", "reconcile", "--brand", "cha", "--store", "sh-1", "--platform", "meituan", "--day", day}, want: "missing_here", wantErr: "1 mismatches",
			before: func() {
				if _, err := mc.Consume(context.Background(), "mt-shop-1", "6100000001", 1, "by-hand"); err != nil {
					t.Fatal(err)
				}
			}},
		{args: []string{"voucher", "reconcile", "--brand", "cha", "--store", "sh-1", "--platform", "meituan", "--day", day, "--statement", stmt}, want: "from the platform's statement", wantErr: "1 mismatches"},
		{args: []string{"voucher", "reconcile", "--brand", "cha", "--store", "sh-1", "--platform", "meituan", "--day", "yesterday"}, wantErr: "YYYY-MM-DD"},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		var out, errOut bytes.Buffer
		err := run(append([]string{"--cloud", addr, "--token", "tok", "--insecure"}, s.args...), &out, &errOut)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("%v: error %v, want %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Errorf("%v: %v", s.args, err)
		case !strings.Contains(out.String(), s.want):
			t.Errorf("%v: output\n%s\nwant %q", s.args, out.String(), s.want)
		}
	}
}
