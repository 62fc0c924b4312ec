package memberpage

import (
	"net/http"
	"strings"
	"testing"
)

// TestPagesSendSecurityHeaders: every page and API answer forbids framing,
// referrers and foreign scripts.
func TestPagesSendSecurityHeaders(t *testing.T) {
	_, srv := newPages(t)
	for _, path := range []string{"/join/tea/shop-a", "/card/tea/1/x", "/static/card.js", "/api/card/tea/1/x", "/nosuch"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Frame-Options %q, Referrer-Policy %q, X-Content-Type-Options %q", path, h.Get("X-Frame-Options"), h.Get("Referrer-Policy"), h.Get("X-Content-Type-Options"))
		}
	}
}
