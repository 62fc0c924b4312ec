package kiosk

import (
	"net/http"
	"testing"

	"github.com/memberpass/memberpass/agent/checkout"
)

// TestReusedTxnIDIsRefused: the same txn_id sent again for the same bill
// answers the first event; for another member, amount or kind it is
// refused (422 txn_reused), never answered with the first event.
func TestReusedTxnIDIsRefused(t *testing.T) {
	s, srv := newKiosk(t)
	c := newClient(t, srv.URL)
	c.signIn("s01", cashierPIN)
	scanned(s, "7")
	scanned(s, "8")
	const txn = `"txn_id":"t-reuse-0123456789"`
	var first checkout.Receipt
	if code := c.post("/api/checkout", `{`+txn+`,"member_id":"7","bill_fen":10000}`, &first); code != http.StatusOK {
		t.Fatalf("checkout: status %d", code)
	}
	for _, tc := range []struct{ name, path, body string }{
		{"another amount", "/api/checkout", `{` + txn + `,"member_id":"7","bill_fen":99999999}`},
		{"another member", "/api/checkout", `{` + txn + `,"member_id":"8","bill_fen":10000}`},
		{"another kind", "/api/topups", `{` + txn + `,"member_id":"7","amount_fen":10000}`},
	} {
		var p problem
		if code := c.post(tc.path, tc.body, &p); code != http.StatusUnprocessableEntity || p.Refusal == nil || p.Refusal.Code != "txn_reused" {
			t.Errorf("%s: status %d, %+v; want 422 txn_reused", tc.name, code, p.Refusal)
		}
	}
	var again checkout.Receipt
	if code := c.post("/api/checkout", `{`+txn+`,"member_id":"7","bill_fen":10000}`, &again); code != http.StatusOK || !again.Again || again.Event.Seq != first.Event.Seq {
		t.Fatalf("the same bill again: status %d, again %v seq %d; want the first (seq %d)", code, again.Again, again.Event.Seq, first.Event.Seq)
	}
}
