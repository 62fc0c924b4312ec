package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/memberpass/memberpass/scripts/harness"
)

// TestStaleReplicaAndRebuild: with the cloud gone the kiosk and the log say
// the replica is stale and how old; a rebuild asked from the kiosk waits
// for the cloud, keeps the old replica serving, and completes when the
// cloud is back.
func TestStaleReplicaAndRebuild(t *testing.T) {
	s := newSystem(t, 3, "--replica-stale-after", "1s", "--sync-max-backoff", "300ms", "--cloud-timeout", "1s", "--debounce", "0s")
	if err := s.cloud.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	rep := waitKiosk(t, s.kiosk, "the replica reported stale", func(v statusView) bool { return v.notice != "" && v.replicaAge > 1 })
	if rep.notice == "" {
		t.Fatal("no notice on the kiosk")
	}
	if err := harness.WaitFor(20*time.Second, "the stale replica logged", func() (bool, error) {
		lines := s.agent.Log.Lines("replica is stale: members, cards and balances shown may be out of date")
		return len(lines) >= 1 && lines[0]["replica_age"] != nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	// A rebuild is the manager's to ask for.
	cashier, err := harness.SignIn(s.kiosk, harness.CashierID, harness.CashierPIN)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := cashier.Do("POST", "/api/replica/rebuild", nil, nil); err != nil || code != http.StatusForbidden {
		t.Fatalf("rebuild by a cashier: %d %v, want 403", code, err)
	}
	manager, err := harness.SignIn(s.kiosk, harness.ManagerID, harness.ManagerPIN)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := manager.Do("POST", "/api/replica/rebuild", nil, nil); err != nil || code != http.StatusAccepted {
		t.Fatalf("rebuild: %d %v", code, err)
	}
	// Offline, mid-rebuild: the old replica still recognises cards.
	s.scan(cardOf(2))
	s.waitRecorded(s.agent, 1)

	s.startCloud()
	if err := harness.WaitFor(20*time.Second, "the rebuild to complete", func() (bool, error) {
		return len(s.agent.Log.Lines("replica rebuilt from scratch")) == 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitKiosk(t, s.kiosk, "a fresh replica and an empty outbox", func(v statusView) bool { return v.notice == "" && v.pending == 0 })
	if len(s.agent.Log.Lines("replica is fresh again")) == 0 {
		t.Error("the agent did not log that the replica is fresh again")
	}
	s.scan(cardOf(1))
	s.waitRecorded(s.agent, 2)
}
