package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

var (
	sqlScaleWorkersReady     = statement("scale_workers_ready")
	sqlScaleByProcess        = statement("scale_by_process")
	sqlScaleBackends         = statement("scale_backends")
	sqlScaleMovesUnfinalized = statement("scale_moves_unfinalized")
)

// scale: one wave worked by several "cutover serve --role workers"
// processes, as when a deployment outgrows one worker host, sharing the
// deployment's cap through Postgres; timed against N·L/C, with the move
// calls in flight across every process against the cap.
func (b *bencher) scale(ctx context.Context, sz Sizes) (Figure, error) {
	const latency = 200 * time.Millisecond
	n, capacity, procs := sz.ScaleWave, sz.ScaleCap, sz.ScaleProcesses
	if n < 1 || capacity < 1 || procs < 1 {
		return Figure{}, fmt.Errorf("want a wave, a cap and processes of at least 1 (got %d, %d, %d)", n, capacity, procs)
	}
	// The wave's own concurrency is the cap, unless a plan may not ask
	// for that much: then the cap alone bounds it.
	concurrency, clamped := capacity, ""
	if concurrency > migration.MaxConcurrency {
		concurrency = migration.MaxConcurrency
		clamped = fmt.Sprintf(" (the wave's concurrency %d, the most a plan takes: the cap alone bounds it)", concurrency)
	}
	// As the wave row: half as many workers again as slots, so that a slot
	// freed in a process finds a move of that process waiting for it.
	workers := (capacity*3/2 + procs - 1) / procs
	exe, err := os.Executable()
	if err != nil {
		return Figure{}, err
	}
	pool, url, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	defer done()
	if _, err := store.New(pool).SettingsSetMaxInFlight(ctx, capacity, "bench"); err != nil {
		return Figure{}, err
	}

	b.p.startPhase("setup: the simulated shell over HTTP, %d cutover serve --role workers processes of %d workers", procs, workers)
	// The simulated on-premises shell, as the wave row's (clean moves of
	// 200 ms, reads instant), served over HTTP from this process: every
	// worker process calls it, so it counts their move calls together.
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: latency})
	shellSrv := newShellServer(shell)
	defer shellSrv.Close()
	// The API, in this process, only inserts: the wave's start and its
	// moves are the worker processes' work.
	srv, client, token, err := b.benchAPI(ctx, pool, nil, jobs.Config{})
	if err != nil {
		return Figure{}, err
	}
	defer srv.Close()
	_ = client // insert only: never started
	ws, err := b.startWorkers(ctx, exe, procs, "--database-url", url, "--role", "workers", "--shell", "sim+"+shellSrv.URL,
		"--workers", fmt.Sprint(workers), "--graph", "off", "--log-level", "error")
	if err != nil {
		return Figure{}, err
	}
	defer ws.stop()
	// Every process is up, its host checked and ready, before the wave is
	// planned.
	rctx, cancelReady := context.WithTimeout(ctx, time.Minute)
	defer cancelReady()
	ready := 0
	if err := waitFor(rctx, 50*time.Millisecond, func() (bool, error) {
		if err := ws.exited(); err != nil {
			return false, err
		}
		var err error
		ready, err = count(rctx, pool, sqlScaleWorkersReady)
		return ready == procs, err
	}); err != nil {
		return Figure{}, fmt.Errorf("%d of the %d worker processes alive with a ready host: %w", ready, procs, err)
	}

	b.p.startPhase("cutover: a wave of %d users, 200 ms moves, cap %d, %d worker processes", n, capacity, procs)
	waveID, err := importAndPlan(ctx, srv.URL, token, n, concurrency)
	if err != nil {
		return Figure{}, err
	}
	b.p.step("imported and planned")
	backends, err := backendPIDs(ctx, pool)
	if err != nil {
		return Figure{}, err
	}
	cpuStart := readCPU(slices.Concat(ws.pids(), backends, []int{os.Getpid()})...)
	var took time.Duration
	if err := waitFor(ctx, 20*time.Millisecond, func() (bool, error) {
		if err := ws.exited(); err != nil {
			return false, err
		}
		var finished bool
		err := pool.QueryRow(ctx, sqlWaveFinished, waveID).Scan(&finished, &took)
		if err == nil && !finished {
			err = b.movesDone(ctx, pool, waveID, n)
		}
		return finished, err
	}); err != nil {
		return Figure{}, err
	}
	st := shell.Stats()
	more, err := backendPIDs(ctx, pool)
	if err != nil {
		return Figure{}, err
	}
	backends = union(backends, more)
	cpuEnd := readCPU(slices.Concat(ws.pids(), backends, []int{os.Getpid()})...)
	cpu := cpuNote(cpuStart, cpuEnd, n, float64(capacity)/latency.Seconds(), ws.pids(), backends)
	// River's completer writes a job's end a moment after the move's own:
	// the moves by process are read once it has written them all.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitFor(fctx, 20*time.Millisecond, func() (bool, error) {
		c, err := count(fctx, pool, sqlScaleMovesUnfinalized, jobs.MoveArgs{}.Kind())
		return c == 0, err
	}); err != nil {
		return Figure{}, fmt.Errorf("the moves' River jobs: %w", err)
	}
	per, err := movesByProcess(ctx, pool)
	if err != nil {
		return Figure{}, err
	}

	ideal := time.Duration(n) * latency / time.Duration(capacity)
	ratio := took.Seconds() / ideal.Seconds()
	return Figure{Name: fmt.Sprintf("scale-out wave of %d users, 200 ms moves, cap %d, %d worker processes", n, capacity, procs),
		Baseline: "ideal N·L/C", Base: ideal.Seconds(), Value: took.Seconds(), Unit: "s", Ratio: ratio, Goal: "≤ 1.10×", Met: ratio <= 1.10,
		Notes: fmt.Sprintf("%d cutover serve --role workers processes of %d workers each (this binary), sharing the cap of %d in Postgres%s; "+
			"the simulated shell (Move-CsUser 200 ms on average, 100 to 300 ms; reads instant) served over HTTP by the bench, which counts every process's calls: "+
			"move calls in flight %.1f on average of the cap's %d (%.2f×; integrated over time from the first move call to the start of the last), at most %d; %d move calls. "+
			"%s. %s",
			procs, workers, capacity, clamped, st.MeanInFlight, capacity, st.MeanInFlight/float64(capacity), st.MaxInFlight, st.Calls.MoveOnline,
			per.String(n), cpu)}, nil
}

