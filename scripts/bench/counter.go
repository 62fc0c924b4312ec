package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/device"
	"github.com/memberpass/memberpass/agent/frame"
	"github.com/memberpass/memberpass/agent/localstore"
	"github.com/memberpass/memberpass/agent/serialport"
	"github.com/memberpass/memberpass/proto/membercode"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

// stampedStore notes when the counter asks to record (the member is
// identified by then) and when the record is durable.
type stampedStore struct {
	*localstore.DB
	identified, recorded atomic.Int64 // unix nanoseconds
}

func (s *stampedStore) Record(ctx context.Context, ev agent.Event) (agent.Event, error) {
	s.identified.Store(time.Now().UnixNano())
	out, err := s.DB.Record(ctx, ev)
	s.recorded.Store(time.Now().UnixNano())
	return out, err
}

// transmission is how long a frame takes on a serial line: 10 bits a byte
// (8N1: start, 8 data, stop).
func transmission(bytes, baud int) time.Duration {
	return time.Duration(bytes*10) * time.Second / time.Duration(baud)
}

type scanSample struct {
	view, identify, record time.Duration
}

// counterLatency drives the real serial path on a pseudo-terminal: tarm
// reader, line framer, counter (member code verified offline, replica
// lookup), fsynced record. The clock starts when the scan's last byte
// (its CR) is written to the line and stops when the counter hands its
// result to the kiosk (OnResult).
func counterLatency(ctx context.Context, o Options) ([]Row, error) {
	dir, err := scratch(o, "counter")
	if err != nil {
		return nil, err
	}
	db, err := localstore.Open(filepath.Join(dir, "agent.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	const members = 1000
	changes := make([]agent.Change, members)
	for i := range changes {
		id := strconv.Itoa(i + 1)
		changes[i] = agent.Change{Seq: uint64(i + 1), Member: &agent.Member{ID: id, Name: "会员 " + id, PhoneMasked: "139****0000"}}
	}
	if err := db.ApplyChanges(changes, members, true, time.Now()); err != nil {
		return nil, fmt.Errorf("fill replica: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	verifier, err := membercode.NewVerifier(2*time.Minute, pub)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	store := &stampedStore{DB: db}
	ctr := counter.New(store, agent.Identity{BrandID: "bench", StoreID: "s0001", DeviceID: "s0001-d1"}, verifier, quiet)
	ctr.Debounce = 0
	results := make(chan time.Time, 1)
	ctr.OnResult = func(r counter.Result) {
		now := time.Now()
		if r.Event == nil {
			o.Log.Warn("bench scan not recorded", "result", r.String())
		}
		results <- now
	}

	pty, err := serialsim.OpenPTY()
	if err != nil {
		return nil, err
	}
	defer pty.Close()
	bare, err := openBareBolt(filepath.Join(dir, "bare.db"))
	if err != nil {
		return nil, err
	}
	defer bare.Close()

	var rows []Row
	var identify, record []time.Duration
	var frameLen int
	for _, bc := range []struct{ baud, n int }{{9600, pick(o.Quick, 20, 100)}, {115200, pick(o.Quick, 50, 300)}} {
		samples, n, err := runScans(ctx, o, pty, bc.baud, bc.n, ctr, store, results, priv)
		if err != nil {
			return rows, fmt.Errorf("scans at %d baud: %w", bc.baud, err)
		}
		frameLen = n
		view := make([]time.Duration, len(samples))
		for i, s := range samples {
			view[i] = s.view
			identify = append(identify, s.identify)
			record = append(record, s.record)
		}
		slices.Sort(view)
		tx := transmission(frameLen, bc.baud)
		p99 := percentile(view, 0.99)
		rows = append(rows, Row{
			Measure:  fmt.Sprintf("scan → member view (last byte on a real pty → counter OnResult, incl. fsynced record), %d baud, p50 / p99 (n=%d)", bc.baud, len(view)),
			Figure:   ms(percentile(view, 0.5)) + " / " + ms(p99),
			Baseline: fmt.Sprintf("serial transmission of the %d-byte member-code frame at %d baud: %s", frameLen, bc.baud, ms(tx)),
			Ratio:    ratio(float64(p99)/float64(tx)) + " (p99)",
			Target:   "agent overhead < 1 ms p99", Met: met(p99 < time.Millisecond),
		})
	}
	slices.Sort(identify)
	slices.Sort(record)
	bareLat, err := timeEach(len(record), bare.put)
	if err != nil {
		return rows, fmt.Errorf("baseline write: %w", err)
	}
	p99 := percentile(identify, 0.99)
	rows = append(rows,
		Row{
			Measure:  "… of which last byte → member identified (read wake-up, framing, Ed25519 verify, replica lookup), p50 / p99",
			Figure:   ms(percentile(identify, 0.5)) + " / " + ms(p99),
			Baseline: "tarm read timeout 100 ms (VMIN=0, VTIME=1: a read returns on the first byte, not at the timeout)",
			Ratio:    ratio(float64(p99)/float64(100*time.Millisecond)) + " (p99)",
			Target:   "< 1 ms p99", Met: met(p99 < time.Millisecond),
		},
		Row{
			Measure:  "… of which identified → recorded (fsynced group commit), p50 / p99",
			Figure:   ms(percentile(record, 0.5)) + " / " + ms(percentile(record, 0.99)),
			Baseline: "bare bbolt fsynced Update of 256 B: " + ms(percentile(bareLat, 0.5)) + " / " + ms(percentile(bareLat, 0.99)),
			Ratio:    ratio(float64(percentile(record, 0.99))/float64(percentile(bareLat, 0.99))) + " (p99)",
		})
	return rows, nil
}

// runScans starts a reader on the pty at baud, sends n member codes and
// returns each scan's timings and the frame length.
func runScans(ctx context.Context, o Options, pty *serialsim.PTY, baud, n int, ctr *counter.Counter, store *stampedStore, results chan time.Time, priv ed25519.PrivateKey) ([]scanSample, int, error) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	// Wired as the agent's main wires a scanner given by --device.
	dev, err := device.Parse(fmt.Sprintf("kind=scanner,name=scanner,path=%s,baud=%d", pty.Path, baud))
	if err != nil {
		return nil, 0, err
	}
	r := &serialport.Reader{
		Name: dev.Name, Kind: string(dev.Kind), Path: dev.Path, Baud: dev.Baud, Open: serialport.OpenTarm, Log: slog.New(slog.DiscardHandler),
		NewFramer: func() serialport.Framer { return dev.NewFramer() },
		Handle:    func(ctx context.Context, f frame.Frame) { ctr.Handle(ctx, dev.Name, f) },
	}
	done := make(chan struct{})
	go func() { r.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	if err := harness.WaitFor(5*time.Second, "the serial reader to open "+pty.Path, func() (bool, error) { return r.Status().Connected, nil }); err != nil {
		return nil, 0, err
	}
	out := make([]scanSample, 0, n)
	frameLen := 0
	for i := range n {
		code, err := membercode.Sign(priv, uint64(i%1000+1), time.Now(), 60*time.Second)
		if err != nil {
			return nil, 0, err
		}
		line := []byte(code + "\r")
		frameLen = len(line)
		// Everything but the last byte at the line's pace, then the last
		// byte after its own transmission time.
		pty.SetBaud(baud)
		if _, err := pty.Write(line[:len(line)-1]); err != nil {
			return nil, 0, err
		}
		time.Sleep(transmission(1, baud))
		pty.SetBaud(0)
		t0 := time.Now()
		if _, err := pty.Write(line[len(line)-1:]); err != nil {
			return nil, 0, err
		}
		select {
		case t := <-results:
			id, rec := time.Unix(0, store.identified.Load()), time.Unix(0, store.recorded.Load())
			out = append(out, scanSample{view: t.Sub(t0), identify: id.Sub(t0), record: rec.Sub(id)})
		case <-time.After(5 * time.Second):
			return nil, 0, errors.New("no counter result 5 s after a scan: " + r.Status().LastError)
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
	o.Log.Debug("scans done", "baud", baud, "n", n)
	return out, frameLen, nil
}
