package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
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

// BenchReport is what cutover bench prints as JSON.
type BenchReport struct {
	At      time.Time `json:"at"`
	Machine string    `json:"machine"`
	Figures []Figure  `json:"figures"`
}

type benchSizes struct {
	Enqueue, Moves, BaselineJobs, Wave, MixWave, LookupSeconds, LiveSeconds int
	RSS                                                                     []int
}

func runBench(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("bench", "bench [flags]", getenv, stderr)
	var c common
	var jsonOut, only, rss, cpuProfile string
	var sz benchSizes
	c.register(f)
	f.IntVar(&sz.Enqueue, "enqueue", 100000, "users imported, planned and queued (and River jobs inserted for the baseline)")
	f.IntVar(&sz.Moves, "moves", 20000, "moves worked with a zero-latency shell")
	f.IntVar(&sz.BaselineJobs, "baseline-jobs", 50000, "no-op River jobs worked for the throughput baseline")
	f.IntVar(&sz.Wave, "wave", 2000, "users of the wave timed against N·L/C")
	f.IntVar(&sz.MixWave, "mix-wave", 1000, "users of the wave with the demo's failure mix, whose calls in flight are held against its cap")
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
	log := slog.New(slog.DiscardHandler)
	b := &bencher{dbURL: c.DatabaseURL, log: log, stderr: stderr, p: newBenchProgress(stderr)}
	report := BenchReport{At: time.Now().UTC(), Machine: machine()}
	type benchmark struct {
		name string
		run  func(context.Context, benchSizes) (Figure, error)
	}
	benches := []benchmark{
		{"enqueue", b.enqueue},
		{"throughput", b.throughput},
		{"wave", b.wave},
		{"mix", b.mix},
		{"lookup", b.lookup},
		{"memory", b.memory},
		{"live", b.live},
	}
	benches = slices.DeleteFunc(benches, func(bn benchmark) bool { return only != "" && !strings.Contains(bn.name, only) })
	for i, bn := range benches {
		b.p.startBench(bn.name, i+1, len(benches))
		fig, err := bn.run(ctx, sz)
		b.p.endPhase()
		if err != nil {
			return fmt.Errorf("bench %s: %w", bn.name, err)
		}
		b.p.endBench()
		report.Figures = append(report.Figures, fig)
	}
	printFigures(stdout, report)
	if jsonOut != "" {
		data, _ := json.MarshalIndent(report, "", "  ")
		if err := os.WriteFile(jsonOut, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func printFigures(w io.Writer, r BenchReport) {
	fmt.Fprintf(w, "cutover bench, %s, %s\n\n", r.At.Format(time.RFC3339), r.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tbaseline\tcutover\tratio\tgoal\t")
	for _, f := range r.Figures {
		met := "met"
		if !f.Met {
			met = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%s: %s %s\t%s %s\t%.3f\t%s: %s\t\n", f.Name, f.Baseline, benchNumber(f.Base), f.Unit, benchNumber(f.Value), f.Unit, f.Ratio, f.Goal, met)
	}
	_ = tw.Flush()
	for _, f := range r.Figures {
		if f.Notes != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Notes)
		}
	}
}

// benchNumber writes a figure with 4 significant digits, or as a whole
// number with its thousands separated from 10,000 up (%.4g would write
// 2.687e+04).
func benchNumber(v float64) string {
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

type bencher struct {
	dbURL  string
	log    *slog.Logger
	stderr io.Writer
	p      *benchProgress
	n      int
}

// fresh returns a pool on a new, migrated database of its own, dropped at
// cleanup. It is a phase of its own in the progress (it ends the one that
// runs).
func (b *bencher) fresh(ctx context.Context) (*pgxpool.Pool, string, func(), error) {
	b.p.startPhase("setup: a fresh database, migrated")
	defer b.p.endPhase()
	b.n++
	url := withDatabase(b.dbURL, fmt.Sprintf("cutover_bench_%d_%d", os.Getpid(), b.n))
	if err := resetDatabase(ctx, url); err != nil {
		return nil, "", nil, err
	}
	// The pool is serve's (store.Open): what is measured is what runs.
	pool, err := store.Open(ctx, url)
	if err == nil {
		_, err = store.Migrate(ctx, pool, b.log)
	}
	if err != nil {
		return nil, "", nil, err
	}
	return pool, url, func() {
		pool.Close()
		name, _ := databaseName(url)
		_ = adminExec(context.WithoutCancel(ctx), url, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}, nil
}

// noopArgs is the baselines' River job: nothing to do.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done func()
}

func (w *noopWorker) Work(ctx context.Context, job *river.Job[noopArgs]) error {
	w.done()
	return nil
}

// riverClient is a River client with only the no-op worker, working queue
// "moves" with workers at once (0: insert only).
func riverClient(pool *pgxpool.Pool, workers int, done func()) (*river.Client[pgx.Tx], error) {
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{done: done})
	cfg := &river.Config{Workers: ws, Logger: slog.New(slog.DiscardHandler), FetchPollInterval: 50 * time.Millisecond,
		FetchCooldown: 50 * time.Millisecond}
	if workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{jobs.QueueMoves: {MaxWorkers: workers}}
	}
	return river.NewClient(riverpgxv5.New(pool), cfg)
}

// timed runs fn and returns how long it took.
func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// waitFor polls cond until it holds.
func waitFor(ctx context.Context, every time.Duration, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// doneStates are the moves' states that are an outcome for their wave.
var doneStates = func() []string {
	var states []string
	for _, s := range migration.MoveStates {
		if s.Done() {
			states = append(states, string(s))
		}
	}
	return states
}()

// movesDone reports how many of a wave's n moves have reached an outcome,
// when an update of the progress is due (it costs a query).
func (b *bencher) movesDone(ctx context.Context, pool *pgxpool.Pool, waveID int64, n int) error {
	if !b.p.due() {
		return nil
	}
	c, err := count(ctx, pool, `SELECT count(*) FROM moves WHERE wave_id = $1 AND state = ANY($2)`, waveID, doneStates)
	if err == nil {
		b.p.count(c, n, "moves done")
	}
	return err
}

func benchCSV(n int, prefix string) []byte {
	var buf bytes.Buffer
	buf.WriteString("upn,display_name\n")
	for i := range n {
		fmt.Fprintf(&buf, "%s%07d@contoso.com,User %d\n", prefix, i, i)
	}
	return buf.Bytes()
}

// benchAPI serves the API on pool with a lead's token, with the workers of
// cfg (none works moves unless cfg says so).
func (b *bencher) benchAPI(ctx context.Context, pool *pgxpool.Pool, shell migration.Shell, cfg jobs.Config) (*httptest.Server, *river.Client[pgx.Tx], string, error) {
	client, err := jobs.NewClient(pool, shell, cfg, b.log)
	if err != nil {
		return nil, nil, "", err
	}
	if cfg.MoveWorkers > 0 || cfg.Control {
		if err := client.Start(ctx); err != nil {
			return nil, nil, "", err
		}
	}
	_, token, err := store.New(pool).TokenCreate(ctx, "bench", auth.RoleLead, "cutover bench")
	if err != nil {
		return nil, nil, "", err
	}
	srv := httptest.NewServer(api.NewServer(pool, app.New(pool, jobs.NewQueue(client)), b.log, &api.Options{MaxBody: 64 << 20}).Handler())
	return srv, client, token, nil
}

func call(ctx context.Context, srv, token, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, srv+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// importAndPlan imports n users over the API and plans them as one wave
// starting now with concurrency, returning the wave's ID.
func importAndPlan(ctx context.Context, srv, token string, n, concurrency int) (int64, error) {
	var g struct{ ID int64 }
	if err := call(ctx, srv, token, "POST", "/api/v1/groups?name=bench", "text/csv", benchCSV(n, "b"), &g); err != nil {
		return 0, err
	}
	var planned struct{ Waves []struct{ ID int64 } }
	body := fmt.Sprintf(`{"waves": [{"size": %d, "start_at": "now", "concurrency": %d, "max_attempts": 1}]}`, n, concurrency)
	if err := call(ctx, srv, token, "POST", fmt.Sprintf("/api/v1/groups/%d/plan", g.ID), "application/json", []byte(body), &planned); err != nil {
		return 0, err
	}
	return planned.Waves[0].ID, nil
}

func count(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) (int, error) {
	var n int
	err := pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// enqueue: import, plan and queue a group of n users, against River
// inserting n jobs with InsertManyFast.
func (b *bencher) enqueue(ctx context.Context, sz benchSizes) (Figure, error) {
	n := sz.Enqueue
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	b.p.startPhase("baseline: River InsertManyFast %d jobs", n)
	base, err := timed(func() error {
		client, err := riverClient(pool, 0, func() {})
		if err != nil {
			return err
		}
		params := make([]river.InsertManyParams, n)
		for i := range params {
			params[i] = river.InsertManyParams{Args: noopArgs{N: i}}
		}
		_, err = client.InsertManyFast(ctx, params)
		return err
	})
	b.p.endPhase()
	done()
	if err != nil {
		return Figure{}, err
	}
	floor, err := b.enqueueFloor(ctx, n)
	if err != nil {
		return Figure{}, err
	}
	pool, _, done, err = b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	defer done()
	srv, client, token, err := b.benchAPI(ctx, pool, nil, jobs.Config{Control: true, PollInterval: 20 * time.Millisecond})
	if err != nil {
		return Figure{}, err
	}
	defer srv.Close()
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	b.p.startPhase("cutover: import+plan+enqueue %d users", n)
	began := time.Now()
	var planned time.Duration
	ours, err := timed(func() error {
		if _, err := importAndPlan(ctx, srv.URL, token, n, 10); err != nil {
			return err
		}
		planned = time.Since(began)
		b.p.step("imported and planned")
		return waitFor(ctx, 20*time.Millisecond, func() (bool, error) {
			c, err := count(ctx, pool, `SELECT count(*) FROM river_job WHERE kind = 'move'`)
			b.p.count(c, n, "jobs queued")
			return c >= n, err
		})
	})
	b.p.endPhase()
	if err != nil {
		return Figure{}, err
	}
	ratio := ours.Seconds() / base.Seconds()
	return Figure{Name: fmt.Sprintf("import+plan+enqueue %d users", n), Baseline: fmt.Sprintf("River InsertManyFast %d jobs", n),
		Base: base.Seconds(), Value: ours.Seconds(), Unit: "s", Ratio: ratio, Goal: "≤ 3×", Met: ratio <= 3,
		Notes: fmt.Sprintf("cutover: CSV import over HTTP (validated, one transaction) and plan %.2f s, then the wave's start queueing a move job per user %.2f s. "+
			"Floor: the rows cutover keeps, written by a minimal pgx program (COPY of the members, one INSERT of the moves, one UPDATE of them to queued, "+
			"River InsertManyFast of their jobs): %.2f s, %.2f× River's; cutover %.2f× the floor",
			planned.Seconds(), (ours - planned).Seconds(), floor.Seconds(), floor.Seconds()/base.Seconds(), ours.Seconds()/floor.Seconds())}, nil
}

// enqueueFloor writes the rows an import, a plan and a wave's start of n
// users keep, as a minimal pgx program would on cutover's schema: the
// members by COPY, the moves by one INSERT ... SELECT, their change to
// queued by one UPDATE, and their jobs by River's InsertManyFast. Nothing is
// checked, logged or audited, and no HTTP is spoken: what cutover does
// beyond this is its own cost, and what this costs is the schema's.
func (b *bencher) enqueueFloor(ctx context.Context, n int) (time.Duration, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	// Insert only: the move jobs' kind need not be worked here.
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: b.log, SkipUnknownJobCheck: true})
	if err != nil {
		return 0, err
	}
	b.p.startPhase("floor: the same rows written by a minimal pgx program, %d users", n)
	defer b.p.endPhase()
	return timed(func() error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var group, wave, batch int64
			if err := tx.QueryRow(ctx, `INSERT INTO pilot_groups (name, source) VALUES ('floor', 'csv') RETURNING id`).Scan(&group); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"group_members"}, []string{"group_id", "position", "upn", "sip", "display_name"},
				pgx.CopyFromFunc(func() func() ([]any, error) {
					i := 0
					return func() ([]any, error) {
						if i == n {
							return nil, nil
						}
						i++
						addr := fmt.Sprintf("f%07d@contoso.com", i)
						return []any{group, i, addr, addr, fmt.Sprintf("User %d", i)}, nil
					}
				}())); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `INSERT INTO waves (group_id, number, name, size, start_at, max_attempts, concurrency)
				VALUES ($1, 1, 'wave 1', $2, now(), 1, 10) RETURNING id`, group, n).Scan(&wave); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `INSERT INTO move_batches (wave_id, state, message, actor) VALUES ($1, 'pending', 'planned', 'floor') RETURNING id`, wave).Scan(&batch); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO moves (wave_id, member_id, upn, sip, planned_by)
				SELECT $1, id, upn, sip, $2 FROM group_members WHERE group_id = $3 ORDER BY position`, wave, batch, group); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE moves SET state = 'queued', run = run + 1, updated_at = now(), queued_by = $2 WHERE wave_id = $1 AND state = 'pending'`, wave, batch); err != nil {
				return err
			}
			rows, _ := tx.Query(ctx, `SELECT id, run FROM moves WHERE wave_id = $1`, wave)
			params := make([]river.InsertManyParams, 0, n)
			var id int64
			var run int
			if _, err := pgx.ForEachRow(rows, []any{&id, &run}, func() error {
				params = append(params, river.InsertManyParams{Args: jobs.MoveArgs{MoveID: id, Run: run}, InsertOpts: &river.InsertOpts{MaxAttempts: 1}})
				return nil
			}); err != nil {
				return err
			}
			_, err := client.InsertManyFastTx(ctx, tx, params)
			return err
		})
	})
}

