// Command demo runs the whole system on one machine: it builds and starts
// a cloud (embedded SQLite storage) and a store agent, creates a brand with
// members, drives the agent through a simulated scanner on a
// pseudo-terminal (cards, member codes, a garbled line, scans while the
// cloud is down) and prints what reached the cloud.
//
//	go run ./scripts/demo          (or: make demo)
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/proto/pairing"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

func main() {
	keep := flag.Bool("keep", false, "keep the demo's data directory instead of removing it")
	flag.BoolVar(&waitForConsole, "console-wait", isTerminal(os.Stdin), "keep the cloud and HQ's console running at the end until Enter is pressed (default: when run from a terminal)")
	verbose := flag.Bool("v", false, "show the cloud's and agent's logs")
	flag.Parse()
	if err := run(*keep, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

type demo struct {
	admin   *harness.Admin
	kiosk   string
	cashier *harness.Kiosk // signed in on the kiosk
	scanner serialsim.Scanner
	msr     io.Writer // the magnetic stripe reader's line
	brand   string
}

func step(format string, args ...any) { fmt.Printf("\n== "+format+"\n", args...) }

func run(keep, verbose bool) error {
	dir, err := os.MkdirTemp("", "memberpass-demo")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("data directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	var tee io.Writer
	if verbose {
		tee = os.Stderr
	}
	ctx := context.Background()

	step("Building the cloud and the agent")
	bins, err := harness.Build(ctx, filepath.Join(dir, "bin"))
	if err != nil {
		return err
	}
	cloudAddr, _ := harness.FreeAddr()
	kioskAddr, _ := harness.FreeAddr()
	consoleAddr, _ := harness.FreeAddr()
	const token = "demo-hq-token"
	opsAddr, _ := harness.FreeAddr()
	cloudOpts := harness.CloudOptions{DataDir: filepath.Join(dir, "cloud"), Addr: cloudAddr, Token: token, TLS: true, Tee: tee,
		Extra: []string{"--http-listen", opsAddr, "--console-listen", consoleAddr}}
	step("Filling a second brand with a month of life for HQ's console")
	if err := os.MkdirAll(cloudOpts.DataDir, 0o700); err != nil {
		return err
	}
	cd, err := seedConsole(ctx, filepath.Join(cloudOpts.DataDir, "cloud.sqlite"))
	if err != nil {
		return err
	}
	fmt.Printf("brand %s: %d stores, %d members, %d events over 30 days, one offline conflict\n", cd.Brand, len(cd.Stores), cd.Members, cd.Events)
	cloud, err := harness.StartCloud(bins, cloudOpts)
	if err != nil {
		return err
	}
	defer func() { cloud.Stop(10 * time.Second) }()
	fmt.Printf("cloud listening on %s (SQLite in %s)\n", cloudAddr, cloudOpts.DataDir)
	printConsole(consoleAddr, cd)

	caPEM, err := os.ReadFile(filepath.Join(cloudOpts.DataDir, "tls", "ca.pem"))
	if err != nil {
		return err
	}
	admin, err := harness.DialAdminTLS(cloudAddr, token, caPEM)
	if err != nil {
		return err
	}
	defer admin.Close()
	d := &demo{admin: admin, kiosk: kioskAddr, brand: "cha-demo"}

	step("HQ creates a brand, a store and members")
	if _, err := admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: d.brand, Name: "茶小满 Tea Demo", Currency: "CNY"}); err != nil {
		return err
	}
	store, err := admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: d.brand, Id: "sh-jingan", Name: "上海静安店"})
	if err != nil {
		return err
	}
	fmt.Printf("brand %s, store %s, pairing code %s\npairing ticket (pins the cloud's TLS CA) %s\n", d.brand, store.GetStore().GetId(), store.GetPairingCode(), store.GetPairingUri())
	if t, err := pairing.Parse(store.GetPairingUri()); err == nil {
		if qr, err := t.QRText(); err == nil {
			fmt.Print(qr)
		}
	}
	people := []struct{ phone, name, card string }{
		{"13800138001", "王芳", "6100000001"},
		{"13800138002", "李雷", "6100000002"},
		{"13800138003", "韩梅梅", "6100000003"},
		{"+86 139 0013 8004", "Zhang Wei", "6100000004"},
	}
	var members []*pb.Member
	for _, p := range people {
		m, err := admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: d.brand, Phone: p.phone, Name: p.name, CardNumbers: []string{p.card}})
		if err != nil {
			return err
		}
		members = append(members, m)
		fmt.Printf("member %s  %-10s phone %s  card %s\n", m.GetId(), m.GetName(), m.GetPhone(), p.card)
	}

	if _, err := admin.CreateCouponTemplate(ctx, &pb.CouponTemplate{BrandId: d.brand, Id: "ten-off", Name: "满50减10 ¥10 off ¥50", Kind: pb.CouponKind_COUPON_KIND_AMOUNT_OFF,
		AmountOffFen: 1000, MinSpendFen: 5000, ValidDays: 30, PerMemberLimit: 1}); err != nil {
		return err
	}
	issued, err := admin.IssueCoupons(ctx, &pb.IssueCouponsRequest{BrandId: d.brand, TemplateId: "ten-off", MemberIds: []string{members[1].GetId()}})
	if err != nil {
		return err
	}
	coupon := issued.GetCoupons()[0].GetCode()
	fmt.Printf("coupon %s (¥10 off ¥50) issued to %s\n", coupon, members[1].GetName())

	step("The agent pairs, opens the scanner and the card reader (two pseudo-terminals) and pulls its replica")
	pty, err := serialsim.OpenPTY()
	if err != nil {
		return err
	}
	defer pty.Close()
	pty.SetBaud(9600)
	d.scanner = serialsim.Scanner{Line: pty, Suffix: serialsim.CRLF}
	msr, err := serialsim.OpenPTY()
	if err != nil {
		return err
	}
	defer msr.Close()
	msr.SetBaud(9600)
	d.msr = msr
	agentOpts := harness.AgentOptions{
		DataDir: filepath.Join(dir, "agent"), Cloud: cloudAddr, PairingCode: store.GetPairingUri(), TLS: true,
		Scanner: pty.Path, Kiosk: kioskAddr, Extra: []string{"--sync-interval", "300ms", "--card-prefix", "61", "--voucher-prefix", "DY=douyin",
			"--device", "kind=magstripe,name=msr,path=" + msr.Path}, Tee: tee,
	}
	agent, err := harness.StartAgent(bins, agentOpts)
	if err != nil {
		return err
	}
	defer func() { agent.Stop(10 * time.Second) }()
	if err := harness.WaitFor(15*time.Second, "the replica", func() (bool, error) {
		rep, err := harness.AgentStatus(kioskAddr)
		return err == nil && rep.ReplicaAgeSeconds >= 0 && len(rep.Devices) == 2 && rep.Devices[0].Connected && rep.Devices[1].Connected, err
	}); err != nil {
		return err
	}
	fmt.Printf("agent serving the kiosk on http://%s, scanner on %s and card reader on %s at 9600 baud\n", kioskAddr, pty.Path, msr.Path)

	step("Scans at the counter")
	code, err := admin.IssueMemberCode(ctx, &pb.IssueMemberCodeRequest{BrandId: d.brand, MemberId: members[0].GetId()})
	if err != nil {
		return err
	}
	fmt.Printf("member code for %s (%d characters, %.0f ms at 9600 baud): %s...\n",
		members[0].GetName(), len(code.GetCode()), float64(len(code.GetCode())+2)*10/9600*1000, code.GetCode()[:24])
	scans := []struct{ label, text string }{
		{"member code on 王芳's phone", code.GetCode()},
		{"李雷's card", people[1].card},
		{"韩梅梅's card", people[2].card},
		{"an unknown card", "6199999999"},
		{"a product barcode (EAN-13)", "6901234567892"},
		{"a group-buy voucher", "DY202611220001"},
		{"a line that is nothing we know", "HELLO-1234"},
		{"王芳's code scanned again later", code.GetCode()},
	}
	for _, s := range scans {
		if err := d.scan(s.label, s.text); err != nil {
			return err
		}
	}
	damaged := []byte(serialsim.Track2(people[0].card + "=2912101"))
	damaged[3] ^= 0x01 // one bit lost on the stripe: the LRC no longer matches
	for _, s := range []struct {
		label string
		swipe []byte
	}{
		{"Zhang Wei's card swiped", serialsim.MagstripeCard(people[3].card)},
		{"a swipe with a damaged track", append(damaged, '\r')},
	} {
		if err := d.send(s.label, func() error { _, err := d.msr.Write(s.swipe); return err }); err != nil {
			return err
		}
	}

	step("The cloud goes down; the counter keeps working")
	if err := cloud.Stop(10 * time.Second); err != nil {
		return err
	}
	for _, p := range people[1:] {
		if err := d.scan(p.name+"'s card (offline)", p.card); err != nil {
			return err
		}
	}
	cashier, err := harness.SignIn(kioskAddr, harness.CashierID, harness.CashierPIN)
	if err != nil {
		return err
	}
	d.cashier = cashier
	fmt.Printf("cashier %s (%s) signs in on the kiosk with her PIN; bills are taken for members scanned at this till:\n", harness.CashierName, harness.CashierID)
	if err := d.settle("/api/topups", "李雷 tops up ¥500 (充500送50)", map[string]any{"txn_id": "demo-topup-0001", "member_id": members[1].GetId(), "amount_fen": 50000}); err != nil {
		return err
	}
	if err := d.settle("/api/checkout", "李雷 pays a ¥128.50 bill with the coupon and ¥100 stored value", map[string]any{
		"txn_id": "demo-bill-0001", "member_id": members[1].GetId(), "bill_fen": 12850, "coupon_code": coupon, "stored_value_fen": 10000}); err != nil {
		return err
	}
	if err := d.settle("/api/checkout", "the same bill confirmed again (a double tap)", map[string]any{
		"txn_id": "demo-bill-0001", "member_id": members[1].GetId(), "bill_fen": 12850, "coupon_code": coupon, "stored_value_fen": 10000}); err != nil {
		return err
	}
	if err := d.settle("/api/checkout", "a second bill tries the same coupon", map[string]any{
		"txn_id": "demo-bill-0002", "member_id": members[1].GetId(), "bill_fen": 6000, "coupon_code": coupon}); err != nil {
		return err
	}
	rep, err := harness.AgentStatus(kioskAddr)
	if err != nil {
		return err
	}
	fmt.Printf("agent: %d events waiting in the outbox, cloud online: %v\n", rep.Outbox.Pending, rep.Sync.Online)

	step("The cloud comes back; the agent catches up")
	if cloud, err = harness.StartCloud(bins, cloudOpts); err != nil {
		return err
	}
	if err := harness.WaitFor(30*time.Second, "the outbox to drain", func() (bool, error) {
		rep, err := harness.AgentStatus(kioskAddr)
		return err == nil && rep.Outbox.Pending == 0, err
	}); err != nil {
		return err
	}
	fmt.Println("agent: outbox empty, every event acknowledged")

	step("What reached the cloud")
	stats, err := admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: d.brand})
	if err != nil {
		return err
	}
	fmt.Printf("members %d, events %d (visits %d), rejected %d\n", stats.GetMembers(), stats.GetEvents(), stats.GetVisits(), stats.GetRejectedEvents())
	for _, dev := range stats.GetDevices() {
		fmt.Printf("device %s (%s) acknowledged up to seq %d\n", dev.GetDeviceId(), dev.GetName(), dev.GetAckedSeq())
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "member\tname\tvisits\ttier\tpoints\tstored value (principal + bonus)\tspend\tlast visit (UTC)")
	for _, m := range members {
		got, err := admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: d.brand, MemberId: m.GetId()})
		if err != nil {
			return err
		}
		last := "-"
		if got.GetLastVisitAt() != nil {
			last = got.GetLastVisitAt().AsTime().Format("15:04:05")
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%d\t%s + %s\t%s\t%s\n", got.GetId(), got.GetName(), got.GetVisits(), got.GetTierId(), got.GetPoints(),
			yuan(got.GetStoredValuePrincipalFen()), yuan(got.GetStoredValueBonusFen()), yuan(got.GetTotalSpendFen()), last)
	}
	w.Flush()
	conflicts, err := admin.ListConflicts(ctx, &pb.ListConflictsRequest{BrandId: d.brand})
	if err != nil {
		return err
	}
	fmt.Printf("conflicts for HQ: %d\n", len(conflicts.GetConflicts()))
	if err := fleetHealth(ctx, admin, d.brand, opsAddr); err != nil {
		return err
	}
	fmt.Println("\ndemo finished: every scan the counter recorded reached the cloud exactly once")
	if waitForConsole {
		printConsole(consoleAddr, cd)
		fmt.Println("The console stays up until you press Enter (or Ctrl-C).")
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	return nil
}

