// Package e2e runs the real cloud and agent binaries as processes, with a
// simulated scanner on a pseudo-terminal, and checks the promises that
// span them: nothing recorded is lost, and each event counts once.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

var bins harness.Binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "memberpass-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	bins, err = harness.Build(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const token = "e2e-hq-token"

// system is one cloud, one paired agent and its scanner.
type system struct {
	t       *testing.T
	dir     string
	cloud   *harness.Process
	agent   *harness.Process
	admin   *harness.Admin
	pty     *serialsim.PTY
	scanner serialsim.Scanner
	addr    string
	kiosk   string
	brand   string
	members []*pb.Member
	extra   []string
	// cloudFlags choose the cloud's storage (SQLite when empty).
	cloudFlags []string
}

func cardOf(i int) string { return fmt.Sprintf("88000%05d", i) }

// newSystem starts a cloud with a brand of n members (each with a card),
// pairs an agent and waits until its replica has them.
func newSystem(t *testing.T, n int, agentFlags ...string) *system {
	t.Helper()
	return newSystemOn(t, nil, n, agentFlags...)
}

// newSystemOn is newSystem with the cloud started with cloudFlags.
func newSystemOn(t *testing.T, cloudFlags []string, n int, agentFlags ...string) *system {
	t.Helper()
	s := &system{t: t, dir: t.TempDir(), brand: "e2e-brand", extra: agentFlags, cloudFlags: cloudFlags}
	var err error
	if s.addr, err = harness.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if s.kiosk, err = harness.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	s.startCloud()
	if s.admin, err = harness.DialAdmin(s.addr, token); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.admin.Close() })
	ctx := context.Background()
	if _, err := s.admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: s.brand, Name: "E2E 茶饮", Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	st, err := s.admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: s.brand, Id: "shop-1", Name: "一号店"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, err := s.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: s.brand, Phone: fmt.Sprintf("1380000%04d", i), Name: fmt.Sprintf("会员%d", i), CardNumbers: []string{cardOf(i)}})
		if err != nil {
			t.Fatal(err)
		}
		s.members = append(s.members, m)
	}
	if s.pty, err = serialsim.OpenPTY(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.pty.Close() })
	s.pty.SetBaud(9600)
	s.scanner = serialsim.Scanner{Line: s.pty, Suffix: serialsim.CRLF}
	s.startAgent(st.GetPairingCode())
	s.waitStatus("the replica to hold every member", func(r statusReport) bool { return r.ReplicaAgeSeconds >= 0 })
	return s
}

type statusReport = struct {
	ReplicaAgeSeconds float64
	Pending           uint64
	Refused           uint64
	Frames            uint64
	Online            bool
}

func (s *system) startCloud() {
	s.t.Helper()
	p, err := harness.StartCloud(bins, harness.CloudOptions{DataDir: filepath.Join(s.dir, "cloud"), Addr: s.addr, Token: token, Extra: s.cloudFlags})
	if err != nil {
		s.t.Fatal(err)
	}
	s.cloud = p
	s.t.Cleanup(func() {
		if done, _ := p.Exited(); !done {
			p.Kill()
		}
	})
}