// throughput: moves per second with a shell that answers at once, against
// River working no-op jobs with the same workers.
func (b *bencher) throughput(ctx context.Context, sz benchSizes) (Figure, error) {
	const workers = 50
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	var mu sync.Mutex
	worked := 0
	client, err := riverClient(pool, workers, func() { mu.Lock(); worked++; mu.Unlock() })
	if err != nil {
		done()
		return Figure{}, err
	}
	b.p.startPhase("setup: River inserting %d no-op jobs", sz.BaselineJobs)
	params := make([]river.InsertManyParams, sz.BaselineJobs)
	for i := range params {
		params[i] = river.InsertManyParams{Args: noopArgs{N: i}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMoves}}
	}
	if _, err := client.InsertManyFast(ctx, params); err != nil {
		done()
		return Figure{}, err
	}
	b.p.startPhase("baseline: River working %d no-op jobs, %d workers", sz.BaselineJobs, workers)
	base, err := timed(func() error {
		if err := client.Start(ctx); err != nil {
			return err
		}
		return waitFor(ctx, 10*time.Millisecond, func() (bool, error) {
			mu.Lock()
			w := worked
			mu.Unlock()
			b.p.count(w, sz.BaselineJobs, "jobs worked")
			return w >= sz.BaselineJobs, nil
		})
	})
	b.p.endPhase()
	_ = client.Stop(context.WithoutCancel(ctx))
	done()
	if err != nil {
		return Figure{}, err
	}
	baseRate := float64(sz.BaselineJobs) / base.Seconds()

	rate, err := b.waveRate(ctx, fmt.Sprintf("cutover: a wave of %d users, instant shell, %d workers", sz.Moves, workers),
		sz.Moves, workers, workers, sim.ShellConfig{Mix: sim.Mix{}})
	if err != nil {
		return Figure{}, err
	}
	floor, err := b.movesFloor(ctx, sz.Moves, workers)
	if err != nil {
		return Figure{}, err
	}
	ratio := rate.perSecond / baseRate
	return Figure{Name: fmt.Sprintf("moves/s, %d users, instant shell", sz.Moves), Baseline: fmt.Sprintf("River, %d no-op jobs", sz.BaselineJobs),
		Base: baseRate, Value: rate.perSecond, Unit: "/s", Ratio: ratio, Goal: "≥ 0.5×", Met: ratio >= 0.5,
		Notes: fmt.Sprintf("%d workers each; a move is a slot taken with the start of its pre-flight, its change to moving with the rollback record (on disk before the call), 2 Get-CsUser and a Move-CsUser, then its check and outcome written in one round trip, with the read the wave's review needs after their commit; 4 states and their timeline events in all. "+
			"Floor: the same writes by a minimal pgx program on cutover's schema (River jobs, %d workers; per move a slot of the cap with the pre-flight's change, the change to moving with the rollback record, on disk, then verifying, moved and the slot's release, on disk, each change with its event; nothing read, checked or reviewed): "+
			"%s/s, %.3f× River's; cutover %.2f× the floor",
			workers, workers, benchNumber(floor), floor/baseRate, rate.perSecond/floor)}, nil
}

