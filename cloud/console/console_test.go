package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	campaignkv "github.com/memberpass/memberpass/cloud/campaign/books"
	"github.com/memberpass/memberpass/cloud/console"
	"github.com/memberpass/memberpass/cloud/console/demodata"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// env is a console over a seeded store, served over TLS (its cookie is
// Secure).
type env struct {
	srv  *httptest.Server
	db   *sqlstore.DB
	svc  *loyalty.Service
	demo demodata.Demo
	camp *campaign.Engine
}

func newEnv(t *testing.T, db *sqlstore.DB) *env { return newEnvSized(t, db, 45, 10) }

func newEnvSized(t testing.TB, db *sqlstore.DB, members, days int) *env {
	t.Helper()
	ctx := context.Background()
	svc := loyalty.New(db, slog.New(slog.DiscardHandler))
	demo, err := demodata.Seed(ctx, svc, db, demodata.Options{Members: members, Days: days})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	sessions, stop := db.SessionStore(0)
	t.Cleanup(stop)
	campaigns := campaign.NewEngine(campaignkv.New(db), slog.New(slog.DiscardHandler))
	svc.OnApplied, svc.WantsEvents = campaignkv.EventHook(campaigns), campaigns.WantsEvents
	con, err := console.New(console.Config{Service: svc, Campaigns: campaigns, Store: db, Sessions: sessions, MaxFailures: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(con)
	t.Cleanup(srv.Close)
	return &env{srv: srv, db: db, svc: svc, demo: demo, camp: campaigns}
}

// client is one browser: a cookie jar, redirects not followed.
type client struct {
	t, tb testing.TB
	e     *env
	http  *http.Client
	csrf  string
}

func (e *env) client(t *testing.T) *client {
	c := &client{tb: t, e: e}
	c.init()
	return c
}

func (c *client) init() {
	jar, _ := cookiejar.New(nil)
	c.t = c.tb
	c.http = &http.Client{Transport: c.e.srv.Client().Transport, Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		c.csrf = string(m[1])
	}
	return resp, string(body)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if form.Get("csrf") == "" && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) signin(login, password string) *http.Response {
	c.t.Helper()
	resp, _ := c.post("/signin", url.Values{"brand": {c.e.demo.Brand}, "login": {login}, "password": {password}, "next": {"/"}})
	if resp.StatusCode == http.StatusSeeOther {
		c.get("/") // picks up the session's CSRF token
	}
	return resp
}

func (c *client) as(role hq.Role) *client {
	c.t.Helper()
	if resp := c.signin(c.e.demo.Accounts[role], demodata.Password); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: status %d (%s)", role, resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
	}
	return c
}

func forEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for name, open := range map[string]func(testing.TB) *sqlstore.DB{"sqlite": sqltest.OpenSQLite, "postgres": sqltest.OpenPostgres} {
		t.Run(name, func(t *testing.T) { fn(t, newEnv(t, open(t))) })
	}
}

