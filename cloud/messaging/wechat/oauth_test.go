package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
	"github.com/memberpass/memberpass/cloud/messaging/wechat"
)

// A member opens their card link in WeChat: sent to WeChat's OAuth page,
// back with a code, their openid is linked with consent. A wrong card
// token is refused; a code works once.
func TestLinkOpenID(t *testing.T) {
	ctx := context.Background()
	s := fake(t)
	st := messagingtest.SQLite(t)
	svc := messaging.NewService(st, messagingtest.NewDirectory())
	c, _ := wechat.New(wechat.Config{BaseURL: s.URL, OpenBaseURL: "https://open.example", AppID: "wx-app", AppSecret: "wx-secret"})
	verify := func(_ context.Context, brand, member, token string) error {
		if brand == "cha" && member == "7" && token == "good" {
			return nil
		}
		return errors.New("no such card")
	}
	srv := httptest.NewServer(&wechat.Link{Client: c, Service: svc, Verify: verify, PublicURL: "https://m.example.com"})
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noFollow.Get(srv.URL + "/wechat/link/cha/7/good")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Host != "open.example" || loc.Path != "/connect/oauth2/authorize" ||
		loc.Query().Get("appid") != "wx-app" || loc.Query().Get("scope") != "snsapi_base" ||
		loc.Query().Get("redirect_uri") != "https://m.example.com/wechat/link/cha/7/good" || loc.Fragment != "wechat_redirect" {
		t.Fatalf("redirect %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := s.IssueCode("oMember7")
	for i, want := range []int{http.StatusOK, http.StatusBadGateway} { // the second use of the code fails
		resp, err := noFollow.Get(srv.URL + "/wechat/link/cha/7/good?code=" + code + "&state=link")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("use %d of the code: HTTP %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	cs, ok, err := st.Consent(ctx, "cha", "7", messaging.WeChat)
	if err != nil || !ok || !cs.Granted || cs.Address != "oMember7" || cs.Source != messaging.SourceMemberPage {
		t.Errorf("consent after linking: %+v %v %v", cs, ok, err)
	}
	resp, err = noFollow.Get(srv.URL + "/wechat/link/cha/7/forged?code=" + s.IssueCode("oOther"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged card token: HTTP %d", resp.StatusCode)
	}
}