// timeFloorJobs runs a floor's jobs: it starts a River client working ws
// on the moves queue with workers, and times the insertion of params and
// their work, until done counts them all. The phase ends with it.
func (b *bencher) timeFloorJobs(ctx context.Context, pool *pgxpool.Pool, ws *river.Workers, workers int, params []river.InsertManyParams, done *atomic.Int64) (time.Duration, error) {
	defer b.p.endPhase()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: ws, Logger: b.log,
		FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 50 * time.Millisecond,
		Queues: map[string]river.QueueConfig{jobs.QueueMoves: {MaxWorkers: workers}}})
	if err != nil {
		return 0, err
	}
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	return timed(func() error {
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return err
		}
		return waitFor(ctx, 5*time.Millisecond, func() (bool, error) {
			m := int(done.Load())
			b.p.count(m, len(params), "moves done")
			return m >= len(params), nil
		})
	})
}

// floorStepsArgs is a move of the moves/s floor.
type floorStepsArgs struct {
	MoveID int64 `json:"move_id"`
	WaveID int64 `json:"wave_id"`
}

func (floorStepsArgs) Kind() string { return "bench_floor_steps" }

// floorStepsWorker writes a move's changes as cutover does, and nothing else.
type floorStepsWorker struct {
	river.WorkerDefaults[floorStepsArgs]
	pool *pgxpool.Pool
	done func()
}

// The floor's statements: a change of state with its event; the slot taken
// with the first (without waiting for the disk, as cutover takes it), the
// rollback record kept with the change to moving, the slot freed with the
// outcome.
const (
	floorPreflight = `WITH c AS (SELECT set_config('synchronous_commit', 'off', true)),
s AS (UPDATE cap_slots SET move_id = $1, wave_id = $2, expires_at = now() + interval '5 s', holder = 'floor'
      WHERE n = (SELECT n FROM cap_slots, c WHERE move_id IS NULL ORDER BY n LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING n),
m AS (UPDATE moves SET state = 'preflight', attempts = 1, started_at = now(), updated_at = now() WHERE id = $1 AND EXISTS (SELECT 1 FROM s) RETURNING id)
INSERT INTO move_events (move_id, state, attempt, message, actor) SELECT id, 'preflight', 1, 'pre-flight', 'floor' FROM m`
	floorMoving = `WITH r AS (INSERT INTO rollback_records (move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled)
      VALUES ($1, 'sip:user@contoso.com', 'pool01.contoso.com', 'SRV:', false)),
m AS (UPDATE moves SET state = 'moving', move_issued_at = now(), updated_at = now() WHERE id = $1 RETURNING id)
INSERT INTO move_events (move_id, state, attempt, message, actor) SELECT id, 'moving', 1, 'moving online', 'floor' FROM m`
	floorChange = `WITH m AS (UPDATE moves SET state = $2, finished_at = CASE WHEN $2 = 'moved' THEN now() END, updated_at = now() WHERE id = $1 RETURNING id)
INSERT INTO move_events (move_id, state, attempt, message, actor) SELECT id, $2, 1, $2, 'floor' FROM m`
	floorRelease = `UPDATE cap_slots SET move_id = NULL, wave_id = NULL, expires_at = NULL, holder = NULL WHERE move_id = $1`
)

func (w *floorStepsWorker) Work(ctx context.Context, job *river.Job[floorStepsArgs]) error {
	id := job.Args.MoveID
	for {
		tag, err := w.pool.Exec(ctx, floorPreflight, id, job.Args.WaveID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			break
		}
		time.Sleep(time.Millisecond) // no slot free
	}
	if _, err := w.pool.Exec(ctx, floorMoving, id); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(floorChange, id, "verifying")
	b.Queue(floorChange, id, "moved")
	b.Queue(floorRelease, id)
	if err := w.pool.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	w.done()
	return nil
}

