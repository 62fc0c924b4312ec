package messaging

import (
	"context"
	"sync"
	"time"
)

// Bucket is a token bucket: a provider account's messages per second. Each
// request takes a token; tokens come back at Rate per second up to Burst.
// When the provider says it is rate limiting anyway (WeChat 45009,
// Alibaba's BUSINESS_LIMIT_CONTROL), Pause stops everyone for a while.
type Bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	paused time.Time
}

// NewBucket makes a bucket of rate tokens per second; burst at least 1.
func NewBucket(rate float64, burst int) *Bucket {
	if burst < 1 {
		burst = 1
	}
	return &Bucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// Rate is the bucket's tokens per second.
func (b *Bucket) Rate() float64 { return b.rate }

// reserve takes a token at now and returns how long the caller must wait
// before using it. Tokens may go negative: later callers queue behind.
func (b *Bucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.last = now
	}
	if now.After(b.last) {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	var wait time.Duration
	if b.paused.After(now) {
		wait = b.paused.Sub(now)
	}
	b.tokens--
	if b.tokens < 0 {
		if w := time.Duration(-b.tokens / b.rate * float64(time.Second)); w > wait {
			wait = w
		}
	}
	return wait
}

// Wait blocks until the caller may send one request, or ctx ends.
func (b *Bucket) Wait(ctx context.Context) error {
	if b == nil || b.rate <= 0 {
		return ctx.Err()
	}
	wait := b.reserve(time.Now())
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pause holds every request for d from now: the provider asked us to slow
// down, and the tokens already handed out were too many.
func (b *Bucket) Pause(now time.Time, d time.Duration) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := now.Add(d); until.After(b.paused) {
		b.paused = until
	}
	b.tokens = 0
	b.last = now
}
