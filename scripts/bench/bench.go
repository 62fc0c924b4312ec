// Package bench measures the counter, the agent's durable writes, sync to
// the cloud, many stores against one cloud, and memory, each next to a
// baseline measured in the same run, and renders one Markdown table.
//
// Figures on a shared machine are noisy: the ratio to the baseline of the
// same run is what to compare between runs, not the absolute figure.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/memberpass/memberpass/scripts/harness"
)

// Options say how long and where to run.
type Options struct {
	// Quick runs every scenario briefly, for a smoke check.
	Quick bool
	// Dir receives the profiles; Work is scratch space for databases.
	Dir, Work string
	// Postgres is the DSN of a PostgreSQL for the PostgreSQL rows; empty
	// skips them.
	Postgres string
	// Bins are the built binaries (the memory scenario runs the agent).
	Bins harness.Binaries
	Log  *slog.Logger
}

// Row is one line of the table.
type Row struct {
	Measure  string
	Figure   string
	Baseline string
	Ratio    string
	Target   string
	// Met is "yes", "no" or "" when the row has no target.
	Met string
}

// Scenario is one group of rows.
type Scenario struct {
	Name string
	Run  func(ctx context.Context, o Options) ([]Row, error)
}

// Scenarios are every measurement, in table order.
func Scenarios() []Scenario {
	return []Scenario{
		{"counter", counterLatency},
		{"durable", durableWrites},
		{"sync", syncThroughput},
		{"stores", manyStores},
		{"memory", agentMemory},
	}
}

// RunAll runs the scenarios whose names are in only (all if empty). A
// failed scenario becomes a row saying so, and the others still run.
func RunAll(ctx context.Context, o Options, only []string) ([]Row, []error) {
	var rows []Row
	var errs []error
	for _, s := range Scenarios() {
		if len(only) > 0 && !slices.Contains(only, s.Name) {
			continue
		}
		start := time.Now()
		o.Log.Info("scenario start", "scenario", s.Name)
		r, err := s.Run(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
			rows = append(rows, Row{Measure: s.Name + ": FAILED", Figure: err.Error()})
		}
		o.Log.Info("scenario done", "scenario", s.Name, "took", time.Since(start).Round(time.Millisecond), "err", err)
	}
	return rows, errs
}

// Markdown renders the table.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| measure | figure | baseline | ratio | target | met? |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(r.Measure), cell(r.Figure), cell(r.Baseline), cell(r.Ratio), cell(r.Target), cell(r.Met))
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// Environment describes the machine and run, for the page's header.
func Environment(quick bool) string {
	host, _ := os.Hostname()
	mode := "full"
	if quick {
		mode = "quick (-quick: fewer samples, shorter runs)"
	}
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("Run %s on %s: %d vCPU (%s), %s/%s, %s; mode %s.",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version(), mode)
}

// helpers shared by the scenarios

func ms(d time.Duration) string {
	switch {
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func perSec(n float64) string {
	switch {
	case n >= 10000:
		return fmt.Sprintf("%s events/s", thousands(int64(n+0.5)))
	case n >= 100:
		return fmt.Sprintf("%.0f events/s", n)
	}
	return fmt.Sprintf("%.1f events/s", n)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func ratio(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0fx", x)
	case x >= 10:
		return fmt.Sprintf("%.1fx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// percentile returns the q-quantile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func pick[T any](quick bool, q, full T) T {
	if quick {
		return q
	}
	return full
}

func scratch(o Options, name string) (string, error) {
	dir, err := os.MkdirTemp(o.Work, name+"-")
	if err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	return dir, nil
}

func profilePath(o Options, name string) string { return filepath.Join(o.Dir, name) }
