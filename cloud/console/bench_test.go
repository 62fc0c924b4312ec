package console_test

import (
	"net/http"
	"testing"

	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// BenchmarkPages renders each page for a signed-in owner over the demo
// data make demo shows (200 members, 30 days, 3 stores), through the real
// handler, session store and SQLite. The target is < 300 ms a page.
func BenchmarkPages(b *testing.B) {
	e := newBenchEnv(b)
	c := e.benchClient(b)
	pages := []string{"/", "/members", "/members/" + e.demo.HomeMember.ID, "/members?q=" + e.demo.HomeMember.Phone,
		"/programme", "/campaigns", "/conflicts", "/stores", "/imports", "/audit"}
	for _, p := range pages {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.Get(e.srv.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", p, resp.StatusCode)
				}
			}
		})
	}
}

func newBenchEnv(b *testing.B) *env {
	b.Helper()
	return newEnvSized(b, sqltest.OpenSQLite(b), 200, 30)
}

func (e *env) benchClient(b *testing.B) *http.Client {
	b.Helper()
	c := &client{tb: b, e: e}
	c.init()
	c.as(hq.RoleOwner)
	return c.http
}
