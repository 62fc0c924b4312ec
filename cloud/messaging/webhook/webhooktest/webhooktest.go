// Package webhooktest is a brand's webhook receiver for tests: it verifies
// the signature and the timestamp (401 otherwise), drops a repeated
// message id, and answers with the statuses a test queues.
package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging/webhook"
)

// Receiver is the fake endpoint.
type Receiver struct {
	*httptest.Server
	Secret string
	mu     sync.Mutex
	got    []webhook.Payload
	seen   map[string]bool
	next   []int
	// Requests counts every request, refused and repeated ones included.
	requests int
}

// New starts a receiver with a secret.
func New(secret string) *Receiver {
	r := &Receiver{Secret: secret, seen: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// FailNext makes the next requests answer these HTTP statuses.
func (r *Receiver) FailNext(statuses ...int) {
	r.mu.Lock()
	r.next = append(r.next, statuses...)
	r.mu.Unlock()
}

// Got returns the messages taken, once each.
func (r *Receiver) Got() []webhook.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Payload(nil), r.got...)
}

// Requests is how many requests arrived.
func (r *Receiver) Requests() int { r.mu.Lock(); defer r.mu.Unlock(); return r.requests }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err := webhook.Verify(r.Secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if len(r.next) > 0 {
		st := r.next[0]
		r.next = r.next[1:]
		w.WriteHeader(st)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" || p.ID != req.Header.Get(webhook.HeaderID) {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	if !r.seen[p.ID] {
		r.seen[p.ID] = true
		r.got = append(r.got, p)
	}
	w.WriteHeader(http.StatusNoContent)
}