// movesFloor is the moves/s of a minimal pgx program that writes, on
// cutover's schema, what cutover writes for a move with an instant shell
// (floorStepsWorker), with River jobs and as many workers.
func (b *bencher) movesFloor(ctx context.Context, n, workers int) (float64, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	b.p.startPhase("setup: %d queued moves on cutover's schema", n)
	var wave int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var group int64
		if err := tx.QueryRow(ctx, `INSERT INTO pilot_groups (name, source) VALUES ('floor', 'csv') RETURNING id`).Scan(&group); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, position, upn, sip, display_name)
			SELECT $1, i, format('f%s@contoso.com', i), format('f%s@contoso.com', i), format('User %s', i) FROM generate_series(1, $2::int) i`, group, n); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO waves (group_id, number, name, size, start_at, max_attempts, concurrency)
			VALUES ($1, 1, 'wave 1', $2, now(), 1, $3) RETURNING id`, group, n, workers).Scan(&wave); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO moves (wave_id, member_id, upn, sip, state, run)
			SELECT $1, id, upn, sip, 'queued', 1 FROM group_members WHERE group_id = $2 ORDER BY position`, wave, group); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE deployment_settings SET max_in_flight = $1`, workers)
		return err
	})
	if err != nil {
		return 0, err
	}
	store.New(pool).AnalyzeAfterBulk(ctx, n, "group_members", "moves") // as a plan does
	var ids []int64
	rows, _ := pool.Query(ctx, `SELECT id FROM moves WHERE wave_id = $1 ORDER BY id`, wave)
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return 0, err
	}
	var moved atomic.Int64
	ws := river.NewWorkers()
	river.AddWorker(ws, &floorStepsWorker{pool: pool, done: func() { moved.Add(1) }})
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: floorStepsArgs{MoveID: id, WaveID: wave}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMoves}}
	}
	b.p.startPhase("floor: the same writes by a minimal pgx program, %d moves, %d workers", n, workers)
	took, err := b.timeFloorJobs(ctx, pool, ws, workers, params, &moved)
	if err != nil {
		return 0, err
	}
	return float64(n) / took.Seconds(), nil
}

type waveRun struct {
	took         time.Duration
	perSecond    float64
	meanInFlight float64 // move calls, from the first to the start of the last
	// outside is how long moves held their slot of the cap outside their
	// move call: mean, median and 99th percentile.
	outside *durations
	// moveCalls counts every Move-CsUser call, retries included; lowered
	// how often the wave's adaptive limit fell.
	moveCalls, lowered int
}

// waveRate runs one wave of n users at concurrency (and cap) c through the
// API and workers, and times it from its start to its end; phase names it
// in the progress.
func (b *bencher) waveRate(ctx context.Context, phase string, n, c, workers int, shellCfg sim.ShellConfig, options ...func(*jobs.Config)) (waveRun, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return waveRun{}, err
	}
	defer done()
	if _, err := store.New(pool).SettingsSetMaxInFlight(ctx, c, "bench"); err != nil {
		return waveRun{}, err
	}
	// The workers tell the live pages of each change, as serve's do: the
	// figures include what that costs the moves.
	notifier := live.NewNotifier(pool, b.log)
	defer notifier.Close()
	var held durations
	cfg := jobs.Config{MoveWorkers: workers, Control: true, PollInterval: 50 * time.Millisecond, ShellTimeout: time.Minute, Notifier: notifier,
		SlotHeld: held.add}
	for _, o := range options {
		o(&cfg)
	}
	shell := sim.NewShell(shellCfg)
	srv, client, token, err := b.benchAPI(ctx, pool, shell, cfg)
	if err != nil {
		return waveRun{}, err
	}
	defer srv.Close()
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	b.p.startPhase("%s", phase)
	defer b.p.endPhase()
	waveID, err := importAndPlan(ctx, srv.URL, token, n, c)
	if err != nil {
		return waveRun{}, err
	}
	b.p.step("imported and planned")
	var took time.Duration
	err = waitFor(ctx, 20*time.Millisecond, func() (bool, error) {
		var finished bool
		err := pool.QueryRow(ctx, `SELECT state = 'completed', coalesce(finished_at - started_at, '0')::interval FROM waves WHERE id = $1`, waveID).Scan(&finished, &took)
		if err == nil && !finished {
			err = b.movesDone(ctx, pool, waveID, n)
		}
		return finished, err
	})
	if err != nil {
		return waveRun{}, err
	}
	lowered, err := count(ctx, pool, `SELECT count(*) FROM wave_events WHERE wave_id = $1 AND kind = $2`, waveID, migration.WaveEventLimitLowered)
	if err != nil {
		return waveRun{}, err
	}
	st := shell.Stats()
	return waveRun{took: took, perSecond: float64(n) / took.Seconds(), meanInFlight: st.MeanInFlight, outside: &held,
		moveCalls: st.Calls.MoveOnline, lowered: lowered}, nil
}

// mix: a wave with the demo's seeded failure mix (users already online,
// permanent failures, time-outs and licences that retry) keeps its cap's
// worth of move calls in flight while it has work to start: a few users who
// time out on their own are not the service struggling. Beside it, the same
// wave without failures. Times are held against N·L/C counting every
// attempt (each Move-CsUser call, retries included).
func (b *bencher) mix(ctx context.Context, sz benchSizes) (Figure, error) {
	const capacity, latency = 10, 200 * time.Millisecond
	workers := capacity * 3 / 2
	// Retries come back after about one move's time, so that the wave
	// always has work to start: what is measured is the limit, not the
	// backoff.
	quick := func(c *jobs.Config) { c.RetryBase, c.RetryMax = latency, 2*latency }
	mixed, err := b.waveRate(ctx, fmt.Sprintf("cutover: a wave of %d users with the demo's failure mix, cap %d", sz.MixWave, capacity),
		sz.MixWave, capacity, workers, sim.ShellConfig{Seed: 7, MoveLatency: latency}, quick)
	if err != nil {
		return Figure{}, err
	}
	clean, err := b.waveRate(ctx, fmt.Sprintf("cutover: the same wave without failures, cap %d", capacity),
		sz.MixWave, capacity, workers, sim.ShellConfig{Seed: 7, Mix: sim.Mix{}, MoveLatency: latency}, quick)
	if err != nil {
		return Figure{}, err
	}
	ideal := func(r waveRun) time.Duration { return time.Duration(r.moveCalls) * latency / capacity }
	ratio := mixed.meanInFlight / capacity
	return Figure{Name: fmt.Sprintf("wave of %d users with the demo's failure mix (seed 7), cap %d: move calls in flight", sz.MixWave, capacity),
		Baseline: "the cap", Base: capacity, Value: mixed.meanInFlight, Unit: "calls", Ratio: ratio, Goal: "≥ 0.80×", Met: ratio >= 0.80,
		Notes: fmt.Sprintf("the simulated Move-CsUser 200 ms, reads instant, retries after 200 to 400 ms; the limit lowered %d times. "+
			"Time %.2f s against N·L/C %.2f s for its %d move calls (%.2f×). "+
			"The same wave without failures: %.1f calls in flight (%.2f× the cap), %.2f s against %.2f s for %d calls (%.2f×), limit lowered %d times",
			mixed.lowered, mixed.took.Seconds(), ideal(mixed).Seconds(), mixed.moveCalls, mixed.took.Seconds()/ideal(mixed).Seconds(),
			clean.meanInFlight, clean.meanInFlight/capacity, clean.took.Seconds(), ideal(clean).Seconds(), clean.moveCalls, clean.took.Seconds()/ideal(clean).Seconds(), clean.lowered)}, nil
}