func TestPagesNeedSignIn(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t)
	for _, p := range []string{"/", "/members", "/audit", "/programme"} {
		resp, _ := c.get(p)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
			t.Errorf("GET %s signed out: %d %s, want a redirect to /signin", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := c.post("/members/"+e.demo.HomeMember.ID+"/adjust", url.Values{"kind": {"points"}, "delta": {"5"}, "reason": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("adjust signed out: %d, want 401", resp.StatusCode)
	}
}

func TestRolesSeeWhatTheyMay(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	pages := []struct {
		path   string
		action hq.Action
	}{
		{"/", hq.ViewDashboard}, {"/members", hq.ViewMembers}, {"/programme", hq.ViewProgramme}, {"/campaigns", hq.ViewCampaigns},
		{"/conflicts", hq.ViewConflicts}, {"/stores", hq.ViewStores}, {"/imports", hq.ImportData}, {"/audit", hq.ViewAudit},
	}
	for role := range e.demo.Accounts {
		c := e.client(t).as(role)
		p := hq.Principal{Role: role}
		for _, pg := range pages {
			resp, _ := c.get(pg.path)
			want := http.StatusOK
			if !p.Can(pg.action) {
				want = http.StatusForbidden
			}
			if resp.StatusCode != want {
				t.Errorf("%s GET %s: %d, want %d", role, pg.path, resp.StatusCode, want)
			}
		}
	}
}

func TestStoreManagerSeesOnlyTheirStoresMembers(t *testing.T) {
	forEngine(t, func(t *testing.T, e *env) {
		c := e.client(t).as(hq.RoleStoreManager)
		resp, _ := c.get("/members/" + e.demo.OtherMember.ID)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Memberpass-Error") != "err.other_store" {
			t.Errorf("store manager reads another store's member: %d %q, want 403 err.other_store", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
		}
		resp, _ = c.get("/members/" + e.demo.HomeMember.ID)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("store manager reads their own store's member: %d", resp.StatusCode)
		}
		// A search by the other member's phone finds nothing; the list
		// holds only the manager's store.
		_, body := c.get("/members?q=" + e.demo.OtherMember.Phone)
		if strings.Contains(body, `data-member="`+e.demo.OtherMember.ID+`"`) {
			t.Errorf("search by phone shows another store's member")
		}
		_, body = c.get("/members")
		if !strings.Contains(body, `data-member="`+e.demo.HomeMember.ID+`"`) || strings.Contains(body, `data-member="`+e.demo.OtherMember.ID+`"`) {
			t.Errorf("member list: want the manager's store's members only")
		}
		resp, _ = c.post("/members/"+e.demo.OtherMember.ID+"/notes", url.Values{"kind": {"note"}, "text": {"hello"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("note on another store's member: %d, want 403", resp.StatusCode)
		}
	})
}

func TestFinanceAdjustsAndTheAuditLogShowsIt(t *testing.T) {
	forEngine(t, func(t *testing.T, e *env) {
		c := e.client(t).as(hq.RoleFinance)
		id := e.demo.HomeMember.ID
		before := member(t, e, id)
		resp, _ := c.post("/members/"+id+"/adjust", url.Values{"kind": {"stored_value"}, "delta": {"12.50"}, "reason": {"goodwill: cup spilled"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("adjust: %d %s", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
		}
		resp, _ = c.post("/members/"+id+"/adjust", url.Values{"kind": {"points"}, "delta": {"-1"}, "reason": {"correction"}})
		if before.Points == 0 && resp.StatusCode != http.StatusUnprocessableEntity || before.Points > 0 && resp.StatusCode != http.StatusSeeOther {
			t.Errorf("take a point from %d: %d", before.Points, resp.StatusCode)
		}
		after := member(t, e, id)
		if after.StoredValue()-before.StoredValue() != 1250 {
			t.Errorf("stored value %d -> %d, want +1250 fen", before.StoredValue(), after.StoredValue())
		}
		_, body := c.get("/audit?action=adjust_stored_value")
		if !strings.Contains(body, `data-target="member/`+id+`"`) || !strings.Contains(body, "goodwill: cup spilled") {
			t.Errorf("audit log lacks the adjustment")
		}
		// Without a reason, nothing moves.
		resp, _ = c.post("/members/"+id+"/adjust", url.Values{"kind": {"stored_value"}, "delta": {"5"}, "reason": {" "}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("adjust without a reason: %d, want 422", resp.StatusCode)
		}
		if m := member(t, e, id); m.StoredValue() != after.StoredValue() {
			t.Errorf("a refused adjustment moved the balance")
		}
	})
}

func member(t *testing.T, e *env, id string) cloud.Member {
	t.Helper()
	m, err := e.svc.GetMember(context.Background(), e.demo.Brand, id, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAuditorAndMarketingChangeNoBalance(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	for _, role := range []hq.Role{hq.RoleAuditor, hq.RoleMarketing, hq.RoleStoreManager} {
		c := e.client(t).as(role)
		resp, _ := c.post("/members/"+e.demo.HomeMember.ID+"/adjust", url.Values{"kind": {"points"}, "delta": {"100"}, "reason": {"free points"}})
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Memberpass-Error") != "err.forbidden" {
			t.Errorf("%s adjusts: %d %q, want 403 err.forbidden", role, resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
		}
	}
	c := e.client(t).as(hq.RoleAuditor)
	for path, form := range map[string]url.Values{
		"/members/" + e.demo.HomeMember.ID + "/notes": {"kind": {"note"}, "text": {"x"}},
		"/programme":           {"op": {"save"}},
		"/stores":              {"id": {"new-store"}, "name": {"x"}},
		"/conflicts/1/resolve": {"action": {"note"}, "note": {"x"}},
		"/imports":             {"kind": {"members"}, "content": {"phone\n13900000000\n"}, "mode": {"commit"}},
	} {
		if resp, _ := c.post(path, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("auditor POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
}

func TestFormsNeedTheSessionsToken(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t).as(hq.RoleFinance)
	before := member(t, e, e.demo.HomeMember.ID)
	resp, _ := c.post("/members/"+e.demo.HomeMember.ID+"/adjust", url.Values{"csrf": {"forged"}, "kind": {"points"}, "delta": {"5"}, "reason": {"x"}})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Memberpass-Error") != "err.csrf" {
		t.Errorf("forged token: %d %q, want 403 err.csrf", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
	}
	// A browser's cross-site form post is refused before any handler.
	form := url.Values{"csrf": {c.csrf}, "kind": {"points"}, "delta": {"5"}, "reason": {"x"}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/members/"+e.demo.HomeMember.ID+"/adjust", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := c.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", resp.StatusCode)
	}
	if m := member(t, e, e.demo.HomeMember.ID); m.Points != before.Points {
		t.Errorf("points moved by a refused form: %d -> %d", before.Points, m.Points)
	}
}

func TestSessionCookieIsLockedDown(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t)
	resp, _ := c.post("/signin", url.Values{"brand": {e.demo.Brand}, "login": {e.demo.Accounts[hq.RoleOwner]}, "password": {demodata.Password}})
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "mp_console" {
			found = true
			if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax", ck)
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie after sign-in (status %d)", resp.StatusCode)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t)
	login := e.demo.Accounts[hq.RoleOwner]
	// MaxFailures is 3: two failures are failures, the third locks.
	for i := range 2 {
		if resp := c.signin(login, "wrong-password-"+string(rune('a'+i))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i, resp.StatusCode)
		}
	}
	if resp := c.signin(login, "wrong-password-c"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third wrong password: %d, want 429", resp.StatusCode)
	}
	resp := c.signin(login, demodata.Password)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Memberpass-Error") != "signin.locked" {
		t.Errorf("right password on a locked account: %d %q, want 429 signin.locked", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
	}
	// An unknown account answers like a wrong password.
	if resp := c.signin("nobody", demodata.Password); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Memberpass-Error") != "signin.failed" {
		t.Errorf("unknown account: %d %q", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
	}
}

func TestSignOutEverywhere(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	laptop := e.client(t).as(hq.RoleOwner)
	tablet := e.client(t).as(hq.RoleOwner)
	if resp, _ := tablet.get("/members"); resp.StatusCode != http.StatusOK {
		t.Fatalf("tablet: %d", resp.StatusCode)
	}
	if resp, _ := laptop.post("/signout-everywhere", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d %s", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
	}
	if resp, _ := tablet.get("/members"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("tablet after sign-out everywhere: %d, want a redirect to sign in", resp.StatusCode)
	}
	if resp, _ := laptop.get("/members"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("laptop after sign-out everywhere: %d, want a redirect to sign in", resp.StatusCode)
	}
	if resp := e.client(t).signin(e.demo.Accounts[hq.RoleOwner], demodata.Password); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign in again: %d", resp.StatusCode)
	}
}

func TestImportWithOneBadLineWritesNothing(t *testing.T) {
	forEngine(t, func(t *testing.T, e *env) {
		c := e.client(t).as(hq.RoleMarketing)
		count := func() uint64 {
			var n uint64
			e.db.View(context.Background(), func(tx cloud.Tx) error {
				var err error
				n, err = tx.CountMembers(e.demo.Brand)
				return err
			})
			return n
		}
		before := count()
		csv := "phone,name,birthday\n13912345001,周一,05-01\n13912345002,周二,13-45\n13912345003,周三,\n"
		for _, mode := range []string{"check", "commit"} {
			resp, body := c.post("/imports", url.Values{"kind": {"members"}, "content": {csv}, "mode": {mode}})
			if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("X-Memberpass-Import-Errors") != "1" {
				t.Errorf("%s: %d, %s errors, want 422 and 1", mode, resp.StatusCode, resp.Header.Get("X-Memberpass-Import-Errors"))
			}
			if !strings.Contains(body, `data-line="3"`) {
				t.Errorf("%s: the bad line 3 is not shown", mode)
			}
		}
		if n := count(); n != before {
			t.Errorf("members %d -> %d after a file with a bad line", before, n)
		}
		good := "phone,name\n13912345001,周一\n13912345003,周三\n"
		if resp, body := c.post("/imports", url.Values{"kind": {"members"}, "content": {good}, "mode": {"check"}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-code="imp.ok"`) {
			t.Errorf("check a good file: %d", resp.StatusCode)
		}
		if n := count(); n != before {
			t.Errorf("a check wrote members")
		}
		if resp, body := c.post("/imports", url.Values{"kind": {"members"}, "content": {good}, "mode": {"commit"}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-code="imp.written"`) {
			t.Errorf("import a good file: %d", resp.StatusCode)
		}
		if n := count(); n != before+2 {
			t.Errorf("members %d -> %d, want +2", before, n)
		}
	})
}

func TestProgrammePreviewAndSave(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t).as(hq.RoleMarketing)
	_, body := c.get("/programme")
	if !strings.Contains(body, `name="tier_id" value="silver"`) {
		t.Fatalf("programme form lacks the tiers")
	}
	form := url.Values{
		"tier_id": {"regular", "silver"}, "tier_name": {"普通会员", "银卡"}, "tier_name_en": {"Regular", "Silver"}, "tier_rank": {"0", "1"},
		"tier_discount": {"0", "2"}, "tier_mult": {"100", "120"}, "tier_spend": {"", "1.00"}, "tier_visits": {"", "1"},
		"window_days": {"365"}, "per_yuan": {"1"}, "point_value": {"1"}, "expire_years": {"1"},
		"topup_min": {"500"}, "topup_bonus": {"50"}, "off_sv": {"500"}, "off_points": {"5000"}, "off_hours": {"24"},
	}
	form.Set("op", "preview")
	resp, body := c.post("/programme", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="preview"`) || !strings.Contains(body, `data-to="silver"`) {
		t.Fatalf("preview: %d, want members moving to silver", resp.StatusCode)
	}
	form.Set("op", "save")
	if resp, _ := c.post("/programme", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	p, err := e.svc.Programme(context.Background(), e.demo.Brand)
	if err != nil || len(p.Tiers) != 2 || p.Tiers[1].UpgradeSpendFen != 100 {
		t.Errorf("saved programme %+v, %v", p.Tiers, err)
	}
	form.Set("tier_discount", "90")
	if resp, _ := c.post("/programme", form); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a 90%% discount: %d, want 422", resp.StatusCode)
	}
	owner := e.client(t).as(hq.RoleOwner)
	if _, body := owner.get("/audit?action=set_programme"); !strings.Contains(body, `data-action="set_programme"`) {
		t.Errorf("programme change not audited")
	}
}

func TestConflictResolvedOnceAndAudited(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t).as(hq.RoleFinance)
	_, body := c.get("/conflicts?open=1")
	m := regexp.MustCompile(`action="/conflicts/(\d+)/resolve"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no open conflict in the demo data")
	}
	path := "/conflicts/" + m[1] + "/resolve"
	if resp, _ := c.post(path, url.Values{"action": {"write_off"}, "note": {"small amount, written off"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve: %d", resp.StatusCode)
	}
	if resp, _ := c.post(path, url.Values{"action": {"recover"}, "note": {"again"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("resolve twice: %d, want 409", resp.StatusCode)
	}
	if _, body := c.get("/audit?action=resolve_conflict"); !strings.Contains(body, `data-target="conflict/`+m[1]+`"`) {
		t.Errorf("resolution not audited")
	}
}

func TestDashboardShowsTheMonth(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t).as(hq.RoleOwner)
	resp, body := c.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="chart-data"`) || !strings.Contains(body, "上海静安店") {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	if !regexp.MustCompile(`¥[0-9,]+\.[0-9]{2}`).MatchString(body) {
		t.Errorf("no money written as ¥1,234.50")
	}
	mgr := e.client(t).as(hq.RoleStoreManager)
	_, body = mgr.get("/")
	if strings.Contains(body, "杭州西湖店") {
		t.Errorf("store manager's dashboard shows another store")
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t).as(hq.RoleOwner)
	_, zh := c.get("/members")
	c.get("/lang?to=en&back=/members")
	_, en := c.get("/members")
	if !strings.Contains(zh, "会员") || !strings.Contains(en, "Members") || strings.Contains(en, "查找") {
		t.Errorf("language switch did not change the page")
	}
	if resp, _ := c.get("/lang?to=en&back=//evil.example"); resp.Header.Get("Location") != "/" {
		t.Errorf("lang redirect left the site: %q", resp.Header.Get("Location"))
	}
}

func TestPasswordHashIsArgon2id(t *testing.T) {
	h, err := console.HashPassword("correct horse battery")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q, %v", h, err)
	}
	if _, err := console.HashPassword("short"); err == nil {
		t.Errorf("a 5-character password was taken")
	}
}

func TestBirthdayCampaignWithHoldout(t *testing.T) {
	e := newEnv(t, sqltest.OpenSQLite(t))
	c := e.client(t).as(hq.RoleMarketing)
	resp, _ := c.post("/campaigns", url.Values{"id": {"bday"}, "name": {"生日月蛋糕"}, "trigger": {"birthday"}, "birthday_month": {"1"},
		"action": {"coupon"}, "template": {"birthday-cake"}, "holdout": {"10"}, "max_coupons": {"1000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("X-Memberpass-Error"))
	}
	_, body := c.get("/campaigns/bday")
	if !strings.Contains(body, `data-testid="campaign-preview"`) || !strings.Contains(body, `data-testid="holdout">10%`) {
		t.Fatalf("draft page lacks the preview or the 10%% holdout")
	}
	if resp, _ := c.post("/campaigns/bday/start", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	if _, err := e.camp.RunDaily(context.Background(), e.demo.Brand); err != nil {
		t.Fatal(err)
	}
	_, body = c.get("/campaigns/bday")
	if !strings.Contains(body, `data-status="running"`) || !strings.Contains(body, `data-testid="campaign-results"`) {
		t.Errorf("running campaign page lacks its results")
	}
	if resp, _ := c.post("/campaigns/bday/pause", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("pause: %d", resp.StatusCode)
	}
	fin := e.client(t).as(hq.RoleFinance)
	if resp, _ := fin.post("/campaigns/bday/resume", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("finance resumes a campaign: %d, want 403", resp.StatusCode)
	}
}
