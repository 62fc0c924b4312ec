package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// voucherBind ties a store to its shop on a group-buy platform.
func voucherBind(ctx context.Context, c *client, args []string) error {
	fs := flags("voucher bind")
	brand, store, platform, shop := fs.String("brand", "", "brand id"), fs.String("store", "", "store id"),
		fs.String("platform", "", "meituan or douyin"), fs.String("shop", "", "the platform's id of the shop: Meituan/Dianping open_shop_uuid, Douyin poi_id")
	if err := parse(fs, args, "brand", "store", "platform", "shop"); err != nil {
		return err
	}
	b, err := c.admin.BindVoucherShop(ctx, &pb.BindVoucherShopRequest{BrandId: *brand, StoreId: *store, Platform: *platform, ShopId: *shop})
	if err != nil {
		return err
	}
	c.print(b, func() {
		fmt.Fprintf(c.out, "store %s is shop %s on %s\n", b.GetStoreId(), b.GetShopId(), b.GetPlatform())
	})
	return nil
}

// voucherShops lists a brand's bindings.
func voucherShops(ctx context.Context, c *client, args []string) error {
	fs := flags("voucher shops")
	brand := fs.String("brand", "", "brand id")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	r, err := c.admin.ListVoucherShops(ctx, &pb.ListVoucherShopsRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	c.print(r, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "store\tplatform\tshop\tbound (UTC)")
		for _, b := range r.GetBindings() {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", b.GetStoreId(), b.GetPlatform(), b.GetShopId(), b.GetBoundAt().AsTime().Format("2006-01-02 15:04"))
		}
		w.Flush()
	})
	return nil
}

// voucherReconcile compares a store's day on a platform with the
// platform's settlement; it exits non-zero when anything differs, so a
// nightly job notices.
func voucherReconcile(ctx context.Context, c *client, args []string) error {
	fs := flags("voucher reconcile")
	brand, store, platform := fs.String("brand", "", "brand id"), fs.String("store", "", "store id"), fs.String("platform", "", "meituan or douyin")
	day := fs.String("day", time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format("2006-01-02"), "the day, YYYY-MM-DD in China Standard Time (default: yesterday)")
	statement := fs.String("statement", "", "a statement exported from the platform as CSV (ref,code,deal_id,title,price,count,consumed_at); empty: ask the platform's API")
	if err := parse(fs, args, "brand", "store", "platform"); err != nil {
		return err
	}
	req := &pb.ReconcileVouchersRequest{BrandId: *brand, StoreId: *store, Platform: *platform, Day: *day}
	if *statement != "" {
		raw, err := os.ReadFile(*statement)
		if err != nil {
			return fmt.Errorf("voucher reconcile: %w", err)
		}
		if len(raw) > 16<<20 {
			return fmt.Errorf("voucher reconcile: %s is larger than 16 MiB", *statement)
		}
		req.StatementCsv = raw
	}
	r, err := c.admin.ReconcileVouchers(ctx, req)
	if err != nil {
		return err
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "%s %s store %s (shop %s), from the platform's %s\n", r.GetDay(), r.GetPlatform(), r.GetStoreId(), r.GetShopId(), r.GetSource())
		fmt.Fprintf(c.out, "here: %d uses %s; platform: %d uses %s; matched %d\n", r.GetHereUses(), yuan(r.GetHereFen()), r.GetPlatformUses(), yuan(r.GetPlatformFen()), r.GetMatched())
		if len(r.GetMismatches()) == 0 {
			fmt.Fprintln(c.out, "no mismatch")
			return
		}
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "mismatch\tcode\tdeal\there\tplatform\tdetail")
		for _, m := range r.GetMismatches() {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.GetKind(), m.GetCode(), m.GetDealId(), yuan(m.GetHereFen()), yuan(m.GetPlatformFen()), m.GetDetail())
		}
		w.Flush()
	})
	if n := len(r.GetMismatches()); n > 0 {
		return fmt.Errorf("voucher reconcile: %d mismatches", n)
	}
	return nil
}
