package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/memberpass/memberpass/agent"
	"github.com/memberpass/memberpass/agent/localstore"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

// faultRig is a TLS cloud, a fault proxy in front of it (toxiproxy, in
// this process) and one agent that reaches the cloud only through the
// proxy, with a scanner on a pseudo-terminal.
type faultRig struct {
	t                 *testing.T
	dir               string
	cloudAddr, kiosk  string
	proxy             *toxiproxy.Proxy
	cloud             *harness.Process
	admin             *harness.Admin
	agents            []*harness.Process // every agent process started, in order
	pty               *serialsim.PTY
	scanner           serialsim.Scanner
	brand, pairingURI string
	members           []*pb.Member
	agentFlags        []string
}

func newFaultRig(t *testing.T, members int, agentFlags ...string) *faultRig {
	t.Helper()
	r := &faultRig{t: t, dir: t.TempDir(), brand: "fault-brand", agentFlags: agentFlags}
	var err error
	if r.cloudAddr, err = harness.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if r.kiosk, err = harness.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	proxyAddr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	r.proxy = toxiproxy.NewProxy(srv, "cloud", proxyAddr, r.cloudAddr)
	if err := r.proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.proxy.Stop)

	r.startCloud()
	caPEM, err := os.ReadFile(filepath.Join(r.dir, "cloud", "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	// HQ talks to the cloud directly; only the agent's path is faulty.
	if r.admin, err = harness.DialAdminTLS(r.cloudAddr, token, caPEM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.admin.Close() })
	ctx := context.Background()
	if _, err := r.admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: r.brand, Name: "故障测试"}); err != nil {
		t.Fatal(err)
	}
	st, err := r.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: r.brand, Id: "shop-1"})
	if err != nil {
		t.Fatal(err)
	}
	r.pairingURI = st.GetPairingUri()
	for i := range members {
		m, err := r.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: r.brand, Phone: fmt.Sprintf("1370000%04d", i), CardNumbers: []string{cardOf(i)}})
		if err != nil {
			t.Fatal(err)
		}
		r.members = append(r.members, m)
	}
	if r.pty, err = serialsim.OpenPTY(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.pty.Close() })
	r.scanner = serialsim.Scanner{Line: r.pty, Suffix: serialsim.CRLF}
	r.startAgent()
	r.wait("the replica to hold every member", func(s statusView) bool { return s.replicaAge >= 0 && s.connected })
	return r
}

func (r *faultRig) startCloud() {
	r.t.Helper()
	p, err := harness.StartCloud(bins, harness.CloudOptions{DataDir: filepath.Join(r.dir, "cloud"), Addr: r.cloudAddr, Token: token, TLS: true})
	if err != nil {
		r.t.Fatal(err)
	}
	r.cloud = p
	r.t.Cleanup(func() {
		if done, _ := p.Exited(); !done {
			p.Kill()
		}
	})
}

