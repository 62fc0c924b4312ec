package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// rulesArg reads a segment's rules from --rules or --file.
func rulesArg(inline, file string) (string, error) {
	if inline != "" && file != "" {
		return "", errors.New("give --rules or --file, not both")
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("rules file: %w", err)
		}
		return string(raw), nil
	}
	return inline, nil
}

const rulesHelp = `rules as JSON, e.g. {"stages":["lapsing"],"tags":["vip"],"window_days":90,"visits":{"min":2}}`

func segmentCreate(ctx context.Context, c *client, args []string) error {
	fs := flags("segment create")
	brand, name := fs.String("brand", "", "brand id"), fs.String("name", "", "segment name")
	inline, file := fs.String("rules", "", rulesHelp), fs.String("file", "", "file holding the rules as JSON")
	if err := parse(fs, args, "brand", "name"); err != nil {
		return err
	}
	rules, err := rulesArg(*inline, *file)
	if err != nil {
		return err
	}
	s, err := c.admin.SaveSegment(ctx, &pb.SaveSegmentRequest{BrandId: *brand, Name: *name, RulesJson: rules})
	if err != nil {
		return err
	}
	n, err := c.admin.CountSegment(ctx, &pb.CountSegmentRequest{BrandId: *brand, Name: *name})
	if err != nil {
		return err
	}
	c.print(s, func() {
		fmt.Fprintf(c.out, "segment %s saved: %d members now\nrules %s\n", s.GetName(), n.GetMembers(), s.GetRulesJson())
	})
	return nil
}

func segmentList(ctx context.Context, c *client, args []string) error {
	fs := flags("segment list")
	brand := fs.String("brand", "", "brand id")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	r, err := c.admin.ListSegments(ctx, &pb.ListSegmentsRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	c.print(r, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "name\tupdated (UTC)\trules")
		for _, s := range r.GetSegments() {
			fmt.Fprintf(w, "%s\t%s\t%s\n", s.GetName(), s.GetUpdatedAt().AsTime().Format("2006-01-02 15:04"), s.GetRulesJson())
		}
		w.Flush()
	})
	return nil
}

func segmentCount(ctx context.Context, c *client, args []string) error {
	fs := flags("segment count")
	brand, name := fs.String("brand", "", "brand id"), fs.String("name", "", "a saved segment")
	inline, file := fs.String("rules", "", "or rules not saved: "+rulesHelp), fs.String("file", "", "file holding rules not saved")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	rules, err := rulesArg(*inline, *file)
	if err != nil {
		return err
	}
	if (*name == "") == (rules == "") {
		return errors.New("segment count: give --name or --rules/--file")
	}
	r, err := c.admin.CountSegment(ctx, &pb.CountSegmentRequest{BrandId: *brand, Name: *name, RulesJson: rules})
	if err != nil {
		return err
	}
	c.print(r, func() { fmt.Fprintln(c.out, r.GetMembers()) })
	return nil
}

func segmentExport(ctx context.Context, c *client, args []string) error {
	fs := flags("segment export")
	brand, name := fs.String("brand", "", "brand id"), fs.String("name", "", "segment name")
	out := fs.String("out", "", "write the CSV to this file (default: standard output)")
	if err := parse(fs, args, "brand", "name"); err != nil {
		return err
	}
	w := c.out
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("segment export: %w", err)
		}
		defer f.Close()
		w = f
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"member_id", "name", "phone", "tier", "stage", "visits", "last_visit_at", "points", "stored_value_fen", "total_spend_fen"})
	token, n := "", 0
	for {
		page, err := c.admin.ExportSegment(ctx, &pb.ExportSegmentRequest{BrandId: *brand, Name: *name, PageToken: token})
		if err != nil {
			return err
		}
		for _, m := range page.GetMembers() {
			last := ""
			if m.GetLastVisitAt() != nil {
				last = m.GetLastVisitAt().AsTime().UTC().Format(time.RFC3339)
			}
			cw.Write([]string{m.GetMemberId(), m.GetName(), m.GetPhone(), m.GetTierId(), m.GetStage(), strconv.FormatInt(m.GetVisits(), 10), last,
				strconv.FormatInt(m.GetPoints(), 10), strconv.FormatInt(m.GetStoredValueFen(), 10), strconv.FormatInt(m.GetTotalSpendFen(), 10)})
			n++
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("segment export: %w", err)
	}
	if *out != "" {
		fmt.Fprintf(c.out, "%d members written to %s\n", n, *out)
	}
	return nil
}

func segmentDelete(ctx context.Context, c *client, args []string) error {
	fs := flags("segment delete")
	brand, name := fs.String("brand", "", "brand id"), fs.String("name", "", "segment name")
	if err := parse(fs, args, "brand", "name"); err != nil {
		return err
	}
	r, err := c.admin.DeleteSegment(ctx, &pb.DeleteSegmentRequest{BrandId: *brand, Name: *name})
	if err != nil {
		return err
	}
	c.print(r, func() { fmt.Fprintf(c.out, "segment %s deleted\n", *name) })
	return nil
}

func segmentSettings(ctx context.Context, c *client, args []string) error {
	fs := flags("segment settings")
	brand := fs.String("brand", "", "brand id")
	newDays, active, lapsed := fs.Int("new-days", 0, "new for this many days after joining"), fs.Int("active-days", 0, "active while the last visit is this recent"), fs.Int("lapsed-days", 0, "lapsed after this many days without a visit")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	var r *pb.LifecycleSettings
	var err error
	if *newDays == 0 && *active == 0 && *lapsed == 0 {
		r, err = c.admin.GetLifecycleSettings(ctx, &pb.GetLifecycleSettingsRequest{BrandId: *brand})
	} else {
		r, err = c.admin.SetLifecycleSettings(ctx, &pb.LifecycleSettings{BrandId: *brand, NewDays: int32(*newDays), ActiveDays: int32(*active), LapsedDays: int32(*lapsed)})
	}
	if err != nil {
		return err
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "new %d days, active %d days, lapsed after %d days\n", r.GetNewDays(), r.GetActiveDays(), r.GetLapsedDays())
	})
	return nil
}
