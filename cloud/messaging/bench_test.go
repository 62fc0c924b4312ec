package messaging_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// limitedProvider is a provider account that takes at most rate messages
// a second (a token bucket holding a tenth of a second's worth) and
// refuses the rest as rate limited, as gateways do. It keeps only a
// count, so the memory measured is the cloud's.
type limitedProvider struct {
	mu      sync.Mutex
	rate    float64
	tokens  float64
	last    time.Time
	sent    atomic.Int64
	refused atomic.Int64
	// done is closed when all messages are sent.
	all  int64
	done chan struct{}
	// first and last are when the first and the last message went.
	firstSend, lastSend time.Time
}

func (p *limitedProvider) Send(_ context.Context, m messaging.Outgoing) (string, error) {
	p.mu.Lock()
	now := time.Now()
	if !p.last.IsZero() {
		p.tokens = min(p.tokens+now.Sub(p.last).Seconds()*p.rate, p.rate/10)
	}
	p.last = now
	if p.tokens < 1 {
		p.mu.Unlock()
		p.refused.Add(1)
		return "", &messaging.SendError{Kind: messaging.RateLimited, Code: "isv.BUSINESS_LIMIT_CONTROL"}
	}
	p.tokens--
	p.mu.Unlock()
	n := p.sent.Add(1)
	if n == 1 {
		p.mu.Lock()
		p.firstSend = time.Now()
		p.mu.Unlock()
	}
	if n == p.all {
		p.mu.Lock()
		p.lastSend = time.Now()
		p.mu.Unlock()
		close(p.done)
	}
	return "b-" + strconv.FormatInt(n, 10), nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// synthDirectory makes members up from their ids, so a million of them
// take no memory and the heap measured is the dispatcher's.
type synthDirectory struct{}

func (synthDirectory) Recipient(_ context.Context, brand, member string) (messaging.Recipient, error) {
	n, _ := strconv.Atoi(member)
	return messaging.Recipient{BrandID: brand, MemberID: member, Name: "会员", Phone: fmt.Sprintf("139%08d", n), Consent: true,
		Vars: map[string]string{"name": "会员"}}, nil
}

func (synthDirectory) MembersByPhone(context.Context, string) ([]messaging.Recipient, error) {
	return nil, nil
}

func (synthDirectory) BrandTimeZone(context.Context, string) (string, error) {
	return "Asia/Shanghai", nil
}

func benchService(b *testing.B, st *sqlstore.MessagingStore) *messaging.Service {
	b.Helper()
	ctx := context.Background()
	dir := synthDirectory{}
	svc := messaging.NewService(st, dir)
	p := messaging.DefaultPolicy("cha")
	p.SMSSignName, p.QuietHours = "茶小满", messaging.QuietHours{}
	if err := svc.SetPolicy(ctx, p); err != nil {
		b.Fatal(err)
	}
	if err := svc.PutTemplate(ctx, messaging.Template{BrandID: "cha", ID: "bal", Channel: messaging.SMS, Category: messaging.Transactional,
		ProviderTemplate: "SMS_2001", Zh: "${name}您好，您的余额已变动。"}); err != nil {
		b.Fatal(err)
	}
	return svc
}

// BenchmarkDispatchAtProviderRate queues MEMBERPASS_BENCH_MESSAGES
// messages (default 5,000; the figure is for 1,000,000) and
// dispatches them against a provider limited to MEMBERPASS_BENCH_RATE a
// second (default 500), on SQLite. It reports the rate reached against
// the provider's, and the peak heap while dispatching.
func BenchmarkDispatchAtProviderRate(b *testing.B) {
	n, rate := envInt("MEMBERPASS_BENCH_MESSAGES", 5000), envInt("MEMBERPASS_BENCH_RATE", 500)
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		st := messagingtest.SQLite(b)
		// Every message to another member: caps never stop them.
		svc := benchService(b, st)
		now := time.Now().UTC()
		batch := make([]messaging.Message, 0, 1000)
		for i := range n {
			batch = append(batch, messaging.Message{BrandID: "cha", Key: messaging.MakeKey("bench", strconv.Itoa(i), "1", messaging.SMS),
				CampaignID: "bench", MemberID: strconv.Itoa(i), Occurrence: "1", Channel: messaging.SMS, Category: messaging.Transactional,
				TemplateID: "bal", Status: messaging.StatusQueued, NotBefore: now, CreatedAt: now, UpdatedAt: now})
			if len(batch) == cap(batch) || i == n-1 {
				if _, err := st.EnqueueBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		prov := &limitedProvider{rate: float64(rate), tokens: float64(rate) / 10}
		d := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{messaging.SMS: prov},
			Limits: map[messaging.Channel]*messaging.Bucket{messaging.SMS: messaging.NewBucket(float64(rate), 1)},
			Owner:  "bench", Batch: 200, Workers: 16, Backoff: func(int) time.Duration { return 0 }}
		// The live heap, sampled after a collection every half second: what
		// the dispatcher holds, not garbage waiting for the collector.
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}()
		prov.all, prov.done = int64(n), make(chan struct{})
		runCtx, cancel := context.WithCancel(ctx)
		ran := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { defer close(ran); d.Run(runCtx) }()
		<-prov.done
		elapsed := time.Since(start)
		cancel()
		<-ran
		b.StopTimer()
		close(stop)
		<-sampled
		got := float64(n) / elapsed.Seconds()
		b.ReportMetric(got, "msgs/s")
		// From the first message to the last: the rate once the pipeline
		// is full, without the first batch's claim and reservation.
		b.ReportMetric(float64(n-1)/prov.lastSend.Sub(prov.firstSend).Seconds(), "steady-msgs/s")
		b.ReportMetric(got/float64(rate), "of-provider-rate")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-live-heap-MiB")
		b.ReportMetric(float64(base.HeapAlloc)/(1<<20), "live-heap-before-MiB")
		b.ReportMetric(float64(prov.refused.Load()), "refused-by-provider")
	}
}

