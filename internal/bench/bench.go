package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/live"
)

// Figure is one benchmark: cutover's figure beside its baseline from the
// same run, and the ratio against the goal.
type Figure struct {
	Name     string  `json:"name"`
	Baseline string  `json:"baseline"`
	Base     float64 `json:"baseline_value"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Ratio is Value / Base for times, Value / Base for rates: what the
	// goal is stated in.
	Ratio float64 `json:"ratio"`
	Goal  string  `json:"goal"`
	Met   bool    `json:"met"`
	Notes string  `json:"notes,omitempty"`
}

// Report is what cutover bench prints, and writes as JSON.
type Report struct {
	At      time.Time `json:"at"`
	Machine string    `json:"machine"`
	Figures []Figure  `json:"figures"`
}

// Sizes are the benchmarks' sizes (cutover bench's flags).
type Sizes struct {
	Enqueue, Moves, BaselineJobs, Wave, MixWave, LookupSeconds, LiveSeconds int
	RSS                                                                     []int
	// The scale-out wave: its users, the deployment's cap, and the worker
	// processes that share it.
	ScaleWave, ScaleCap, ScaleProcesses int
}

// Options are what Run needs: the sizes and the command line's choices,
// and the adapters that live outside this package.
type Options struct {
	DatabaseURL string // the server the benchmarks' databases are made on
	Sizes       Sizes
	Only        string // run only the benchmarks whose names contain it
	JSON        string // also write the report as JSON to this file
	Stdout      io.Writer
	Stderr      io.Writer // the progress, and the servers' errors
	// Databases makes and drops the benchmarks' databases.
	Databases Databases
	// NewAPI is cutover's HTTP API on a pool: only the binary's wiring
	// imports the API (ARCHITECTURE.md), which hands it in here.
	NewAPI func(pool *pgxpool.Pool, svc *app.Service, log *slog.Logger) API
}

// Databases makes and drops databases on a Postgres server. Their
// statements name a database, which no statement can take as a parameter:
// they are the command line's (internal/cli), as its other databases' are.
type Databases interface {
	// Named returns url naming the database name on the same server.
	Named(url, name string) string
	// Reset drops the database at url if there is one, and creates it.
	Reset(ctx context.Context, url string) error
	// Drop drops the database at url, closing its connections.
	Drop(ctx context.Context, url string) error
}

// API is what the benchmarks use of cutover's HTTP API (api.Server).
type API interface {
	Handler() http.Handler
	// ServeLive serves the live pages from hub; CloseLive ends their
	// streams.
	ServeLive(hub *live.Hub)
	CloseLive()
	// LiveReads counts the group reads the live pages' feeds have made.
	LiveReads() int64
}

// Run runs the benchmarks, telling Stderr how far they are, and prints the
// report on Stdout.
func Run(ctx context.Context, o Options) error {
	b := &bencher{dbURL: o.DatabaseURL, log: slog.New(slog.DiscardHandler), stderr: o.Stderr, p: newProgress(o.Stderr),
		dbs: o.Databases, newAPI: o.NewAPI}
	report := Report{At: time.Now().UTC(), Machine: machine()}
	type benchmark struct {
		name string
		run  func(context.Context, Sizes) (Figure, error)
	}
	benches := []benchmark{
		{"enqueue", b.enqueue},
		{"throughput", b.throughput},
		{"wave", b.wave},
		{"mix", b.mix},
		{"scale", b.scale},
		{"lookup", b.lookup},
		{"memory", b.memory},
		{"live", b.live},
	}
	benches = slices.DeleteFunc(benches, func(bn benchmark) bool { return o.Only != "" && !strings.Contains(bn.name, o.Only) })
	for i, bn := range benches {
		b.p.startBench(bn.name, i+1, len(benches))
		fig, err := bn.run(ctx, o.Sizes)
		b.p.endPhase()
		if err != nil {
			return fmt.Errorf("bench %s: %w", bn.name, err)
		}
		b.p.endBench()
		report.Figures = append(report.Figures, fig)
	}
	printFigures(o.Stdout, report)
	if o.JSON != "" {
		data, _ := json.MarshalIndent(report, "", "  ")
		if err := os.WriteFile(o.JSON, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func printFigures(w io.Writer, r Report) {
	fmt.Fprintf(w, "cutover bench, %s, %s\n\n", r.At.Format(time.RFC3339), r.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tbaseline\tcutover\tratio\tgoal\t")
	for _, f := range r.Figures {
		met := "met"
		if !f.Met {
			met = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%s: %s %s\t%s %s\t%.3f\t%s: %s\t\n", f.Name, f.Baseline, number(f.Base), f.Unit, number(f.Value), f.Unit, f.Ratio, f.Goal, met)
	}
	_ = tw.Flush()
	for _, f := range r.Figures {
		if f.Notes != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Notes)
		}
	}
}

// number writes a figure with 4 significant digits, or as a whole number
// with its thousands separated from 10,000 up (%.4g would write
// 2.687e+04).
func number(v float64) string {
	if math.Abs(v) < 9999.5 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	digits := strconv.FormatFloat(math.Abs(math.Round(v)), 'f', 0, 64)
	var out []byte
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	if v < 0 {
		return "-" + string(out)
	}
	return string(out)
}

// machine describes where the figures came from.
func machine() string {
	cpu := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs %s%s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, mem, runtime.Version())
}