func (s *system) startAgent(pairingCode string) {
	s.t.Helper()
	p, err := harness.StartAgent(bins, harness.AgentOptions{
		DataDir: filepath.Join(s.dir, "agent"), Cloud: s.addr, PairingCode: pairingCode,
		Scanner: s.pty.Path, Kiosk: s.kiosk, Extra: append([]string{"--sync-interval", "200ms"}, s.extra...),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.agent = p
	s.t.Cleanup(func() {
		if done, _ := p.Exited(); !done {
			p.Kill()
		}
		if s.t.Failed() {
			s.t.Logf("agent log:\n%s", p.Log.String())
		}
	})
	// The scanner must be open before scans are sent, as at a real counter.
	s.waitStatus("the scanner to be connected", func(r statusReport) bool { return true })
	if err := harness.WaitFor(10*time.Second, "every device connected", func() (bool, error) {
		rep, err := harness.AgentStatus(s.kiosk)
		if err != nil || len(rep.Devices) == 0 {
			return false, err
		}
		for _, d := range rep.Devices {
			if !d.Connected {
				return false, fmt.Errorf("%s not connected: %s", d.Name, d.LastError)
			}
		}
		return true, nil
	}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *system) status() (statusReport, error) {
	rep, err := harness.AgentStatus(s.kiosk)
	if err != nil {
		return statusReport{}, err
	}
	out := statusReport{ReplicaAgeSeconds: rep.ReplicaAgeSeconds, Pending: rep.Outbox.Pending, Online: rep.Sync.Online}
	for _, d := range rep.Devices {
		out.Refused += d.Refused
		out.Frames += d.Frames
	}
	return out, nil
}

func (s *system) waitStatus(what string, cond func(statusReport) bool) statusReport {
	s.t.Helper()
	var last statusReport
	err := harness.WaitFor(20*time.Second, what, func() (bool, error) {
		r, err := s.status()
		last = r
		return err == nil && cond(r), err
	})
	if err != nil {
		s.t.Fatalf("%v (last status %+v)", err, last)
	}
	return last
}

// recorded returns the event IDs the agent process reported as recorded.
func recorded(p *harness.Process) []string {
	var ids []string
	for _, rec := range p.Log.Lines("scan recorded") {
		ids = append(ids, rec["event"].(string))
	}
	return ids
}

func (s *system) waitRecorded(p *harness.Process, n int) []string {
	s.t.Helper()
	var ids []string
	err := harness.WaitFor(20*time.Second, fmt.Sprintf("%d scans recorded", n), func() (bool, error) {
		ids = recorded(p)
		return len(ids) >= n, nil
	})
	if err != nil {
		s.t.Fatalf("%v: got %d", err, len(ids))
	}
	return ids
}

func (s *system) stats() *pb.BrandStats {
	s.t.Helper()
	st, err := s.admin.GetBrandStats(context.Background(), &pb.GetBrandStatsRequest{BrandId: s.brand})
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// cloudEventIDs lists every event the cloud holds, with how often each ID appears.
func (s *system) cloudEventIDs() map[string]int {
	s.t.Helper()
	ids := map[string]int{}
	token := ""
	for {
		resp, err := s.admin.ListEvents(context.Background(), &pb.ListEventsRequest{BrandId: s.brand, Limit: 500, PageToken: token})
		if err != nil {
			s.t.Fatal(err)
		}
		for _, e := range resp.GetEvents() {
			ids[e.GetEvent().GetId()]++
		}
		if token = resp.GetNextPageToken(); token == "" {
			return ids
		}
	}
}

func (s *system) scan(text string) {
	s.t.Helper()
	if err := s.scanner.Scan(text); err != nil {
		s.t.Fatal(err)
	}
}

// storageFlags are the cloud's storages the end-to-end tests run on.
func storageFlags(t *testing.T) map[string][]string {
	return map[string][]string{
		"sqlite":   nil,
		"postgres": {"--storage", "postgres", "--postgres-url", pgtest.Schema(t)},
	}
}

func TestOfflineScansReachTheCloudExactlyOnce(t *testing.T) {
	for name, flags := range storageFlags(t) {
		t.Run(name, func(t *testing.T) { testOfflineScans(t, flags) })
	}
}

func testOfflineScans(t *testing.T, cloudFlags []string) {
	const n = 25
	s := newSystemOn(t, cloudFlags, n)
	if err := s.cloud.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s.scan(cardOf(i))
	}
	ids := s.waitRecorded(s.agent, n)
	s.waitStatus("n events pending while the cloud is down", func(r statusReport) bool { return r.Pending == n && !r.Online })

	s.startCloud()
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	if got := s.stats().GetVisits(); got != n {
		t.Fatalf("cloud holds %d visits, want %d", got, n)
	}
	held := s.cloudEventIDs()
	for _, id := range ids {
		if held[id] != 1 {
			t.Errorf("event %s held %d times, want once", id, held[id])
		}
	}

	// The same batch again, as a confused or restored agent would send it.
	if err := s.agent.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	outcomes := pushAgain(t, filepath.Join(s.dir, "agent", "agent.db"), s.addr)
	for _, o := range outcomes {
		if o.GetOutcome() != pb.Outcome_OUTCOME_DUPLICATE {
			t.Errorf("resent seq %d: outcome %s, want duplicate", o.GetSeq(), o.GetOutcome())
		}
	}
	if len(outcomes) != n {
		t.Errorf("resent %d events, want %d", len(outcomes), n)
	}
	if got := s.stats().GetVisits(); got != n {
		t.Fatalf("after pushing the same batch twice the cloud holds %d visits, want %d", got, n)
	}
}

func TestKilledAgentLosesNothingRecorded(t *testing.T) {
	const members, rounds, perRound = 10, 4, 15
	// No debounce: a member scanned again right after a restart is a new
	// visit here (TestRestartAfterUnansweredRecord checks the window).
	s := newSystem(t, members, "--debounce", "0s")
	var all []string
	scan := 0
	for round := range rounds {
		// Half the rounds with the cloud down, so events wait in the
		// outbox; half with it up, so the kill lands mid-sync.
		offline := round%2 == 0
		if offline {
			if err := s.cloud.Stop(10 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
		for range perRound {
			s.scan(cardOf(scan % members))
			scan++
		}
		ids := s.waitRecorded(s.agent, perRound)
		s.agent.Kill() // at once: the agent said "recorded", nothing more
		all = append(all, ids...)
		if offline {
			s.startCloud()
		}
		s.startAgent("")
	}
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	held := s.cloudEventIDs()
	for _, id := range all {
		if held[id] != 1 {
			t.Errorf("recorded event %s held %d times by the cloud, want once", id, held[id])
		}
	}
	if got, want := s.stats().GetVisits(), uint64(len(all)); got != want {
		t.Fatalf("cloud holds %d visits, want %d (every scan reported as recorded)", got, want)
	}
}

func TestGarbageOnTheSerialLine(t *testing.T) {
	s := newSystem(t, 3)
	write := func(b string) {
		t.Helper()
		if _, err := s.pty.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	write("\x00\x01\xff\xfe\x1b[2J\r\n")      // control bytes and binary noise
	write(strings.Repeat("9", 3000) + "\r\n") // an over-long line
	write("8800000")                          // half a card number, then quiet
	time.Sleep(600 * time.Millisecond)        // longer than the agent's idle gap (300 ms)
	write("HELLO WORLD\r\n")                  // a readable line that is nothing we know
	s.scan(cardOf(1))                         // and then a good scan
	s.waitRecorded(s.agent, 1)
	rep := s.waitStatus("garbage frames to be refused", func(r statusReport) bool { return r.Refused >= 3 })
	if rep.Frames < 2 {
		t.Errorf("frames = %d, want at least 2 (the unknown line and the card)", rep.Frames)
	}
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	st := s.stats()
	if st.GetVisits() != 1 || st.GetEvents() != 1 {
		t.Fatalf("cloud holds %d events (%d visits), want exactly the 1 good scan", st.GetEvents(), st.GetVisits())
	}
	m, err := s.admin.GetMember(context.Background(), &pb.GetMemberRequest{BrandId: s.brand, MemberId: s.members[1].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if m.GetVisits() != 1 {
		t.Fatalf("member 1 has %d visits, want 1", m.GetVisits())
	}
	log := s.agent.Log.String()
	for _, want := range []string{"frame holds a control byte", "frame longer than the limit", "frame cut off", "unknown_scan"} {
		if !strings.Contains(log, want) {
			t.Errorf("agent log does not say %q", want)
		}
	}
	if done, err := s.agent.Exited(); done {
		t.Fatalf("agent exited: %v", err)
	}
}

func TestMemberCodesAtTheCounter(t *testing.T) {
	s := newSystem(t, 2, "--debounce", "0s")
	ctx := context.Background()
	code, err := s.admin.IssueMemberCode(ctx, &pb.IssueMemberCodeRequest{BrandId: s.brand, MemberId: s.members[0].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	// A second brand's code must not be taken for this brand's.
	if _, err := s.admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: "other-brand", Name: "Other", Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	om, err := s.admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: "other-brand", Phone: "13900000000"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.admin.IssueMemberCode(ctx, &pb.IssueMemberCodeRequest{BrandId: "other-brand", MemberId: om.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	forged := []byte(code.GetCode())
	forged[len(forged)-3] ^= 0x01 // still base32, no longer the signature
	if forged[len(forged)-3] < 'A' && forged[len(forged)-3] > '7' || forged[len(forged)-3] > 'Z' {
		forged[len(forged)-3] = 'Q'
	}

	s.scan(code.GetCode())
	s.waitRecorded(s.agent, 1)
	for _, c := range []string{code.GetCode(), string(forged), other.GetCode(), code.GetCode()[:70]} {
		s.scan(c)
	}
	var refusals []string
	err = harness.WaitFor(10*time.Second, "four refusals", func() (bool, error) {
		rep, err := harness.AgentStatus(s.kiosk)
		refusals = refusals[:0]
		for _, r := range rep.Recent {
			if r.Refusal != nil {
				refusals = append(refusals, r.Refusal.Code)
			}
		}
		return len(refusals) == 4, err
	})
	if err != nil {
		t.Fatalf("%v: %v", err, refusals)
	}
	want := []string{"code_replayed", "code_forged", "code_other_brand", "code_malformed"}
	for i := range want {
		if refusals[i] != want[i] {
			t.Errorf("refusal %d = %s, want %s", i, refusals[i], want[i])
		}
	}
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	if got := s.stats().GetVisits(); got != 1 {
		t.Fatalf("cloud holds %d visits, want 1", got)
	}
}

// TestRestartAfterUnansweredRecord: the agent is killed after a visit is
// on disk but before it was answered (the on-disk state such a kill
// leaves: the answered mark one short). The next start says so in the log
// and on the kiosk, and the cashier's rescan of the same member, within
// the debounce window, is answered "already recorded": one visit, not two.
func TestRestartAfterUnansweredRecord(t *testing.T) {
	s := newSystem(t, 3, "--debounce", "60s")
	s.scan(cardOf(1))
	ids := s.waitRecorded(s.agent, 1)
	s.agent.Kill()
	// What a SIGKILL during the last fsync leaves: the visit on disk, the
	// answered mark still before it.
	mark := make([]byte, 8)
	if err := os.WriteFile(filepath.Join(s.dir, "agent", "agent.db.answered"), append(mark, make([]byte, 4096-8)...), 0o600); err != nil {
		t.Fatal(err)
	}
	s.startAgent("")
	lines := s.agent.Log.Lines("recorded just before the restart")
	if len(lines) != 1 || lines[0]["event"] != ids[0] || lines[0]["seq"] != float64(1) {
		t.Fatalf("restart log lines %v, want the unanswered visit %s", lines, ids[0])
	}
	rep, err := harness.AgentStatus(s.kiosk)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recovered) != 1 || rep.Recovered[0].EventID != ids[0] || rep.Recovered[0].MemberID == "" {
		t.Fatalf("kiosk shows recovered %+v, want the visit %s", rep.Recovered, ids[0])
	}
	cashier, err := harness.SignIn(s.kiosk, harness.CashierID, harness.CashierPIN)
	if err != nil {
		t.Fatal(err)
	}
	var counterState struct {
		Recovered []struct {
			EventID string `json:"event_id"`
		} `json:"recovered"`
	}
	if _, err := cashier.Do("GET", "/api/counter", nil, &counterState); err != nil || len(counterState.Recovered) != 1 || counterState.Recovered[0].EventID != ids[0] {
		t.Fatalf("counter page's recovered events: %+v %v", counterState, err)
	}

	// The cashier, who saw no answer, scans the member again.
	s.scan(cardOf(1))
	err = harness.WaitFor(10*time.Second, "the rescan answered", func() (bool, error) {
		rep, err := harness.AgentStatus(s.kiosk)
		return err == nil && len(rep.Recent) == 1, err
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, _ = harness.AgentStatus(s.kiosk)
	if r := rep.Recent[0]; !r.Again || r.Event == nil || r.Event.ID != ids[0] || r.Notice == nil || r.Notice.Code != "already_recorded" {
		t.Fatalf("rescan after the restart: %+v", r)
	}
	// A restart that lost nothing reports nothing.
	if err := s.agent.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.startAgent("")
	if n := len(s.agent.Log.Lines("recorded just before the restart")); n != 0 {
		t.Fatalf("a clean restart reported %d events as unanswered", n)
	}
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	if got := s.stats().GetVisits(); got != 1 {
		t.Fatalf("cloud holds %d visits, want 1", got)
	}
}
