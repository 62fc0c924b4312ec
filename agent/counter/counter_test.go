package counter

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/frame"
	"github.com/memberpass/memberpass/agent/scan"
	"github.com/memberpass/memberpass/proto/membercode"
)

// memStore is an in-memory Store.
type memStore struct {
	mu     sync.Mutex
	cards  map[string]agent.Member
	events []agent.Event
}

func (m *memStore) Record(_ context.Context, ev agent.Event) (agent.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev.Seq = uint64(len(m.events) + 1)
	ev.ID = "ev"
	m.events = append(m.events, ev)
	return ev, nil
}

func (m *memStore) Member(id string) (agent.Member, error) { return agent.Member{ID: id}, nil }

func (m *memStore) MemberByCard(number string) (agent.Member, error) {
	if mem, ok := m.cards[number]; ok {
		return mem, nil
	}
	return agent.Member{}, errors.New("no such card")
}

func TestHandle(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := membercode.NewVerifier(time.Minute, pub)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		f       frame.Frame
		kind    scan.Kind
		visit   bool
		refusal string
		notice  string
	}{
		{"card from a card reader", frame.Frame{Text: "8800000001", Card: true}, scan.Card, true, "", ""},
		{"card barcode from a scanner", frame.Frame{Text: "8800000001", Symbology: "]C0"}, scan.Card, true, "", ""},
		{"unknown card with brand prefix", frame.Frame{Text: "8899999999"}, scan.Card, false, "card_unknown", ""},
		{"unknown card from a card reader", frame.Frame{Text: "04A1B2C3", Card: true}, scan.Card, false, "card_unknown", ""},
		{"voucher", frame.Frame{Text: "7712345678", Symbology: "]Q1"}, scan.Voucher, false, "", "voucher_scanned"},
		{"coupon", frame.Frame{Text: "CPABCDEFGH234567"}, scan.Coupon, false, "", "coupon_scanned"},
		{"product", frame.Frame{Text: "6901234567892", Symbology: "]E0"}, scan.Product, false, "", "product_scanned"},
		{"text", frame.Frame{Text: "HELLO"}, scan.Unknown, false, "unknown_scan", ""},
		{"bad LRC", frame.Frame{Err: frame.ErrLRC}, scan.Card, false, "card_read_failed", ""},
		{"bad checksum", frame.Frame{Err: frame.ErrChecksum}, scan.Card, false, "card_read_failed", ""},
		{"garbled line", frame.Frame{Err: frame.ErrControl}, scan.Unknown, false, "bad_frame", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{cards: map[string]agent.Member{"8800000001": {ID: "7"}}}
			c := New(st, agent.Identity{StoreID: "s1"}, v, slog.New(slog.NewTextHandler(io.Discard, nil)))
			c.Rules = scan.Rules{CardPrefixes: []string{"88"}}
			var seen []Result
			c.OnResult = func(r Result) { seen = append(seen, r) }
			r := c.Handle(context.Background(), "reader-1", tt.f)
			if r.Scan != tt.kind {
				t.Errorf("scan = %s, want %s", r.Scan, tt.kind)
			}
			if (r.Event != nil) != tt.visit || len(st.events) != map[bool]int{true: 1}[tt.visit] {
				t.Errorf("event %+v, store holds %d, want visit %v", r.Event, len(st.events), tt.visit)
			}
			if got := codeOf(r.Refusal); got != tt.refusal {
				t.Errorf("refusal %q, want %q", got, tt.refusal)
			}
			if r.Notice == nil && tt.notice != "" || r.Notice != nil && r.Notice.Code != tt.notice {
				t.Errorf("notice %+v, want %q", r.Notice, tt.notice)
			}
			if r.Notice != nil && (r.Code != tt.f.Text || r.Notice.Zh == "" || r.Notice.En == "") {
				t.Errorf("notice result %+v lacks the code or a language", r)
			}
			if r.Device != "reader-1" || len(seen) != 1 {
				t.Errorf("device %q, %d results observed", r.Device, len(seen))
			}
		})
	}
}

func codeOf(r *Refusal) string {
	if r == nil {
		return ""
	}
	return r.Code
}

// TestRescanAfterRestart: a member scanned again within the debounce
// window of a visit the last run recorded is answered "already recorded",
// with that visit, and nothing new is recorded; outside the window, or
// for another member, a visit is recorded as usual.
func TestRescanAfterRestart(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	v, _ := membercode.NewVerifier(time.Minute, pub)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	st := &memStore{cards: map[string]agent.Member{"8800000001": {ID: "7"}, "8800000002": {ID: "8"}}}
	c := New(st, agent.Identity{StoreID: "s1"}, v, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.Rules = scan.Rules{CardPrefixes: []string{"88"}}
	c.Debounce = 30 * time.Second
	c.Now = func() time.Time { return now }
	last := agent.Event{ID: "before", Seq: 57, OccurredAt: now.Add(-10 * time.Second), MemberID: "7", Kind: agent.EventVisit, Visit: &agent.Visit{IdentifiedBy: agent.ByCard}}
	c.Remember([]agent.Event{last, {Seq: 56, MemberID: "", Kind: agent.EventEnrolment}})

	r := c.Handle(context.Background(), "scanner", frame.Frame{Text: "8800000001"})
	if !r.Again || r.Event == nil || r.Event.Seq != 57 || r.Notice == nil || r.Notice.Code != "already_recorded" || len(st.events) != 0 {
		t.Fatalf("rescan within the window: %+v, %d recorded", r, len(st.events))
	}
	if r := c.Handle(context.Background(), "scanner", frame.Frame{Text: "8800000002"}); r.Again || r.Event == nil || len(st.events) != 1 {
		t.Fatalf("another member: %+v", r)
	}
	now = now.Add(30 * time.Second)
	c.lastText = "" // not the scanner's own repeat
	if r := c.Handle(context.Background(), "scanner", frame.Frame{Text: "8800000001"}); r.Again || r.Event == nil || len(st.events) != 2 {
		t.Fatalf("rescan after the window: %+v", r)
	}
}