// durations collects durations from many goroutines.
type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (ds *durations) add(d time.Duration) {
	ds.mu.Lock()
	ds.d = append(ds.d, d)
	ds.mu.Unlock()
}

// String is the mean, the median and the 99th percentile, in milliseconds.
func (ds *durations) String() string {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if len(ds.d) == 0 {
		return "none measured"
	}
	sorted := slices.Sorted(slices.Values(ds.d))
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return fmt.Sprintf("mean %.1f ms, median %.1f ms, p99 %.1f ms", ms(sum/time.Duration(len(sorted))), ms(percentile(sorted, 0.50)), ms(percentile(sorted, 0.99)))
}

// wave: the wall-clock of a wave whose moves take 200 ms, against N·L/C.
func (b *bencher) wave(ctx context.Context, sz benchSizes) (Figure, error) {
	const capacity, latency = 50, 200 * time.Millisecond
	// Workers beyond the cap wait for a slot inside their job, and a slot
	// freed in the process wakes one at once; with as many workers as
	// slots, a freed slot waits for River to fetch the next job.
	workers := capacity * 3 / 2
	run, err := b.waveRate(ctx, fmt.Sprintf("cutover: a wave of %d users, 200 ms moves, cap %d, %d workers", sz.Wave, capacity, workers),
		sz.Wave, capacity, workers, sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: latency})
	if err != nil {
		return Figure{}, err
	}
	floor, err := b.waveFloor(ctx, sz.Wave, capacity, workers, sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: latency})
	if err != nil {
		return Figure{}, err
	}
	ideal := time.Duration(sz.Wave) * latency / capacity
	ratio := run.took.Seconds() / ideal.Seconds()
	return Figure{Name: fmt.Sprintf("wave of %d users, 200 ms moves, cap %d", sz.Wave, capacity), Baseline: "ideal N·L/C",
		Base: ideal.Seconds(), Value: run.took.Seconds(), Unit: "s", Ratio: ratio, Goal: "≤ 1.10×", Met: ratio <= 1.10,
		Notes: fmt.Sprintf("the Move-CsUser of the simulated shell mean 200 ms (100 to 300 ms), reads instant; %d workers; move calls in flight %.1f on average of the cap's %d; a slot held outside its move call: %s. "+
			"Floor: the same wave by a minimal program with the same promises (River jobs, %d workers; the cap a semaphore in process; a durable write before each move call and one after, on a table with a primary key only): "+
			"%.2f s, %.3f× N·L/C, %.1f calls in flight; cutover %.2f× the floor",
			workers, run.meanInFlight, capacity, run.outside, workers, floor.took.Seconds(), floor.took.Seconds()/ideal.Seconds(), floor.meanInFlight,
			run.took.Seconds()/floor.took.Seconds())}, nil
}

// floorMoveArgs is a move of the wave's floor.
type floorMoveArgs struct {
	ID  int64  `json:"id"`
	UPN string `json:"upn"`
}

func (floorMoveArgs) Kind() string { return "bench_floor_move" }

// floorMoveWorker makes a move of the wave's floor: a slot of the cap, the
// durable record before the call, the call, the outcome.
type floorMoveWorker struct {
	river.WorkerDefaults[floorMoveArgs]
	pool  *pgxpool.Pool
	shell *sim.Shell
	slots chan struct{}
	done  func()
}

func (w *floorMoveWorker) Work(ctx context.Context, job *river.Job[floorMoveArgs]) error {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.slots }()
	if _, err := w.pool.Exec(ctx, `UPDATE floor_moves SET state = 'moving', rollback = $2 WHERE id = $1`, job.Args.ID, `{"registrar_pool":"pool01.contoso.com"}`); err != nil {
		return err
	}
	if err := w.shell.MoveOnline(ctx, job.Args.UPN, migration.MoveOnlineOptions{}); err != nil {
		return err
	}
	if _, err := w.pool.Exec(ctx, `UPDATE floor_moves SET state = 'moved' WHERE id = $1`, job.Args.ID); err != nil {
		return err
	}
	w.done()
	return nil
}

// waveFloor times the wave of n users as a minimal program makes it with
// cutover's promises and nothing else: River jobs worked by workers, at
// most c move calls at once (a semaphore in process, handed on at once),
// the move's record on disk before its call (one durable UPDATE) and its
// outcome after (another), and the same simulated Move-CsUser. No
// pre-flight, timeline, rollback table, cross-process cap, wave or pages:
// what cutover takes beyond this is its own.
func (b *bencher) waveFloor(ctx context.Context, n, c, workers int, shellCfg sim.ShellConfig) (waveRun, error) {
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return waveRun{}, err
	}
	defer done()
	if _, err := pool.Exec(ctx, `CREATE TABLE floor_moves (id bigint PRIMARY KEY, state text NOT NULL DEFAULT 'queued', rollback jsonb);
		INSERT INTO floor_moves (id) SELECT generate_series(1, `+strconv.Itoa(n)+`)`); err != nil {
		return waveRun{}, err
	}
	var moved atomic.Int64
	shell := sim.NewShell(shellCfg)
	ws := river.NewWorkers()
	river.AddWorker(ws, &floorMoveWorker{pool: pool, shell: shell, slots: make(chan struct{}, c), done: func() { moved.Add(1) }})
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: floorMoveArgs{ID: int64(i + 1), UPN: fmt.Sprintf("b%07d@contoso.com", i)},
			InsertOpts: &river.InsertOpts{Queue: jobs.QueueMoves}}
	}
	b.p.startPhase("floor: the same wave by a minimal program, %d users, cap %d, %d workers", n, c, workers)
	took, err := b.timeFloorJobs(ctx, pool, ws, workers, params, &moved)
	if err != nil {
		return waveRun{}, err
	}
	return waveRun{took: took, perSecond: float64(n) / took.Seconds(), meanInFlight: shell.Stats().MeanInFlight}, nil
}

