package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/memberpass/memberpass/scripts/harness"
	"github.com/memberpass/memberpass/scripts/loadgen"
)

// manyStores runs the cloud binary as its own process and drives it with
// scripts/loadgen: one store alone (the baseline), then 100 and 1,000
// simulated stores, each pushing one visit a second.
func manyStores(ctx context.Context, o Options) ([]Row, error) {
	dir, err := scratch(o, "stores")
	if err != nil {
		return nil, err
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	const token = "bench-hq-token"
	proc, err := harness.StartCloud(o.Bins, harness.CloudOptions{DataDir: filepath.Join(dir, "cloud"), Addr: addr, Token: token, Extra: []string{"--log-level", "warn"}})
	if err != nil {
		return nil, err
	}
	defer proc.Stop(10 * time.Second)
	time.Sleep(200 * time.Millisecond)
	idle, err := readProcMemory(proc.PID())
	if err != nil {
		return nil, err
	}

	run := func(name string, stores int, rate float64, d time.Duration) (loadgen.Result, error) {
		res, err := loadgen.Run(ctx, loadgen.Config{
			Addr: addr, AdminToken: token, Brand: name, Stores: stores, Members: 100, Rate: rate, Batch: 1, Duration: d, Log: o.Log,
		})
		if err != nil {
			return res, fmt.Errorf("%d stores: %w", stores, err)
		}
		o.Log.Info("load done", "stores", stores, "events_per_s", int(res.EventsPerSecond()), "p50", res.Percentile(0.5), "p99", res.Percentile(0.99), "failures", res.Failures)
		return res, nil
	}
	single, err := run("load-single", 1, 20, pick(o.Quick, 2*time.Second, 5*time.Second))
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, n := range []int{100, 1000} {
		res, err := run(fmt.Sprintf("load-%d", n), n, 1, pick(o.Quick, 5*time.Second, 15*time.Second))
		if err != nil {
			return rows, err
		}
		p99 := res.Percentile(0.99)
		row := Row{
			Measure: fmt.Sprintf("%s stores × 1 visit/s (1 event per push, %s): sustained acknowledged events/s; ack p50 / p99 (%d pushes, %d failed)",
				thousands(int64(n)), ms(res.Elapsed), res.Pushes, res.Failures),
			Figure:   fmt.Sprintf("%s of %s offered; %s / %s", perSec(res.EventsPerSecond()), perSec(res.Offered), ms(res.Percentile(0.5)), ms(p99)),
			Baseline: fmt.Sprintf("one store alone, same cloud: %s / %s", ms(single.Percentile(0.5)), ms(single.Percentile(0.99))),
			Ratio:    ratio(float64(p99)/float64(single.Percentile(0.99))) + " (p99)",
		}
		if n == 1000 {
			row.Target, row.Met = "p99 < 50 ms", met(p99 < 50*time.Millisecond && res.EventsPerSecond() >= 0.95*res.Offered)
		}
		rows = append(rows, row)
	}
	loaded, err := readProcMemory(proc.PID())
	if err != nil {
		return rows, err
	}
	rows = append(rows, Row{
		Measure:  "cloud resident memory under the 1,000-store load (cloud binary as its own process, /proc VmRSS after; peak VmHWM)",
		Figure:   fmt.Sprintf("%s; peak %s", loaded, mib(loaded.HWM)),
		Baseline: "same process idle before the load: " + mib(idle.RSS),
		Ratio:    ratio(float64(loaded.HWM)/float64(idle.RSS)) + " (peak)",
	})
	return rows, nil
}
