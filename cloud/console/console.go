// Package console is HQ's console in the browser: server-rendered pages
// (html/template, a few small scripts, ECharts for the charts), embedded
// in the binary, in Simplified Chinese (the default) and English. People
// sign in with an HQ account (argon2id password, a session cookie kept by
// scs in the cloud's database, lockout after repeated failures, sign-out
// everywhere); every page and every form names the action it performs and
// the server checks it against the role's permissions (cloud/hq), and a
// store manager's queries are limited to their stores by the server, not
// by the menu. Every change is written to the audit log in the same
// transaction as the change.
package console

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/proto/pairing"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config is what the console needs.
type Config struct {
	Service *loyalty.Service
	// Campaigns runs the brand's campaigns; nil: the campaign pages say
	// they are not configured.
	Campaigns *campaign.Engine
	Store     hq.Store
	// Sessions keeps the session data (sqlstore.DB.SessionStore).
	Sessions scs.Store
	Log      *slog.Logger
	// Ticket makes the pairing ticket for a new store's code (the cloud's
	// public address and pinned CA).
	Ticket func(code string) pairing.Ticket
	// Now is the console's clock; tests replace it.
	Now func() time.Time
	// MaxFailures failed sign-ins lock an account for LockFor.
	MaxFailures int
	LockFor     time.Duration
}

// Console is the console's http.Handler.
type Console struct {
	cfg     Config
	log     *slog.Logger
	sm      *scs.SessionManager
	pages   map[string]*template.Template
	mux     *http.ServeMux
	handler http.Handler
}

// New makes a console.
func New(cfg Config) (*Console, error) {
	if cfg.Service == nil || cfg.Store == nil || cfg.Sessions == nil {
		return nil, errors.New("console: a service, a store and a session store are needed")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 15 * time.Minute
	}
	sm := scs.New()
	sm.Store = cfg.Sessions
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = time.Hour
	sm.Cookie.Name = "mp_console"
	sm.Cookie.HttpOnly = true
	sm.Cookie.Secure = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		cfg.Log.Error("console session", "err", err)
		http.Error(w, text(langOf(r), "err.internal"), http.StatusInternalServerError)
	}
	c := &Console{cfg: cfg, log: cfg.Log, sm: sm, mux: http.NewServeMux()}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, text(langOf(r), "err.csrf"), http.StatusForbidden)
	}))
	c.handler = securityHeaders(cop.Handler(sm.LoadAndSave(c.mux)))
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

func (c *Console) routes() {
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	c.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET /signin", c.signinPage)
	c.mux.HandleFunc("POST /signin", c.signin)
	c.mux.HandleFunc("POST /signout", c.signout)
	c.mux.HandleFunc("GET /lang", c.setLang)
	c.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })

	c.handle("GET /{$}", hq.ViewDashboard, c.dashboard)
	c.handle("POST /signout-everywhere", "", c.signoutEverywhere)
	c.handle("GET /members", hq.ViewMembers, c.members)
	c.handle("GET /members/{id}", hq.ViewMembers, c.member)
	c.handle("POST /members/{id}/adjust", hq.AdjustBalances, c.adjust)
	c.handle("POST /members/{id}/notes", hq.NoteMembers, c.addNote)
	c.handle("GET /programme", hq.ViewProgramme, c.programme)
	c.handle("POST /programme", hq.EditProgramme, c.saveProgramme)
	c.handle("GET /campaigns", hq.ViewCampaigns, c.campaigns)
	c.handle("POST /campaigns", hq.RunCampaigns, c.createCampaign)
	c.handle("GET /campaigns/{id}", hq.ViewCampaigns, c.campaignPage)
	c.handle("POST /campaigns/{id}/{verb}", hq.RunCampaigns, c.moveCampaign)
	c.handle("GET /conflicts", hq.ViewConflicts, c.conflicts)
	c.handle("POST /conflicts/{seq}/resolve", hq.ResolveConflicts, c.resolveConflict)
	c.handle("GET /stores", hq.ViewStores, c.stores)
	c.handle("POST /stores", hq.ManageStores, c.createStore)
	c.handle("GET /stores/pairing.png", hq.ManageStores, c.pairingQR)
	c.handle("POST /devices/{id}/revoke", hq.ManageStores, c.revokeDevice)
	c.handle("GET /imports", hq.ImportData, c.imports)
	c.handle("POST /imports", hq.ImportData, c.runImport)
	c.handle("GET /audit", hq.ViewAudit, c.audit)
}