// lookup: helpdesk lookups over HTTP from 50 clients, against the floor of
// any HTTP lookup: a bare net/http handler in the same process that checks
// nothing and runs one primary-key select through the API's own pool, with
// the same clients, transport and duration. The single-row select through
// pgx in process (no HTTP), the baseline before, is measured too and
// reported in the notes. The three loads run one after another.
func (b *bencher) lookup(ctx context.Context, sz benchSizes) (Figure, error) {
	const clients, users = 50, 2000
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	defer done()
	b.p.startPhase("setup: import and plan %d users", users)
	srv, client, token, err := b.benchAPI(ctx, pool, nil, jobs.Config{})
	if err != nil {
		return Figure{}, err
	}
	defer srv.Close()
	_ = client
	if _, err := importAndPlan(ctx, srv.URL, token, users, 10); err != nil {
		return Figure{}, err
	}
	_, helpdesk, err := store.New(pool).TokenCreate(ctx, "bench helpdesk", auth.RoleHelpdesk, "cutover bench")
	if err != nil {
		return Figure{}, err
	}
	ids, err := count(ctx, pool, `SELECT max(id) FROM group_members`)
	if err != nil {
		return Figure{}, err
	}
	duration := time.Duration(sz.LookupSeconds) * time.Second
	measure := func(phase string, op func(*rand.Rand) error) (loadResult, error) {
		b.p.startPhase("%s, %d clients", phase, clients)
		stop := b.p.tick(duration)
		defer stop()
		return load(ctx, clients, duration, op)
	}
	get := func(hc *http.Client, url, token string) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, res.Status)
		}
		return nil
	}
	httpClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	}

	inProcess, err := measure("old baseline: pgx primary-key select in process", func(rnd *rand.Rand) error {
		var upn string
		return pool.QueryRow(ctx, `SELECT upn FROM group_members WHERE id = $1`, 1+rnd.IntN(ids)).Scan(&upn)
	})
	if err != nil {
		return Figure{}, err
	}

	// gets drives GET url(rnd) with the same 50 clients, on an HTTP client
	// of its own with the same settings.
	gets := func(phase, token string, url func(*rand.Rand) string) (loadResult, error) {
		hc := httpClient()
		defer hc.CloseIdleConnections()
		return measure(phase, func(rnd *rand.Rand) error { return get(hc, url(rnd), token) })
	}
	floorSrv := httptest.NewServer(memberHandler(pool))
	defer floorSrv.Close()
	floor, err := gets("baseline: bare net/http handler, one pgx primary-key select", "", func(rnd *rand.Rand) string {
		return fmt.Sprintf("%s/members/%d", floorSrv.URL, 1+rnd.IntN(ids))
	})
	if err != nil {
		return Figure{}, err
	}
	readsSrv := httptest.NewServer(userViewHandler(pool))
	defer readsSrv.Close()
	reads, err := gets("floor: the same reads (the user view) behind a bare handler", "", func(rnd *rand.Rand) string {
		return fmt.Sprintf("%s/users/b%07d@contoso.com", readsSrv.URL, rnd.IntN(users))
	})
	if err != nil {
		return Figure{}, err
	}
	ours, err := gets("cutover: GET /api/v1/users/{upn}", helpdesk, func(rnd *rand.Rand) string {
		return fmt.Sprintf("%s/api/v1/users/b%07d@contoso.com", srv.URL, rnd.IntN(users))
	})
	if err != nil {
		return Figure{}, err
	}
	b.p.endPhase()

	const maxP99 = 25 * time.Millisecond
	ratio := ours.rate / floor.rate
	return Figure{Name: fmt.Sprintf("helpdesk lookups/s, %d clients, HTTP", clients), Baseline: "bare net/http handler + pgx primary-key select",
		Base: floor.rate, Value: ours.rate, Unit: "/s", Ratio: ratio, Goal: "≥ 0.5× and p99 < 25 ms", Met: ratio >= 0.5 && ours.p99 < maxP99,
		Notes: fmt.Sprintf("against the in-process pgx select (old baseline): %s/s, ratio %.3f; p50/p99: pgx in process %s/%s, HTTP floor %s/%s, cutover %s/%s; "+
			"the floor's handler authenticates nothing and writes one group_members row as JSON, on the API's pool; "+
			"a lookup checks the token, then reads memberships, pre-flight, moves, timeline and rollback record. "+
			"Floor of those reads: the user view's batch (the same store call; the token is checked from a cache) behind a bare handler that writes the rows as JSON: "+
			"%s/s (p50/p99 %s/%s), %.3f× the HTTP floor; cutover %.2f× the floor of its reads",
			benchNumber(inProcess.rate), ours.rate/inProcess.rate, inProcess.p50, inProcess.p99, floor.p50, floor.p99, ours.p50, ours.p99,
			benchNumber(reads.rate), reads.p50, reads.p99, reads.rate/floor.rate, ours.rate/reads.rate)}, nil
}

// memberHandler is the lookup benchmark's floor: GET /members/{id} answers
// one group member read by its primary key, as JSON, and nothing else.
func memberHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /members/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var m struct {
			UPN         string `json:"upn"`
			DisplayName string `json:"display_name"`
			SIP         string `json:"sip"`
		}
		err = pool.QueryRow(r.Context(), `SELECT upn, display_name, sip FROM group_members WHERE id = $1`, id).Scan(&m.UPN, &m.DisplayName, &m.SIP)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
	return mux
}

// userViewHandler is the floor of a lookup's reads: GET /users/{identity}
// reads the user's view with the same store call as the API (one batch of
// five statements) and writes what it read as JSON; no token (the API's
// check is answered from its cache: a token is read again only every few
// seconds), no middleware, no explanation, no offers.
func userViewHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{identity}", func(w http.ResponseWriter, r *http.Request) {
		v, err := store.New(pool).UserView(r.Context(), r.PathValue("identity"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	})
	return mux
}

type loadResult struct {
	rate     float64
	p50, p99 time.Duration
}

// load runs op from clients goroutines for d and measures it.
func load(ctx context.Context, clients int, d time.Duration, op func(*rand.Rand) error) (loadResult, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			var mine []time.Duration
			for time.Now().Before(end) && ctx.Err() == nil {
				start := time.Now()
				if err := op(rnd); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return percentile(lat, p).Round(10 * time.Microsecond) }
	return loadResult{rate: float64(len(lat)) / d.Seconds(), p50: pct(0.50), p99: pct(0.99)}, nil
}

// percentile is the p-th quantile (0 to 1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(p*float64(len(sorted)-1))]
}

