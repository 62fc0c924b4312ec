package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/proto/pairing"
)

func commands() []command {
	cmds := []command{
		{"brand create", "--id --name [--currency CNY]", brandCreate},
		{"store create", "--brand --id [--name --qr-png file]: prints the pairing code, ticket and its QR code", storeCreate},
		{"programme get", "--brand: prints the rules as JSON", programmeGet},
		{"programme set", "--brand --file rules.json", programmeSet},
		{"member create", "--brand --phone [--name --birthday --card --tags a,b --consent]", memberCreate},
		{"member get", "--brand (--id | --phone)", memberGet},
		{"member history", "--brand --id: balances, ledgers, tiers, coupons", memberHistory},
		{"member import", "--brand --file members.csv [--dry-run]", memberImport},
		{"member merge", "--brand --keep ID --merge ID", memberMerge},
		{"member link revoke", "--brand --id: stop every card page link of the member; prints the new one", memberLinkRevoke},
		{"member link", "--brand --id: the private link of the member's card page", memberLink},
		{"coupon template", "--brand --id --name --kind amount_off|percent_off|free_item ...", couponTemplate},
		{"coupon issue", "--brand --template [--members 1,2 | --tag vip]", couponIssue},
		{"voucher import", "--brand --file vouchers.csv [--dry-run]: a brand's own vouchers", voucherImport},
		{"voucher bind", "--brand --store --platform meituan|douyin --shop ID: the store's shop on a group-buy platform", voucherBind},
		{"voucher shops", "--brand: each store's shop on each platform", voucherShops},
		{"voucher reconcile", "--brand --store --platform [--day YYYY-MM-DD --statement file.csv]: consumed here vs the platform's settlement", voucherReconcile},
		{"conflicts", "--brand: what stores did offline that the books could not take", conflicts},
		{"stats", "--brand", stats},
		{"device revoke", "--brand --id: the device's credentials stop working at once", deviceRevoke},
		{"stores health", "--brand [--stale-after 10m]: every store device's last report; STALE, RESTORED", storesHealth},
		{"maintenance", "--brand: review tiers, expire points and coupons now", maintenance},
		{"segment create", "--brand --name (--rules JSON | --file rules.json): save a segment and count it", segmentCreate},
		{"segment list", "--brand", segmentList},
		{"segment count", "--brand (--name | --rules JSON): members now", segmentCount},
		{"segment export", "--brand --name [--out file.csv]: members now as CSV", segmentExport},
		{"segment delete", "--brand --name", segmentDelete},
		{"segment settings", "--brand [--new-days --active-days --lapsed-days]: lifecycle thresholds", segmentSettings},
		{"report", "<" + reportNames + "> --brand [--store --from --to] [--csv|--json]", reportCmd},
		{"store pairing-code", "--store [--brand --qr-png file]: a new one-time pairing code for an existing store", storePairingCode},
		{"token create", "--account --role owner|marketing|finance|store_manager|auditor|platform [--brand --stores a,b --expires 720h]: prints the secret once", tokenCreate},
		{"token list", "[--brand]: HQ tokens (no brand: the platform operators')", tokenList},
		{"token revoke", "--id [--brand]: the token stops working at once", tokenRevoke},
		{"token rotate", "--id [--brand]: a new secret; the old one stops at once", tokenRotate},
		{"audit", "--brand: every change HQ made, who, when, before and after", auditLog},
	}
	return append(cmds, messagingCommands()...)
}

// allCommands is every subcommand, the campaign ones included.
func allCommands() []command { return append(commands(), campaignCommands()...) }

func (c *client) print(m proto.Message, human func()) {
	if c.json {
		b, _ := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
		fmt.Fprintln(c.out, string(b))
		return
	}
	human()
}

func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

func brandCreate(ctx context.Context, c *client, args []string) error {
	fs := flags("brand create")
	id, name, cur := fs.String("id", "", "brand id (a-z, 0-9, -)"), fs.String("name", "", "brand name"), fs.String("currency", "CNY", "ISO 4217 currency")
	if err := parse(fs, args, "id", "name"); err != nil {
		return err
	}
	b, err := c.admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: *id, Name: *name, Currency: *cur})
	if err != nil {
		return err
	}
	c.print(b, func() {
		fmt.Fprintf(c.out, "brand %s (%s) created, currency %s\n", b.GetId(), b.GetName(), b.GetCurrency())
	})
	return nil
}