// request is what a page handler knows about the request.
type request struct {
	P    hq.Principal
	Lang string
	CSRF string
	loc  *time.Location
}

// handle registers a page or form that needs a signed-in principal
// allowed to take action (none: any signed-in principal). A form (any
// method but GET) must carry the session's CSRF token too.
func (c *Console) handle(pattern string, action hq.Action, fn func(http.ResponseWriter, *http.Request, *request)) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rq, ok := c.principal(w, r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			} else {
				c.fail(w, r, nil, http.StatusUnauthorized, "signin.expired")
			}
			return
		}
		if action != "" && !rq.P.Can(action) {
			c.log.Warn("console: refused", "brand", rq.P.BrandID, "account", rq.P.Account, "role", rq.P.Role, "action", action, "path", r.URL.Path)
			c.fail(w, r, rq, http.StatusForbidden, "err.forbidden")
			return
		}
		if r.Method != http.MethodGet {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseMultipartForm(maxForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				c.fail(w, r, rq, http.StatusRequestEntityTooLarge, "err.too_large")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(rq.CSRF)) != 1 || rq.CSRF == "" {
				c.fail(w, r, rq, http.StatusForbidden, "err.csrf")
				return
			}
		}
		fn(w, r, rq)
	})
}

// maxForm bounds a form, file uploads included.
const maxForm = 8 << 20

// principal reads who is signed in from the session and checks the
// account still allows it (not disabled, not signed out everywhere).
func (c *Console) principal(w http.ResponseWriter, r *http.Request) (*request, bool) {
	ctx := r.Context()
	brand, login := c.sm.GetString(ctx, "brand"), c.sm.GetString(ctx, "login")
	if brand == "" || login == "" {
		return nil, false
	}
	var (
		a  hq.Account
		tz string
	)
	err := c.cfg.Store.ViewHQ(ctx, func(tx hq.Tx) error {
		var err error
		if a, err = tx.Account(brand, login); err != nil {
			return err
		}
		b, err := tx.Brand(brand)
		tz = b.TimeZone
		return err
	})
	if err != nil || a.Disabled || a.SessionGen != uint64(c.sm.GetInt64(ctx, "gen")) {
		if err != nil && !cloud.IsNotFound(err) {
			c.log.Error("console: read account", "brand", brand, "account", login, "err", err)
		}
		c.sm.Destroy(ctx)
		return nil, false
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc, _ = time.LoadLocation(cloud.DefaultTimeZone)
		if loc == nil {
			loc = time.FixedZone("CST", 8*3600)
		}
	}
	return &request{P: a.Principal(), Lang: langOf(r), CSRF: c.sm.GetString(ctx, "csrf"), loc: loc}, true
}

// langOf is the page language: the lang cookie, else Chinese.
func langOf(r *http.Request) string {
	if ck, err := r.Cookie("mp_lang"); err == nil && ck.Value == "en" {
		return "en"
	}
	return "zh"
}

func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := "zh"
	if r.URL.Query().Get("to") == "en" {
		lang = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: "mp_lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: true, HttpOnly: true})
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// localPath keeps a redirect on this site: a path, never another host.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

// flash keeps a notice for the next page: a catalogue code and the
// values of its placeholders as name, value pairs.
func (c *Console) flash(r *http.Request, code string, args ...string) {
	c.sm.Put(r.Context(), "flash", code)
	raw, _ := json.Marshal(args)
	c.sm.Put(r.Context(), "flash_args", string(raw))
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// securityHeaders keeps the pages from being framed, sniffed or made to
// run scripts from elsewhere.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
