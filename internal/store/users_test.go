package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// at sets a move's last change to minute min of a fixed hour.
func (f fixtures) at(t *testing.T, moveID int64, min int) {
	t.Helper()
	_, err := f.pool.Exec(context.Background(), `UPDATE moves SET updated_at = $2 WHERE id = $1`, moveID,
		time.Date(2026, 12, 7, 9, min, 0, 0, time.UTC))
	require.NoError(t, err)
}

// TestStandingMatchesDomain: the database's cutover_standing, which counts
// a group's shared members, picks the move the domain's StandingOf picks,
// over the cases of TestStandingOf.
func TestStandingMatchesDomain(t *testing.T) {
	t.Parallel()
	type step struct {
		state migration.MoveState
		min   int
	}
	const (
		moved, skipped, failed, cancelled = migration.MoveStateMoved, migration.MoveStateSkipped, migration.MoveStateFailed, migration.MoveStateCancelled
		rolledBack, rollbackFailed        = migration.MoveStateRolledBack, migration.MoveStateRollbackFailed
	)
	tests := []struct {
		name  string
		steps []step // one move each, in a group of its own, in order of creation
	}{
		{"moved", []step{{moved, 1}}},
		{"moved, skipped elsewhere, rolled back", []step{{rolledBack, 3}, {skipped, 2}}},
		{"moved, then skipped elsewhere", []step{{moved, 1}, {skipped, 2}}},
		{"moved, then failed elsewhere", []step{{moved, 1}, {failed, 2}}},
		{"moved, then cancelled elsewhere", []step{{moved, 1}, {cancelled, 5}}},
		{"rolled back, then failed", []step{{rolledBack, 2}, {failed, 3}}},
		{"rollback failed, then failed", []step{{rollbackFailed, 2}, {failed, 3}}},
		{"pending while moved elsewhere", []step{{moved, 1}, {migration.MoveStatePending, 0}}},
		{"the same minute", []step{{failed, 4}, {failed, 4}}},
	}
	f, q := newFixtures(t)
	ctx := context.Background()
	for i, tt := range tests {
		upn := fmt.Sprintf("standing.%d@contoso.com", i)
		for _, s := range tt.steps {
			g := f.group(t)
			id := f.move(t, g, f.wave(t, g, migration.WaveStateCompleted, 1), upn, s.state)
			f.at(t, id, s.min)
		}
		moves, err := q.MovesByUser(ctx, upn)
		require.NoError(t, err)
		want := migration.StandingOf(moves)
		var id int64
		var state string
		require.NoError(t, f.pool.QueryRow(ctx, `SELECT move_id, state FROM cutover_standing($1)`, upn).Scan(&id, &state), tt.name)
		require.Equal(t, want.Current.ID, id, tt.name)
		require.Equal(t, string(want.Current.State), state, tt.name)
	}
}