func storeCreate(ctx context.Context, c *client, args []string) error {
	fs := flags("store create")
	brand, id, name := fs.String("brand", "", "brand id"), fs.String("id", "", "store id"), fs.String("name", "", "store name")
	qrPNG := fs.String("qr-png", "", "also write the pairing ticket's QR code to this PNG file")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return err
	}
	r, err := c.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: *brand, Id: *id, Name: *name})
	if err != nil {
		return err
	}
	if *qrPNG != "" {
		if err := os.WriteFile(*qrPNG, r.GetPairingQrPng(), 0o600); err != nil {
			return fmt.Errorf("write pairing QR code: %w", err)
		}
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "store %s created\npairing code %s (valid until %s)\nstart the store's agent once with --pairing-code '%s'\n",
			r.GetStore().GetId(), r.GetPairingCode(), r.GetPairingExpiresAt().AsTime().Format(time.RFC3339), r.GetPairingUri())
		if t, err := pairing.Parse(r.GetPairingUri()); err == nil {
			if qr, err := t.QRText(); err == nil {
				fmt.Fprintf(c.out, "or scan this pairing ticket:\n%s", qr)
			}
		}
	})
	return nil
}

func programmeGet(ctx context.Context, c *client, args []string) error {
	fs := flags("programme get")
	brand := fs.String("brand", "", "brand id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := c.admin.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	b, _ := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: true}.Marshal(p)
	fmt.Fprintln(c.out, string(b))
	return nil
}

func programmeSet(ctx context.Context, c *client, args []string) error {
	fs := flags("programme set")
	brand, file := fs.String("brand", "", "brand id"), fs.String("file", "", "programme JSON (as printed by programme get)")
	if err := parse(fs, args, "brand", "file"); err != nil {
		return err
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var p pb.Programme
	if err := protojson.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	got, err := c.admin.SetProgramme(ctx, &pb.SetProgrammeRequest{BrandId: *brand, Programme: &p})
	if err != nil {
		return err
	}
	c.print(got, func() {
		fmt.Fprintf(c.out, "programme of %s set: %d tiers, %d top-up rules\n", *brand, len(got.GetTiers()), len(got.GetTopUpRules()))
	})
	return nil
}

func printMember(c *client, m *pb.Member) {
	c.print(m, func() {
		fmt.Fprintf(c.out, "member %s  %s  phone %s  tier %s\n", m.GetId(), m.GetName(), m.GetPhone(), m.GetTierId())
		fmt.Fprintf(c.out, "  points %d  stored value %s (principal %s, bonus %s)  spend %s  visits %d\n", m.GetPoints(),
			yuan(m.GetStoredValuePrincipalFen()+m.GetStoredValueBonusFen()), yuan(m.GetStoredValuePrincipalFen()), yuan(m.GetStoredValueBonusFen()),
			yuan(m.GetTotalSpendFen()), m.GetVisits())
		src := m.GetSource()
		fmt.Fprintf(c.out, "  source %s store=%s staff=%s campaign=%s referrer=%s  cards %v  tags %v  consent %v\n",
			src.GetChannel(), src.GetStoreId(), src.GetStaffId(), src.GetCampaignId(), src.GetReferrerMemberId(), m.GetCardNumbers(), m.GetTags(), m.GetConsent())
		if m.GetMergedInto() != "" {
			fmt.Fprintf(c.out, "  merged into %s\n", m.GetMergedInto())
		}
	})
}

func memberCreate(ctx context.Context, c *client, args []string) error {
	fs := flags("member create")
	brand, phone, name := fs.String("brand", "", "brand id"), fs.String("phone", "", "mobile number"), fs.String("name", "", "name")
	birthday, card, tags := fs.String("birthday", "", "YYYY-MM-DD or MM-DD"), fs.String("card", "", "physical card number"), fs.String("tags", "", "comma-separated tags")
	consent := fs.Bool("consent", false, "the member agreed to receive messages")
	if err := parse(fs, args, "brand", "phone"); err != nil {
		return err
	}
	req := &pb.CreateMemberRequest{BrandId: *brand, Phone: *phone, Name: *name, Birthday: *birthday, Consent: *consent, Source: &pb.MemberSource{Channel: "hq"}}
	if *card != "" {
		req.CardNumbers = []string{*card}
	}
	if *tags != "" {
		req.Tags = strings.Split(*tags, ",")
	}
	m, err := c.admin.CreateMember(ctx, req)
	if err != nil {
		return err
	}
	printMember(c, m)
	return nil
}

func memberGet(ctx context.Context, c *client, args []string) error {
	fs := flags("member get")
	brand, id, phone := fs.String("brand", "", "brand id"), fs.String("id", "", "member id"), fs.String("phone", "", "or the phone number")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := c.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: *brand, MemberId: *id, Phone: *phone})
	if err != nil {
		return err
	}
	printMember(c, m)
	return nil
}