// scan sends one scan and prints what the counter made of it.
func (d *demo) scan(label, text string) error {
	return d.send(label, func() error { return d.scanner.Scan(text) })
}

// send has a device send something and prints what the counter made of it.
func (d *demo) send(label string, write func() error) error {
	before, err := harness.AgentStatus(d.kiosk)
	if err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	var rep = before
	err = harness.WaitFor(10*time.Second, "the scan's result", func() (bool, error) {
		rep, err = harness.AgentStatus(d.kiosk)
		return err == nil && len(rep.Recent) > len(before.Recent) || len(rep.Recent) == 50, err
	})
	if err != nil {
		return err
	}
	r := rep.Recent[len(rep.Recent)-1]
	fmt.Printf("%-34s -> %s\n", label, r.String())
	if r.Refusal != nil {
		fmt.Printf("%-34s    %s\n", "", r.Refusal.Zh)
	}
	if r.Notice != nil {
		fmt.Printf("%-34s    %s\n", "", r.Notice.Zh)
	}
	return nil
}

func yuan(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }

// settle posts a counter transaction to the kiosk, as the page does when
// the cashier confirms, and prints the outcome.
func (d *demo) settle(path, label string, body map[string]any) error {
	var out struct {
		Event *struct {
			Seq      uint64
			Purchase *struct{ StoredValueFen, PaidOtherFen int64 }
			TopUp    *struct{ AmountFen, BonusFen int64 }
		} `json:"event"`
		Quote *struct {
			TierDiscountFen   int64 `json:"tier_discount_fen"`
			CouponDiscountFen int64 `json:"coupon_discount_fen"`
			DueFen            int64 `json:"due_fen"`
		} `json:"quote"`
		Again   bool                           `json:"again"`
		Refusal *struct{ Code, Zh, En string } `json:"refusal"`
	}
	code, err := d.cashier.Do("POST", path, body, &out)
	if err != nil {
		return err
	}
	switch ev := out.Event; {
	case out.Refusal != nil:
		fmt.Printf("  %-60s -> refused: %s\n  %-60s    %s\n", label, out.Refusal.En, "", out.Refusal.Zh)
	case ev == nil:
		return fmt.Errorf("%s: status %d with neither a record nor a refusal", path, code)
	case out.Again:
		fmt.Printf("  %-60s -> already recorded as seq %d; recorded once\n", label, ev.Seq)
	case ev.TopUp != nil:
		fmt.Printf("  %-60s -> recorded seq %d: %s + bonus %s\n", label, ev.Seq, yuan(ev.TopUp.AmountFen), yuan(ev.TopUp.BonusFen))
	case ev.Purchase != nil && out.Quote != nil:
		fmt.Printf("  %-60s -> recorded seq %d: tier discount %s, coupon %s, due %s = stored value %s + other %s\n", label, ev.Seq,
			yuan(out.Quote.TierDiscountFen), yuan(out.Quote.CouponDiscountFen), yuan(out.Quote.DueFen), yuan(ev.Purchase.StoredValueFen), yuan(ev.Purchase.PaidOtherFen))
	default:
		fmt.Printf("  %-60s -> recorded seq %d\n", label, ev.Seq)
	}
	return nil
}

// fleetHealth prints what HQ's fleet view and the cloud's probes say.
func fleetHealth(ctx context.Context, admin pb.AdminServiceClient, brand, opsAddr string) error {
	h, err := admin.GetFleetHealth(ctx, &pb.GetFleetHealthRequest{BrandId: brand})
	if err != nil {
		return err
	}
	for _, d := range h.GetDevices() {
		state := "ok"
		if d.GetStale() {
			state = "STALE"
		}
		fmt.Printf("fleet health: device %s of store %s %s, version %s, outbox %d (memberpass-hq stores health)\n",
			d.GetDeviceId(), d.GetStoreId(), state, d.GetReport().GetVersion(), d.GetReport().GetOutboxPending())
	}
	resp, err := http.Get("http://" + opsAddr + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Printf("cloud probes on http://%s: /readyz %d (also /healthz, /metrics)\n", opsAddr, resp.StatusCode)
	return nil
}
