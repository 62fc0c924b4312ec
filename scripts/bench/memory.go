package bench

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/localcloud"
)

const replicaMembers = 100000

// agentMemory runs the real agent binary against an in-process cloud: once
// for a brand with no members (the baseline), once for a brand with
// 100,000 members, each with a card, and reads the agent's resident memory
// once its replica has caught up.
func agentMemory(ctx context.Context, o Options) ([]Row, error) {
	dir, err := scratch(o, "memory")
	if err != nil {
		return nil, err
	}
	cloudDB, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "cloud.sqlite"))
	if err != nil {
		return nil, err
	}
	defer cloudDB.Close()
	lc, err := localcloud.Start(cloudDB, "bench", slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer lc.Stop()

	measure := func(brand string, members int) (procMemory, time.Duration, error) {
		if _, err := lc.Service.CreateBrand(ctx, brand, "Memory "+brand, "CNY"); err != nil {
			return procMemory{}, 0, err
		}
		t0 := time.Now()
		last, err := localcloud.SeedMembers(ctx, cloudDB, brand, members, 10000)
		if err != nil {
			return procMemory{}, 0, err
		}
		o.Log.Info("members seeded", "brand", brand, "members", members, "took", time.Since(t0).Round(time.Millisecond))
		_, p, err := lc.Service.CreateStore(ctx, brand, "s0001", "Memory store")
		if err != nil {
			return procMemory{}, 0, err
		}
		kiosk, err := harness.FreeAddr()
		if err != nil {
			return procMemory{}, 0, err
		}
		t0 = time.Now()
		proc, err := harness.StartAgent(o.Bins, harness.AgentOptions{
			DataDir: filepath.Join(dir, brand), Cloud: lc.Addr, PairingCode: p.Code, Kiosk: kiosk, Extra: []string{"--log-level", "warn"},
		})
		if err != nil {
			return procMemory{}, 0, err
		}
		defer proc.Stop(10 * time.Second)
		err = harness.WaitFor(3*time.Minute, fmt.Sprintf("the agent's replica to reach change %d", last), func() (bool, error) {
			st, err := harness.AgentStatus(kiosk)
			if err != nil {
				return false, err
			}
			return st.Outbox.Cursor >= last && st.ReplicaAgeSeconds >= 0, nil
		})
		if err != nil {
			return procMemory{}, 0, err
		}
		took := time.Since(t0)
		time.Sleep(500 * time.Millisecond) // let the last pull's buffers settle
		m, err := readProcMemory(proc.PID())
		return m, took, err
	}
	empty, _, err := measure("mem-empty", 0)
	if err != nil {
		return nil, fmt.Errorf("agent with an empty replica: %w", err)
	}
	full, took, err := measure("mem-full", replicaMembers)
	if err != nil {
		return nil, fmt.Errorf("agent with %d members: %w", replicaMembers, err)
	}
	return []Row{
		{
			Measure:  fmt.Sprintf("agent resident memory, replica of %s members + their cards (agent binary, /proc VmRSS; peak VmHWM)", thousands(replicaMembers)),
			Figure:   fmt.Sprintf("%s; peak %s", full, mib(full.HWM)),
			Baseline: "same binary, empty replica: " + mib(empty.RSS),
			Ratio:    ratio(float64(full.RSS) / float64(empty.RSS)),
			Target:   "< 60 MB", Met: met(full.RSS*1024 < 60e6),
		},
		{
			Measure: fmt.Sprintf("first replica sync of %s members + %s cards (agent start → caught up)", thousands(replicaMembers), thousands(replicaMembers)),
			Figure:  ms(took),
		},
	}, nil
}
