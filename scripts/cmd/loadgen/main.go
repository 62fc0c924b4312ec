// Command loadgen runs many simulated store agents against one cloud and
// prints the sustained acknowledged events per second and the push
// acknowledgement latency. Without -addr it starts a cloud in-process on a
// bbolt file in a temporary directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/scripts/loadgen"
	"github.com/memberpass/memberpass/scripts/localcloud"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg loadgen.Config
	flag.StringVar(&cfg.Addr, "addr", "", "cloud gRPC address; empty: run a cloud in this process on a temporary SQLite file")
	flag.StringVar(&cfg.AdminToken, "admin-token", "", "the cloud's HQ token (with -addr)")
	flag.StringVar(&cfg.Brand, "brand", fmt.Sprintf("load-%d", time.Now().Unix()), "brand to create for the run (must not exist)")
	flag.IntVar(&cfg.Stores, "stores", 100, "simulated stores, one agent each")
	flag.IntVar(&cfg.Members, "members", 100, "members of the brand")
	flag.Float64Var(&cfg.Rate, "rate", 1, "events per second per store")
	flag.IntVar(&cfg.Batch, "batch", 1, "events per push")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long the stores push")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the push phase (with an in-process cloud: the cloud's work too) to this file")
	verbose := flag.Bool("v", false, "log progress")
	flag.Parse()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	where := cfg.Addr
	if cfg.Addr == "" {
		dir, err := os.MkdirTemp("", "loadgen-cloud")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		db, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "cloud.sqlite"))
		if err != nil {
			return err
		}
		defer db.Close()
		cfg.AdminToken = "loadgen"
		c, err := localcloud.Start(db, cfg.AdminToken, nil)
		if err != nil {
			return err
		}
		defer c.Stop()
		cfg.Addr, where = c.Addr, "in-process cloud on SQLite"
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.OnPushStart = func() {
			if err := pprof.StartCPUProfile(f); err != nil {
				cfg.Log.Warn("CPU profile not started", "err", err)
			}
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("cloud: %s\nstores: %d, offered %.0f events/s (%g/s per store, %d per push), setup %s\n",
		where, res.Stores, res.Offered, cfg.Rate, cfg.Batch, res.Setup.Round(time.Millisecond))
	fmt.Printf("sustained: %.0f events/s acknowledged over %s, %d pushes, %d failed\n",
		res.EventsPerSecond(), res.Elapsed.Round(time.Millisecond), res.Pushes, res.Failures)
	fmt.Printf("ack latency: p50 %s  p99 %s  max %s\n", res.Percentile(0.5), res.Percentile(0.99), res.Percentile(1))
	if where != cfg.Addr {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("process heap in use: %.1f MiB (cloud and load driver together)\n", float64(ms.HeapInuse)/(1<<20))
	}
	return nil
}