// TestGroupCount: a group counts each member once, by where they stand: a
// failed user retried in a later wave by the retry, a member in no wave as
// such, and a member also in another group by that group's later move.
func TestGroupCount(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w1 := f.wave(t, g, migration.WaveStateCompleted, 1)
	f.move(t, g, w1, "kept@contoso.com", migration.MoveStateMoved)
	f.move(t, g, w1, "retried@contoso.com", migration.MoveStateFailed)
	w2, err := q.WaveGet(ctx, w1)
	require.NoError(t, err)
	retry, err := q.WaveRetryCreate(ctx, w2, nil, time.Now(), "test")
	require.NoError(t, err)
	require.Equal(t, 1, retry.Size)
	var retried int64
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT id FROM moves WHERE wave_id = $1`, retry.ID).Scan(&retried))
	for _, to := range []migration.MoveState{migration.MoveStateQueued, migration.MoveStatePreflight, migration.MoveStateMoving,
		migration.MoveStateVerifying, migration.MoveStateMoved} {
		require.NoError(t, q.MoveUpdate(ctx, store.MoveChange{MoveID: retried, To: to, Message: "test", Actor: "test"}))
	}
	// A member moved here, then rolled back by another group's rollback.
	shared := f.move(t, g, w1, "shared@contoso.com", migration.MoveStateSkipped)
	f.at(t, shared, 2)
	other := f.group(t)
	elsewhere := f.move(t, other, f.wave(t, other, migration.WaveStateRolledBack, 1), "shared@contoso.com", migration.MoveStateRolledBack)
	f.at(t, elsewhere, 3)
	_, err = f.pool.Exec(ctx, `UPDATE group_members SET shared = true WHERE upn = 'shared@contoso.com'`)
	require.NoError(t, err)

	all, err := q.WaveTallies(ctx, []int64{w1, retry.ID})
	require.NoError(t, err)
	inGroup, moreThanOnce := store.GroupCounted(all)
	c, err := q.GroupCount(ctx, migration.Group{ID: g, Unplanned: 2}, inGroup, moreThanOnce)
	require.NoError(t, err)
	require.Equal(t, map[migration.MoveState]int{migration.MoveStateMoved: 2, migration.MoveStateRolledBack: 1, migration.StateUnplanned: 2}, c.Counts,
		"each member once: the retried user by the retry, the shared one by the other group's rollback")
	require.Equal(t, 1, c.Elsewhere)

	tallies, err := q.WaveTallies(ctx, []int64{w1})
	require.NoError(t, err)
	require.Equal(t, 1, tallies[w1].Counts[migration.MoveStateFailed], "the wave keeps its failure")
	require.Equal(t, map[migration.MoveState]int{migration.MoveStateFailed: 1}, tallies[w1].Superseded, "which the retry stands in for")

	rows, err := q.UserList(ctx, store.UserFilter{GroupID: g, Limit: 10})
	require.NoError(t, err)
	byUPN := map[string]store.UserRow{}
	for _, r := range rows {
		byUPN[r.UPN] = r
	}
	require.Len(t, rows, 3)
	require.Equal(t, migration.MoveStateMoved, byUPN["retried@contoso.com"].State)
	require.Equal(t, retry.ID, byUPN["retried@contoso.com"].WaveID, "the group's list shows the move that stands")
	require.Equal(t, migration.MoveStateRolledBack, byUPN["shared@contoso.com"].State)
	require.NotEmpty(t, byUPN["shared@contoso.com"].Elsewhere, "and names the group it stands by")

	waveRows, err := q.UserList(ctx, store.UserFilter{WaveID: w1, States: []migration.MoveState{migration.MoveStateFailed}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, waveRows, 1)
	require.Equal(t, retry.Name, waveRows[0].SupersededBy, "the wave's list says which wave moved its failed user on")
}

// TestUserSearch: users are found by the start of their UPN or SIP address,
// or of any word of their name, in any case; a search's own wildcards
// match themselves only.
func TestUserSearch(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	for _, u := range []struct{ upn, sip, name string }{
		{"mei.walsh@contoso.com", "mei.walsh@contoso.com", "Mei Walsh"},
		{"ana.lima@contoso.com", "alima@fabrikam.com", "Ana Lima"},
		{"a_b@contoso.com", "a_b@contoso.com", "Ab Test"},
		{"axb@contoso.com", "axb@contoso.com", "O'Brien-Smith"},
	} {
		_, err := f.pool.Exec(ctx, `INSERT INTO group_members (group_id, position, upn, sip, display_name) VALUES ($1, $2, $3, $4, $5)`,
			g, seq.Add(1), u.upn, u.sip, u.name)
		require.NoError(t, err)
	}
	tests := []struct {
		search string
		want   []string
	}{
		{"Mei", []string{"mei.walsh@contoso.com"}},
		{"walsh", []string{"mei.walsh@contoso.com"}},
		{"mei wal", []string{"mei.walsh@contoso.com"}},
		{"ALIMA@", []string{"ana.lima@contoso.com"}},
		{"sip:alima", []string{"ana.lima@contoso.com"}},
		{"a_b", []string{"a_b@contoso.com"}},
		{"%", nil},
		{"smith", []string{"axb@contoso.com"}},
		{"o'brien", []string{"axb@contoso.com"}},
		{"zz", nil},
		{"   ", nil},
		{"'):* | '", nil},
	}
	for _, tt := range tests {
		found, err := q.UserSearch(ctx, tt.search, 20)
		require.NoError(t, err, tt.search)
		var upns []string
		for _, m := range found {
			upns = append(upns, m.UPN)
		}
		require.Equal(t, tt.want, upns, "search %q", tt.search)
		rows, err := q.UserList(ctx, store.UserFilter{GroupID: g, Search: tt.search, Limit: 20})
		require.NoError(t, err, tt.search)
		upns = nil
		for _, r := range rows {
			upns = append(upns, r.UPN)
		}
		if tt.search == "   " {
			require.Len(t, upns, 4, "an empty search keeps everyone")
			continue
		}
		require.Equal(t, tt.want, upns, "group list, search %q", tt.search)
	}
}
