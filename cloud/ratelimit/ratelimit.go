// Package ratelimit counts attempts per key (a client address, a member)
// in fixed time windows, for the cloud's public doors: pairing, joining,
// one-time codes, member code signing. It keeps its counts in memory: a
// cloud restart forgets them, and several cloud processes each count their
// own; the bounds are against bulk abuse, not exact quotas.
package ratelimit

import (
	"sync"
	"time"
)

// Window allows Max attempts per key in each Per-long window.
type Window struct {
	Max int
	Per time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// New makes a limiter of max attempts per key in each window of per.
func New(max int, per time.Duration) *Window {
	return &Window{Max: max, Per: per, Now: time.Now, seen: map[string]*window{}}
}

// Allow counts an attempt for key and reports whether it is within the
// limit.
func (l *Window) Allow(key string) bool {
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 10_000 { // forget finished windows before the map grows further
		for k, w := range l.seen {
			if now.Sub(w.start) >= l.Per {
				delete(l.seen, k)
			}
		}
	}
	w, ok := l.seen[key]
	if !ok || now.Sub(w.start) >= l.Per {
		w = &window{start: now}
		l.seen[key] = w
	}
	w.n++
	return w.n <= l.Max
}

// Over reports whether key has used up its attempts in the current window,
// without counting one: for doors that count only failures.
func (l *Window) Over(key string) bool {
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.seen[key]
	return ok && now.Sub(w.start) < l.Per && w.n >= l.Max
}