// backendPIDs are the process IDs of the Postgres backends connected to
// pool's database.
func backendPIDs(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	rows, _ := pool.Query(ctx, sqlScaleBackends)
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

func union(a, b []int) []int {
	return slices.Compact(slices.Sorted(slices.Values(slices.Concat(a, b))))
}

// cpuNote says what CPU the wave of n moves took, from start to end: the
// worker processes', the Postgres backends' and this process's (the
// simulated shell and the API) a move, what they would take at rate moves
// a second, and how busy the machine was.
func cpuNote(start, end cpuReading, n int, rate float64, workers, backends []int) string {
	if !start.ok || !end.ok || len(end.byPID) == 0 {
		return "CPU not measured (it is read from Linux's /proc)"
	}
	perMove := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	w, pg, self := end.since(start, workers...), end.since(start, backends...), end.since(start, os.Getpid())
	all := w + pg + self
	need := all.Seconds() / float64(n) * rate
	busy := float64(end.busy-start.busy) / float64(end.total-start.total)
	// However well the cap is shared, the wave takes at least its CPU
	// time spread over every CPU of the machine.
	bound := all.Seconds() / float64(runtime.NumCPU())
	return fmt.Sprintf("CPU during the wave (/proc): %.2f ms a move in the worker processes, %.2f ms in Postgres's backends, %.2f ms in the bench's own process (the shell over HTTP, the API); "+
		"at the ideal's %.0f moves a second that is %.1f CPUs, of the machine's %d: the wave's CPU over all of them is %.2f s, %.2f× N·L/C. The machine's CPUs were %.0f%% busy during the wave (every process on it, the bench's and any other's)",
		perMove(w), perMove(pg), perMove(self), rate, need, runtime.NumCPU(), bound, bound/(float64(n)/rate), 100*busy)
}

// newShellServer serves shell over HTTP on a loopback port, as "cutover
// simulate" does, for the worker processes' "--shell sim+http://…".
func newShellServer(shell *sim.Shell) *httptest.Server {
	srv := httptest.NewUnstartedServer(shell.Handler())
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	return srv
}

// processMoves are the moves one worker process ended, and how long they
// took from the start of its first to the end of its last.
type processMoves struct {
	ID    string
	Moves int
	Took  time.Duration
}

type byProcess []processMoves

// movesByProcess reads, from River's jobs, the moves each process ended.
func movesByProcess(ctx context.Context, pool *pgxpool.Pool) (byProcess, error) {
	rows, _ := pool.Query(ctx, sqlScaleByProcess, jobs.MoveArgs{}.Kind())
	return pgx.CollectRows(rows, pgx.RowToStructByPos[processMoves])
}

// String says how the n moves fell to the processes, and how long the
// slowest process's moves took.
func (ps byProcess) String(n int) string {
	if len(ps) == 0 {
		return "No process's moves found in River's jobs"
	}
	counts := make([]string, len(ps))
	total := 0
	for i, p := range ps {
		counts[i] = fmt.Sprintf("%s %d", p.ID, p.Moves)
		total += p.Moves
	}
	slowest := slices.MaxFunc(ps, func(a, b processMoves) int { return cmp.Compare(a.Took, b.Took) })
	s := fmt.Sprintf("Moves ended by each worker ID: %s (of %d); the slowest process's, from its first move's start to its last one's end, %.2f s",
		strings.Join(counts, ", "), n, slowest.Took.Seconds())
	if total != n {
		s += fmt.Sprintf(" (%d of the wave's moves ended by none: River's jobs do not say)", n-total)
	}
	return s
}

// workerProcs are the worker processes a benchmark runs.
type workerProcs struct {
	procs []*workerProc
}

type workerProc struct {
	cmd    *exec.Cmd
	stderr *tail
	done   chan struct{} // closed once the process has exited
	err    error         // its exit, once done
}

// startWorkers runs n processes of exe with args ("serve --role workers"
// and its flags), each with a worker ID of its own (the host name and its
// process ID, serve's default). They stop with ws.stop, when ctx is done
// (interrupted first, then killed), and, on Linux, when this process dies.
func (b *bencher) startWorkers(ctx context.Context, exe string, n int, args ...string) (*workerProcs, error) {
	ws := &workerProcs{}
	env := childEnv()
	for range n {
		cmd := exec.CommandContext(ctx, exe, append([]string{"serve"}, args...)...)
		// Interrupted as Ctrl-C would: serve stops its workers and ends.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 15 * time.Second // then killed
		cmd.Env = env
		p := &workerProc{cmd: cmd, stderr: &tail{max: 4096}, done: make(chan struct{})}
		cmd.Stderr = &teeWriter{a: b.stderr, b: p.stderr}
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			ws.stop()
			return nil, err
		}
		go func() { p.err = cmd.Wait(); close(p.done) }()
		ws.procs = append(ws.procs, p)
	}
	return ws, nil
}

