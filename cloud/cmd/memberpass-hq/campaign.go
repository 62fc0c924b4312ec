package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func campaignCommands() []command {
	return []command{
		{"campaign create", "--brand --id --name --trigger KIND [--days N --holiday ID --month --n N --min-fen F --amount-fen F --period month] [--coupon TEMPLATE --valid-days N --points N --bonus-fen F --message TEMPLATE --channel sms] [--tags a,b] [--holdout-bp 1000 | --no-holdout] [--max-coupons N --max-money-fen F] | --file campaign.json", campaignCreate},
		{"campaign list", "--brand", campaignList},
		{"campaign preview", "--brand --id: audience size and cost; nothing is given", campaignPreview},
		{"campaign dry-run", "--brand --id [--limit 50]: who would get what; nothing is given", campaignDryRun},
		{"campaign start", "--brand --id", campaignState("start")},
		{"campaign pause", "--brand --id", campaignState("pause")},
		{"campaign resume", "--brand --id", campaignState("resume")},
		{"campaign end", "--brand --id", campaignState("end")},
		{"campaign results", "--brand --id [--days 30]: treated against holdout, lift with a 95% interval", campaignResults},
	}
}

func campaignCreate(ctx context.Context, c *client, args []string) error {
	fs := flags("campaign create")
	brand, id, name, file := fs.String("brand", "", "brand id"), fs.String("id", "", "campaign id"), fs.String("name", "", "campaign name"), fs.String("file", "", "the campaign as JSON (AdminService Campaign); flags given override its fields")
	trigger := fs.String("trigger", "", "trigger kind: visit, purchase, nth_visit, spend_reached, top_up, join, voucher_return, tier_upgrade, referral_first_purchase, birthday, holiday, coupon_expiring, points_expiring, lapsed, one_off")
	days := fs.Int("days", 0, "days before (birthday, holiday), within (expiring), since the last visit (lapsed)")
	holiday := fs.String("holiday", "", "holiday id: new_year, spring_festival, lantern, 520, dragon_boat, qixi, mid_autumn, national_day, double_11")
	month := fs.Bool("month", false, "birthday: in the birthday month")
	n := fs.Int("n", 0, "nth_visit: the visit number")
	minFen := fs.Int64("min-fen", 0, "purchase, top_up: the floor in fen")
	amountFen := fs.Int64("amount-fen", 0, "spend_reached: the amount in fen")
	period := fs.String("period", "", "spend_reached: week, month or year")
	coupon := fs.String("coupon", "", "action: issue a coupon of this template")
	validDays := fs.Int("valid-days", 0, "the coupon's own validity in days")
	points := fs.Int64("points", 0, "action: award points")
	bonus := fs.Int64("bonus-fen", 0, "action: stored-value bonus in fen")
	message := fs.String("message", "", "action: send a message of this template")
	channel := fs.String("channel", "sms", "the message's channel: wechat, sms, webhook")
	tags := fs.String("tags", "", "audience: members with one of these tags")
	holdout := fs.Int("holdout-bp", 0, "holdout share in basis points (default 1000 = 10%)")
	noHoldout := fs.Bool("no-holdout", false, "keep no holdout (results show no proof)")
	maxCoupons := fs.Int64("max-coupons", 0, "budget: at most this many coupons")
	maxMoney := fs.Int64("max-money-fen", 0, "budget: at most this much money in fen")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	req := &pb.Campaign{}
	if *file != "" {
		raw, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		if err := protojson.Unmarshal(raw, req); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	req.BrandId = *brand
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&req.Id, *id)
	set(&req.Name, *name)
	if *trigger != "" {
		req.Trigger = &pb.CampaignTrigger{Kind: *trigger, Days: int32(*days), Holiday: *holiday, BirthdayMonth: *month, N: int32(*n), MinFen: *minFen, AmountFen: *amountFen, Period: *period}
	}
	if *coupon != "" {
		req.Actions = append(req.Actions, &pb.CampaignAction{Kind: "coupon", TemplateId: *coupon, ValidDays: int32(*validDays)})
	}
	if *points > 0 {
		req.Actions = append(req.Actions, &pb.CampaignAction{Kind: "points", Points: *points})
	}
	if *bonus > 0 {
		req.Actions = append(req.Actions, &pb.CampaignAction{Kind: "stored_value_bonus", BonusFen: *bonus})
	}
	if *message != "" {
		req.Actions = append(req.Actions, &pb.CampaignAction{Kind: "message", TemplateId: *message, Channel: *channel})
	}
	if *tags != "" {
		req.Audience = &pb.CampaignAudience{Tags: strings.Split(*tags, ",")}
	}
	if *holdout > 0 || *noHoldout {
		req.HoldoutBp, req.HoldoutSet = int32(*holdout), true
	}
	if *maxCoupons > 0 || *maxMoney > 0 {
		req.Budget = &pb.CampaignCost{Coupons: *maxCoupons, MoneyFen: *maxMoney}
	}
	if req.Id == "" || req.Name == "" || req.GetTrigger().GetKind() == "" {
		return fmt.Errorf("campaign create: give --id, --name and --trigger (or a --file with them)")
	}
	out, err := c.admin.CreateCampaign(ctx, req)
	if err != nil {
		return err
	}
	c.print(out, func() {
		fmt.Fprintf(c.out, "campaign %s (%s) created as a draft: trigger %s, %d action(s), %s\n", out.GetId(), out.GetName(), out.GetTrigger().GetKind(), len(out.GetActions()), holdoutText(out.GetHoldoutBp()))
	})
	return nil
}

