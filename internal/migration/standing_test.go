package migration_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// move makes a move of group g ending in state at minute min.
func standingMove(id int64, g string, s migration.MoveState, min int) migration.Move {
	t := time.Date(2026, 12, 7, 9, min, 0, 0, time.UTC)
	m := migration.Move{ID: id, State: s, GroupName: g, WaveName: "wave 1", UpdatedAt: t}
	if s.Done() {
		m.FinishedAt = &t
	}
	if s == migration.MoveStateFailed {
		m.ErrorCode = migration.CodeLicenceMissing
	}
	return m
}

func TestStandingOf(t *testing.T) {
	t.Parallel()
	const (
		moved, skipped, failed, cancelled   = migration.MoveStateMoved, migration.MoveStateSkipped, migration.MoveStateFailed, migration.MoveStateCancelled
		rolledBack, rollbackFailed, pending = migration.MoveStateRolledBack, migration.MoveStateRollbackFailed, migration.MoveStatePending
		moving, rollingBack                 = migration.MoveStateMoving, migration.MoveStateRollingBack
	)
	tests := []struct {
		name    string
		moves   []migration.Move
		current int64 // 0: none
		later   int64
		movedBy int64
		place   migration.Place
	}{
		{name: "never planned", place: migration.PlaceOnPremises},
		{name: "scheduled", moves: []migration.Move{standingMove(1, "A", pending, 1)}, current: 1, place: migration.PlaceMoving},
		{name: "moved", moves: []migration.Move{standingMove(1, "A", moved, 1)}, current: 1, movedBy: 1, place: migration.PlaceTeams},
		{name: "failed", moves: []migration.Move{standingMove(1, "A", failed, 1)}, current: 1, place: migration.PlaceOnPremises},
		{
			// The falsehood: moved by A, skipped by B, then rolled
			// back by A's wave rollback: back on premises, though B's skip is
			// the newer move.
			name:    "moved, skipped elsewhere, then rolled back",
			moves:   []migration.Move{standingMove(2, "B", skipped, 2), standingMove(1, "A", rolledBack, 3)},
			current: 1, place: migration.PlaceOnPremises,
		},
		{
			name:    "moved, then skipped elsewhere: the move can still be rolled back",
			moves:   []migration.Move{standingMove(2, "B", skipped, 2), standingMove(1, "A", moved, 1)},
			current: 2, movedBy: 1, place: migration.PlaceTeams,
		},
		{
			name:    "found online after a rollback: not cutover's to roll back",
			moves:   []migration.Move{standingMove(1, "A", rolledBack, 2), standingMove(2, "B", skipped, 3)},
			current: 2, place: migration.PlaceTeams,
		},
		{
			name:    "moved, then a later move failed: still in Teams",
			moves:   []migration.Move{standingMove(1, "A", moved, 1), standingMove(2, "B", failed, 2)},
			current: 1, later: 2, movedBy: 1, place: migration.PlaceTeams,
		},
		{
			name:    "moved, then removed from a wave elsewhere",
			moves:   []migration.Move{standingMove(2, "B", cancelled, 5), standingMove(1, "A", moved, 1)},
			current: 1, later: 2, movedBy: 1, place: migration.PlaceTeams,
		},
		{
			name:    "rolled back, then failed again: on premises, the failure says why",
			moves:   []migration.Move{standingMove(1, "A", rolledBack, 2), standingMove(2, "A", failed, 3)},
			current: 2, place: migration.PlaceOnPremises,
		},
		{
			name:    "failed, retried and moved",
			moves:   []migration.Move{standingMove(1, "A", failed, 1), standingMove(2, "A", moved, 2)},
			current: 2, movedBy: 2, place: migration.PlaceTeams,
		},
		{
			name:    "a rollback that failed: still in Teams, rollback offered again",
			moves:   []migration.Move{standingMove(1, "A", rollbackFailed, 2)},
			current: 1, movedBy: 1, place: migration.PlaceTeams,
		},
		{
			name:    "an active move comes first, whatever changed since",
			moves:   []migration.Move{standingMove(1, "A", moving, 1), standingMove(2, "B", skipped, 9)},
			current: 1, place: migration.PlaceMoving,
		},
		{
			name:    "rolling back",
			moves:   []migration.Move{standingMove(1, "A", rollingBack, 4)},
			current: 1, place: migration.PlaceMoving,
		},
		{
			name:    "two moves changed at the same time: the newer move",
			moves:   []migration.Move{standingMove(1, "A", failed, 4), standingMove(2, "B", failed, 4)},
			current: 2, place: migration.PlaceOnPremises,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := migration.StandingOf(tt.moves)
			id := func(m *migration.Move) int64 {
				if m == nil {
					return 0
				}
				return m.ID
			}
			require.Equal(t, tt.current, id(st.Current), "current")
			require.Equal(t, tt.later, id(st.Later), "later")
			require.Equal(t, tt.movedBy, id(st.MovedBy), "moved by")
			require.Equal(t, tt.place, st.Place, "place")
		})
	}
}

func TestExplainStanding(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		moves []migration.Move
		says  []string
		never []string
	}{
		{
			name:  "rolled back after a skip elsewhere",
			moves: []migration.Move{standingMove(2, "B", migration.MoveStateSkipped, 2), standingMove(1, "A", migration.MoveStateRolledBack, 3)},
			says:  []string{"Moved back on premises"},
			never: []string{"already homed online"},
		},
		{
			name:  "skipped after cutover moved them",
			moves: []migration.Move{standingMove(2, "B", migration.MoveStateSkipped, 2), standingMove(1, "A", migration.MoveStateMoved, 1)},
			says:  []string{"moved online by cutover in wave 1 of A", "wave 1 of B found the user there"},
		},
		{
			name:  "a later failure that changed nothing",
			moves: []migration.Move{standingMove(1, "A", migration.MoveStateMoved, 1), standingMove(2, "B", migration.MoveStateFailed, 2)},
			says:  []string{"Moved online", "A later move, in wave 1 of B, failed (licence_missing)", "still in Teams"},
			never: []string{"still on premises"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := migration.ExplainStanding(migration.StandingOf(tt.moves), now)
			all := e.Summary + " " + e.Expect + " " + e.Next
			for _, s := range tt.says {
				require.Contains(t, all, s)
			}
			for _, s := range tt.never {
				require.False(t, strings.Contains(all, s), "says %q: %s", s, all)
			}
		})
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	tally := migration.TallyOf(map[migration.MoveState]int{
		migration.MoveStateMoved: 3, migration.MoveStateSkipped: 2, migration.MoveStateFailed: 1, migration.MoveStateRetrying: 1,
		migration.MoveStateMoving: 1, migration.MoveStatePending: 4, migration.StateUnplanned: 5, migration.MoveStateRolledBack: 2,
	})
	require.Equal(t, 19, tally.Users())
	require.Equal(t, 5, tally.InTeams())
	require.Equal(t, 8, tally.Finished(), "moved, skipped, failed and rolled back; not the 2 in progress, 4 scheduled, 5 unplanned")
	require.Equal(t, "3 moved to Teams, 2 already in Teams, 1 failed, 2 rolled back, 2 in progress, 4 scheduled, 5 not in a wave yet", tally.Words())
	require.Equal(t, "no users", migration.Tally{}.Words())
}