func memberHistory(ctx context.Context, c *client, args []string) error {
	fs := flags("member history")
	brand, id := fs.String("brand", "", "brand id"), fs.String("id", "", "member id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := c.admin.GetMemberHistory(ctx, &pb.GetMemberHistoryRequest{BrandId: *brand, MemberId: *id})
	if err != nil {
		return err
	}
	c.print(h, func() {
		printMember(c, h.GetMember())
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "\nledger\twhen (UTC)\treason\tpoints\tprincipal\tbonus\tevent\tnote")
		for _, e := range h.GetPoints() {
			fmt.Fprintf(w, "points\t%s\t%s\t%+d\t\t\t%s\t%s\n", e.GetAt().AsTime().Format("2006-01-02 15:04"), e.GetReason(), e.GetPoints(), e.GetEventId(), e.GetNote())
		}
		for _, e := range h.GetStoredValue() {
			fmt.Fprintf(w, "stored value\t%s\t%s\t\t%s\t%s\t%s\t%s\n", e.GetAt().AsTime().Format("2006-01-02 15:04"), e.GetReason(), yuan(e.GetPrincipalFen()), yuan(e.GetBonusFen()), e.GetEventId(), e.GetNote())
		}
		w.Flush()
		for _, t := range h.GetTierChanges() {
			fmt.Fprintf(c.out, "tier %s -> %s at %s: %s\n", t.GetFromTier(), t.GetToTier(), t.GetAt().AsTime().Format("2006-01-02"), t.GetReason())
		}
		for _, cp := range h.GetCoupons() {
			fmt.Fprintf(c.out, "coupon %s %s %s, expires %s\n", cp.GetCode(), cp.GetName(), strings.TrimPrefix(cp.GetState().String(), "COUPON_STATE_"), cp.GetExpiresAt().AsTime().Format("2006-01-02"))
		}
	})
	return nil
}

func printImport(c *client, r *pb.ImportReport, dry bool) error {
	c.print(r, func() {
		for _, e := range r.GetErrors() {
			field := ""
			if e.GetField() != "" {
				field = " " + e.GetField()
			}
			fmt.Fprintf(c.out, "line %d%s: %s\n", e.GetLine(), field, e.GetMessage())
		}
		switch {
		case len(r.GetErrors()) > 0:
			fmt.Fprintf(c.out, "nothing written: fix the %d errors above and import again\n", len(r.GetErrors()))
		case dry:
			fmt.Fprintf(c.out, "dry run: %d would be created, %d unchanged\n", r.GetCreated(), r.GetUnchanged())
		default:
			fmt.Fprintf(c.out, "%d created, %d unchanged\n", r.GetCreated(), r.GetUnchanged())
		}
	})
	if len(r.GetErrors()) > 0 {
		return fmt.Errorf("import refused: %d errors", len(r.GetErrors()))
	}
	return nil
}

