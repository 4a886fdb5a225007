package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// TestHeartbeat: a process's heartbeat renews the slots it holds; a process
// silent for the dead-after is buried by the next live one: its slots are
// free, its running jobs available again with the attempt given back, and
// the moves in flight among them say so in their timeline and count the
// time stranded.
func TestHeartbeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, q := newFixtures(t)
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 5)
	inFlight := f.move(t, g, w, "beat-a@contoso.com", migration.MoveStateMoving)
	queued := f.move(t, g, w, "beat-b@contoso.com", migration.MoveStateQueued)
	mine := f.move(t, g, w, "beat-c@contoso.com", migration.MoveStateMoving)

	for _, m := range []int64{inFlight, queued} {
		l, err := q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: m, TTL: 2 * time.Second, AnyState: true, Holder: "dead"})
		require.NoError(t, err)
		require.True(t, l.OK)
	}
	l, err := q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: mine, TTL: 2 * time.Second, AnyState: true, Holder: "live"})
	require.NoError(t, err)
	require.True(t, l.OK)
	job := func(moveID int64, by string) int64 {
		var id int64
		require.NoError(t, f.pool.QueryRow(ctx, `
			INSERT INTO river_job (kind, args, queue, state, attempt, max_attempts, attempted_at, attempted_by, priority)
			VALUES ('move', jsonb_build_object('move_id', $1::bigint, 'run', 0), 'moves', 'running', 2, 5, now(), ARRAY['other', $2], 1)
			RETURNING id`, moveID, by).Scan(&id))
		return id
	}
	deadJobs := []int64{job(inFlight, "dead"), job(queued, "dead")}
	liveJob := job(mine, "live")

	// Both beat; then only "live" does.
	_, err = q.Heartbeat(ctx, "dead", "host-a", 2*time.Second, time.Hour, []int64{inFlight, queued})
	require.NoError(t, err)
	_, err = q.Heartbeat(ctx, "live", "host-b", time.Hour, time.Hour, nil)
	require.NoError(t, err)
	require.Zero(t, f.count(t, `SELECT count(*) FROM cap_slots WHERE move_id = $1 AND expires_at > now() + interval '30 minutes'`, mine),
		"a slot of a move the process no longer works is not renewed")
	_, err = q.Heartbeat(ctx, "live", "host-b", time.Hour, time.Hour, []int64{mine})
	require.NoError(t, err)
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM cap_slots WHERE move_id = $1 AND expires_at > now() + interval '30 minutes'`, mine), "the live process's slot is renewed")
	require.Equal(t, 2, f.count(t, `SELECT count(*) FROM cap_slots WHERE holder = 'dead' AND expires_at < now() + interval '1 minute'`), "the other's is not")

	time.Sleep(1500 * time.Millisecond)
	lost, err := q.Heartbeat(ctx, "live", "host-b", time.Hour, time.Second, []int64{mine})
	require.NoError(t, err)
	require.Len(t, lost, 1)
	require.Equal(t, "dead", lost[0].ID)
	require.Equal(t, 2, lost[0].Jobs)
	require.Equal(t, []int64{inFlight}, lost[0].MoveIDs, "only the move in flight is stranded")

	require.Zero(t, f.count(t, `SELECT count(*) FROM cap_slots WHERE holder = 'dead'`), "the dead process's slots are free")
	require.Zero(t, f.count(t, `SELECT count(*) FROM wave_slots WHERE holder = 'dead'`))
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM cap_slots WHERE holder = 'live'`))
	require.Equal(t, 2, f.count(t, `SELECT count(*) FROM river_job WHERE id = ANY($1) AND state = 'available' AND attempt = 1`, deadJobs),
		"the dead process's jobs are available again, the attempt given back")
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM river_job WHERE id = $1 AND state = 'running' AND attempt = 2`, liveJob))
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM move_events WHERE move_id = $1 AND message LIKE 'worker dead stopped%' AND actor = 'worker live'`, inFlight))
	m, err := q.MoveGet(ctx, inFlight)
	require.NoError(t, err)
	require.GreaterOrEqual(t, m.Stranded, time.Second)
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM worker_processes WHERE id = 'dead' AND ended_at IS NOT NULL AND end_reason LIKE 'no heartbeat since%'`))
	// A process that stops of itself is not lost; only the one found dead is.
	_, err = q.Heartbeat(ctx, "quitter", "host-c", time.Hour, time.Hour, nil)
	require.NoError(t, err)
	require.NoError(t, q.ProcessEnd(ctx, "quitter", "stopped"))
	procs, err := q.Processes(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, procs, 3)
	for _, p := range procs {
		require.Equal(t, p.ID == "dead", p.Lost, "process %s", p.ID)
	}

	// Buried once.
	lost, err = q.Heartbeat(ctx, "live", "host-b", time.Hour, time.Second, []int64{mine})
	require.NoError(t, err)
	require.Empty(t, lost)

	// A process that lost a move's slot neither frees the slot another took
	// for it since, nor changes the move on the strength of a slot.
	l, err = q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: inFlight, TTL: time.Minute, AnyState: true, Holder: "live"})
	require.NoError(t, err)
	require.True(t, l.OK)
	require.NoError(t, q.LeaseRelease(ctx, inFlight, "dead"))
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM cap_slots WHERE move_id = $1 AND holder = 'live'`, inFlight))
	err = q.MoveUpdate(ctx, store.MoveChange{MoveID: inFlight, To: migration.MoveStateVerifying, Message: "verifying", Actor: "test", SlotHolder: "dead"})
	require.True(t, errors.Is(err, store.ErrStale), "%v", err)
	require.NoError(t, q.MoveUpdate(ctx, store.MoveChange{MoveID: inFlight, To: migration.MoveStateVerifying, Message: "verifying", Actor: "test", SlotHolder: "live"}))
}