func holdoutText(bp int32) string {
	if bp == 0 {
		return "no holdout (no proof / 无对照组)"
	}
	return fmt.Sprintf("holdout %d.%02d%%", bp/100, bp%100)
}

func campaignList(ctx context.Context, c *client, args []string) error {
	fs := flags("campaign list")
	brand := fs.String("brand", "", "brand id")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	out, err := c.admin.ListCampaigns(ctx, &pb.ListCampaignsRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	c.print(out, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tTRIGGER\tSTATUS\tMEMBERS\tHOLDOUT\tCOUPONS\tPOINTS\tMONEY")
		for _, x := range out.GetCampaigns() {
			s := x.GetSpent()
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", x.GetId(), x.GetName(), x.GetTrigger().GetKind(), x.GetStatus(), s.GetMembers(), s.GetHoldout(), s.GetCoupons(), s.GetPoints(), yuan(s.GetMoneyFen()))
		}
		w.Flush()
	})
	return nil
}

func campaignRef(name string, args []string) (*pb.CampaignRef, error) {
	fs := flags(name)
	brand, id := fs.String("brand", "", "brand id"), fs.String("id", "", "campaign id")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return nil, err
	}
	return &pb.CampaignRef{BrandId: *brand, Id: *id}, nil
}

func campaignState(action string) func(context.Context, *client, []string) error {
	return func(ctx context.Context, c *client, args []string) error {
		ref, err := campaignRef("campaign "+action, args)
		if err != nil {
			return err
		}
		out, err := c.admin.SetCampaignState(ctx, &pb.SetCampaignStateRequest{BrandId: ref.BrandId, Id: ref.Id, Action: action})
		if err != nil {
			return err
		}
		c.print(out, func() { fmt.Fprintf(c.out, "campaign %s is %s\n", out.GetId(), out.GetStatus()) })
		return nil
	}
}

func costText(c *pb.CampaignCost) string {
	return fmt.Sprintf("%d coupon(s), %d point(s), %s", c.GetCoupons(), c.GetPoints(), yuan(c.GetMoneyFen()))
}

func campaignPreview(ctx context.Context, c *client, args []string) error {
	ref, err := campaignRef("campaign preview", args)
	if err != nil {
		return err
	}
	p, err := c.admin.PreviewCampaign(ctx, ref)
	if err != nil {
		return err
	}
	c.print(p, func() {
		fmt.Fprintf(c.out, "audience %d: %d treated, %d held out\ncost %s (per member %s), within budget: %v\n", p.GetAudience(), p.GetTreated(), p.GetHoldout(), costText(p.GetCost()), costText(p.GetPerMember()), p.GetWithinBudget())
		if p.GetNoProof() {
			fmt.Fprintln(c.out, "no holdout: no proof / 无对照组：无法证明效果")
		}
	})
	return nil
}

func campaignDryRun(ctx context.Context, c *client, args []string) error {
	fs := flags("campaign dry-run")
	brand, id, limit := fs.String("brand", "", "brand id"), fs.String("id", "", "campaign id"), fs.Int("limit", 50, "at most this many lines")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return err
	}
	out, err := c.admin.DryRunCampaign(ctx, &pb.DryRunCampaignRequest{BrandId: *brand, Id: *id, Limit: int32(*limit)})
	if err != nil {
		return err
	}
	c.print(out, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "MEMBER\tOCCURRENCE\tGETS")
		for _, l := range out.GetLines() {
			gets := "nothing (holdout)"
			if !l.GetHoldout() {
				var kinds []string
				for _, a := range l.GetActions() {
					kinds = append(kinds, a.GetKind()+" "+a.GetTemplateId())
				}
				gets = strings.Join(kinds, ", ") + " = " + costText(l.GetCost())
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", l.GetMemberId(), l.GetOccurrence(), gets)
		}
		w.Flush()
	})
	return nil
}

func campaignResults(ctx context.Context, c *client, args []string) error {
	fs := flags("campaign results")
	brand, id, days := fs.String("brand", "", "brand id"), fs.String("id", "", "campaign id"), fs.Int("days", 30, "the window after each grant")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return err
	}
	r, err := c.admin.GetCampaignResults(ctx, &pb.CampaignResultsRequest{BrandId: *brand, Id: *id, Days: int32(*days)})
	if err != nil {
		return err
	}
	c.print(r, func() {
		g := func(name string, o *pb.CampaignGroupOutcome) {
			fmt.Fprintf(c.out, "%-8s %d members, %d returned, %d visits, %s spend\n", name, o.GetMembers(), o.GetReturned(), o.GetVisits(), yuan(o.GetSpendFen()))
		}
		g("treated", r.GetTreated())
		g("holdout", r.GetHoldout())
		l := func(name string, x *pb.CampaignLift, scale float64, unit string) {
			switch x.GetStatus() {
			case "ok":
				fmt.Fprintf(c.out, "%s lift %.2f%s (95%% interval %.2f to %.2f)\n", name, x.GetEstimate()*scale, unit, x.GetLow()*scale, x.GetHigh()*scale)
			case "no_proof":
				fmt.Fprintf(c.out, "%s lift: no holdout, no proof / 无对照组\n", name)
			default:
				fmt.Fprintf(c.out, "%s lift: not enough data / 数据不足\n", name)
			}
		}
		l("return rate", r.GetReturnLift(), 100, " points")
		l("spend per member", r.GetSpendLift(), 0.01, " yuan")
		l("visits per member", r.GetVisitLift(), 1, "")
	})
	return nil
}
