package kiosktest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/memberpass/memberpass/agent/counter"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

var screenshots = flag.Bool("screenshots", false, "write the screenshots to docs/screenshots (for the README)")

var bins harness.Binaries

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "memberpass-kiosk-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	bins, err = harness.Build(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	token = "kiosk-hq-token"
	brand = "kiosk-brand"
	store = "shop-1"
)

// shop is a cloud with member pages, a paired agent with a scanner on a
// pty, and a browser.
type shop struct {
	t        *testing.T
	dir      string
	addr     string
	http     string
	kiosk    string
	cloud    *harness.Process
	agent    *harness.Process
	admin    *harness.Admin
	scanner  serialsim.Scanner
	members  []*pb.Member
	cashier  *harness.Kiosk // the test cashier, signed in outside the browser
	browser  *Browser
	shotsDir string
}

func newShop(t *testing.T) *shop {
	t.Helper()
	chromium, err := FindChromium()
	if err != nil {
		t.Fatal(err) // a missing browser fails the test: make deps installs it
	}
	s := &shop{t: t, dir: t.TempDir()}
	for _, a := range []*string{&s.addr, &s.http, &s.kiosk} {
		if *a, err = harness.FreeAddr(); err != nil {
			t.Fatal(err)
		}
	}
	s.startCloud()
	t.Cleanup(func() { stopOrKill(s.cloud) })
	if s.admin, err = harness.DialAdmin(s.addr, token); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.admin.Close() })
	ctx := context.Background()
	if _, err := s.admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: brand, Name: "茶语", Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	st, err := s.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: brand, Id: store, Name: "人民广场店"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"李娜", "王强"} {
		m, err := s.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: brand, Phone: fmt.Sprintf("1390000%04d", i), Name: name, CardNumbers: []string{cardOf(i)}})
		if err != nil {
			t.Fatal(err)
		}
		s.members = append(s.members, m)
	}
	s.setUpProgramme()
	pty, err := serialsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pty.Close() })
	pty.SetBaud(9600)
	s.scanner = serialsim.Scanner{Line: pty, Suffix: serialsim.CRLF}
	s.agent, err = harness.StartAgent(bins, harness.AgentOptions{
		DataDir: filepath.Join(s.dir, "agent"), Cloud: s.addr, PairingCode: st.GetPairingCode(), Scanner: pty.Path, Kiosk: s.kiosk,
		Extra: []string{"--sync-interval", "200ms", "--debounce", "1ms", "--clock-skew", "1s",
			"--join-url", "http://" + s.http + "/join/" + brand + "/" + store},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", s.agent.Log.String())
		}
		stopOrKill(s.agent)
	})
	if s.cashier, err = harness.SignIn(s.kiosk, harness.CashierID, harness.CashierPIN); err != nil {
		t.Fatal(err)
	}
	err = harness.WaitFor(15*time.Second, "the replica to hold the members and their coupons", func() (bool, error) {
		var a struct {
			Coupons []struct{ Usable bool }   `json:"coupons"`
			Tier    *struct{ DiscountBP int } `json:"tier"`
		}
		_, err := s.cashier.Do("GET", "/api/members/"+s.members[0].GetId(), nil, &a)
		return err == nil && len(a.Coupons) == 1 && a.Coupons[0].Usable && a.Tier != nil && a.Tier.DiscountBP == 500, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.browser, err = StartBrowser(chromium, filepath.Join(s.dir, "chromium-profile"), t.Logf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.browser.Close)
	s.shotsDir = t.TempDir()
	if *screenshots {
		root, err := harness.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		s.shotsDir = filepath.Join(root, "docs", "screenshots")
		if err := os.MkdirAll(s.shotsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

const voucherCode = "MT2026VOUCHER01"

// setUpProgramme gives the brand a 5% base-tier discount, points worth a
// fen, a 充500送50 top-up rule, offline limits, a 10-yuan coupon for the
// first member and a group-buy voucher.
func (s *shop) setUpProgramme() {
	s.t.Helper()
	ctx := context.Background()
	p, err := s.admin.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: brand})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, t := range p.GetTiers() {
		if t.GetRank() == 0 {
			t.DiscountBp = 500
		}
	}
	p.PointValueFen = 1
	p.TopUpRules = []*pb.TopUpRule{{MinAmountFen: 50000, BonusFen: 5000}}
	p.Offline = &pb.OfflinePolicy{MaxStoredValuePerMemberDayFen: 30000, MaxPointsBurnPerMemberDay: 5000, MaxReplicaAgeSeconds: 3600}
	if _, err := s.admin.SetProgramme(ctx, &pb.SetProgrammeRequest{BrandId: brand, Programme: p}); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.admin.CreateCouponTemplate(ctx, &pb.CouponTemplate{BrandId: brand, Id: "ten-off", Name: "满50减10", Kind: pb.CouponKind_COUPON_KIND_AMOUNT_OFF,
		AmountOffFen: 1000, MinSpendFen: 5000, ValidDays: 30}); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.admin.IssueCoupons(ctx, &pb.IssueCouponsRequest{BrandId: brand, TemplateId: "ten-off", MemberIds: []string{s.members[0].GetId()}}); err != nil {
		s.t.Fatal(err)
	}
	// Her birthday is this month (in the shop's time zone): the counter
	// shows the birthday-month offer.
	shanghai := time.FixedZone("CST", 8*3600)
	if _, err := s.admin.UpdateMember(ctx, &pb.UpdateMemberRequest{BrandId: brand, MemberId: s.members[0].GetId(), Birthday: time.Now().In(shanghai).Format("01") + "-15"}); err != nil {
		s.t.Fatal(err)
	}
	csv := "code,platform,campaign,face_value_fen,expires,title\n" + voucherCode + ",meituan,spring-tea,3990,2099-12-31,双人下午茶套餐\n"
	rep, err := s.admin.ImportVouchers(ctx, &pb.ImportRequest{BrandId: brand, Csv: []byte(csv)})
	if err != nil || !rep.GetWritten() {
		s.t.Fatalf("import vouchers: %v %v", rep, err)
	}
}

func (s *shop) startCloud() {
	s.t.Helper()
	var err error
	s.cloud, err = harness.StartCloud(bins, harness.CloudOptions{
		DataDir: filepath.Join(s.dir, "cloud"), Addr: s.addr, Token: token,
		Extra: []string{"--http-listen", s.http, "--member-code-ttl", "4s", "--join-codes-to-log"},
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

func stopOrKill(p *harness.Process) {
	if done, _ := p.Exited(); !done {
		if p.Stop(10*time.Second) != nil {
			p.Kill()
		}
	}
}

// fitsAndTouchable is a predicate: the page is no wider than width and
// every visible button is at least 44 px high.
func fitsAndTouchable(width int) string {
	return fmt.Sprintf(`document.documentElement.scrollWidth <= %d && [...document.querySelectorAll("button")].filter(b => b.offsetParent).every(b => b.getBoundingClientRect().height >= 44)`, width)
}

// couponCode is the first member's coupon, from the counter's replica.
func (s *shop) couponCode() string {
	s.t.Helper()
	var a struct {
		Coupons []struct{ Code string } `json:"coupons"`
	}
	if code, err := s.cashier.Do("GET", "/api/members/"+s.members[0].GetId(), nil, &a); err != nil || code != http.StatusOK || len(a.Coupons) == 0 {
		s.t.Fatal("the first member has no coupon at the counter")
	}
	return a.Coupons[0].Code
}

func cardOf(i int) string { return fmt.Sprintf("66000%05d", i) }

// signIn signs in through the page's sign-in dialog.
func (s *shop) signIn(id, pin string) {
	s.t.Helper()
	s.submitSignIn(id, pin)
	s.waitJS("signed in", `!document.getElementById("signin-dialog").open`)
}

// submitSignIn fills the sign-in dialog and submits it.
func (s *shop) submitSignIn(id, pin string) {
	s.t.Helper()
	s.waitJS("the sign-in dialog", `document.getElementById("signin-dialog").open && document.querySelectorAll("#signin-staff option").length > 0`)
	s.do("sign in as "+id, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { document.getElementById("signin-staff").value = %q; return true; })()`, id))(ctx, t)
		return err
	}), fill("#signin-pin", pin), click("#signin-submit"))
}

// do runs browser actions with a deadline.
func (s *shop) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.browser.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

// waitJS polls a JavaScript predicate in the page until it is true.
func (s *shop) waitJS(what, expr string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.browser.Ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(12*time.Second))); err != nil {
		body, _ := chromedp.Run(s.browser.Ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		s.t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, body)
	}
}

// text returns an element's text.
func (s *shop) text(sel string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.browser.Ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, sel)))
	if err != nil {
		s.t.Fatalf("read %s: %v", sel, err)
	}
	return v
}

// fill sets an input's value as typing would, firing its input event.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.focus(); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, sel, value))(ctx, t)
		return err
	})
}

// openTopUp opens the top-up box (a <details>), whether or not it is open.
var openTopUp = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	_, err := chromedp.Evaluate[bool](`(() => { const d = document.getElementById("topup-box"); if (!d.open) d.querySelector("summary").click(); return true; })()`)(ctx, t)
	return err
})

// scanTaken scans data until the counter reports a result that ok
// accepts: under load a scan may be cut into pieces by the framer's quiet
// timeout, which the counter refuses as garbled; the cashier would scan
// again, and so does this.
func (s *shop) scanTaken(what, data string, ok func(counter.Result) bool) {
	s.t.Helper()
	for try := 0; try < 3; try++ {
		before, err := harness.AgentStatus(s.kiosk)
		if err != nil {
			s.t.Fatal(err)
		}
		seen := len(before.Recent)
		s.scan(data)
		var last counter.Result
		err = harness.WaitFor(5*time.Second, what, func() (bool, error) {
			rep, err := harness.AgentStatus(s.kiosk)
			if err != nil {
				return false, err
			}
			for _, r := range rep.Recent[min(seen, len(rep.Recent)):] {
				last = r
				if ok(r) {
					return true, nil
				}
			}
			return false, nil
		})
		if err == nil {
			return
		}
		if last.Refusal == nil || (last.Refusal.Code != "bad_frame" && last.Refusal.Code != "unknown_scan") {
			s.t.Fatalf("%s: %v (last result %s)", what, err, last)
		}
		s.t.Logf("%s: scan garbled on the line (%s); scanning again", what, last)
	}
	s.t.Fatalf("%s: the scan never got through", what)
}

func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// shot saves a screenshot of the viewport.
func (s *shop) shot(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.browser.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		s.t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(s.shotsDir, name), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *shop) scan(data string) {
	s.t.Helper()
	if err := s.scanner.Scan(data); err != nil {
		s.t.Fatalf("scan %q: %v", data, err)
	}
}

// getJSON reads a URL; the kiosk's as the signed-in cashier.
func (s *shop) getJSON(url string, v any) int {
	s.t.Helper()
	if path, ok := strings.CutPrefix(url, "http://"+s.kiosk); ok {
		code, err := s.cashier.Do("GET", path, nil, v)
		if err != nil {
			s.t.Fatal(err)
		}
		return code
	}
	resp, err := http.Get(url)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// TestCounterToCloud drives the counter page from a scan on the serial
// line to a confirmed redemption that reaches the cloud, then the
// refusals, enrolment, the manager view and the member's pages.
func TestCounterToCloud(t *testing.T) {
	s := newShop(t)
	kiosk := "http://" + s.kiosk
	ctx := context.Background()
	t.Logf("browser: %s", s.browser.Path)

	s.do("open the counter page", chromedp.EmulateViewport(1024, 768), chromedp.Navigate(kiosk+"/"))
	s.signIn(harness.CashierID, harness.CashierPIN)
	s.do("the counter after sign-in", chromedp.WaitVisible(chromedp.CSS("#idle")))
	s.waitJS("the live stream to connect and the store to show", `((document.getElementById("store-name")||{}).innerText||"").includes("人民广场店")`)
	s.shot("kiosk-idle.png")

	// A card swiped on the serial scanner shows the member at once, live.
	s.scan(cardOf(0))
	s.waitJS("the member to appear live", `document.getElementById("member-name") && ((document.getElementById("member-name")||{}).innerText||"") === "李娜"`)
	s.waitJS("the birthday-month offer", `!!document.getElementById("birthday")`)
	if got := s.text("#member-points"); got != "0" {
		t.Errorf("points shown = %q, want 0", got)
	}
	if got := s.text(".who .phone"); got != "139****0000" {
		t.Errorf("masked phone = %q", got)
	}

	// The shop's internet goes down: the counter carries on.
	if err := s.cloud.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.waitJS("the counter to show it is offline", `((document.getElementById("net")||{}).innerText||"").includes("离线")`)

	// Top up 500 yuan; the balance shows it at once (replica + pending).
	s.do("top up", openTopUp, fill("#topup", "500"), click("#topup-submit"))
	s.waitJS("the top-up to be recorded", `!!document.getElementById("topup-done")`)
	s.waitJS("the stored value to include the top-up and its 充500送50 bonus", `((document.getElementById("member-sv")||{}).innerText||"").includes("550.00")`)

	// A bill with stored value: the page quotes it as the cashier types.
	s.do("enter the bill", fill("#bill", "128.50"))
	// 5% tier discount of 128.50 is 6.425, rounded half up to 6.43.
	s.waitJS("the quote with the tier discount", `((document.getElementById("to-pay")||{}).innerText||"") === "¥122.07"`)
	s.do("pick the coupon", click("#coupon-"+s.couponCode()))
	s.waitJS("the quote with the coupon", `((document.getElementById("to-pay")||{}).innerText||"") === "¥112.07"`)
	s.do("pay part from stored value", fill("#sv", "100"))
	s.waitJS("the quote with stored value", `((document.getElementById("to-pay")||{}).innerText||"") === "¥12.07"`)
	// More stored value than is due: a plain sentence beside the field.
	s.do("pay too much from stored value", fill("#sv", "112.08"))
	s.waitJS("the over-the-bill refusal", `((document.getElementById("sv-err")||{}).innerText||"").includes("超过应付金额")`)
	s.do("fix the stored value", fill("#sv", "100"))
	s.waitJS("the quote again", `((document.getElementById("to-pay")||{}).innerText||"") === "¥12.07" && !(document.getElementById("confirm")||{}).disabled`)

	// A reload mid-transaction keeps it.
	txn, err := chromedp.Run(s.browser.Ctx, chromedp.Evaluate[string](`JSON.parse(localStorage.getItem("mp.txn")).id`))
	if err != nil {
		t.Fatal(err)
	}
	s.do("reload mid-transaction", chromedp.Reload())
	s.waitJS("the transaction restored", `document.getElementById("bill") && (document.getElementById("bill")||{}).value === "128.50" && (document.getElementById("sv")||{}).value === "100" && ((document.getElementById("member-name")||{}).innerText||"") === "李娜"`)
	s.waitJS("the quote restored", `((document.getElementById("to-pay")||{}).innerText||"") === "¥12.07" && document.getElementById("coupon-`+s.couponCode()+`").getAttribute("aria-pressed") === "true"`)
	s.shot("kiosk-member.png")
	s.waitJS("a layout that fits 1024x768 with large touch targets", fitsAndTouchable(1024))

	s.do("confirm", click("#confirm"))
	s.waitJS("recorded", `!!document.getElementById("recorded")`)
	if got := s.text("#recorded"); !strings.Contains(got, "已记录") {
		t.Errorf("recorded notice = %q", got)
	}
	s.shot("kiosk-recorded.png")
	// In English at one touch, and back.
	s.do("switch to English", click("#lang"))
	s.waitJS("the page in English", `((document.getElementById("next")||{}).innerText||"") === "Next customer" && document.documentElement.lang === "en"`)
	s.shot("kiosk-recorded-en.png")
	s.do("switch to Chinese", click("#lang"))
	s.waitJS("the page in Chinese", `((document.getElementById("next")||{}).innerText||"") === "下一位顾客"`)

	// Durable: the agent knows the transaction; a second confirm of the
	// same transaction (double click, reload) records nothing new.
	var rec struct {
		Event struct {
			ID       string
			Seq      uint64
			Purchase struct{ BillFen, StoredValueFen, PaidOtherFen int64 }
			TopUp    *struct{ AmountFen int64 }
		} `json:"event"`
	}
	if code := s.getJSON(kiosk+"/api/transactions/"+txn, &rec); code != http.StatusOK {
		t.Fatalf("transaction %s: status %d", txn, code)
	}
	if p := rec.Event.Purchase; p.BillFen != 12850 || p.StoredValueFen != 10000 || p.PaidOtherFen != 1207 {
		t.Errorf("recorded purchase = %+v", p)
	}
	var rec2 struct {
		Event struct{ Seq uint64 } `json:"event"`
		Again bool                 `json:"again"`
	}
	if _, err := s.cashier.Do("POST", "/api/checkout", map[string]any{"txn_id": txn, "member_id": s.members[0].GetId(), "bill_fen": 12850, "stored_value_fen": 10000}, &rec2); err != nil {
		t.Fatal(err)
	}
	if rec2.Event.Seq != rec.Event.Seq || !rec2.Again {
		t.Errorf("second checkout of %s recorded seq %d (again %v), want the first, seq %d", txn, rec2.Event.Seq, rec2.Again, rec.Event.Seq)
	}

	// Later the same day, still offline: the offline stored-value limit
	// (300 yuan per member per day) holds.
	var prob struct{ Refusal struct{ Code, Zh, En string } }
	overCode, err := s.cashier.Do("POST", "/api/quote", map[string]any{"member_id": s.members[0].GetId(), "bill_fen": 50000, "stored_value_fen": 25000}, &prob)
	if err != nil {
		t.Fatal(err)
	}
	if prob.Refusal.Code != "offline_limit_stored_value" || prob.Refusal.Zh == "" {
		t.Errorf("stored value past the offline limit: %d %+v", overCode, prob)
	}

	// The network comes back; the purchase reaches the cloud, which
	// applies it: the coupon is used, the stored value spent.
	s.startCloud()
	err = harness.WaitFor(15*time.Second, "the purchase applied in the cloud", func() (bool, error) {
		resp, err := s.admin.ListEvents(ctx, &pb.ListEventsRequest{BrandId: brand, Limit: 1000})
		if err != nil {
			return false, err
		}
		for _, e := range resp.GetEvents() {
			if e.GetEvent().GetId() == rec.Event.ID {
				if e.GetOutcome() != pb.Outcome_OUTCOME_APPLIED {
					return false, fmt.Errorf("purchase %s: outcome %s (%s)", e.GetEvent().GetId(), e.GetOutcome(), e.GetReason())
				}
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m0, err := s.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: brand, MemberId: s.members[0].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if sv := m0.GetStoredValuePrincipalFen() + m0.GetStoredValueBonusFen(); sv != 45000 {
		t.Errorf("stored value in the cloud = %d fen, want 45000 (500 + 50 bonus - 100)", sv)
	}
	if m0.GetPoints() <= 0 {
		t.Errorf("points in the cloud = %d, want some earned by the purchase", m0.GetPoints())
	}
	// The replica catches up and the counter shows the cloud's balances.
	err = harness.WaitFor(15*time.Second, "the replica to show the spent coupon", func() (bool, error) {
		var a struct {
			Member  struct{ StoredValueFen int64 } `json:"member"`
			Coupons []struct{ State string }       `json:"coupons"`
			Pending int                            `json:"pending_events"`
		}
		if s.getJSON(kiosk+"/api/members/"+s.members[0].GetId(), &a) != http.StatusOK {
			return false, nil
		}
		return a.Pending == 0 && a.Member.StoredValueFen == 45000 && len(a.Coupons) == 1 && a.Coupons[0].State == "redeemed", nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A group-buy voucher scanned for a walk-in: redeem it, offer to join.
	s.do("next customer", click("#next"))
	s.scan(voucherCode)
	s.waitJS("the voucher and the join offer", `!!document.getElementById("voucher") && (document.getElementById("join-qr")||{}).naturalWidth > 100`)
	s.shot("kiosk-voucher.png")
	s.do("redeem the voucher", click("#redeem-voucher"))
	s.waitJS("the voucher redeemed", `!!document.getElementById("voucher-done")`)

	// Refusals are plain sentences: an unknown card, a replayed code.
	s.scan("66000999990000")
	s.waitJS("the unknown card refusal", `document.getElementById("refusal") && ((document.getElementById("refusal")||{}).innerText||"").includes("此卡未登记")`)
	s.shot("kiosk-refusal.png")
	code, err := s.admin.IssueMemberCode(ctx, &pb.IssueMemberCodeRequest{BrandId: brand, MemberId: s.members[1].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	s.scan(code.GetCode())
	s.waitJS("the member of the code", `document.getElementById("member-name") && ((document.getElementById("member-name")||{}).innerText||"") === "王强"`)
	s.scan(code.GetCode())
	s.waitJS("the replayed code refusal", `document.getElementById("refusal") && ((document.getElementById("refusal")||{}).innerText||"").includes("已使用过")`)

	// Enrolment at the counter: the form says what is wrong, then records.
	s.do("next customer", click("#next"), click("#enrol-open"), chromedp.WaitVisible(chromedp.CSS("#enrol-phone")),
		fill("#enrol-phone", "12345"), click("#enrol-submit"))
	s.waitJS("the phone error", `((document.getElementById("enrol-phone-err")||{}).innerText||"").includes("11 位")`)
	s.waitJS("the consent error", `((document.getElementById("enrol-consent-err")||{}).innerText||"") !== ""`)
	s.do("enrol", fill("#enrol-phone", "+86 137 0000 1234"), fill("#enrol-name", "赵敏"), click("#enrol-consent"), click("#enrol-submit"))
	s.waitJS("the enrolment recorded", `!!document.getElementById("enrolled")`)
	// The new member is provisional until the cloud confirms, and can top
	// up at once.
	s.waitJS("the provisional member", `!!document.getElementById("provisional") && ((document.getElementById("member-name")||{}).innerText||"") === "赵敏"`)
	s.do("top up the new member", openTopUp, fill("#topup", "100"), click("#topup-submit"))
	s.waitJS("the new member's top-up", `!!document.getElementById("topup-done") && ((document.getElementById("member-sv")||{}).innerText||"").includes("100.00")`)
	s.shot("kiosk-enrolled.png")
	err = harness.WaitFor(15*time.Second, "the new member and their top-up in the cloud", func() (bool, error) {
		m, err := s.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: brand, Phone: "13700001234"})
		if err != nil {
			return false, err
		}
		if src := m.GetSource(); src.GetStoreId() != store || src.GetStaffId() != "s01" {
			return false, fmt.Errorf("source of the new member = %v, want store %s, staff s01", src, store)
		}
		return m.GetStoredValuePrincipalFen() == 10000, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The manager view needs a manager: the cashier is sent to sign in,
	// and the manager's sign-in leads on to it.
	s.do("open the manager view as the cashier", chromedp.Navigate(kiosk+"/manager"))
	s.waitJS("the counter page again, not the manager view", `location.pathname === "/" && location.search === "?next=manager"`)
	s.do("sign the cashier out", click("#signout"))
	s.submitSignIn(harness.ManagerID, harness.ManagerPIN) // leads on to the manager view
	s.do("the manager view", chromedp.WaitVisible(chromedp.CSS("#store-join-qr")))
	s.waitJS("today's numbers", `document.getElementById("today-sales") && ((document.getElementById("today-sales")||{}).innerText||"") === "¥128.50" && ((document.getElementById("today-new")||{}).innerText||"") === "1" && ((document.getElementById("today-vouchers")||{}).innerText||"") === "1" && ((document.getElementById("today-coupons")||{}).innerText||"") === "1"`)
	s.waitJS("the device and sync state", `document.querySelector("#devices tr") && document.querySelector("#devices tr").innerText.includes("已连接") && ((document.getElementById("sync-online")||{}).innerText||"") === "在线"`)
	if v := s.text("#today-visits"); v != "2" {
		t.Errorf("visits today = %q, want 2 (a card and a member code)", v)
	}
	if v := s.text("#today-sv"); v != "¥100.00" {
		t.Errorf("stored value paid today = %q", v)
	}
	if r := s.text("#devices .refused"); r == "" {
		t.Errorf("no refused-frames count shown")
	}
	s.waitJS("the join QR code", `(document.getElementById("store-join-qr")||{}).naturalWidth > 100`)
	s.shot("kiosk-manager.png")

	// The member's card on a phone: the QR code refreshes itself.
	link, err := s.admin.GetMemberCardLink(ctx, &pb.GetMemberCardLinkRequest{BrandId: brand, MemberId: s.members[0].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link.GetUrl(), "http://"+s.http+"/card/") {
		t.Fatalf("card link = %q", link.GetUrl())
	}
	if code := s.getJSON("http://"+s.http+"/api/card/"+brand+"/"+s.members[0].GetId()+"/wrongtoken", nil); code != http.StatusNotFound {
		t.Errorf("card with a wrong token: status %d, want 404", code)
	}
	s.do("open the card page on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Navigate(link.GetUrl()))
	s.waitJS("the member code QR", `document.getElementById("qr").dataset.code && document.getElementById("qr").naturalWidth > 100 && ((document.getElementById("name")||{}).innerText||"") === "李娜"`)
	first, err := chromedp.Run(s.browser.Ctx, chromedp.Evaluate[string](`document.getElementById("qr").dataset.code`))
	if err != nil {
		t.Fatal(err)
	}
	s.shot("member-card.png")
	s.waitJS("the QR code to refresh before it expires", fmt.Sprintf(`document.getElementById("qr").dataset.code !== %q && ((document.getElementById("error")||{}).innerText||"") === ""`, first))
	// The refreshed code is a genuine member code: the counter takes it.
	next, _ := chromedp.Run(s.browser.Ctx, chromedp.Evaluate[string](`document.getElementById("qr").dataset.code`))
	s.scanTaken("the counter to take the refreshed code", next, func(r counter.Result) bool {
		return r.Event != nil && r.Member != nil && r.Member.ID == s.members[0].GetId()
	})

	// The join page the store's QR code leads to.
	s.do("open the join page", chromedp.Navigate("http://"+s.http+"/join/"+brand+"/"+store+"?staff=s01"), chromedp.WaitVisible(chromedp.CSS("#phone")),
		click("#submit"))
	s.waitJS("the join form errors", `((document.getElementById("phone-err")||{}).innerText||"") !== "" && ((document.getElementById("consent-err")||{}).innerText||"") !== ""`)
	s.shot("member-join.png")
	// The phone is proven by a one-time code; this cloud writes codes to
	// its log (--join-codes-to-log) instead of texting them.
	s.do("ask for a code", fill("#phone", "13600001111"), click("#send-code"))
	var joinCode string
	err = harness.WaitFor(10*time.Second, "the join code in the cloud's log", func() (bool, error) {
		m := regexp.MustCompile(`"phone":"136\*\*\*\*1111","code":"(\d{6})"`).FindStringSubmatch(s.cloud.Log.String())
		if m != nil {
			joinCode = m[1]
		}
		return m != nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.do("join", fill("#code", joinCode), fill("#name", "周杰"), click("#consent"), click("#submit"))
	s.waitJS("joined", `!document.getElementById("done").classList.contains("hidden")`)
	joined, err := s.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: brand, Phone: "13600001111"})
	if err != nil {
		t.Fatalf("member who joined on the join page: %v", err)
	}
	if src := joined.GetSource(); src.GetChannel() != "join_page" || src.GetStoreId() != store || src.GetStaffId() != "s01" {
		t.Errorf("source of the member who joined = %v", src)
	}

	// The counter on a phone's width: nothing wider than the screen, every
	// button still a large target.
	s.do("open the counter on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(kiosk+"/"))
	s.waitJS("the counter page", `!!document.getElementById("customer").firstChild`)
	s.waitJS("a layout that fits a phone with large touch targets", fitsAndTouchable(390))

	// The first member code has expired by now: scanned again, it is
	// refused as expired (the agent allows 1s of clock skew here).
	exp := code.GetExpiresAt().AsTime().Add(1500 * time.Millisecond)
	if err := harness.WaitFor(15*time.Second, "the first member code to expire", func() (bool, error) { return time.Now().After(exp), nil }); err != nil {
		t.Fatal(err)
	}
	s.scanTaken("the expired code refusal", code.GetCode(), func(r counter.Result) bool {
		return r.Refusal != nil && r.Refusal.Code == "code_expired" && strings.Contains(r.Refusal.Zh, "过期")
	})
}

// TestKioskRefuses: in a real browser, the kiosk shows nothing and takes
// no money until a cashier signs in with a PIN; signed in, money moves
// only for a member scanned at this till (or with a manager's approval)
// and never for a member it does not know; the manager view needs a
// manager; a page under another name (DNS rebinding) reads nothing and a
// page from another origin changes nothing.
func TestKioskRefuses(t *testing.T) {
	s := newShop(t)
	kiosk := "http://" + s.kiosk
	// evaluate runs a page expression that returns a string.
	evaluate := func(what, expr string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(s.browser.Ctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}

	// Signed out: the sign-in dialog, and a scan shows nobody.
	s.do("open the counter page", chromedp.EmulateViewport(1024, 768), chromedp.Navigate(kiosk+"/"))
	s.waitJS("the sign-in dialog", `document.getElementById("signin-dialog").open`)
	s.scanTaken("a card scanned while signed out", cardOf(1), func(r counter.Result) bool { return r.Event != nil })
	if got := evaluate("the page after a scan", `String(!!document.getElementById("member-name"))`); got != "false" {
		t.Fatalf("a member shown to a signed-out page")
	}
	if got := evaluate("a member read signed out", `api("GET", "/api/members/`+s.members[0].GetId()+`").then(r => r.status + " " + r.data.refusal.code)`); got != "401 sign_in_required" {
		t.Fatalf("member read signed out: %s", got)
	}
	// A wrong PIN is refused and the dialog stays.
	s.do("a wrong PIN", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { document.getElementById("signin-staff").value = "s01"; return true; })()`)(ctx, tg)
		return err
	}), fill("#signin-pin", "0000"), click("#signin-submit"))
	s.waitJS("the wrong PIN refused", `((document.getElementById("signin-err")||{}).innerText||"") !== "" && document.getElementById("signin-dialog").open`)
	s.shot("kiosk-signin.png")

	s.signIn(harness.CashierID, harness.CashierPIN)
	// Money for a member never scanned here is refused, from the page's
	// own origin with its session; so is a top-up for a member the till
	// does not know, even with a manager's approval.
	notScanned := s.members[0].GetId()
	if got := evaluate("a checkout for a member not scanned", `api("POST", "/api/checkout", {txn_id: "t-not-scanned-1", member_id: "`+notScanned+`", bill_fen: 5000, stored_value_fen: 0, coupon_code: "", points: 0}).then(r => r.status + " " + r.data.refusal.code)`); got != "422 member_not_scanned" {
		t.Fatalf("checkout for a member not scanned: %s", got)
	}
	if got := evaluate("a top-up for a member not scanned", `api("POST", "/api/topups", {txn_id: "t-not-scanned-2", member_id: "`+notScanned+`", amount_fen: 10000}).then(r => r.status + " " + r.data.refusal.code)`); got != "422 member_not_scanned" {
		t.Fatalf("top-up for a member not scanned: %s", got)
	}
	if got := evaluate("a top-up for an unknown member", `api("POST", "/api/topups", {txn_id: "t-unknown-1", member_id: "424242", amount_fen: 10000, approval: {staff_id: "`+harness.ManagerID+`", pin: "`+harness.ManagerPIN+`"}}).then(r => r.status + " " + r.data.refusal.code)`); got != "422 member_unknown" {
		t.Fatalf("top-up for an unknown member: %s", got)
	}
	for _, txn := range []string{"t-not-scanned-1", "t-not-scanned-2", "t-unknown-1"} {
		if code := s.getJSON(kiosk+"/api/transactions/"+txn, nil); code != http.StatusNotFound {
			t.Fatalf("refused transaction %s recorded: %d", txn, code)
		}
	}
	// The member scanned a moment ago may pay.
	if got := evaluate("a top-up for the member just scanned", `api("POST", "/api/topups", {txn_id: "t-scanned-1", member_id: "`+s.members[1].GetId()+`", amount_fen: 10000}).then(r => r.status + " " + r.data.event.StaffID)`); got != "200 "+harness.CashierID {
		t.Fatalf("top-up for the member scanned: %s", got)
	}
	// The manager view is not the cashier's.
	s.do("open the manager view as the cashier", chromedp.Navigate(kiosk+"/manager"))
	s.waitJS("sent back to sign in", `location.pathname === "/"`)
	if got := evaluate("today as the cashier", `api("GET", "/api/today").then(r => r.status + " " + r.data.refusal.code)`); got != "403 manager_required" {
		t.Fatalf("today's numbers for a cashier: %s", got)
	}

	// A page under another name that resolves here (DNS rebinding) reads
	// nothing, not even the till's status.
	port := s.kiosk[strings.LastIndex(s.kiosk, ":")+1:]
	s.do("open the kiosk under a rebound name", chromedp.Navigate("http://"+RebindHost+":"+port+"/api/status"))
	if got := evaluate("the rebound page", `document.body.innerText`); !strings.Contains(got, `"host_refused"`) || strings.Contains(got, store) {
		t.Fatalf("the kiosk answered a rebound name: %s", got)
	}

	// A page from another origin (another port on this box) submits a
	// form to rebuild the replica while a manager is signed in: refused.
	s.do("back to the counter", chromedp.Navigate(kiosk+"/"))
	s.do("sign the cashier out", click("#signout"))
	s.signIn(harness.ManagerID, harness.ManagerPIN)
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id="f" method="POST" action="%s/api/replica/rebuild"></form><script>document.getElementById("f").submit()</script>`, kiosk)
	}))
	defer foreign.Close()
	s.do("open a foreign page", chromedp.Navigate(foreign.URL))
	s.waitJS("the form's answer", `location.href.startsWith("`+kiosk+`/api/replica/rebuild") && document.body.innerText.includes("refusal")`)
	if got := evaluate("the form's answer", `document.body.innerText`); !strings.Contains(got, `"forbidden"`) {
		t.Fatalf("cross-origin rebuild answered: %s", got)
	}
	if n := len(s.agent.Log.Lines("replica rebuild requested from the kiosk")); n != 0 {
		t.Fatalf("a foreign page started %d replica rebuilds", n)
	}
}