// BenchmarkRuleChecks measures what the rules cost per message: reading
// consent, quiet hours, and the caps count with the reservation that makes
// it count (one transaction per batch of 200), against recording a batch's
// outcomes alone (the write every message needs anyway), same store, same
// run. 1,000 members, so each member's count sees its earlier messages.
func BenchmarkRuleChecks(b *testing.B) {
	for _, step := range []string{"rules", "finish-only"} {
		b.Run(step, func(b *testing.B) {
			ctx := context.Background()
			st := messagingtest.SQLite(b)
			svc := benchService(b, st)
			now := time.Now().UTC()
			msgs := make([]messaging.Message, b.N)
			for i := range b.N {
				msgs[i] = messaging.Message{BrandID: "cha", Key: messaging.MakeKey("bench", strconv.Itoa(i%1000), strconv.Itoa(i), messaging.SMS),
					CampaignID: "bench", MemberID: strconv.Itoa(i % 1000), Occurrence: strconv.Itoa(i), Channel: messaging.SMS, Category: messaging.Transactional,
					TemplateID: "bal", Status: messaging.StatusQueued, NotBefore: now, CreatedAt: now, UpdatedAt: now}
			}
			for i := 0; i < b.N; i += 1000 {
				if _, err := st.EnqueueBatch(ctx, msgs[i:min(i+1000, b.N)]); err != nil {
					b.Fatal(err)
				}
			}
			claimed, err := st.Claim(ctx, "bench", now, time.Hour, b.N)
			if err != nil || len(claimed) != b.N {
				b.Fatalf("claim %d of %d: %v", len(claimed), b.N, err)
			}
			p, _ := st.Policy(ctx, "cha")
			p = p.WithLocation("Asia/Shanghai")
			day, week := p.Windows(now)
			b.ResetTimer()
			// Batches of 200, as the dispatcher claims them.
			for from := 0; from < len(claimed); from += 200 {
				part := claimed[from:min(from+200, len(claimed))]
				if step == "finish-only" {
					for k := range part {
						part[k].Status = messaging.StatusSent
					}
					if _, err := st.Finish(ctx, "bench", now, part); err != nil {
						b.Fatal(err)
					}
					continue
				}
				rs := make([]messaging.Reservation, 0, len(part))
				for _, m := range part {
					rc, _ := svc.Directory.Recipient(ctx, "cha", m.MemberID)
					c, ok, err := st.Consent(ctx, "cha", m.MemberID, messaging.SMS)
					if err != nil {
						b.Fatal(err)
					}
					dec := messaging.Decide(p, m, rc, c, ok, now)
					if dec.Status != messaging.StatusSending {
						b.Fatalf("decide: %+v", dec)
					}
					m.To = dec.To
					rs = append(rs, messaging.Reservation{Message: m, DayStart: day, WeekStart: week, PerDay: 1 << 30, PerWeek: 1 << 30})
				}
				res, err := st.Reserve(ctx, "bench", now, rs)
				if err != nil || !res[0].OK {
					b.Fatalf("reserve: %v %+v", err, res)
				}
			}
		})
	}
}

// BenchmarkDecide is the rules' arithmetic alone (consent, address, quiet
// hours in the brand's zone), with the records already read.
func BenchmarkDecide(b *testing.B) {
	p := messaging.DefaultPolicy("cha").WithLocation("Asia/Shanghai")
	p.SMSSignName = "茶小满"
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	m := messaging.Message{BrandID: "cha", MemberID: "1", Channel: messaging.SMS, Category: messaging.Marketing}
	rc := messaging.Recipient{BrandID: "cha", MemberID: "1", Phone: "13800000001", Consent: true}
	for b.Loop() {
		if d := messaging.Decide(p, m, rc, messaging.Consent{}, false, now); d.Status != messaging.StatusSending && d.Status != messaging.StatusHeldQuietHours {
			b.Fatal(d)
		}
	}
}
