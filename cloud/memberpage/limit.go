package memberpage

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// joinLimiter bounds join attempts per client address in a time window,
// so the public join page cannot be used to enrol phone numbers in bulk.
// Behind a reverse proxy every client shares the proxy's address: put the
// limit in the proxy there, or raise this one.
type joinLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]*attempts
}

type attempts struct {
	start time.Time
	n     int
}

func newJoinLimiter(max int, window time.Duration) *joinLimiter {
	return &joinLimiter{max: max, window: window, now: time.Now, seen: map[string]*attempts{}}
}

// allow counts an attempt from r's address and reports whether it is
// within the limit.
func (l *joinLimiter) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 10_000 { // forget finished windows before the map grows further
		for h, a := range l.seen {
			if now.Sub(a.start) >= l.window {
				delete(l.seen, h)
			}
		}
	}
	a, ok := l.seen[host]
	if !ok || now.Sub(a.start) >= l.window {
		a = &attempts{start: now}
		l.seen[host] = a
	}
	a.n++
	return a.n <= l.max
}
