// Package memberpage serves the pages members open on their phones: their
// card (a short-lived member QR code that refreshes itself, tier, points,
// stored value, coupons), reached by a private link, and the brand's join
// page, reached by a store's "scan to join" QR code.
package memberpage

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

//go:embed web
var webFS embed.FS

// Server is the member page HTTP handler.
type Server struct {
	svc   *loyalty.Service
	log   *slog.Logger
	mux   *http.ServeMux
	joins *joinLimiter
	// codes bounds one-time codes requested per client address, so the
	// page cannot be used to text many phones.
	codes *joinLimiter
}

// Join attempts allowed per client address and window.
const (
	joinsPerWindow = 10
	joinWindow     = 10 * time.Minute
)

// New makes the handler.
func New(svc *loyalty.Service, log *slog.Logger) *Server {
	s := &Server{svc: svc, log: log, mux: http.NewServeMux(), joins: newJoinLimiter(joinsPerWindow, joinWindow), codes: newJoinLimiter(joinsPerWindow, joinWindow)}
	static, _ := fs.Sub(webFS, "web")
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Referrer-Policy", "no-referrer") // the card link is private
			w.Header().Set("X-Robots-Tag", "noindex")
			http.ServeFileFS(w, r, static, name)
		}
	}
	s.mux.HandleFunc("GET /card/{brand}/{member}/{token}", page("card.html"))
	s.mux.HandleFunc("GET /join/{brand}/{store}", page("join.html"))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /api/card/{brand}/{member}/{token}", s.card)
	s.mux.HandleFunc("POST /api/join/{brand}/{store}", s.join)
	s.mux.HandleFunc("POST /api/join/{brand}/{store}/code", s.joinCode)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return s
}

// contentSecurityPolicy lets the pages load only their own scripts,
// styles and API, and the QR code as a data: image; no page may frame
// them (a framed card page could be overlaid to trick a member).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sends every answer with the security headers: CSP, no
// framing, no referrer (a card link is private), no MIME sniffing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// Card is what the card page shows.
type Card struct {
	Brand string `json:"brand"`
	Member
	// Code is the member code, QR its PNG as a data URL; refresh before
	// ExpiresAt.
	Code       string    `json:"code"`
	QR         string    `json:"qr"`
	ExpiresAt  time.Time `json:"expires_at"`
	ServerTime time.Time `json:"server_time"`
	TTLSeconds int       `json:"ttl_seconds"`
}

func (s *Server) card(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, m, err := s.svc.MemberByCardLink(ctx, r.PathValue("brand"), r.PathValue("member"), r.PathValue("token"))
	if err != nil {
		s.fail(w, "member card", err)
		return
	}
	if !s.svc.CodeSigning.Allow(b.ID + "/" + m.ID) {
		writeJSON(w, http.StatusTooManyRequests, problem{Code: "too_many", Zh: "刷新太频繁，请稍候再试。", En: "Refreshed too often. Wait a moment and try again."})
		return
	}
	code, exp, err := s.svc.IssueMemberCode(ctx, b.ID, m.ID)
	if err != nil {
		s.fail(w, "issue member code", err)
		return
	}
	png, err := qrcode.Encode(code, qrcode.Low, 360)
	if err != nil {
		s.fail(w, "draw member code", err)
		return
	}
	c := Card{
		Brand: b.Name, Member: memberOf(ctx, s.svc, m), Code: code,
		QR:        "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		ExpiresAt: exp, ServerTime: s.svc.Now(), TTLSeconds: int(s.svc.MemberCodeTTL / time.Second),
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	writeJSON(w, http.StatusOK, c)
}

// JoinForm is what the join page sends.
type JoinForm struct {
	Phone   string `json:"phone"`
	Name    string `json:"name"`
	Consent bool   `json:"consent"`
	Staff   string `json:"staff"`
	Voucher string `json:"voucher"`
	// Code is the one-time code texted to the phone.
	Code string `json:"code"`
}

// joinCode texts a one-time code to the phone; the answer is the same
// whether or not the phone is a member.
func (s *Server) joinCode(w http.ResponseWriter, r *http.Request) {
	if !s.codes.allow(r) {
		writeJSON(w, http.StatusTooManyRequests, problem{Code: "too_many", Zh: "尝试次数过多，请稍后再试，或请店员帮您办理入会。", En: "Too many attempts. Try again later, or ask the cashier to enrol you."})
		return
	}
	var f JoinForm
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, problem{Code: "bad_request", Zh: "提交内容有误，请刷新页面后重试。", En: "The form could not be read. Reload the page and try again."})
		return
	}
	if err := s.svc.SendJoinCode(r.Context(), r.PathValue("brand"), f.Phone); err != nil {
		s.fail(w, "join code", err)
		return
	}
	writeJSON(w, http.StatusAccepted, struct {
		Sent bool `json:"sent"`
	}{true})
}

