package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// TestCompletionClaim: a worker's claim on due items keeps other workers
// off them for its lease, and a worker that dies with them loses nothing:
// they are due again when the lease ends. Only the items of users who stand
// moved are claimed.
func TestCompletionClaim(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 10)
	moved := f.move(t, g, w, "moved@contoso.com", migration.MoveStateMoved)
	back := f.move(t, g, w, "back@contoso.com", migration.MoveStateMoved)
	for _, id := range []int64{moved, back} {
		_, err := f.pool.Exec(ctx, `INSERT INTO completion_items (move_id, kind, check_at) VALUES ($1, 'meetings', now())
			ON CONFLICT DO NOTHING`, id)
		require.NoError(t, err)
	}
	_, err := f.pool.Exec(ctx, `UPDATE moves SET state = 'rolling_back' WHERE id = $1`, back)
	require.NoError(t, err)

	first, err := q.CompletionClaim(ctx, 10, 500*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, first, 1, "only the user who stands moved")
	require.Equal(t, moved, first[0].MoveID)
	again, err := q.CompletionClaim(ctx, 10, 500*time.Millisecond)
	require.NoError(t, err)
	require.Empty(t, again, "another worker does not take a claimed item")
	// The first worker dies without writing: the item comes back.
	require.Eventually(t, func() bool {
		later, err := q.CompletionClaim(ctx, 10, time.Minute)
		require.NoError(t, err)
		return len(later) == 1 && later[0].MoveID == moved
	}, 5*time.Second, 50*time.Millisecond)
}

// TestCompletionOfIsOneRule: the SQL function the wave's counts and lists
// read (cutover_completion_of) says where a user's completion stands as
// migration.CompletionOf does, for every mix of item states, so that the
// helpdesk's word for a user and the wave's count of them agree.
func TestCompletionOfIsOneRule(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	states := []migration.ItemState{migration.ItemPending, migration.ItemDone, migration.ItemFailed, migration.ItemPerson}
	var mixes [][]migration.ItemState
	mixes = append(mixes, nil)
	for _, a := range states {
		mixes = append(mixes, []migration.ItemState{a})
		for _, b := range states {
			mixes = append(mixes, []migration.ItemState{a, b})
		}
	}
	for _, mix := range mixes {
		items := make([]migration.CompletionItem, len(mix))
		names := make([]string, len(mix))
		for i, s := range mix {
			items[i], names[i] = migration.CompletionItem{State: s}, string(s)
		}
		var got *string
		require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT cutover_completion_of($1::text[])`, names).Scan(&got))
		want := migration.CompletionOf(items)
		if want == "" {
			require.Nil(t, got, "%v", mix)
			continue
		}
		require.NotNil(t, got, "%v", mix)
		require.Equal(t, string(want), *got, "%v", mix)
	}
}