func importFile(ctx context.Context, c *client, args []string, name string, call func(context.Context, *pb.ImportRequest) (*pb.ImportReport, error)) error {
	fs := flags(name)
	brand, file, dry := fs.String("brand", "", "brand id"), fs.String("file", "", "CSV file"), fs.Bool("dry-run", false, "check every row, write nothing")
	if err := parse(fs, args, "brand", "file"); err != nil {
		return err
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	r, err := call(ctx, &pb.ImportRequest{BrandId: *brand, Csv: raw, DryRun: *dry})
	if err != nil {
		return err
	}
	return printImport(c, r, *dry)
}

func memberImport(ctx context.Context, c *client, args []string) error {
	return importFile(ctx, c, args, "member import", func(ctx context.Context, r *pb.ImportRequest) (*pb.ImportReport, error) {
		return c.admin.ImportMembers(ctx, r)
	})
}

func voucherImport(ctx context.Context, c *client, args []string) error {
	return importFile(ctx, c, args, "voucher import", func(ctx context.Context, r *pb.ImportRequest) (*pb.ImportReport, error) {
		return c.admin.ImportVouchers(ctx, r)
	})
}

func memberMerge(ctx context.Context, c *client, args []string) error {
	fs := flags("member merge")
	brand, keep, merge := fs.String("brand", "", "brand id"), fs.String("keep", "", "member id to keep"), fs.String("merge", "", "member id to fold into it")
	if err := parse(fs, args, "brand", "keep", "merge"); err != nil {
		return err
	}
	m, err := c.admin.MergeMembers(ctx, &pb.MergeMembersRequest{BrandId: *brand, KeepMemberId: *keep, MergeMemberId: *merge})
	if err != nil {
		return err
	}
	printMember(c, m)
	return nil
}

func memberLink(ctx context.Context, c *client, args []string) error {
	fs := flags("member link")
	brand, id := fs.String("brand", "", "brand id"), fs.String("id", "", "member id")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return err
	}
	l, err := c.admin.GetMemberCardLink(ctx, &pb.GetMemberCardLinkRequest{BrandId: *brand, MemberId: *id})
	if err != nil {
		return err
	}
	c.print(l, func() {
		if l.GetUrl() != "" {
			fmt.Fprintln(c.out, l.GetUrl())
		} else {
			fmt.Fprintf(c.out, "%s\n(path on the cloud's member page server; start the cloud with --public-url for a full link)\n", l.GetPath())
		}
	})
	return nil
}

func couponTemplate(ctx context.Context, c *client, args []string) error {
	fs := flags("coupon template")
	brand, id, name, kind := fs.String("brand", "", "brand id"), fs.String("id", "", "template id"), fs.String("name", "", "name shown to members"), fs.String("kind", "amount_off", "amount_off, percent_off or free_item")
	amount, pct, item := fs.Int64("amount-fen", 0, "amount off in fen"), fs.Int("percent-bp", 0, "percent off in basis points (1000 = 10%)"), fs.String("item", "", "free item")
	minSpend, days, limit := fs.Int64("min-spend-fen", 0, "minimum spend in fen"), fs.Int("valid-days", 30, "valid this many days from issue"), fs.Int("per-member", 0, "per-member limit (0: none)")
	stores := fs.String("stores", "", "comma-separated store ids (empty: all)")
	if err := parse(fs, args, "brand", "id", "name"); err != nil {
		return err
	}
	k := map[string]pb.CouponKind{"amount_off": pb.CouponKind_COUPON_KIND_AMOUNT_OFF, "percent_off": pb.CouponKind_COUPON_KIND_PERCENT_OFF, "free_item": pb.CouponKind_COUPON_KIND_FREE_ITEM}[*kind]
	t := &pb.CouponTemplate{BrandId: *brand, Id: *id, Name: *name, Kind: k, AmountOffFen: *amount, PercentOffBp: int32(*pct), FreeItem: *item,
		MinSpendFen: *minSpend, ValidDays: int32(*days), PerMemberLimit: int32(*limit)}
	if *stores != "" {
		t.StoreIds = strings.Split(*stores, ",")
	}
	got, err := c.admin.CreateCouponTemplate(ctx, t)
	if err != nil {
		return err
	}
	c.print(got, func() { fmt.Fprintf(c.out, "coupon template %s (%s) created\n", got.GetId(), got.GetName()) })
	return nil
}

