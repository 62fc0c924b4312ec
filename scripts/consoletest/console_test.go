// Package consoletest drives HQ's console in a real headless Chromium
// (Debian's chromium) against the real console handler over the real
// store (SQLite, demo data): what HQ's people do, and what the server
// refuses them.
package consoletest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	campaignkv "github.com/memberpass/memberpass/cloud/campaign/books"
	"github.com/memberpass/memberpass/cloud/console"
	"github.com/memberpass/memberpass/cloud/console/demodata"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	"github.com/memberpass/memberpass/scripts/kiosktest"
)

var screenshots = flag.Bool("screenshots", false, "write a screenshot of each page in both languages to docs/screenshots (for the README)")

type suite struct {
	t        *testing.T
	base     string
	db       *sqlstore.DB
	svc      *loyalty.Service
	camp     *campaign.Engine
	demo     demodata.Demo
	shotsDir string
}

func start(t *testing.T) *suite {
	t.Helper()
	db := sqltest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	svc := loyalty.New(db, log)
	camp := campaign.NewEngine(campaignkv.New(db), log)
	svc.OnApplied, svc.WantsEvents = campaignkv.EventHook(camp), camp.WantsEvents
	demo, err := demodata.Seed(context.Background(), svc, db, demodata.Options{Members: 120, Days: 30})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	sessions, stop := db.SessionStore(0)
	t.Cleanup(stop)
	con, err := console.New(console.Config{Service: svc, Campaigns: camp, Store: db, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: con, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Close() })
	s := &suite{t: t, base: "http://" + lis.Addr().String(), db: db, svc: svc, camp: camp, demo: demo}
	if *screenshots {
		s.shotsDir = filepath.Join("..", "..", "docs", "screenshots")
	}
	return s
}

