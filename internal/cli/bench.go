package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/bench"
)

// runBench is cutover bench: its flags, and the benchmarks (internal/bench)
// with the API and the databases it runs them on.
func runBench(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("bench", "bench [flags]", getenv, stderr)
	var c common
	var jsonOut, only, rss, cpuProfile string
	var sz bench.Sizes
	c.register(f)
	f.IntVar(&sz.Enqueue, "enqueue", 100000, "users imported, planned and queued (and River jobs inserted for the baseline)")
	f.IntVar(&sz.Moves, "moves", 20000, "moves worked with a zero-latency shell")
	f.IntVar(&sz.BaselineJobs, "baseline-jobs", 50000, "no-op River jobs worked for the throughput baseline")
	f.IntVar(&sz.Wave, "wave", 2000, "users of the wave timed against N·L/C")
	f.IntVar(&sz.MixWave, "mix-wave", 1000, "users of the wave with the demo's failure mix, whose calls in flight are held against its cap")
	f.IntVar(&sz.ScaleWave, "scale-wave", 6000, "users of the wave worked by several worker processes, timed against N·L/C")
	f.IntVar(&sz.ScaleCap, "scale-cap", 150, "the deployment's cap on moves in flight that those worker processes share")
	f.IntVar(&sz.ScaleProcesses, "scale-processes", 3, "cutover serve --role workers processes that work that wave")
	f.IntVar(&sz.LookupSeconds, "lookup-seconds", 10, "how long each side of the lookup benchmark runs")
	f.IntVar(&sz.LiveSeconds, "live-seconds", 20, "how long each side of the live dashboards benchmark is measured")
	f.StringVar(&rss, "rss", "10000,100000", "users of the waves whose server's peak memory is measured (comma-separated; the last against the first)")
	f.StringVar(&only, "only", "", "run only the benchmarks whose names contain this")
	f.StringVar(&jsonOut, "json", "", "also write the report as JSON to this file")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmarks (this process: API and workers) to this file")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	for _, s := range strings.Split(rss, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("--rss %q: want user counts like 10000,100000", rss)
		}
		sz.RSS = append(sz.RSS, n)
	}
	if cpuProfile != "" {
		out, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return bench.Run(ctx, bench.Options{DatabaseURL: c.DatabaseURL, Sizes: sz, Only: only, JSON: jsonOut, Stdout: stdout, Stderr: stderr,
		Databases: benchDatabases{},
		NewAPI: func(pool *pgxpool.Pool, svc *app.Service, log *slog.Logger) bench.API {
			return api.NewServer(pool, svc, log, &api.Options{MaxBody: 64 << 20})
		}})
}

// benchDatabases are the benchmarks' databases, made and dropped as the
// command line's others are (db.go).
type benchDatabases struct{}

func (benchDatabases) Named(url, name string) string { return withDatabase(url, name) }

func (benchDatabases) Reset(ctx context.Context, url string) error { return resetDatabase(ctx, url) }

func (benchDatabases) Drop(ctx context.Context, url string) error { return dropDatabase(ctx, url) }
