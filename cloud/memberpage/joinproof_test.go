package memberpage

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/memberpass/memberpass/cloud/loyalty"
)

func postJSON(t *testing.T, url, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// TestJoiningProvesThePhone: a join needs the code texted to the phone;
// asking for a code answers the same for a member's phone and a new one;
// without a text channel the page says to ask the cashier.
func TestJoiningProvesThePhone(t *testing.T) {
	svc, srv := newPages(t)
	ctx := context.Background()
	known, err := svc.CreateMember(ctx, "tea", loyalty.NewMember{Phone: "13700000001", Name: "老会员"})
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	ca := postJSON(t, srv.URL+"/api/join/tea/shop-1/code", `{"phone":"13700000001"}`, &a)
	cb := postJSON(t, srv.URL+"/api/join/tea/shop-1/code", `{"phone":"13700000002"}`, &b)
	if ca != http.StatusAccepted || cb != ca || len(a) != len(b) {
		t.Fatalf("code for a member's phone: %d %v; for a new phone: %d %v; want the same answer", ca, a, cb, b)
	}
	for _, body := range []string{
		`{"phone":"13700000001","consent":true}`,
		`{"phone":"13700000001","consent":true,"code":"000000"}`,
		`{"phone":"13700000002","consent":true,"code":"12345"}`,
	} {
		var p problem
		if code := postJSON(t, srv.URL+"/api/join/tea/shop-1", body, &p); code != http.StatusForbidden || p.Code != "code_invalid" {
			t.Fatalf("join %s: %d %+v; want 403 code_invalid", body, code, p)
		}
	}
	// The one who can read the member's phone gets the member's own card.
	var j Joined
	if code := postJSON(t, srv.URL+"/api/join/tea/shop-1", `{"phone":"13700000001","consent":true,"code":"`+codeFor(t, svc, "13700000001")+`"}`, &j); code != http.StatusOK || j.MemberID != known.ID {
		t.Fatalf("proven join of a member's phone: %d %+v; want member %s", code, j, known.ID)
	}
	if st, _ := svc.Stats(ctx, "tea"); st.Members != 1 {
		t.Fatalf("%d members; the unproven joins must enrol no one", st.Members)
	}
	svc.JoinCodeSender = nil
	var p problem
	if code := postJSON(t, srv.URL+"/api/join/tea/shop-1/code", `{"phone":"13700000003"}`, &p); code != http.StatusServiceUnavailable || p.Code != "unavailable" {
		t.Fatalf("no text channel: %d %+v; want 503 unavailable", code, p)
	}
}

// TestCardLinksAreRevocable: HQ's revocation, a phone change and a merge
// each stop the links made before; code signing per link is bounded.
func TestCardLinksAreRevocable(t *testing.T) {
	svc, srv := newPages(t)
	ctx := context.Background()
	m, err := svc.CreateMember(ctx, "tea", loyalty.NewMember{Phone: "13700000011", Name: "甲"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.CreateMember(ctx, "tea", loyalty.NewMember{Phone: "13700000012", Name: "乙"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		resp, err := http.Get(srv.URL + "/api" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	link := func(id string) string {
		p, err := svc.CardLinkPath(ctx, "tea", id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	steps := []struct {
		name   string
		revoke func()
	}{
		{"HQ revokes", func() { svc.RevokeCardLinks(ctx, "tea", m.ID) }},
		{"phone changes", func() {
			p := "13700000019"
			svc.UpdateMember(ctx, "tea", m.ID, loyalty.MemberUpdate{Phone: &p})
		}},
		{"merged", func() { svc.MergeMembers(ctx, "tea", m.ID, other.ID) }},
	}
	for _, s := range steps {
		old := link(m.ID)
		if code := get(old); code != http.StatusOK {
			t.Fatalf("before %s: link answers %d", s.name, code)
		}
		s.revoke()
		if code := get(old); code != http.StatusNotFound {
			t.Fatalf("after %s: the old link answers %d; want 404", s.name, code)
		}
		if code := get(link(m.ID)); code != http.StatusOK {
			t.Fatalf("after %s: the new link answers %d", s.name, code)
		}
	}
	// A leaked link cannot mint member codes in bulk.
	l := link(other.ID)
	refused := 0
	for range 20 {
		if get(l) == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 || refused > 20-4 {
		t.Fatalf("%d of 20 card refreshes in a burst refused; want the bound to hold after a few", refused)
	}
}