func (s *suite) browser() *kiosktest.Browser {
	s.t.Helper()
	path, err := kiosktest.FindChromium()
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := kiosktest.StartBrowser(path, s.t.TempDir(), s.t.Logf)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(b.Close)
	// 1366x768: the laptop HQ's people use.
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		s.t.Fatal(err)
	}
	return b
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func (s *suite) run(b *kiosktest.Browser, what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a script in the page and returns its value.
func eval[T any](s *suite, b *kiosktest.Browser, expr string) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		s.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (s *suite) signIn(b *kiosktest.Browser, role hq.Role) {
	s.t.Helper()
	s.run(b, "sign in as "+string(role),
		chromedp.Navigate(s.base+"/signin"),
		chromedp.WaitVisible(css(`#signin`)),
		chromedp.SendKeys(css(`input[name=brand]`), s.demo.Brand),
		chromedp.SendKeys(css(`input[name=login]`), s.demo.Accounts[role]),
		chromedp.SendKeys(css(`input[name=password]`), demodata.Password+"\n"), // Enter submits: the form works from the keyboard
		chromedp.WaitVisible(css(`[data-testid=account]`)),
	)
}

// text reads an element's text.
func (s *suite) text(b *kiosktest.Browser, sel string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
	if err != nil {
		s.t.Fatalf("read %s: %v", sel, err)
	}
	return out
}

// shot saves the page as docs/screenshots/console-<name>.png.
func (s *suite) shot(b *kiosktest.Browser, name string) {
	s.t.Helper()
	if s.shotsDir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.shotsDir, "console-"+name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func TestMarketingRunsABirthdayCampaign(t *testing.T) {
	s := start(t)
	b := s.browser()
	s.signIn(b, hq.RoleMarketing)
	s.run(b, "fill the campaign form",
		chromedp.Navigate(s.base+"/campaigns"),
		chromedp.WaitVisible(css(`#campaign-form`)),
		chromedp.SendKeys(css(`#campaign-form input[name=id]`), "bday-2026"),
		chromedp.SendKeys(css(`#campaign-form input[name=name]`), "生日月蛋糕券"),
		chromedp.SetValue(css(`#campaign-form select[name=trigger]`), "birthday"),
		chromedp.Click(css(`#campaign-form input[name=birthday_month]`)),
		chromedp.SetValue(css(`#campaign-form select[name=action]`), "coupon"),
		chromedp.SetValue(css(`#campaign-form select[name=template]`), "birthday-cake"),
		chromedp.Click(css(`#campaign-form input[name=consent_only]`)), // the segment: members who consented
		chromedp.SetValue(css(`#campaign-form input[name=holdout]`), "10"),
		chromedp.SetValue(css(`#campaign-form input[name=max_coupons]`), "500"),
		chromedp.Submit(css(`#campaign-form`)),
		chromedp.WaitVisible(css(`[data-testid=campaign-preview]`)),
	)
	if got := s.text(b, `[data-testid=holdout]`); got != "10%" {
		t.Errorf("holdout shown %q, want 10%%", got)
	}
	if n := s.text(b, `[data-testid=preview-audience]`); n == "" || n == "0" {
		t.Errorf("preview reaches %q members, want some (a demo member has a birthday today)", n)
	}
	s.run(b, "start", chromedp.Click(css(`#start`)), chromedp.WaitVisible(css(`[data-status=running]`)))
	if _, err := s.camp.RunDaily(context.Background(), s.demo.Brand); err != nil {
		t.Fatal(err)
	}
	s.run(b, "read the results", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid=campaign-results]`)), chromedp.WaitVisible(css(`#lift-chart`)))
	if treated := s.text(b, `tr[data-group=treated] td:nth-child(2)`); treated == "" {
		t.Errorf("results show no treated count")
	}
	s.run(b, "pause", chromedp.Click(css(`#pause`)), chromedp.WaitVisible(css(`[data-status=paused]`)))
}

func TestFinanceAdjustsABalanceAndSeesItAudited(t *testing.T) {
	s := start(t)
	b := s.browser()
	s.signIn(b, hq.RoleFinance)
	m := s.demo.HomeMember
	s.run(b, "find the member by phone",
		chromedp.Navigate(s.base+"/members"),
		chromedp.SendKeys(css(`input[name=q]`), m.Phone+"\n"),
		chromedp.WaitVisible(css(fmt.Sprintf(`a[data-member="%s"]`, m.ID))),
		chromedp.Click(css(fmt.Sprintf(`a[data-member="%s"]`, m.ID))),
		chromedp.WaitVisible(css(`#adjust-form`)),
	)
	before := s.text(b, `[data-testid=stored-value]`)
	s.run(b, "adjust",
		chromedp.SetValue(css(`#adjust-form select[name=kind]`), "stored_value"),
		chromedp.SendKeys(css(`#adjust-form input[name=delta]`), "25.50"),
		chromedp.SendKeys(css(`#adjust-form input[name=reason]`), "补偿：出品延误"),
		chromedp.Submit(css(`#adjust-form`)),
		chromedp.WaitVisible(css(`.flash[data-code="adjust.done"]`)),
	)
	if after := s.text(b, `[data-testid=stored-value]`); after == before {
		t.Errorf("stored value still %s after +¥25.50", after)
	}
	got, err := s.svc.GetMember(context.Background(), s.demo.Brand, m.ID, "")
	if err != nil || got.StoredValue() != m.StoredValue()+2550 {
		t.Errorf("stored value in the books %d, want %d (%v)", got.StoredValue(), m.StoredValue()+2550, err)
	}
	s.run(b, "audit log",
		chromedp.Navigate(s.base+"/audit?action=adjust_stored_value"),
		chromedp.WaitVisible(css(fmt.Sprintf(`tr[data-target="member/%s"]`, m.ID))),
	)
	if row := s.text(b, fmt.Sprintf(`tr[data-target="member/%s"]`, m.ID)); !strings.Contains(row, "补偿：出品延误") || !strings.Contains(row, s.demo.Accounts[hq.RoleFinance]) {
		t.Errorf("audit row %q lacks the reason or who", row)
	}
}

func TestStoreManagerCannotSeeAnotherStoresMember(t *testing.T) {
	s := start(t)
	b := s.browser()
	s.signIn(b, hq.RoleStoreManager)
	// Typing the address of another store's member: the server refuses.
	s.run(b, "open another store's member",
		chromedp.Navigate(s.base+"/members/"+s.demo.OtherMember.ID),
		chromedp.WaitVisible(css(`.error[data-code="err.other_store"]`)),
	)
	if status := eval[int](s, b, `performance.getEntriesByType("navigation")[0].responseStatus`); status != http.StatusForbidden {
		t.Errorf("status %d, want 403", status)
	}
	if body := s.text(b, `main`); strings.Contains(body, s.demo.OtherMember.Phone) || strings.Contains(body, s.demo.OtherMember.Name+" ") {
		t.Errorf("the refusal page shows the member")
	}
	s.run(b, "own member", chromedp.Navigate(s.base+"/members/"+s.demo.HomeMember.ID), chromedp.WaitVisible(css(`[data-testid=member-name]`)))
	if n := eval[int](s, b, `document.querySelectorAll("#adjust-form").length`); n != 0 {
		t.Errorf("a store manager is offered the adjust form")
	}
}

func TestImportWithABadLineShowsItAndWritesNothing(t *testing.T) {
	s := start(t)
	b := s.browser()
	s.signIn(b, hq.RoleMarketing)
	file := filepath.Join(t.TempDir(), "members.csv")
	csv := "phone,name,birthday\n13955500001,钱一,03-08\n13955500002,钱二,02-30x\n13955500003,钱三,\n"
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		var n uint64
		if err := s.db.View(context.Background(), func(tx cloud.Tx) error {
			var err error
			n, err = tx.CountMembers(s.demo.Brand)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	s.run(b, "check the file",
		chromedp.Navigate(s.base+"/imports"),
		chromedp.SetUploadFiles(css(`#import-form input[type=file]`), []string{file}),
		chromedp.Click(css(`#import-form button[name=mode]`)),
		chromedp.WaitVisible(css(`[data-testid=import-errors]`)),
	)
	lines := eval[[]string](s, b, `[...document.querySelectorAll("[data-line]")].map(e => e.dataset.line)`)
	if len(lines) != 1 || lines[0] != "3" {
		t.Errorf("lines shown %v, want [3]", lines)
	}
	if n := count(); n != before {
		t.Errorf("members %d -> %d: a file with a bad line wrote", before, n)
	}
}

// TestScreenshots walks every page in both languages (and writes them
// with -screenshots).
func TestScreenshots(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	if _, err := s.camp.Create(ctx, campaign.Campaign{BrandID: s.demo.Brand, ID: "bday", Name: "生日月蛋糕券",
		Trigger: campaign.Trigger{Kind: campaign.TriggerBirthday, BirthdayMonth: true},
		Actions: []campaign.Action{{Kind: campaign.ActionCoupon, TemplateID: "birthday-cake"}}, HoldoutBP: 1000, HoldoutSet: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.camp.Start(ctx, s.demo.Brand, "bday"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.camp.RunDaily(ctx, s.demo.Brand); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	s.run(b, "sign-in page", chromedp.Navigate(s.base+"/signin"), chromedp.WaitVisible(css(`#signin`)))
	s.shot(b, "signin-zh")
	s.signIn(b, hq.RoleOwner)
	pages := []struct{ name, path, ready string }{
		{"dashboard", "/", `html[data-charts=ready]`},
		{"members", "/members", `[data-testid=members-table]`},
		{"member", "/members/" + s.demo.HomeMember.ID, `[data-testid=timeline]`},
		{"programme", "/programme", `#programme-form`},
		{"campaigns", "/campaigns", `[data-testid=campaigns-table]`},
		{"campaign", "/campaigns/bday", `html[data-charts=ready]`},
		{"conflicts", "/conflicts", `[data-testid=conflicts-table]`},
		{"stores", "/stores", `section.store`},
		{"imports", "/imports", `#import-form`},
		{"audit", "/audit", `main h1`},
	}
	for _, lang := range []string{"zh", "en"} {
		s.run(b, "language "+lang, chromedp.Navigate(s.base+"/lang?to="+lang+"&back=/"), chromedp.WaitVisible(css(`main`)))
		for _, p := range pages {
			s.run(b, p.name+" "+lang, chromedp.Navigate(s.base+p.path), chromedp.WaitVisible(p.ready))
			if status := eval[int](s, b, `performance.getEntriesByType("navigation")[0].responseStatus`); status != http.StatusOK {
				t.Errorf("%s (%s): status %d", p.name, lang, status)
			}
			s.shot(b, p.name+"-"+lang)
		}
	}
	s.run(b, "sign out", chromedp.Click(css(`form[action="/signout"] button`)), chromedp.WaitVisible(css(`#signin`)))
	s.shot(b, "signin-en")
}
