package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// clock is a clock the test sets.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// clockedShell notes on the test's clock when each call was made.
type clockedShell struct {
	migration.Shell
	clock *clock
	mu    sync.Mutex
	calls []time.Time
}

func (s *clockedShell) note() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, s.clock.Now())
}

func (s *clockedShell) GetUser(ctx context.Context, id string) (migration.ShellUser, error) {
	s.note()
	return s.Shell.GetUser(ctx, id)
}

func (s *clockedShell) MoveOnline(ctx context.Context, id string, opts migration.MoveOnlineOptions) error {
	s.note()
	return s.Shell.MoveOnline(ctx, id, opts)
}

func (s *clockedShell) Calls() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls...)
}

// TestMaintenanceWindow: a wave scheduled at 21:00 with a window opening at
// 22:00 starts its first move at 22:00; when the window closes, moves wait
// for the next one. The clock is the test's: nothing sleeps for an hour.
func TestMaintenanceWindow(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	// A Monday, in the past, so that River runs the start job at once.
	monday := func(h, m, s int) time.Time { return time.Date(2025, 11, 24, h, m, s, 0, london) }
	clk := &clock{now: monday(21, 0, 0)}
	shell := &clockedShell{Shell: sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond}), clock: clk}
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell, func(c *jobs.Config) {
		c.Now = clk.Now
		c.WindowRecheck = 20 * time.Millisecond
	})
	scheduler := app.New(pool, jobs.NewQueue(client))
	q := store.New(pool)
	ctx := context.Background()

	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "window", Source: "json", Members: members(30, "window.example")})
	require.NoError(t, err)
	waves, err := scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: monday(21, 0, 0), MaxAttempts: 1, Concurrency: 1,
			Controls: migration.Controls{Windows: []string{"mon-fri 22:00-05:00"}, TimeZone: "Europe/London"}}}, unplanned, next)
	})
	require.NoError(t, err)
	id := waves[0].ID

	waitWave := func(what string, done func(migration.Wave) bool) migration.Wave {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			w, err := q.WaveGet(ctx, id)
			require.NoError(t, err)
			if done(w) {
				return w
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, w)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// 21:00: the wave waits for its window, and says until when.
	w := waitWave("the wait for the window", func(w migration.Wave) bool { return w.StateReason != "" })
	require.Equal(t, migration.WaveStateScheduled, w.State)
	require.Contains(t, w.StateReason, "opens Mon 24 Nov 2025 22:00 GMT")
	clk.Set(monday(21, 59, 59))
	time.Sleep(150 * time.Millisecond) // several looks at the clock
	require.Empty(t, shell.Calls(), "no move before the window opens")

	// 22:00: the first move starts.
	clk.Set(monday(22, 0, 0))
	waitWave("moves", func(w migration.Wave) bool { return w.State == migration.WaveStateRunning && len(shell.Calls()) >= 6 })
	require.Equal(t, monday(22, 0, 0), shell.Calls()[0], "the first call comes at the opening")

	// 05:00 on Tuesday: the window closes; the moves in flight end, no
	// other starts. A move that looked at the clock just before it closed
	// and was starting as it did counts as in flight: the test waits until
	// none is in flight twice, 200 ms apart, with no call between.
	clk.Set(monday(29, 0, 0))
	var settled, calls int
	idle := func() bool {
		tallies, err := q.WaveTallies(ctx, []int64{id})
		require.NoError(t, err)
		c := tallies[id].Counts
		settled = c[migration.MoveStateMoved]
		return c[migration.MoveStatePreflight]+c[migration.MoveStateMoving]+c[migration.MoveStateVerifying] == 0
	}
	require.Eventually(t, func() bool {
		if !idle() {
			return false
		}
		calls = len(shell.Calls())
		time.Sleep(200 * time.Millisecond)
		return idle() && len(shell.Calls()) == calls
	}, 10*time.Second, 10*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	require.Equal(t, calls, len(shell.Calls()), "no move outside the window")
	require.Less(t, settled, 30)

	// 22:00 on Tuesday: the rest move.
	clk.Set(monday(46, 0, 0))
	done := waitWave("completion", func(w migration.Wave) bool { return w.State == migration.WaveStateCompleted })
	tallies, err := q.WaveTallies(ctx, []int64{done.ID})
	require.NoError(t, err)
	require.Equal(t, 30, tallies[done.ID].Counts[migration.MoveStateMoved])
	for _, at := range shell.Calls()[calls:] {
		require.False(t, at.Before(monday(46, 0, 0)), "a call at %s, outside the window", at)
	}
	events, err := q.WaveEvents(ctx, id)
	require.NoError(t, err)
	require.Equal(t, migration.WaveEventWaiting, events[0].Kind)
	require.Equal(t, migration.WaveEventStarted, events[1].Kind)
}
