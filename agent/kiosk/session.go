package kiosk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/memberpass/memberpass/agent/checkout"
	"github.com/memberpass/memberpass/agent/staff"
)

// sessionCookie names the kiosk's sign-in cookie: HttpOnly (page scripts
// never see it) and SameSite=Strict (no other site's page sends it).
const sessionCookie = "mp_kiosk_session"

// Session defaults: a counter session ends after 15 idle minutes and,
// however busy, after 12 hours; a till keeps at most 32 open sessions.
const (
	defaultSessionIdle = 15 * time.Minute
	sessionMaxAge      = 12 * time.Hour
	maxSessions        = 32
)

type session struct {
	token   string
	person  staff.Person
	started time.Time
	last    time.Time
}

// sessions are the kiosk's signed-in staff, in memory: a restart signs
// everyone out.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	idle time.Duration
}

func (ss *sessions) open(p staff.Person, now time.Time) *session {
	raw := make([]byte, 32)
	rand.Read(raw)
	s := &session{token: base64.RawURLEncoding.EncodeToString(raw), person: p, started: now, last: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expire(now)
	for len(ss.byID) >= maxSessions {
		var oldest *session
		for _, o := range ss.byID {
			if oldest == nil || o.last.Before(oldest.last) {
				oldest = o
			}
		}
		delete(ss.byID, oldest.token)
	}
	ss.byID[s.token] = s
	return s
}

func (ss *sessions) expire(now time.Time) {
	for k, s := range ss.byID {
		if now.Sub(s.last) >= ss.idle || now.Sub(s.started) >= sessionMaxAge {
			delete(ss.byID, k)
		}
	}
}

// find returns the live session of a token and marks it used.
func (ss *sessions) find(token string, now time.Time) (session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[token]
	if !ok {
		return session{}, false
	}
	if now.Sub(s.last) >= ss.idle || now.Sub(s.started) >= sessionMaxAge {
		delete(ss.byID, token)
		return session{}, false
	}
	s.last = now
	return *s, true
}

func (ss *sessions) close(token string) {
	ss.mu.Lock()
	delete(ss.byID, token)
	ss.mu.Unlock()
}

type sessionKey struct{}

// signedIn returns the person a request was signed in as (set by need).
func signedIn(ctx context.Context) staff.Person {
	p, _ := ctx.Value(sessionKey{}).(staff.Person)
	return p
}

func (s *Server) sessionOf(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	return s.sessions.find(c.Value, s.now())
}

// need wraps a handler that only signed-in staff may use; a manager-only
// handler also needs the manager role.
func (s *Server) need(role staff.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.sessionOf(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, problem{refusal(wordSignIn)})
			return
		}
		if role == staff.Manager && sess.person.Role != staff.Manager {
			writeJSON(w, http.StatusForbidden, problem{refusal(wordManager)})
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess.person)))
	}
}

// SignInRequest signs a member of staff in at this till.
type SignInRequest struct {
	StaffID string `json:"staff_id"`
	PIN     string `json:"pin"`
}

// SessionView is who is signed in at this browser.
type SessionView struct {
	StaffID string     `json:"staff_id"`
	Name    string     `json:"name"`
	Role    staff.Role `json:"role"`
	// IdleTimeoutSeconds is how long the session lasts without use.
	IdleTimeoutSeconds int64 `json:"idle_timeout_seconds"`
}

// StaffList is the roster as the sign-in form shows it.
type StaffList struct {
	Staff []StaffEntry `json:"staff"`
}

// StaffEntry is one person on the sign-in form (no PIN, ever).
type StaffEntry struct {
	ID   string     `json:"id"`
	Name string     `json:"name"`
	Role staff.Role `json:"role"`
}

func (s *Server) staffList(w http.ResponseWriter, _ *http.Request) {
	out := StaffList{Staff: []StaffEntry{}}
	if s.src.Desk != nil {
		for _, p := range s.src.Desk.Roster().People() {
			out.Staff = append(out.Staff, StaffEntry{ID: p.ID, Name: p.Name, Role: p.Role})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) view(p staff.Person) SessionView {
	return SessionView{StaffID: p.ID, Name: p.Name, Role: p.Role, IdleTimeoutSeconds: int64(s.sessions.idle / time.Second)}
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.sessionOf(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, problem{refusal(wordSignIn)})
		return
	}
	writeJSON(w, http.StatusOK, s.view(sess.person))
}

// checkPIN signs a person in through the desk, answering the refusal
// itself when it fails.
func (s *Server) checkPIN(w http.ResponseWriter, id, pin string, fail checkout.Refusal) (staff.Person, bool) {
	if s.src.Desk == nil || len(s.src.Desk.Roster().People()) == 0 {
		writeJSON(w, http.StatusForbidden, problem{refusal(wordNoStaff)})
		return staff.Person{}, false
	}
	p, err := s.src.Desk.Check(id, pin, s.now())
	var locked *staff.LockedError
	switch {
	case errors.As(err, &locked):
		s.log.Warn("kiosk: sign-in locked after wrong PINs", "staff", id, "until", locked.Until)
		writeJSON(w, http.StatusTooManyRequests, problem{refusal(wordLocked(locked.Until))})
		return staff.Person{}, false
	case err != nil:
		s.log.Warn("kiosk: wrong staff id or PIN", "staff", id)
		writeJSON(w, http.StatusForbidden, problem{refusal(fail)})
		return staff.Person{}, false
	}
	return p, true
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var req SignInRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.StaffID) > 64 || len(req.PIN) > 64 {
		writeJSON(w, http.StatusBadRequest, problem{refusal(wordTooLong)})
		return
	}
	p, ok := s.checkPIN(w, req.StaffID, req.PIN, wordWrongPIN)
	if !ok {
		return
	}
	sess := s.sessions.open(p, s.now())
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	s.log.Info("kiosk: signed in", "staff", p.ID, "role", p.Role)
	writeJSON(w, http.StatusOK, s.view(p))
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.close(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}