// memory: the peak resident memory of a cutover serve process working a
// wave, for each size; the largest against the smallest.
func (b *bencher) memory(ctx context.Context, sz benchSizes) (Figure, error) {
	exe, err := os.Executable()
	if err != nil {
		return Figure{}, err
	}
	var peaks []float64
	for i, n := range sz.RSS {
		peak, err := b.serveWave(ctx, exe, n, fmt.Sprintf("cutover serve: a wave of %d users [%d/%d]", n, i+1, len(sz.RSS)))
		if err != nil {
			return Figure{}, err
		}
		b.p.note("%d users: peak RSS %.1f MB", n, peak)
		peaks = append(peaks, peak)
	}
	first, last := peaks[0], peaks[len(peaks)-1]
	ratio := last / first
	return Figure{Name: fmt.Sprintf("server peak RSS, %d-user wave", sz.RSS[len(sz.RSS)-1]), Baseline: fmt.Sprintf("%d-user wave", sz.RSS[0]),
		Base: first, Value: last, Unit: "MB", Ratio: ratio, Goal: "< 200 MB and ≤ 1.5×", Met: last < 200 && ratio <= 1.5,
		Notes: "cutover serve (API and 50 workers; retries after 50 ms) importing, planning and moving the whole wave, on the simulated shell of cutover simulate (its usual failure mix, instant) in a process of its own; VmHWM from /proc"}, nil
}

