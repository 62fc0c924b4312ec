package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
)

// view is what every template sees: the page's own data in Data.
type view struct {
	Lang  string
	P     *hq.Principal
	Nav   string
	CSRF  string
	Path  string
	Flash string
	// FlashArgs fill the flash's placeholders.
	FlashArgs []string
	// Error is a catalogue code shown above the page; ErrorDetail the
	// application's own message (what was wrong with the input).
	Error       string
	ErrorDetail string
	Data        any
	loc         *time.Location
}

// T is the words for code in the page's language.
func (v view) T(code string) string { return text(v.Lang, code) }

// Tf fills code's {name} placeholders from name, value pairs.
func (v view) Tf(code string, kv ...any) string {
	s := text(v.Lang, code)
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(kv[i])+"}", fmt.Sprint(kv[i+1]))
	}
	return s
}

// FlashText is the flash with its placeholders filled.
func (v view) FlashText() string {
	args := make([]any, len(v.FlashArgs))
	for i, a := range v.FlashArgs {
		args[i] = a
	}
	return v.Tf(v.Flash, args...)
}

// Time writes t in the brand's zone.
func (v view) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if v.loc != nil {
		t = t.In(v.loc)
	}
	return t.Format("2006-01-02 15:04")
}

// Date writes t's date in the brand's zone.
func (v view) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if v.loc != nil {
		t = t.In(v.loc)
	}
	return t.Format(time.DateOnly)
}

// Can says whether the signed-in role may take an action (for the menu
// and the buttons; the server checks again).
func (v view) Can(a string) bool { return v.P != nil && v.P.Can(hq.Action(a)) }

// RoleName is the role in words.
func (v view) RoleName() string {
	if v.P == nil {
		return ""
	}
	return v.T("role." + string(v.P.Role))
}

var funcs = template.FuncMap{
	"money": formatMoney,
	"int":   formatInt,
	"yuan":  formatYuan,
	"join":  strings.Join,
	// pct writes basis points as a percentage: 1000 -> 10%.
	"pct": func(bp int) string { return strconv.FormatFloat(float64(bp)/100, 'f', -1, 64) + "%" },
	// pp writes a proportion as percentage points: 0.052 -> +5.2 pp.
	"pp": func(x float64) string { return fmt.Sprintf("%+.1f pp", x*100) },
	// moneyf writes fractional fen (a mean) as money.
	"moneyf": func(fen float64) string { return formatMoney(int64(fen + copysign(0.5, fen))) },
	"dec":    func(x float64) string { return fmt.Sprintf("%+.2f", x) },
}

// formatMoney writes fen as ¥1,234.50.
func formatMoney(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	s := "¥" + group(strconv.FormatUint(u/100, 10)) + fmt.Sprintf(".%02d", u%100)
	if neg {
		return "-" + s
	}
	return s
}

// formatYuan writes fen as yuan for a form field: 1234.5 -> "1234.50".
func formatYuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	s := fmt.Sprintf("%d.%02d", u/100, u%100)
	if neg {
		return "-" + s
	}
	return s
}

// formatInt writes a whole number with thousands separators.
func formatInt(n any) string {
	switch x := n.(type) {
	case int:
		return formatInt(int64(x))
	case uint64:
		return group(strconv.FormatUint(x, 10))
	case int64:
		if x < 0 {
			return "-" + group(strconv.FormatUint(uint64(-x), 10))
		}
		return group(strconv.FormatInt(x, 10))
	}
	return fmt.Sprint(n)
}

func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	if pre > 0 {
		b.WriteString(digits[:pre])
	}
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// parseYuan reads an amount of yuan typed in a form ("12", "-3.5",
// "1,234.50") as fen, exactly.
func parseYuan(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥")), ",", "")
	if s == "" || len(s) > 20 {
		return 0, cloud.Errorf(cloud.Invalid, "amount %q: want yuan such as 12.50", s)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" && frac == "" {
		return 0, cloud.Errorf(cloud.Invalid, "amount %q: at most two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if whole == "" {
		whole = "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || w > 1e12 {
		return 0, cloud.Errorf(cloud.Invalid, "amount %q: want yuan such as 12.50", s)
	}
	fen := w*100 + f
	if neg {
		fen = -fen
	}
	return fen, nil
}

// parseTemplates parses each page with the layout.
func (c *Console) parseTemplates() error {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return err
	}
	c.pages = map[string]*template.Template{}
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", path)
		if err != nil {
			return fmt.Errorf("console: parse %s: %w", path, err)
		}
		c.pages[name] = t
	}
	return nil
}

// render writes a page; nav names the menu entry it belongs to.
func (c *Console) render(w http.ResponseWriter, r *http.Request, rq *request, status int, page, nav string, data any) {
	v := view{Lang: langOf(r), Nav: nav, Path: r.URL.RequestURI(), Data: data}
	if rq != nil {
		v.P, v.CSRF, v.loc = &rq.P, rq.CSRF, rq.loc
		if f := c.sm.PopString(r.Context(), "flash"); f != "" {
			v.Flash = f
			json.Unmarshal([]byte(c.sm.PopString(r.Context(), "flash_args")), &v.FlashArgs)
		}
	}
	c.write(w, status, page, v)
}

func (c *Console) write(w http.ResponseWriter, status int, page string, v view) {
	t, ok := c.pages[page]
	if !ok {
		c.log.Error("console: no template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.log.Error("console: render", "page", page, "err", err)
		http.Error(w, text(v.Lang, "err.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// failure is the error page's data.
type failure struct {
	Code   string
	Detail string
	Status int
}

// fail shows an error page: code is a catalogue code; err (if any) gives
// the application's own message, never an internal error's details.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, rq *request, status int, code string, detail ...string) {
	f := failure{Code: code, Status: status}
	if len(detail) > 0 {
		f.Detail = detail[0]
	}
	v := view{Lang: langOf(r), Path: r.URL.RequestURI(), Data: f, Error: code, ErrorDetail: f.Detail}
	if rq != nil {
		v.P, v.CSRF, v.loc = &rq.P, rq.CSRF, rq.loc
	}
	w.Header().Set("X-Memberpass-Error", code)
	c.write(w, status, "error", v)
}

// failErr maps an application error to a page: its code decides the
// status, its message (not an internal one) the detail.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, rq *request, what string, err error) {
	code := cloud.ErrorCode(err)
	status, key := http.StatusInternalServerError, "err.internal"
	switch code {
	case cloud.Invalid:
		status, key = http.StatusUnprocessableEntity, "err.invalid"
	case cloud.NotFound:
		status, key = http.StatusNotFound, "err.not_found"
	case cloud.Conflict:
		status, key = http.StatusConflict, "err.conflict"
	case cloud.Forbidden:
		status, key = http.StatusForbidden, "err.forbidden"
	}
	if status == http.StatusInternalServerError {
		c.log.Error("console: "+what, "err", err)
		c.fail(w, r, rq, status, key)
		return
	}
	c.fail(w, r, rq, status, key, cloud.ErrorMessage(err))
}