// startAgent starts the agent (pairing through the proxy the first time).
func (r *faultRig) startAgent() *harness.Process {
	r.t.Helper()
	code := ""
	if len(r.agents) == 0 {
		code = r.pairingURI
	}
	p, err := harness.StartAgent(bins, harness.AgentOptions{
		DataDir: filepath.Join(r.dir, "agent"), Cloud: r.proxy.Listen, PairingCode: code, TLS: true,
		Scanner: r.pty.Path, Kiosk: r.kiosk,
		Extra: append([]string{"--sync-interval", "100ms", "--cloud-timeout", "1s", "--sync-max-backoff", "300ms", "--debounce", "0s"}, r.agentFlags...),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.agents = append(r.agents, p)
	r.t.Cleanup(func() {
		if done, _ := p.Exited(); !done {
			p.Kill()
		}
	})
	return p
}

func (r *faultRig) agent() *harness.Process { return r.agents[len(r.agents)-1] }

func (r *faultRig) wait(what string, cond func(statusView) bool) statusView {
	r.t.Helper()
	return waitKiosk(r.t, r.kiosk, what, cond)
}

func (r *faultRig) status() (statusView, uint64, error) {
	rep, err := harness.AgentStatus(r.kiosk)
	if err != nil {
		return statusView{}, 0, err
	}
	return statusView{acked: rep.Outbox.AckedSeq, pending: rep.Outbox.Pending}, rep.Outbox.LastSeq, nil
}

// waitLastSeq waits until the agent has recorded n events in all.
func (r *faultRig) waitLastSeq(n uint64) {
	r.t.Helper()
	var last uint64
	err := harness.WaitFor(60*time.Second, fmt.Sprintf("%d events recorded", n), func() (bool, error) {
		_, l, err := r.status()
		last = l
		return err == nil && l >= n, err
	})
	if err != nil {
		r.t.Fatalf("%v (recorded %d)", err, last)
	}
}

func (r *faultRig) toxic(json string) {
	r.t.Helper()
	if _, err := r.proxy.Toxics.AddToxicJson(strings.NewReader(json)); err != nil {
		r.t.Fatalf("add toxic %s: %v", json, err)
	}
}

func (r *faultRig) clearToxics() { r.proxy.Toxics.ResetToxics(context.Background()) }

// syncFailures counts the sync failures the agents logged.
func (r *faultRig) syncFailures() int {
	n := 0
	for _, a := range r.agents {
		n += len(a.Log.Lines("sync failed; the counter keeps working offline"))
	}
	return n
}

func (r *faultRig) waitFailures(after int, what string) {
	r.t.Helper()
	if err := harness.WaitFor(30*time.Second, what, func() (bool, error) { return r.syncFailures() > after, nil }); err != nil {
		r.t.Fatal(err)
	}
}

// scanChunk sends n card scans, round robin over the members, starting
// with scan number from.
func (r *faultRig) scanChunk(from, n int) {
	r.t.Helper()
	var b strings.Builder
	for i := from; i < from+n; i++ {
		b.WriteString(cardOf(i%len(r.members)) + string(serialsim.CRLF))
	}
	if _, err := r.pty.Write([]byte(b.String())); err != nil {
		r.t.Fatal(err)
	}
}

// cloudDeviceAcked is what the cloud holds for the device.
func (r *faultRig) cloudDeviceAcked() uint64 {
	st, err := r.admin.GetBrandStats(context.Background(), &pb.GetBrandStatsRequest{BrandId: r.brand})
	if err != nil || len(st.GetDevices()) == 0 {
		return 0
	}
	return st.GetDevices()[0].GetAckedSeq()
}

// checkTotals compares the cloud with the agent's own database: the same
// events, each once, and the same visits per member.
// diskEvents reads the stopped agent's event log.
func (r *faultRig) diskEvents() []agent.Event {
	r.t.Helper()
	db, err := localstore.Open(filepath.Join(r.dir, "agent", "agent.db"))
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	events, err := db.Events(1, 1<<62)
	if err != nil {
		r.t.Fatal(err)
	}
	return events
}

func (r *faultRig) checkTotals(reported []string) {
	r.t.Helper()
	if err := r.agent().Stop(10 * time.Second); err != nil {
		r.t.Fatal(err)
	}
	db, err := localstore.Open(filepath.Join(r.dir, "agent", "agent.db"))
	if err != nil {
		r.t.Fatal(err)
	}
	events, err := db.Events(1, 1<<62)
	db.Close()
	if err != nil {
		r.t.Fatal(err)
	}
	agentPerMember := map[string]uint64{}
	agentIDs := map[string]bool{}
	for _, ev := range events {
		agentPerMember[ev.MemberID]++
		agentIDs[ev.ID] = true
	}
	s := &system{t: r.t, admin: r.admin, brand: r.brand}
	held := s.cloudEventIDs()
	for _, id := range reported {
		if held[id] != 1 {
			r.t.Errorf("event %s reported as recorded is held %d times by the cloud, want once", id, held[id])
		}
	}
	for id, n := range held {
		if n != 1 || !agentIDs[id] {
			r.t.Errorf("cloud holds event %s %d times (agent has it: %v)", id, n, agentIDs[id])
		}
	}
	if len(held) != len(events) {
		r.t.Errorf("cloud holds %d events, the agent recorded %d", len(held), len(events))
	}
	st := s.stats()
	if st.GetVisits() != uint64(len(events)) || st.GetRejectedEvents() != 0 {
		r.t.Errorf("cloud: %d visits, %d rejected; agent recorded %d", st.GetVisits(), st.GetRejectedEvents(), len(events))
	}
	for _, m := range r.members {
		got, err := r.admin.GetMember(context.Background(), &pb.GetMemberRequest{BrandId: r.brand, MemberId: m.GetId()})
		if err != nil {
			r.t.Fatal(err)
		}
		if got.GetVisits() != agentPerMember[m.GetId()] {
			r.t.Errorf("member %s: cloud counts %d visits, agent recorded %d", m.GetId(), got.GetVisits(), agentPerMember[m.GetId()])
		}
	}
	r.t.Logf("%d events recorded by the agent, %d reported in its logs; cloud holds each once; %d sync failures survived",
		len(events), len(reported), r.syncFailures())
}

// TestExactlyOnceThroughNetworkFaults drives thousands of scans through
// the agent while the path to the cloud suffers latency, cut answers
// (applied but never acknowledged), resets, stalls and a partition, and
// the cloud is killed and restarted: in the end the cloud's totals equal
// the agent's, event by event and member by member.
func TestExactlyOnceThroughNetworkFaults(t *testing.T) {
	total := 3000
	if testing.Short() {
		total = 600
	}
	r := newFaultRig(t, 40)
	chunk := total / 7
	sent := 0
	send := func() {
		r.scanChunk(sent, chunk)
		sent += chunk
	}

	// 1. Latency both ways: slow, but everything gets through.
	r.toxic(`{"name":"lat-down","type":"latency","stream":"downstream","attributes":{"latency":40,"jitter":30}}`)
	r.toxic(`{"name":"lat-up","type":"latency","stream":"upstream","attributes":{"latency":40,"jitter":30}}`)
	send()
	r.waitLastSeq(uint64(sent))
	r.wait("the chunk acknowledged through latency", func(s statusView) bool { return s.acked == uint64(sent) })
	r.clearToxics()

	// 2. Answers cut short: the cloud applies a push, the agent never
	// hears of it and sends it again. The chunk waits in the outbox first
	// (the proxy is down), so the first push is big and its answer, longer
	// than what the line lets through, is cut.
	failures := r.syncFailures()
	r.proxy.Stop()
	send()
	r.waitLastSeq(uint64(sent))
	r.toxic(`{"name":"cut","type":"limit_data","stream":"downstream","attributes":{"bytes":9000}}`)
	if err := r.proxy.Start(); err != nil {
		t.Fatal(err)
	}
	r.waitFailures(failures, "a push whose answer was cut")
	if err := harness.WaitFor(30*time.Second, "the cloud to hold events the agent has not seen acknowledged", func() (bool, error) {
		s, _, err := r.status()
		return err == nil && r.cloudDeviceAcked() > s.acked, err
	}); err != nil {
		t.Fatal(err)
	}
	r.clearToxics()

	// 3. Connections reset as soon as they carry data.
	failures = r.syncFailures()
	r.toxic(`{"name":"reset","type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`)
	send()
	r.waitLastSeq(uint64(sent))
	r.waitFailures(failures, "sync failures from resets")
	r.clearToxics()

	// 4. The line stalls, then the connection closes.
	failures = r.syncFailures()
	r.toxic(`{"name":"stall","type":"timeout","stream":"upstream","attributes":{"timeout":500}}`)
	send()
	r.waitLastSeq(uint64(sent))
	r.waitFailures(failures, "sync failures from stalls")
	r.clearToxics()

	// 5. A partition: the cloud is unreachable; the outbox grows.
	r.proxy.Stop()
	before, _, _ := r.status()
	send()
	r.waitLastSeq(uint64(sent))
	r.wait("the outbox to hold the partitioned chunk", func(s statusView) bool { return s.pending >= uint64(chunk) && s.acked == before.acked })
	if err := r.proxy.Start(); err != nil {
		t.Fatal(err)
	}

	// 6. The cloud is killed (not stopped) while events flow, and restarted.
	send()
	if err := harness.WaitFor(30*time.Second, "a push under way", func() (bool, error) {
		s, _, err := r.status()
		return err == nil && s.acked > before.acked, err
	}); err != nil {
		t.Fatal(err)
	}
	r.cloud.Kill()
	r.waitLastSeq(uint64(sent))
	r.startCloud()

	// 7. The rest, with latency again.
	r.toxic(`{"name":"lat-down","type":"latency","stream":"downstream","attributes":{"latency":20,"jitter":15}}`)
	r.scanChunk(sent, total-sent)
	sent = total
	r.waitLastSeq(uint64(total))
	r.clearToxics()
	r.wait("the outbox to drain", func(s statusView) bool { return s.pending == 0 && s.acked == uint64(total) })
	r.checkTotals(recorded(r.agent()))
}

// TestCrashLoop kills the agent with SIGKILL at random points, many times,
// while scans keep arriving on the serial line and syncs run: every event
// an agent logged as recorded survives and the cloud counts it once.
func TestCrashLoop(t *testing.T) {
	iterations := 25
	if testing.Short() {
		iterations = 6
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	r := newFaultRig(t, 15)

	// Scans flow the whole time, dead agent or not: the pseudo-terminal
	// buffers them as a UART would.
	stop := make(chan struct{})
	var scanning sync.WaitGroup
	scanning.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var b strings.Builder
			for j := range 3 {
				b.WriteString(cardOf((i*3+j)%len(r.members)) + string(serialsim.CRLF))
			}
			if _, err := r.pty.Write([]byte(b.String())); err != nil {
				t.Errorf("scanner: %v", err)
				return
			}
		}
	})

	var reported []string
	for i := range iterations {
		a := r.agent()
		// Kill after a random number of recorded scans (0: right after
		// start, maybe mid-pull), sometimes with the cloud cut off.
		n := rnd.IntN(40)
		if err := harness.WaitFor(30*time.Second, fmt.Sprintf("iteration %d: %d scans recorded", i, n), func() (bool, error) {
			return len(a.Log.Lines("scan recorded")) >= n, nil
		}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 3 {
			r.proxy.Stop()
		}
		a.Kill()
		reported = append(reported, recorded(a)...)
		if !r.proxy.Enabled {
			if err := r.proxy.Start(); err != nil {
				t.Fatal(err)
			}
		}
		r.startAgent()
	}
	close(stop)
	scanning.Wait()
	// A last, unknown card marks the end of the line: once it is refused,
	// everything sent before it has been handled.
	if err := r.scanner.Scan("F1F1F1F1"); err != nil {
		t.Fatal(err)
	}
	if err := harness.WaitFor(60*time.Second, "the end marker to be refused", func() (bool, error) {
		return strings.Contains(r.agent().Log.String(), "****F1F1"), nil
	}); err != nil {
		t.Fatal(err)
	}
	reported = append(reported, recorded(r.agent())...)
	r.wait("the outbox to drain", func(s statusView) bool { return s.pending == 0 })
	if len(reported) < iterations {
		t.Fatalf("only %d scans reported as recorded over %d agent lives", len(reported), iterations)
	}
	r.checkTotals(reported)
	// Every event on disk was answered by the life that recorded it, or,
	// killed between the commit and the answer, reported by the next
	// life's start: nothing recorded goes unsaid.
	said := map[string]bool{}
	for _, id := range reported {
		said[id] = true
	}
	recovered := 0
	for _, a := range r.agents {
		for _, rec := range a.Log.Lines("recorded just before the restart") {
			said[rec["event"].(string)] = true
			recovered++
		}
	}
	for _, ev := range r.diskEvents() {
		if !said[ev.ID] {
			t.Errorf("event seq %d (%s) was recorded but neither answered nor reported after the restart", ev.Seq, ev.ID)
		}
	}
	t.Logf("%d events recorded but unanswered when killed, reported at the next start", recovered)
}
