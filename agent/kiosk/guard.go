package kiosk

import (
	"net"
	"net/http"
	"strings"
)

// loopbackHosts are the names the kiosk answers to without configuration.
var loopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// hostAllowed says whether a request's Host names this kiosk: a loopback
// name or one the operator configured. Any other name, and any other IP
// literal, is refused: a web page elsewhere can point its own DNS name at
// 127.0.0.1 (DNS rebinding) but cannot make the browser send this Host.
func (s *Server) hostAllowed(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	for _, h := range loopbackHosts {
		if host == h {
			return true
		}
	}
	for _, h := range s.src.Hosts {
		if host == strings.ToLower(strings.Trim(h, "[]")) {
			return true
		}
	}
	return false
}

// guard wraps every route: the Host check for every request, reads
// included, and for state changes the cross-origin check (Sec-Fetch-Site,
// or Origin against Host) and a JSON body, which a foreign page cannot
// send without a CORS preflight this server never grants.
func (s *Server) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r) {
			s.log.Warn("kiosk: request for another host refused", "host", r.Host, "path", r.URL.Path, "remote", r.RemoteAddr)
			writeJSON(w, http.StatusForbidden, problem{refusal(wordHost)})
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if err := cop.Check(r); err != nil {
				s.log.Warn("kiosk: cross-origin request refused", "origin", r.Header.Get("Origin"), "path", r.URL.Path)
				writeJSON(w, http.StatusForbidden, problem{refusal(wordForbidden)})
				return
			}
			if r.ContentLength != 0 {
				if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mt) != "application/json" {
					writeJSON(w, http.StatusForbidden, problem{refusal(wordForbidden)})
					return
				}
			}
		}
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