// pids are the worker processes' IDs.
func (ws *workerProcs) pids() []int {
	pids := make([]int, len(ws.procs))
	for i, p := range ws.procs {
		pids[i] = p.cmd.Process.Pid
	}
	return pids
}

// childEnv is this process's environment without cutover's settings, so
// that the worker processes run with the flags they are given and serve's
// defaults, whatever the shell that runs the bench has set.
func childEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "CUTOVER_") || strings.HasPrefix(kv, "DATABASE_URL=")
	})
}

// exited returns an error if a worker process has ended before it was
// stopped.
func (ws *workerProcs) exited() error {
	for _, p := range ws.procs {
		select {
		case <-p.done:
			return fmt.Errorf("worker process %d ended early (%s): %s", p.cmd.Process.Pid, p.cmd.ProcessState, strings.TrimSpace(p.stderr.String()))
		default:
		}
	}
	return nil
}

// stop interrupts every worker process and waits for them to end (killed
// if one takes longer than its WaitDelay).
func (ws *workerProcs) stop() {
	for _, p := range ws.procs {
		_ = p.cmd.Process.Signal(os.Interrupt)
	}
	for _, p := range ws.procs {
		select {
		case <-p.done:
		case <-time.After(p.cmd.WaitDelay):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// teeWriter writes to both a and b, whatever a says.
type teeWriter struct {
	a, b io.Writer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	_, _ = w.a.Write(p)
	return w.b.Write(p)
}