func couponIssue(ctx context.Context, c *client, args []string) error {
	fs := flags("coupon issue")
	brand, tpl, members, tag := fs.String("brand", "", "brand id"), fs.String("template", "", "template id"), fs.String("members", "", "comma-separated member ids"), fs.String("tag", "", "or every member with this tag")
	if err := parse(fs, args, "brand", "template"); err != nil {
		return err
	}
	req := &pb.IssueCouponsRequest{BrandId: *brand, TemplateId: *tpl, Tag: *tag}
	if *members != "" {
		req.MemberIds = strings.Split(*members, ",")
	}
	r, err := c.admin.IssueCoupons(ctx, req)
	if err != nil {
		return err
	}
	c.print(r, func() {
		for _, cp := range r.GetCoupons() {
			fmt.Fprintf(c.out, "coupon %s to member %s, expires %s\n", cp.GetCode(), cp.GetMemberId(), cp.GetExpiresAt().AsTime().Format("2006-01-02"))
		}
		for _, s := range r.GetSkipped() {
			fmt.Fprintf(c.out, "skipped %s\n", s)
		}
		fmt.Fprintf(c.out, "%d issued, %d skipped\n", len(r.GetCoupons()), len(r.GetSkipped()))
	})
	return nil
}

func conflicts(ctx context.Context, c *client, args []string) error {
	fs := flags("conflicts")
	brand, limit := fs.String("brand", "", "brand id"), fs.Uint("limit", 100, "at most this many")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := c.admin.ListConflicts(ctx, &pb.ListConflictsRequest{BrandId: *brand, Limit: uint32(*limit)})
	if err != nil {
		return err
	}
	c.print(r, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "seq\twhen (UTC)\tkind\tstore\tmember\tat risk\tdetail\tresolution")
		for _, x := range r.GetConflicts() {
			risk := ""
			if x.GetAmountFen() != 0 {
				risk = yuan(x.GetAmountFen())
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.GetSeq(), x.GetAt().AsTime().Format("2006-01-02 15:04"), x.GetKind(), x.GetStoreId(), x.GetMemberId(), risk, x.GetDetail(), x.GetResolution())
		}
		w.Flush()
	})
	return nil
}

func stats(ctx context.Context, c *client, args []string) error {
	fs := flags("stats")
	brand := fs.String("brand", "", "brand id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := c.admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	c.print(s, func() {
		fmt.Fprintf(c.out, "members %d, events %d (visits %d, rejected %d)\n", s.GetMembers(), s.GetEvents(), s.GetVisits(), s.GetRejectedEvents())
		for _, d := range s.GetDevices() {
			fmt.Fprintf(c.out, "device %s store %s acked seq %d last seen %s\n", d.GetDeviceId(), d.GetStoreId(), d.GetAckedSeq(), d.GetLastSeenAt().AsTime().Format(time.RFC3339))
		}
	})
	return nil
}

func maintenance(ctx context.Context, c *client, args []string) error {
	fs := flags("maintenance")
	brand := fs.String("brand", "", "brand id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := c.admin.RunMaintenance(ctx, &pb.RunMaintenanceRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "tiers changed %d, points expired %d, coupons expired %d\n", r.GetTiersChanged(), r.GetPointsExpired(), r.GetCouponsExpired())
	})
	return nil
}

func deviceRevoke(ctx context.Context, c *client, args []string) error {
	fs := flags("device revoke")
	brand, id := fs.String("brand", "", "brand id"), fs.String("id", "", "device id (see stats)")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return err
	}
	d, err := c.admin.RevokeDevice(ctx, &pb.RevokeDeviceRequest{BrandId: *brand, DeviceId: *id})
	if err != nil {
		return err
	}
	c.print(d, func() {
		fmt.Fprintf(c.out, "device %s of store %s revoked: its calls are refused from now on; it keeps recording offline until re-paired\n", d.GetDeviceId(), d.GetStoreId())
	})
	return nil
}