// Joined answers a join.
type Joined struct {
	MemberID string `json:"member_id"`
	CardPath string `json:"card_path"`
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	if !s.joins.allow(r) {
		s.log.Warn("join page: too many attempts", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusTooManyRequests, problem{Code: "too_many", Zh: "尝试次数过多，请稍后再试，或请店员帮您办理入会。", En: "Too many attempts. Try again later, or ask the cashier to enrol you."})
		return
	}
	var f JoinForm
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	if err := dec.Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, problem{Zh: "提交内容有误，请刷新页面后重试。", En: "The form could not be read. Reload the page and try again."})
		return
	}
	ctx := r.Context()
	m, err := s.svc.Join(ctx, loyalty.JoinRequest{
		BrandID: r.PathValue("brand"), StoreID: r.PathValue("store"), StaffID: f.Staff, VoucherCode: f.Voucher,
		Phone: f.Phone, Name: f.Name, Consent: f.Consent, Code: f.Code,
	})
	if err != nil {
		s.fail(w, "join", err)
		return
	}
	path, err := s.svc.CardLinkPath(ctx, r.PathValue("brand"), m.ID)
	if err != nil {
		s.fail(w, "card link", err)
		return
	}
	writeJSON(w, http.StatusOK, Joined{MemberID: m.ID, CardPath: path})
}

type problem struct {
	Code string `json:"code"`
	Zh   string `json:"zh"`
	En   string `json:"en"`
}

func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	switch cloud.ErrorCode(err) {
	case cloud.NotFound:
		writeJSON(w, http.StatusNotFound, problem{Code: "not_found", Zh: "链接无效或已失效，请向门店或客服索取新的会员卡链接。", En: "This link is not valid. Ask the store or customer service for a new card link."})
	case cloud.Conflict:
		writeJSON(w, http.StatusConflict, problem{Code: "conflict", Zh: "这个手机号已经是会员了，请直接向店员出示手机号。", En: "This phone number is already a member. Give the number to the cashier."})
	case cloud.Forbidden:
		writeJSON(w, http.StatusForbidden, problem{Code: "code_invalid", Zh: "验证码错误或已过期，请重新获取。", En: "The code is wrong or has expired. Ask for a new one."})
	case cloud.Unavailable:
		writeJSON(w, http.StatusServiceUnavailable, problem{Code: "unavailable", Zh: "暂不支持在手机上自助入会，请请店员帮您办理。", En: "Joining on your phone is not available here. Ask the cashier to enrol you."})
	case cloud.TooMany:
		writeJSON(w, http.StatusTooManyRequests, problem{Code: "too_many", Zh: "验证码发送过多，请一小时后再试。", En: "Too many codes sent. Try again in an hour."})
	case cloud.Invalid:
		writeJSON(w, http.StatusBadRequest, problem{Code: "invalid", Zh: "填写有误：" + cloud.ErrorMessage(err), En: "Please check the form: " + cloud.ErrorMessage(err)})
	default:
		s.log.Error("member page: "+what, "err", err)
		writeJSON(w, http.StatusInternalServerError, problem{Code: "internal", Zh: "服务暂时不可用，请稍后再试。", En: "The service is unavailable. Try again shortly."})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