// serveWave runs cutover serve as a process of its own, moves a wave of n
// users through it, and returns its peak resident memory in MB; phase
// names it in the progress.
func (b *bencher) serveWave(ctx context.Context, exe string, n int, phase string) (float64, error) {
	pool, url, done, err := b.fresh(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	b.p.startPhase("%s", phase)
	defer b.p.endPhase()
	_, token, err := store.New(pool).TokenCreate(ctx, "bench", auth.RoleLead, "cutover bench")
	if err != nil {
		return 0, err
	}
	if _, err := store.New(pool).SettingsSetMaxInFlight(ctx, 50, "bench"); err != nil {
		return 0, err
	}
	// The simulated tenant keeps a record of every user it has seen (27.5
	// MB of heap for 100,000): it runs in a process of its own, as a real
	// shell is elsewhere, so that only the server is measured.
	shell, stopShell, err := startSimulator(ctx, exe)
	if err != nil {
		return 0, err
	}
	defer stopShell()
	addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(20000))
	cmd := exec.CommandContext(ctx, exe, "serve", "--database-url", url, "--listen", addr, "--shell", shell,
		"--workers", "50", "--retry-base", "50ms", "--retry-max", "1s", "--log-level", "error")
	cmd.Stdout, cmd.Stderr = io.Discard, b.stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	srv := "http://" + addr
	if err := waitFor(ctx, 50*time.Millisecond, func() (bool, error) {
		res, err := http.Get(srv + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil, nil
	}); err != nil {
		return 0, err
	}
	waveID, err := importAndPlan(ctx, srv, token, n, 50)
	if err != nil {
		return 0, err
	}
	b.p.step("imported and planned")
	if err := waitFor(ctx, 200*time.Millisecond, func() (bool, error) {
		c, err := count(ctx, pool, `SELECT count(*) FROM waves WHERE id = $1 AND state = 'completed'`, waveID)
		if err == nil && c != 1 {
			err = b.movesDone(ctx, pool, waveID, n)
		}
		return c == 1, err
	}); err != nil {
		return 0, err
	}
	return peakRSS(cmd.Process.Pid)
}

// startSimulator runs "cutover simulate" (the shell alone, instant, with
// its usual failure mix) and returns the --shell that reaches it, and how to
// stop it.
func startSimulator(ctx context.Context, exe string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, exe, "simulate", "--listen", "127.0.0.1:0", "--graph-listen", "off", "--dns-listen", "off",
		"--sim-latency", "0", "--log-level", "error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	// "Simulated shell at http://ADDR: point workers at it with --shell sim+http://ADDR"
	line, err := bufio.NewReader(out).ReadString('\n')
	_, shell, found := strings.Cut(strings.TrimSpace(line), "--shell ")
	if err != nil || !found {
		stop()
		if err == nil {
			err = fmt.Errorf("it printed %q", line)
		}
		return "", nil, fmt.Errorf("cutover simulate did not say where it listens: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return shell, stop, nil
}

// peakRSS reads a process's peak resident memory (VmHWM), in MB.
func peakRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak memory needs /proc (Linux): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// live: twenty dashboards open on a running wave, following it by
// server-sent events, against the same twenty pages polling GET
// /api/v1/groups/{id} every 2 s as they did before: the statements a
// minute the database runs for them (the API's reads, and the NOTIFY
// statements that feed the events), and how long after a move's end each
// page shows it.
func (b *bencher) live(ctx context.Context, sz benchSizes) (Figure, error) {
	window := time.Duration(sz.LiveSeconds) * time.Second
	polled, err := b.dashboards(ctx, window, false)
	if err != nil {
		return Figure{}, err
	}
	streamed, err := b.dashboards(ctx, window, true)
	if err != nil {
		return Figure{}, err
	}
	ratio := streamed.perMinute / polled.perMinute
	return Figure{Name: fmt.Sprintf("%d dashboards on a running wave: queries/min", dashboardPages), Baseline: "polling GET /api/v1/groups/{id} every 2 s",
		Base: polled.perMinute, Value: streamed.perMinute, Unit: "/min", Ratio: ratio,
		Goal: "< 1×, each page ≤ 2 s after a move's end", Met: ratio < 1 && streamed.worst <= 2*time.Second,
		Notes: fmt.Sprintf("a wave of %d moves/s (%d users, cap %d, 200 ms moves) measured for %s; live: %d group reads shared by the %d pages and %d NOTIFY statements, "+
			"a move's end shown %s after it at worst (median %s); polling: %d group reads, shown %s after at worst (median %s). Counted: every statement of the API's pool "+
			"(a group read is 4, and the NOTIFYs run there too); the workers' own are the same on both sides",
			dashboardRate, dashboardUsers, dashboardCap, window, streamed.reads, dashboardPages, streamed.notifies, streamed.worst.Round(time.Millisecond), streamed.median.Round(time.Millisecond),
			polled.reads, polled.worst.Round(time.Millisecond), polled.median.Round(time.Millisecond))}, nil
}

// The dashboards benchmark's wave: busy (moves end at dashboardRate a
// second), the worst case for the live pages, which read once per batch of
// changes.
const (
	dashboardPages = 20
	dashboardUsers = 2000
	dashboardCap   = 10
	dashboardRate  = 50 // dashboardCap moves of 200 ms at once
)

// dashboardRun is what one side of the dashboards benchmark measured.
type dashboardRun struct {
	perMinute     float64
	reads         int64 // the group's reads (polls, or the feed's)
	notifies      int64
	worst, median time.Duration
}

// statementCounter counts the statements a pool sends, those of a batch
// each.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.n.Add(1)
}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// pageView is what a dashboard showed, and when.
type pageView struct {
	at   time.Time
	done int
}

// dashboards runs a wave with dashboardPages pages open on its group,
// streamed or polling, and counts the statements the API's pool runs for
// them over window (the workers have a pool of their own, not counted, the
// same on both sides).
func (b *bencher) dashboards(ctx context.Context, window time.Duration, streamed bool) (dashboardRun, error) {
	var run dashboardRun
	pool, url, done, err := b.fresh(ctx)
	if err != nil {
		return run, err
	}
	defer done()
	if streamed {
		b.p.startPhase("cutover: %d pages following server-sent events, a wave of %d users", dashboardPages, dashboardUsers)
	} else {
		b.p.startPhase("baseline: %d pages polling every 2 s, a wave of %d users", dashboardPages, dashboardUsers)
	}
	defer b.p.endPhase()
	if _, err := store.New(pool).SettingsSetMaxInFlight(ctx, dashboardCap, "bench"); err != nil {
		return run, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return run, err
	}
	statements := &statementCounter{}
	cfg.ConnConfig.Tracer = statements
	apiPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return run, err
	}
	defer apiPool.Close()

	var notifier *live.Notifier // none when polling: today's workers notify no one
	if streamed {
		// On the API's pool, so that its statements are counted.
		notifier = live.NewNotifier(apiPool, b.log)
		defer notifier.Close()
	}
	client, err := jobs.NewClient(pool, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: 200 * time.Millisecond}),
		jobs.Config{MoveWorkers: dashboardCap * 3 / 2, Control: true, PollInterval: 50 * time.Millisecond, ShellTimeout: time.Minute, Notifier: notifier}, b.log)
	if err != nil {
		return run, err
	}
	if err := client.Start(ctx); err != nil {
		return run, err
	}
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	server := api.NewServer(apiPool, app.New(apiPool, jobs.NewQueue(client)).WithNotifier(notifier), b.log, &api.Options{MaxBody: 64 << 20})
	var hub *live.Hub
	if streamed {
		hub = live.NewHub(apiPool, b.log)
		hubCtx, stopHub := context.WithCancel(ctx)
		defer stopHub()
		go hub.Run(hubCtx)
		server.ServeLive(hub)
		listening, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := hub.WaitListening(listening)
		cancel()
		if err != nil {
			return run, err
		}
	}
	srv := httptest.NewServer(server.Handler())
	defer srv.Close()
	defer server.CloseLive() // before the server closes: the streams end
	_, token, err := store.New(pool).TokenCreate(ctx, "bench", auth.RoleLead, "cutover bench")
	if err != nil {
		return run, err
	}
	var g struct{ ID int64 }
	if err := call(ctx, srv.URL, token, "POST", "/api/v1/groups?name=dashboards", "text/csv", benchCSV(dashboardUsers, "d"), &g); err != nil {
		return run, err
	}

	// The pages open before the wave starts, as a lead's would.
	pagesCtx, closePages := context.WithCancel(ctx)
	defer closePages()
	var wg sync.WaitGroup
	views := make([][]pageView, dashboardPages)
	var reads atomic.Int64
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: dashboardPages}}
	opened := make(chan error, dashboardPages)
	for i := range dashboardPages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			see := func(data []byte) {
				var v struct {
					Progress struct{ Done int } `json:"progress"`
				}
				if json.Unmarshal(data, &v) == nil {
					views[i] = append(views[i], pageView{at: time.Now(), done: v.Progress.Done})
				}
			}
			if streamed {
				streamPage(pagesCtx, hc, srv.URL+fmt.Sprintf("/api/v1/groups/%d/live", g.ID), token, see, opened)
				return
			}
			opened <- nil
			pollPage(pagesCtx, hc, srv.URL+fmt.Sprintf("/api/v1/groups/%d", g.ID), token, time.Duration(i)*100*time.Millisecond, see, &reads)
		}()
	}
	for range dashboardPages {
		if err := <-opened; err != nil {
			return run, err
		}
	}
	body := fmt.Sprintf(`{"waves": [{"size": %d, "start_at": "now", "concurrency": %d, "max_attempts": 1}]}`, dashboardUsers, dashboardCap)
	var planned struct{ Waves []struct{ ID int64 } }
	if err := call(ctx, srv.URL, token, "POST", fmt.Sprintf("/api/v1/groups/%d/plan", g.ID), "application/json", []byte(body), &planned); err != nil {
		return run, err
	}
	// Measured once the wave runs at its pace.
	select {
	case <-ctx.Done():
		return run, ctx.Err()
	case <-time.After(3 * time.Second):
	}
	start, statementsBefore, readsBefore, sentBefore := time.Now(), statements.n.Load(), reads.Load()+server.LiveReads(), notifier.Sent()
	stopTick := b.p.tick(window)
	select {
	case <-ctx.Done():
		stopTick()
		return run, ctx.Err()
	case <-time.After(window):
	}
	stopTick()
	end := time.Now()
	run.perMinute = float64(statements.n.Load()-statementsBefore) / end.Sub(start).Minutes()
	run.reads = reads.Load() + server.LiveReads() - readsBefore
	run.notifies = notifier.Sent() - sentBefore
	closePages()
	wg.Wait()

	// How long after each move's end (in the window, and early enough for
	// a poll to have come) each page showed it done.
	rows, err := pool.Query(ctx, `SELECT finished_at FROM moves WHERE wave_id = $1 AND finished_at IS NOT NULL ORDER BY finished_at`, planned.Waves[0].ID)
	if err != nil {
		return run, err
	}
	ends, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return run, err
	}
	var delays []time.Duration
	for k, at := range ends {
		if at.Before(start) || at.After(end.Add(-3*time.Second)) {
			continue
		}
		for _, page := range views {
			i := slices.IndexFunc(page, func(v pageView) bool { return v.done >= k+1 })
			if i < 0 {
				return run, fmt.Errorf("a page never showed the end of move %d of %d", k+1, len(ends))
			}
			delays = append(delays, page[i].at.Sub(at))
		}
	}
	if len(delays) == 0 {
		return run, fmt.Errorf("no move ended while the pages were measured")
	}
	slices.Sort(delays)
	run.worst, run.median = delays[len(delays)-1], percentile(delays, 0.50)
	return run, nil
}

// streamPage follows a live route as a page does, handing each event's
// data to see until ctx ends. It says on opened when the first event came
// (or why none did).
func streamPage(ctx context.Context, hc *http.Client, url, token string, see func([]byte), opened chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		opened <- err
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		opened <- fmt.Errorf("GET %s: %s", url, res.Status)
		return
	}
	first := true
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && name == "group":
			see([]byte(strings.TrimPrefix(line, "data: ")))
			if first {
				opened <- nil
				first = false
			}
		case line == "":
			name = ""
		}
	}
	if first {
		opened <- fmt.Errorf("GET %s: the stream ended before its first event", url)
	}
}

// pollPage reads a group as a page did before the streams: every 2 s after
// the last answer, from after.
func pollPage(ctx context.Context, hc *http.Client, url, token string, after time.Duration, see func([]byte), reads *atomic.Int64) {
	wait := after
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = 2 * time.Second
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := hc.Do(req)
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			reads.Add(1)
			see(data)
		}
	}
}
