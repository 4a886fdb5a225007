package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// wave: the wall-clock of a wave whose moves take 200 ms, against N·L/C.
func (b *bencher) wave(ctx context.Context, sz Sizes) (Figure, error) {
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

var (
	sqlWaveFinished     = statement("wave_finished")
	sqlWaveLimitLowered = statement("wave_limit_lowered")
)

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
		err := pool.QueryRow(ctx, sqlWaveFinished, waveID).Scan(&finished, &took)
		if err == nil && !finished {
			err = b.movesDone(ctx, pool, waveID, n)
		}
		return finished, err
	})
	if err != nil {
		return waveRun{}, err
	}
	lowered, err := count(ctx, pool, sqlWaveLimitLowered, waveID, migration.WaveEventLimitLowered)
	if err != nil {
		return waveRun{}, err
	}
	st := shell.Stats()
	return waveRun{took: took, perSecond: float64(n) / took.Seconds(), meanInFlight: st.MeanInFlight, outside: &held,
		moveCalls: st.Calls.MoveOnline, lowered: lowered}, nil
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
