package migration_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// Short names for the states, to keep the tables readable.
const (
	pending        = migration.MoveStatePending
	queued         = migration.MoveStateQueued
	preflight      = migration.MoveStatePreflight
	moving         = migration.MoveStateMoving
	verifying      = migration.MoveStateVerifying
	retrying       = migration.MoveStateRetrying
	moved          = migration.MoveStateMoved
	skipped        = migration.MoveStateSkipped
	failed         = migration.MoveStateFailed
	cancelled      = migration.MoveStateCancelled
	rollingBack    = migration.MoveStateRollingBack
	rolledBack     = migration.MoveStateRolledBack
	rollbackFailed = migration.MoveStateRollbackFailed
)

// legalMoves is the move state machine of the design, written out by hand:
// from → the states it may go to. Nothing else is legal.
var legalMoves = map[migration.MoveState][]migration.MoveState{
	pending:        {queued, cancelled},
	queued:         {preflight, cancelled},
	retrying:       {preflight, cancelled},
	preflight:      {moving, skipped, failed, retrying, verifying},
	moving:         {verifying, failed, retrying, preflight},
	verifying:      {moved, failed, retrying, preflight},
	failed:         {queued},
	cancelled:      {queued, pending},
	moved:          {rollingBack},
	rollingBack:    {rolledBack, rollbackFailed},
	rollbackFailed: {rollingBack},
}

func legal(from, to migration.MoveState) bool {
	for _, s := range legalMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

func TestMoveStates(t *testing.T) {
	t.Parallel()
	require.Equal(t, []migration.MoveState{
		pending, queued, preflight, moving, verifying, retrying, moved, skipped, failed, cancelled,
		rollingBack, rolledBack, rollbackFailed,
	}, migration.MoveStates)
}

func TestCanMoveTo(t *testing.T) {
	t.Parallel()
	// Every pair, and some that are not states at all.
	states := append([]migration.MoveState{"", "bogus", "Pending"}, migration.MoveStates...)
	for _, from := range states {
		for _, to := range states {
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				t.Parallel()
				require.Equal(t, legal(from, to), from.CanMoveTo(to))
			})
		}
	}
}

func TestCanMoveToCount(t *testing.T) {
	t.Parallel()
	n := 0
	for _, from := range migration.MoveStates {
		for _, to := range migration.MoveStates {
			if from.CanMoveTo(to) {
				n++
			}
		}
	}
	require.Equal(t, 26, n, "the design has 26 legal changes")
}

func TestMoveStatesTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		to   migration.MoveState
		want []migration.MoveState
	}{
		{pending, []migration.MoveState{cancelled}},
		{queued, []migration.MoveState{pending, failed, cancelled}},
		{preflight, []migration.MoveState{queued, moving, verifying, retrying}},
		{moving, []migration.MoveState{preflight}},
		{verifying, []migration.MoveState{preflight, moving}},
		{retrying, []migration.MoveState{preflight, moving, verifying}},
		{moved, []migration.MoveState{verifying}},
		{skipped, []migration.MoveState{preflight}},
		{failed, []migration.MoveState{preflight, moving, verifying}},
		{cancelled, []migration.MoveState{pending, queued, retrying}},
		{rollingBack, []migration.MoveState{moved, rollbackFailed}},
		{rolledBack, []migration.MoveState{rollingBack}},
		{rollbackFailed, []migration.MoveState{rollingBack}},
	}
	require.Len(t, tests, len(migration.MoveStates))
	for _, tt := range tests {
		t.Run(string(tt.to), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, migration.MoveStatesTo(tt.to))
		})
	}
}

func TestMoveStatePredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state                         migration.MoveState
		valid, active, done, inFlight bool
	}{
		{state: pending, valid: true, active: true},
		{state: queued, valid: true, active: true},
		{state: preflight, valid: true, active: true, inFlight: true},
		{state: moving, valid: true, active: true, inFlight: true},
		{state: verifying, valid: true, active: true, inFlight: true},
		{state: retrying, valid: true, active: true},
		{state: moved, valid: true, done: true},
		{state: skipped, valid: true, done: true},
		{state: failed, valid: true, done: true},
		{state: cancelled, valid: true, done: true},
		{state: rollingBack, valid: true, active: true},
		{state: rolledBack, valid: true, done: true},
		{state: rollbackFailed, valid: true, done: true},
		{state: ""},
		{state: "bogus"},
		{state: "MOVED"},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.valid, tt.state.Valid(), "Valid")
			require.Equal(t, tt.active, tt.state.Active(), "Active")
			require.Equal(t, tt.done, tt.state.Done(), "Done")
			require.Equal(t, tt.inFlight, tt.state.InFlight(), "InFlight")
		})
	}
}

