package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

const reportNames = "dashboard, retention, groupbuy, conversion, rfm, campaigns, liabilities, conflicts"

func reportCmd(ctx context.Context, c *client, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("report: name a report (" + reportNames + ")")
	}
	name := args[0]
	fs := flags("report " + name)
	brand, store := fs.String("brand", "", "brand id"), fs.String("store", "", "one store only")
	from, to := fs.String("from", "", "first day YYYY-MM-DD (brand's zone); default: to, or 29 days before it"), fs.String("to", "", "last day YYYY-MM-DD; default today")
	asCSV, asJSON := fs.Bool("csv", false, "print the table as CSV"), fs.Bool("json", false, "print the whole result (table and series) as JSON")
	if err := parse(fs, args[1:], "brand"); err != nil {
		return err
	}
	t, err := c.admin.GetReport(ctx, &pb.GetReportRequest{BrandId: *brand, Report: name, StoreId: *store, From: *from, To: *to})
	if err != nil {
		return err
	}
	switch {
	case *asJSON || c.json:
		b, _ := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(t)
		fmt.Fprintln(c.out, string(b))
	case *asCSV:
		cw := csv.NewWriter(c.out)
		head := make([]string, len(t.GetColumns()))
		for i, col := range t.GetColumns() {
			head[i] = col.GetKey()
		}
		cw.Write(head)
		for _, r := range t.GetRows() {
			cw.Write(r.GetCells())
		}
		cw.Flush()
		return cw.Error()
	default:
		printReport(c, t)
	}
	return nil
}

// printReport prints a report as a table for people: money in yuan, rates
// in percent, then each series.
func printReport(c *client, t *pb.ReportTable) {
	where := "all stores"
	if t.GetStoreId() != "" {
		where = "store " + t.GetStoreId()
	}
	fmt.Fprintf(c.out, "%s, brand %s, %s, %s to %s\n\n", t.GetReport(), t.GetBrandId(), where, t.GetFrom(), t.GetTo())
	w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	var head []string
	for _, col := range t.GetColumns() {
		head = append(head, col.GetTitle())
	}
	fmt.Fprintln(w, strings.Join(head, "\t")+"\t")
	for _, r := range t.GetRows() {
		cells := make([]string, len(r.GetCells()))
		for i, v := range r.GetCells() {
			kind := ""
			if i < len(t.GetColumns()) {
				kind = t.GetColumns()[i].GetKind()
			}
			cells[i] = human(kind, v)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t")+"\t")
	}
	w.Flush()
	for _, s := range t.GetSeries() {
		fmt.Fprintf(c.out, "\n%s:", s.GetTitle())
		for _, p := range s.GetPoints() {
			fmt.Fprintf(c.out, " %s=%s", p.GetX(), human(s.GetKind(), strconv.FormatInt(p.GetY(), 10)))
		}
		fmt.Fprintln(c.out)
	}
	for _, n := range t.GetNotes() {
		fmt.Fprintln(c.out, "note:", n)
	}
}

func human(kind, v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return v
	}
	switch kind {
	case "fen":
		return yuan(n)
	case "bp":
		sign := ""
		if n < 0 {
			sign, n = "-", -n
		}
		return fmt.Sprintf("%s%d.%02d%%", sign, n/100, n%100)
	}
	return v
}
