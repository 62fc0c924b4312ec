package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/serialsim"
)

// TestPairingOverTLSAndRevocation runs the cloud with its self-signed CA:
// the agent pairs with nothing but the ticket (which names the cloud and
// pins its CA), syncs over TLS, and when HQ revokes it, says so and keeps
// recording at the counter.
func TestPairingOverTLSAndRevocation(t *testing.T) {
	dir := t.TempDir()
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	kioskAddr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cloudDir := filepath.Join(dir, "cloud")
	cloud, err := harness.StartCloud(bins, harness.CloudOptions{DataDir: cloudDir, Addr: addr, Token: token, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Kill)
	caPEM, err := os.ReadFile(filepath.Join(cloudDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := harness.DialAdminTLS(addr, token, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	if _, err := admin.CreateBrand(ctx, &pb.CreateBrandRequest{Id: "tls-brand", Name: "TLS"}); err != nil {
		t.Fatal(err)
	}
	st, err := admin.CreateStore(ctx, &pb.CreateStoreRequest{BrandId: "tls-brand", Id: "shop-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateMember(ctx, &pb.CreateMemberRequest{BrandId: "tls-brand", Phone: "13800000001", CardNumbers: []string{"61000001"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.GetPairingUri(), "ca=sha256") {
		t.Fatalf("pairing ticket %q does not pin the CA", st.GetPairingUri())
	}

	pty, err := serialsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	scanner := serialsim.Scanner{Line: pty, Suffix: serialsim.CRLF}
	agent, err := harness.StartAgent(bins, harness.AgentOptions{
		DataDir: filepath.Join(dir, "agent"), Cloud: addr, PairingCode: st.GetPairingUri(), TLS: true,
		Scanner: pty.Path, Kiosk: kioskAddr,
		Extra: []string{"--sync-interval", "200ms", "--sync-max-backoff", "500ms", "--debounce", "0s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		agent.Kill()
		if t.Failed() {
			t.Logf("agent log:\n%s", agent.Log.String())
		}
	})
	if len(agent.Log.Lines("paired with the cloud")) != 1 {
		t.Fatalf("agent did not log pairing:\n%s", agent.Log.String())
	}
	if rec := agent.Log.Lines("paired with the cloud")[0]; rec["cloud_ca_pinned"] != true {
		t.Errorf("pairing did not pin the CA: %v", rec)
	}
	waitKiosk(t, kioskAddr, "replica synced over TLS", func(r statusView) bool { return r.replicaAge >= 0 && r.connected })
	if err := scanner.Scan("61000001"); err != nil {
		t.Fatal(err)
	}
	waitKiosk(t, kioskAddr, "the visit acknowledged", func(r statusView) bool { return r.acked == 1 })

	// HQ revokes the device: the agent says why it cannot sync, and the
	// counter keeps recording into the outbox.
	stats, err := admin.GetBrandStats(ctx, &pb.GetBrandStatsRequest{BrandId: "tls-brand"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RevokeDevice(ctx, &pb.RevokeDeviceRequest{BrandId: "tls-brand", DeviceId: stats.GetDevices()[0].GetDeviceId()}); err != nil {
		t.Fatal(err)
	}
	if err := scanner.Scan("61000001"); err != nil {
		t.Fatal(err)
	}
	r := waitKiosk(t, kioskAddr, "the refusal shown on the kiosk", func(r statusView) bool { return r.refused && r.pending == 1 })
	if r.notice == "" {
		t.Error("kiosk shows no notice for a revoked device")
	}
	if err := harness.WaitFor(10*time.Second, "the agent to log the refusal", func() (bool, error) {
		return len(agent.Log.Lines("the cloud refuses this device's credentials (revoked by HQ, or paired to another cloud); the counter keeps recording offline and the outbox is kept; ask HQ for a new pairing code")) == 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := len(recorded(agent)); got != 2 {
		t.Fatalf("%d scans recorded, want 2: the counter must keep recording after revocation", got)
	}
}

type statusView struct {
	replicaAge     float64
	connected      bool
	acked, pending uint64
	refused        bool
	notice         string
}

func waitKiosk(t *testing.T, kioskAddr, what string, cond func(statusView) bool) statusView {
	t.Helper()
	var v statusView
	err := harness.WaitFor(20*time.Second, what, func() (bool, error) {
		rep, err := harness.AgentStatus(kioskAddr)
		if err != nil {
			return false, err
		}
		v = statusView{replicaAge: rep.ReplicaAgeSeconds, acked: rep.Outbox.AckedSeq, pending: rep.Outbox.Pending, refused: rep.Sync.Refused}
		v.connected = len(rep.Devices) == 1 && rep.Devices[0].Connected
		if rep.Notice != nil {
			v.notice = rep.Notice.En
		}
		return cond(v), nil
	})
	if err != nil {
		t.Fatalf("%v (last %+v)", err, v)
	}
	return v
}
