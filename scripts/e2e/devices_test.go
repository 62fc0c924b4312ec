package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

// openPTY opens a simulated device at 9600 baud, closed when the test ends.
func openPTY(t *testing.T) *serialsim.PTY {
	t.Helper()
	p, err := serialsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.SetBaud(9600)
	return p
}

func (s *system) devices() map[string]deviceStatus {
	s.t.Helper()
	rep, err := harness.AgentStatus(s.kiosk)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]deviceStatus{}
	for _, d := range rep.Devices {
		out[d.Name] = deviceStatus{d.Connected, d.Frames, d.Refused, d.Reconnects, d.RefusedBy, d.Device}
	}
	return out
}

type deviceStatus struct {
	Connected              bool
	Frames, Refused, Reops uint64
	RefusedBy              map[string]uint64
	File                   string
}

func (s *system) waitDevice(name, what string, cond func(deviceStatus) bool) deviceStatus {
	s.t.Helper()
	var last deviceStatus
	err := harness.WaitFor(20*time.Second, what, func() (bool, error) {
		d, ok := s.devices()[name]
		last = d
		return ok && cond(d), nil
	})
	if err != nil {
		s.t.Fatalf("%v (last %+v)", err, last)
	}
	return last
}

func (s *system) metrics() string {
	s.t.Helper()
	resp, err := http.Get("http://" + s.kiosk + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// TestScannerAndCardReaderAtOnce: one POS box with a scanner and a
// magnetic stripe reader on two ptys, both busy at the same time. Every
// good scan and swipe is one visit; a swipe failing its LRC is refused
// and counted by reason; a voucher and a product barcode are told apart
// and record nothing.
func TestScannerAndCardReaderAtOnce(t *testing.T) {
	const members, each = 6, 12
	msr := openPTY(t)
	s := newSystem(t, members, "--debounce", "0s", "--device", "kind=magstripe,name=msr,path="+msr.Path, "--card-prefix", "88")

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range each {
			if err := s.scanner.Scan("]C0" + cardOf(i%members)); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		for i := range each {
			if _, err := msr.Write(serialsim.MagstripeCard(cardOf((i + 3) % members))); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	s.waitRecorded(s.agent, 2*each)

	// A swipe whose track 2 LRC is wrong, one with a track unread, and a
	// scan of a voucher and of a product.
	bad := []byte(serialsim.Track2(cardOf(1) + "=2912101"))
	bad[len(bad)-1] ^= 0x01
	if _, err := msr.Write(append(bad, '\r')); err != nil {
		t.Fatal(err)
	}
	if _, err := msr.Write([]byte("%E?;E?\r")); err != nil {
		t.Fatal(err)
	}
	s.scan("]Q17712345678")
	s.scan("]E06901234567892")
	d := s.waitDevice("msr", "two swipes refused", func(d deviceStatus) bool { return d.Refused == 2 })
	if d.RefusedBy["bad_lrc"] != 1 || d.RefusedBy["track_read_error"] != 1 || d.Frames != each {
		t.Errorf("card reader status %+v", d)
	}
	var kinds []string
	err := harness.WaitFor(10*time.Second, "the voucher and the product", func() (bool, error) {
		rep, err := harness.AgentStatus(s.kiosk)
		kinds = kinds[:0]
		for _, r := range rep.Recent {
			if r.Notice != nil {
				kinds = append(kinds, string(r.Scan)+":"+r.Code+":"+r.Symbology)
			}
		}
		return len(kinds) == 2, err
	})
	if err != nil {
		t.Fatalf("%v: %v", err, kinds)
	}
	if got := strings.Join(kinds, " "); got != "voucher:7712345678:]Q1 product:6901234567892:]E0" {
		t.Errorf("notices %q", got)
	}

	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	if got := s.stats().GetVisits(); got != 2*each {
		t.Fatalf("cloud holds %d visits, want %d", got, 2*each)
	}
	want := map[int]uint64{}
	for i := range each {
		want[i%members]++
		want[(i+3)%members]++
	}
	for i, m := range s.members {
		got, err := s.admin.GetMember(context.Background(), &pb.GetMemberRequest{BrandId: s.brand, MemberId: m.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetVisits() != want[i] {
			t.Errorf("member %d has %d visits, want %d", i, got.GetVisits(), want[i])
		}
	}
	m := s.metrics()
	for _, line := range []string{
		`memberpass_agent_device_connected{device="msr",kind="magstripe"} 1`,
		`memberpass_agent_device_connected{device="scanner",kind="scanner"} 1`,
		fmt.Sprintf(`memberpass_agent_device_frames_total{device="msr",kind="magstripe"} %d`, each),
		`memberpass_agent_device_refused_total{device="msr",kind="magstripe",reason="bad_lrc"} 1`,
	} {
		if !strings.Contains(m, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// TestCardReaderReplug: the card reader is pulled out right after it
// finished sending a burst of swipes, and comes back under another name
// in /dev/serial/by-id style. Every swipe it finished is recorded, the
// agent says it is disconnected while it is out, reconnects with
// backoff, and the swipes after the replug are recorded too.
func TestCardReaderReplug(t *testing.T) {
	const members, before, after = 5, 15, 5
	byID := t.TempDir()
	link := func(p *serialsim.PTY, name string) {
		t.Helper()
		if err := os.Symlink(p.Path, filepath.Join(byID, name)); err != nil {
			t.Fatal(err)
		}
	}
	first := openPTY(t)
	link(first, "usb-Sim_MSR_0001-if00-port0")
	s := newSystem(t, members, "--debounce", "0s",
		"--device", "kind=magstripe,name=msr,path="+filepath.Join(byID, "usb-Sim_MSR_*")+"|/nonexistent/ttyUSB*")

	var swipes [][]byte
	for i := range before {
		swipes = append(swipes, serialsim.MagstripeCard(cardOf(i%members)))
	}
	first.SetBaud(0) // the whole backlog at once, as a reader flushing its buffer
	if err := serialsim.Burst(first, swipes...); err != nil {
		t.Fatal(err)
	}
	// Pulled out: the agent may not have handled a single swipe yet.
	if err := first.Unplug(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(byID, "usb-Sim_MSR_0001-if00-port0"))
	s.waitDevice("msr", "the agent to see the reader gone", func(d deviceStatus) bool { return !d.Connected })
	if m := s.metrics(); !strings.Contains(m, `memberpass_agent_device_connected{device="msr",kind="magstripe"} 0`) {
		t.Errorf("/metrics does not show the reader disconnected")
	}
	s.waitRecorded(s.agent, before)

	second := openPTY(t)
	link(second, "usb-Sim_MSR_0001-if00-port1")
	d := s.waitDevice("msr", "the agent to reconnect", func(d deviceStatus) bool { return d.Connected })
	if d.Reops != 1 || !strings.HasSuffix(d.File, "usb-Sim_MSR_0001-if00-port1") {
		t.Errorf("after replug: %+v", d)
	}
	for i := range after {
		if _, err := second.Write(serialsim.MagstripeCard(cardOf(i % members))); err != nil {
			t.Fatal(err)
		}
	}
	s.waitRecorded(s.agent, before+after)
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	if got := s.stats().GetVisits(); got != before+after {
		t.Fatalf("cloud holds %d visits, want %d", got, before+after)
	}
	if d := s.devices()["msr"]; d.Refused != 0 || d.Frames != before+after {
		t.Errorf("card reader status %+v, want %d frames and none refused", d, before+after)
	}
	if m := s.metrics(); !strings.Contains(m, `memberpass_agent_device_reconnects_total{device="msr",kind="magstripe"} 1`) {
		t.Errorf("/metrics does not count the reconnect")
	}
}

// TestNoisyCardReader: a card reader on a bad line (bytes lost and random
// bytes added, a fixed seed) sends a burst of swipes. The agent stays up,
// refuses and counts the damaged swipes, and every visit it records is a
// member whose card was swiped; a clean swipe afterwards still works.
func TestNoisyCardReader(t *testing.T) {
	const members, swipes = 6, 60
	msr := openPTY(t)
	s := newSystem(t, members, "--debounce", "0s", "--device", "kind=magstripe,name=msr,path="+msr.Path)
	noisy := serialsim.NewNoise(msr, 11, 0.004, 0.004)
	sent := map[string]bool{}
	var frames [][]byte
	for i := range swipes {
		m := i % (members - 1) // the last member is kept for the clean swipe
		sent[s.members[m].GetId()] = true
		frames = append(frames, serialsim.MagstripeCard(cardOf(m)))
	}
	if err := serialsim.Burst(noisy, frames...); err != nil {
		t.Fatal(err)
	}
	t.Logf("line damage: %d bytes dropped, %d injected", noisy.Dropped, noisy.Injected)
	// The line is in order: once the clean swipe is recorded, every
	// swipe before it has been handled.
	last := s.members[members-1].GetId()
	if _, err := msr.Write(serialsim.MagstripeCard(cardOf(members - 1))); err != nil {
		t.Fatal(err)
	}
	err := harness.WaitFor(30*time.Second, "the clean swipe recorded", func() (bool, error) {
		for _, rec := range s.agent.Log.Lines("scan recorded") {
			if rec["member"] == last {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recs := s.agent.Log.Lines("scan recorded")
	for _, rec := range recs[:len(recs)-1] {
		if id, _ := rec["member"].(string); !sent[id] {
			t.Errorf("visit recorded for member %s, whose card was never swiped", id)
		}
	}
	d := s.devices()["msr"]
	if d.Refused == 0 || noisy.Dropped+noisy.Injected == 0 {
		t.Errorf("card reader %+v: nothing refused after %d bytes dropped and %d injected", d, noisy.Dropped, noisy.Injected)
	}
	if got := uint64(len(recs)); got > d.Frames || got == 1 {
		t.Errorf("%d visits recorded from %d accepted swipes", got, d.Frames)
	}
	t.Logf("%d swipes: %d read and recorded, %d refused %v", swipes+1, d.Frames, d.Refused, d.RefusedBy)
	s.waitStatus("the outbox to drain", func(r statusReport) bool { return r.Pending == 0 })
	if got := s.stats().GetVisits(); got != uint64(len(recs)) {
		t.Fatalf("cloud holds %d visits, the agent recorded %d", got, len(recs))
	}
}