func TestMoveStateDoneIsTerminalForItsWave(t *testing.T) {
	t.Parallel()
	// A state a move leaves only by a lead's retry or a rollback is done;
	// every state a worker moves on from by itself is active.
	for _, s := range migration.MoveStates {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			require.NotEqual(t, s.Active(), s.Done())
			if s.Done() {
				for _, to := range migration.MoveStatesTo(s) {
					require.True(t, to.Active(), "%s reaches done state %s", to, s)
				}
			}
		})
	}
}

func TestWaveStateDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state migration.WaveState
		done  bool
	}{
		{migration.WaveStateScheduled, false},
		{migration.WaveStateRunning, false},
		{migration.WaveStateCompleted, true},
		{migration.WaveStateCancelled, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.done, tt.state.Done())
		})
	}
}

func TestNewProgress(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 22, 30, 0, 0, time.UTC)
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name                  string
		counts                map[migration.MoveState]int
		startedAt, finishedAt *time.Time
		want                  migration.Progress
	}{
		{
			name:   "nothing",
			counts: nil,
			want:   migration.Progress{Counts: map[migration.MoveState]int{}},
		},
		{
			name:   "not started",
			counts: map[migration.MoveState]int{pending: 40},
			want:   migration.Progress{Total: 40, Counts: map[migration.MoveState]int{pending: 40}},
		},
		{
			name:      "half way: finish from throughput",
			counts:    map[migration.MoveState]int{moved: 4, failed: 1, moving: 2, preflight: 1, verifying: 1, queued: 1, pending: 0},
			startedAt: ptr(now.Add(-10 * time.Minute)),
			want: migration.Progress{
				Total:           10,
				Counts:          map[migration.MoveState]int{moved: 4, failed: 1, moving: 2, preflight: 1, verifying: 1, queued: 1},
				Done:            5,
				InFlight:        4,
				Percent:         50,
				FailureRate:     20,
				EstimatedFinish: ptr(now.Add(10 * time.Minute)),
			},
		},
		{
			name:      "a third done, rounded to a tenth",
			counts:    map[migration.MoveState]int{moved: 1, skipped: 1, cancelled: 1, retrying: 6},
			startedAt: ptr(now.Add(-90 * time.Second)),
			want: migration.Progress{
				Total:           9,
				Counts:          map[migration.MoveState]int{moved: 1, skipped: 1, cancelled: 1, retrying: 6},
				Done:            3,
				Percent:         33.3,
				FailureRate:     0,
				EstimatedFinish: ptr(now.Add(3 * time.Minute)),
			},
		},
		{
			name:      "two thirds failed, rounded up",
			counts:    map[migration.MoveState]int{failed: 2, moved: 1, pending: 3},
			startedAt: ptr(now.Add(-time.Hour)),
			want: migration.Progress{
				Total:           6,
				Counts:          map[migration.MoveState]int{failed: 2, moved: 1, pending: 3},
				Done:            3,
				Percent:         50,
				FailureRate:     66.7,
				EstimatedFinish: ptr(now.Add(time.Hour)),
			},
		},
		{
			name:      "estimate truncated to the second",
			counts:    map[migration.MoveState]int{moved: 3, pending: 1},
			startedAt: ptr(now.Add(-11 * time.Second)),
			want: migration.Progress{
				Total:           4,
				Counts:          map[migration.MoveState]int{moved: 3, pending: 1},
				Done:            3,
				Percent:         75,
				EstimatedFinish: ptr(now.Add(3 * time.Second)), // 3.667s, truncated
			},
		},
		{
			name:      "started, nothing done yet: no estimate",
			counts:    map[migration.MoveState]int{moving: 2, queued: 3},
			startedAt: ptr(now.Add(-time.Minute)),
			want: migration.Progress{
				Total:    5,
				Counts:   map[migration.MoveState]int{moving: 2, queued: 3},
				InFlight: 2,
			},
		},
		{
			name:      "all done, not marked finished: no estimate",
			counts:    map[migration.MoveState]int{moved: 5},
			startedAt: ptr(now.Add(-time.Minute)),
			want:      migration.Progress{Total: 5, Counts: map[migration.MoveState]int{moved: 5}, Done: 5, Percent: 100},
		},
		{
			name:       "finished: the finish time is the estimate",
			counts:     map[migration.MoveState]int{moved: 8, failed: 2},
			startedAt:  ptr(now.Add(-time.Hour)),
			finishedAt: ptr(now.Add(-time.Minute)),
			want: migration.Progress{
				Total: 10, Counts: map[migration.MoveState]int{moved: 8, failed: 2}, Done: 10, Percent: 100, FailureRate: 20,
				EstimatedFinish: ptr(now.Add(-time.Minute)),
			},
		},
		{
			name:       "finished wins over throughput",
			counts:     map[migration.MoveState]int{moved: 1, pending: 1},
			startedAt:  ptr(now.Add(-time.Hour)),
			finishedAt: ptr(now.Add(-2 * time.Minute)),
			want: migration.Progress{
				Total: 2, Counts: map[migration.MoveState]int{moved: 1, pending: 1}, Done: 1, Percent: 50,
				EstimatedFinish: ptr(now.Add(-2 * time.Minute)),
			},
		},
		{
			name:   "rollbacks",
			counts: map[migration.MoveState]int{rollingBack: 1, rolledBack: 2, rollbackFailed: 1},
			want: migration.Progress{
				Total: 4, Counts: map[migration.MoveState]int{rollingBack: 1, rolledBack: 2, rollbackFailed: 1}, Done: 3, Percent: 75,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := migration.NewProgress(tt.counts, tt.startedAt, tt.finishedAt, now)
			if tt.want.EstimatedFinish == nil {
				require.Nil(t, got.EstimatedFinish)
			} else {
				require.NotNil(t, got.EstimatedFinish)
				require.True(t, tt.want.EstimatedFinish.Equal(*got.EstimatedFinish), "estimated finish %s, want %s", got.EstimatedFinish, tt.want.EstimatedFinish)
			}
			got.EstimatedFinish, tt.want.EstimatedFinish = nil, nil
			require.Equal(t, migration.TallyOf(tt.counts), got.Outcomes, "each user counted once, by outcome")
			require.Equal(t, got.Outcomes.Users(), got.Total)
			require.Equal(t, got.Outcomes.Finished(), got.Done, "done is what no wave moves any more, whatever the outcome")
			require.Equal(t, got.Outcomes.Headline(), got.Says)
			got.Outcomes, got.Says = nil, ""
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFailureFor(t *testing.T) {
	t.Parallel()
	for _, f := range migration.Catalogue {
		t.Run(string(f.Code), func(t *testing.T) {
			t.Parallel()
			got := migration.FailureFor(f.Code)
			require.Equal(t, f.Code, got.Code)
			require.Equal(t, f.Transient, got.Transient)
		})
	}
	t.Run("unknown code", func(t *testing.T) {
		t.Parallel()
		got := migration.FailureFor("no_such_code")
		require.Equal(t, migration.CodeUnknown, got.Code)
		require.False(t, got.Transient)
	})
}

// TestWhatUsersAreTold: the helpdesk says what Microsoft says now of a move
// and of a move back (Move-CsUser.md).
func TestWhatUsersAreTold(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		state migration.MoveState
		want  []string
	}{
		{migration.MoveStateMoved, []string{"become Teams meetings", "sign in to Teams within 30 days"}},
		{migration.MoveStateRollingBack, []string{"brings no contacts from Teams", "10 November 2023"}},
		{migration.MoveStateRolledBack, []string{"brings no contacts from Teams", "Meeting Migration Service does not run for a move back"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			t.Parallel()
			e := migration.Explain(migration.Move{State: tt.state, FinishedAt: &now}, now)
			for _, w := range tt.want {
				require.Contains(t, e.Expect, w)
			}
			require.NotContains(t, e.Expect, "were moved with them")
		})
	}
}

// TestOverloadWindow: a wave's limit reads the share of the latest attempt
// ends that were overloaded, not one user's time-out.
func TestOverloadWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	type end struct {
		ago      time.Duration
		overload bool
	}
	many := func(n int, overload bool) []end {
		out := make([]end, n)
		for i := range out {
			out[i] = end{time.Duration(n-i) * time.Second, overload}
		}
		return out
	}
	tests := []struct {
		name string
		ends []end
		want bool
	}{
		{"nothing", nil, false},
		{"one user's time-out", append(many(19, false), end{0, true}), false},
		{"a handful among many", append(append(many(10, false), end{3 * time.Second, true}, end{2 * time.Second, true}), append(many(5, false), end{0, true})...), false},
		{"every call in flight timed out", many(4, true), true},
		{"three time-outs among the first ends of a wave", append(many(3, false), many(3, true)...), false},
		{"a quarter of the latest is not enough", append(many(12, false), many(4, true)...), false},
		{"over a third of the latest", append(many(12, false), many(7, true)...), true},
		{"old time-outs no longer count", append([]end{{3 * time.Minute, true}, {3 * time.Minute, true}, {3 * time.Minute, true}}, end{0, false}), false},
		{"the latest only: old ends pushed out", append(many(5, true), many(20, false)...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var w migration.OverloadWindow
			for _, e := range tt.ends {
				w.Add(now.Add(-e.ago), e.overload)
			}
			require.Equal(t, tt.want, w.Struggling(now))
		})
	}
}

// TestOverloadWindowReset: once the limit has fallen on a window's ends,
// they are forgotten, and only new ones can lower it again.
func TestOverloadWindowReset(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var w migration.OverloadWindow
	for range 5 {
		w.Add(now, true)
	}
	require.True(t, w.Struggling(now))
	w.Reset()
	require.False(t, w.Struggling(now), "forgotten")
	w.Add(now, true)
	require.False(t, w.Struggling(now), "one more time-out is not a trend")
}
