package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// seq makes names, numbers and positions unique across a test's rows.
var seq atomic.Int64

// fixtures writes rows straight into the tables, bypassing the store (and,
// since the state trigger fires only on UPDATE, the state machine).
type fixtures struct {
	pool *pgxpool.Pool
}

func newFixtures(t *testing.T) (fixtures, *store.Queries) {
	t.Helper()
	pool := dbtest.Pool(t)
	return fixtures{pool: pool}, store.New(pool)
}

func (f fixtures) group(t *testing.T) int64 {
	t.Helper()
	var id int64
	err := f.pool.QueryRow(context.Background(),
		`INSERT INTO pilot_groups (name, source) VALUES ($1, 'json') RETURNING id`,
		fmt.Sprintf("group %d", seq.Add(1))).Scan(&id)
	require.NoError(t, err)
	return id
}

// wave adds a wave in the given state (started and finished as the state
// needs) with the given concurrency.
func (f fixtures) wave(t *testing.T, groupID int64, state migration.WaveState, concurrency int) int64 {
	t.Helper()
	var id int64
	err := f.pool.QueryRow(context.Background(), `
		INSERT INTO waves (group_id, number, name, state, size, start_at, max_attempts, concurrency, started_at, finished_at)
		VALUES ($1, $2, 'wave', $3, 1, now(), 3, $4,
		        CASE WHEN $3 NOT IN ('scheduled', 'blocked') THEN now() END,
		        CASE WHEN $3 IN ('completed', 'cancelled', 'rolled_back') THEN now() END)
		RETURNING id`,
		groupID, seq.Add(1), state, concurrency).Scan(&id)
	require.NoError(t, err)
	return id
}

// move adds a member of the group and its move in the wave, in the given
// state. Every move has an error code, so that moves_failed_has_code never
// gets in the way of a state change.
func (f fixtures) move(t *testing.T, groupID, waveID int64, upn string, state migration.MoveState) int64 {
	t.Helper()
	id, err := f.tryMove(groupID, waveID, upn, state)
	require.NoError(t, err)
	return id
}

func (f fixtures) tryMove(groupID, waveID int64, upn string, state migration.MoveState) (int64, error) {
	var id int64
	err := f.pool.QueryRow(context.Background(), `
		WITH gm AS (
			INSERT INTO group_members (group_id, position, upn, sip) VALUES ($1, $3, $4, $4) RETURNING id
		)
		INSERT INTO moves (wave_id, member_id, upn, sip, state, error_code)
		SELECT $2, gm.id, $4, $4, $5, 'unknown' FROM gm
		RETURNING id`,
		groupID, waveID, seq.Add(1), upn, state).Scan(&id)
	return id, err
}

func (f fixtures) moveState(t *testing.T, id int64) migration.MoveState {
	t.Helper()
	var s migration.MoveState
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT state FROM moves WHERE id = $1`, id).Scan(&s))
	return s
}

func (f fixtures) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// requirePgError checks that err is a Postgres error with this SQLSTATE and,
// if given, constraint.
func requirePgError(t *testing.T, err error, code, constraint string) {
	t.Helper()
	require.Error(t, err)
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want a Postgres error, got %T: %v", err, err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
	if constraint != "" {
		require.Equal(t, constraint, pgErr.ConstraintName, pgErr.Message)
	}
}

func TestMoveStateTrigger(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateScheduled, 10)
	for _, from := range migration.MoveStates {
		for _, to := range migration.MoveStates {
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				t.Parallel()
				id := f.move(t, g, w, fmt.Sprintf("%s.%s@trigger.example.com", from, to), from)
				_, err := f.pool.Exec(context.Background(), `UPDATE moves SET state = $2 WHERE id = $1`, id, to)
				if from == to || from.CanMoveTo(to) {
					require.NoError(t, err)
					require.Equal(t, to, f.moveState(t, id))
					return
				}
				requirePgError(t, err, "23514", "moves_state_transition")
				require.Contains(t, err.Error(), fmt.Sprintf("illegal move state change %s -> %s", from, to))
				require.Equal(t, from, f.moveState(t, id), "the refused change left the move alone")
			})
		}
	}
}

func TestMoveStateTransitionsTable(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	rows, err := f.pool.Query(context.Background(), `SELECT from_state || ' -> ' || to_state FROM move_state_transitions ORDER BY 1`)
	require.NoError(t, err)
	inDB, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)

	var inGo []string
	for _, from := range migration.MoveStates {
		for _, to := range migration.MoveStates {
			if from.CanMoveTo(to) {
				inGo = append(inGo, fmt.Sprintf("%s -> %s", from, to))
			}
		}
	}
	slices.Sort(inGo)
	require.Equal(t, inGo, inDB)
}

func TestMoveStateCheck(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateScheduled, 10)
	for _, s := range []migration.MoveState{"", "bogus", "Moved", "done"} {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			_, err := f.tryMove(g, w, fmt.Sprintf("check%d@check.example.com", seq.Add(1)), s)
			requirePgError(t, err, "23514", "moves_state_check")
		})
	}
}

// TestMoveUpdateTransitions checks store.MoveUpdate against the state
// machine: with no From, a change applies from exactly the states that may
// lead to it, and otherwise is stale and records nothing.
func TestMoveUpdateTransitions(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateScheduled, 10)
	for _, from := range migration.MoveStates {
		for _, to := range migration.MoveStates {
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				id := f.move(t, g, w, fmt.Sprintf("%s.%s@update.example.com", from, to), from)
				err := q.MoveUpdate(ctx, store.MoveChange{
					MoveID: id, To: to, ErrorCode: migration.CodeUnknown, Message: "test", Actor: "test",
				})
				events, evErr := q.MoveEvents(ctx, id)
				require.NoError(t, evErr)
				if !from.CanMoveTo(to) {
					require.ErrorIs(t, err, store.ErrStale)
					require.Equal(t, from, f.moveState(t, id))
					require.Empty(t, events)
					return
				}
				require.NoError(t, err)
				require.Equal(t, to, f.moveState(t, id))
				require.Len(t, events, 1)
				require.Equal(t, to, events[0].State)
			})
		}
	}
}

func TestOneActiveMovePerUser(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	ga, gb := f.group(t), f.group(t)
	wa := f.wave(t, ga, migration.WaveStateRunning, 10)
	wb := f.wave(t, gb, migration.WaveStateScheduled, 10)
	for _, s := range migration.MoveStates {
		t.Run(string(s), func(t *testing.T) {
			t.Parallel()
			upn := fmt.Sprintf("busy.%s@contoso.com", s)
			f.move(t, ga, wa, upn, s)
			_, err := f.tryMove(gb, wb, upn, migration.MoveStatePending)
			if s.Active() {
				requirePgError(t, err, "23505", "moves_one_active_per_upn")
				return
			}
			require.NoError(t, err, "a %s move does not hold its user", s)
		})
	}
}

func TestOneActiveMovePerUserOnRetry(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	ga, gb := f.group(t), f.group(t)
	wa := f.wave(t, ga, migration.WaveStateCompleted, 10)
	wb := f.wave(t, gb, migration.WaveStateScheduled, 10)
	failedMove := f.move(t, ga, wa, "alice@contoso.com", migration.MoveStateFailed)
	f.move(t, gb, wb, "alice@contoso.com", migration.MoveStatePending)

	// Straight SQL: the index refuses a second active move.
	_, err := f.pool.Exec(ctx, `UPDATE moves SET state = 'queued' WHERE id = $1`, failedMove)
	requirePgError(t, err, "23505", "moves_one_active_per_upn")

	// Through the store: a conflict a lead can understand.
	_, err = q.MoveRequeue(ctx, failedMove, "lead")
	require.Error(t, err)
	var e *migration.Error
	require.True(t, errors.As(err, &e), "want a *migration.Error, got %T: %v", err, err)
	require.Equal(t, migration.EConflict, e.Kind)
	require.Equal(t, "user_busy", e.Code)
	require.Contains(t, e.Message, "alice@contoso.com")
	require.Equal(t, migration.MoveStateFailed, f.moveState(t, failedMove))
	var waveState migration.WaveState
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT state FROM waves WHERE id = $1`, wa).Scan(&waveState))
	require.Equal(t, migration.WaveStateCompleted, waveState, "the wave is not reopened by a refused retry")
}

// TestRetryWhileTheWaveChanges is a lead's retry of a wave's last failed
// user while a review of the wave, which read that user failed, changes
// the wave. A review that completes it: the retry waits for it and reopens
// the wave, never leaving it completed under a queued move that no job
// would run. A review that halts it: the retry is refused as stale and the
// move stays failed.
func TestRetryWhileTheWaveChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		review  migration.WaveState // what the review makes of the wave
		move    migration.MoveState // the move after the retry
		wave    migration.WaveState // the wave after the retry
		refused bool
	}{
		{review: migration.WaveStateCompleted, move: migration.MoveStateQueued, wave: migration.WaveStateRunning},
		{review: migration.WaveStateHalted, move: migration.MoveStateFailed, wave: migration.WaveStateHalted, refused: true},
	} {
		t.Run(string(tc.review), func(t *testing.T) {
			t.Parallel()
			f, q := newFixtures(t)
			ctx := context.Background()
			g := f.group(t)
			w := f.wave(t, g, migration.WaveStateRunning, 10)
			failed := f.move(t, g, w, "last@contoso.com", migration.MoveStateFailed)

			review, err := f.pool.Begin(ctx)
			require.NoError(t, err)
			defer review.Rollback(ctx)
			facts, err := store.New(review).WaveReviewFactsLocked(ctx, w, failed, migration.MoveEnding{Failed: true, Counted: true})
			require.NoError(t, err)
			require.Equal(t, migration.WaveStateRunning, facts.Wave.State)

			requeued := make(chan error, 1)
			go func() { _, err := q.MoveRequeue(ctx, failed, "lead"); requeued <- err }()
			// The retry waits for the review's lock on the wave (or, were
			// there none, has already ended).
			require.Eventually(t, func() bool {
				if len(requeued) > 0 {
					return true
				}
				var waiting int
				require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
				return waiting > 0
			}, 10*time.Second, 10*time.Millisecond)

			_, err = review.Exec(ctx, `UPDATE waves SET state = $2, finished_at = CASE WHEN $2 = 'completed' THEN now() END WHERE id = $1`, w, tc.review)
			require.NoError(t, err)
			require.NoError(t, review.Commit(ctx))
			if err := <-requeued; tc.refused {
				require.ErrorIs(t, err, store.ErrStale)
			} else {
				require.NoError(t, err)
			}

			require.Equal(t, tc.move, f.moveState(t, failed))
			var state migration.WaveState
			require.NoError(t, f.pool.QueryRow(ctx, `SELECT state FROM waves WHERE id = $1`, w).Scan(&state))
			require.Equal(t, tc.wave, state)
		})
	}
}

func TestWavesCreateBusyUser(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	other := f.group(t)
	w := f.wave(t, other, migration.WaveStateRunning, 10)
	f.move(t, other, w, "busy@contoso.com", migration.MoveStateMoving)
	f.move(t, other, w, "failed@contoso.com", migration.MoveStateFailed)

	plan := func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now()}}, unplanned, next)
	}
	busy, err := q.GroupCreate(ctx, store.NewGroup{Name: "busy", Source: "json", Members: []migration.Member{
		{UPN: "free@contoso.com", SIP: "free@contoso.com"}, {UPN: "busy@contoso.com", SIP: "busy@contoso.com"},
	}})
	require.NoError(t, err)
	_, err = q.WavesCreate(ctx, busy.ID, "lead", plan)
	var e *migration.Error
	require.True(t, errors.As(err, &e), "want a *migration.Error, got %T: %v", err, err)
	require.Equal(t, migration.EConflict, e.Kind)
	require.Equal(t, "user_busy", e.Code)
	require.Len(t, e.Details, 1)
	require.Contains(t, e.Details[0].Message, "busy@contoso.com")
	require.Zero(t, f.count(t, `SELECT count(*) FROM waves WHERE group_id = $1`, busy.ID), "nothing planned")

	// A user whose earlier move failed may be planned again.
	again, err := q.GroupCreate(ctx, store.NewGroup{Name: "again", Source: "json", Members: []migration.Member{
		{UPN: "failed@contoso.com", SIP: "failed@contoso.com"},
	}})
	require.NoError(t, err)
	waves, err := q.WavesCreate(ctx, again.ID, "lead", plan)
	require.NoError(t, err)
	require.Len(t, waves, 1)
}

func TestMoveEventsAppendOnly(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 10)
	id := f.move(t, g, w, "alice@contoso.com", migration.MoveStateQueued)
	require.NoError(t, q.MoveEventAdd(ctx, id, migration.MoveEvent{Message: "first", Actor: "test"}))
	require.NoError(t, q.MoveEventAdd(ctx, id, migration.MoveEvent{Message: "second", Actor: "test"}))

	tests := []struct {
		name, sql string
	}{
		{"update one", `UPDATE move_events SET message = 'rewritten' WHERE move_id = $1 AND message = 'first'`},
		{"update all", `UPDATE move_events SET actor = 'someone else' WHERE move_id = $1`},
		{"delete one", `DELETE FROM move_events WHERE move_id = $1 AND message = 'second'`},
		{"delete all", `DELETE FROM move_events WHERE move_id = $1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.pool.Exec(ctx, tt.sql, id)
			requirePgError(t, err, "42501", "")
			require.Contains(t, err.Error(), "append-only")
		})
	}
	t.Run("append", func(t *testing.T) {
		t.Parallel()
		other := f.move(t, g, w, "bob@contoso.com", migration.MoveStateQueued)
		require.NoError(t, q.MoveEventAdd(ctx, other, migration.MoveEvent{Message: "appended", Actor: "test"}))
		events, err := q.MoveEvents(ctx, other)
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.Equal(t, migration.MoveStateQueued, events[0].State)
	})
	t.Cleanup(func() {
		// After the subtests: the events are as written.
		events, err := q.MoveEvents(context.Background(), id)
		require.NoError(t, err)
		require.Len(t, events, 2)
		require.Equal(t, "first", events[0].Message)
		require.Equal(t, "second", events[1].Message)
		require.Equal(t, "test", events[0].Actor)
	})
}

func TestRollbackRecordCapturedOnce(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 10)
	id := f.move(t, g, w, "alice@contoso.com", migration.MoveStatePreflight)

	rec, err := q.RollbackRecordGet(ctx, id)
	require.NoError(t, err)
	require.Nil(t, rec, "no record before a capture")
	toMoving := func(move int64, u migration.ShellUser) error {
		return q.MoveUpdate(ctx, store.MoveChange{MoveID: move, To: migration.MoveStateMoving, From: []migration.MoveState{migration.MoveStatePreflight},
			MoveIssued: true, Capture: &u, Message: "moving online", Actor: "test"})
	}
	lastEvent := func(move int64) string {
		t.Helper()
		events, err := q.MoveEvents(ctx, move)
		require.NoError(t, err)
		return events[len(events)-1].Message
	}

	first := migration.ShellUser{
		Identity: "alice@contoso.com", SipAddress: "sip:alice@contoso.com", RegistrarPool: "pool01.contoso.local",
		HostingProvider: "SRV:", EnterpriseVoiceEnabled: true, LineURI: "tel:+441134960000",
		Policies: map[string]string{"ConferencingPolicy": "BposSAllModality", "VoicePolicy": "UK"},
	}
	require.NoError(t, toMoving(id, first))
	require.Equal(t, "rollback record captured (registrar pool pool01.contoso.local); moving online", lastEvent(id))

	// A later attempt (after the move, say) must not overwrite it.
	second := migration.ShellUser{
		Identity: "alice@contoso.com", SipAddress: "sip:alice@contoso.com", RegistrarPool: "pool02.contoso.local",
		HostingProvider: migration.DefaultOnlineTarget, Policies: map[string]string{"VoicePolicy": "Online"},
	}
	require.NoError(t, q.MoveUpdate(ctx, store.MoveChange{MoveID: id, To: migration.MoveStatePreflight, Message: "again", Actor: "test"}))
	require.NoError(t, toMoving(id, second))
	require.Equal(t, "rollback record kept from an earlier attempt; moving online", lastEvent(id))

	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM rollback_records WHERE move_id = $1`, id))
	rec, err = q.RollbackRecordGet(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, rec)
	require.Equal(t, id, rec.MoveID)
	require.Equal(t, "sip:alice@contoso.com", rec.SipAddress)
	require.Equal(t, "pool01.contoso.local", rec.RegistrarPool)
	require.Equal(t, "SRV:", rec.HostingProvider)
	require.True(t, rec.EnterpriseVoiceEnabled)
	require.Equal(t, "tel:+441134960000", rec.LineURI)
	require.Equal(t, first.Policies, rec.Policies)
	require.False(t, rec.CapturedAt.IsZero())

	// A straight second insert is refused by the key.
	_, err = f.pool.Exec(ctx, `INSERT INTO rollback_records (move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled)
		VALUES ($1, 'x', 'pool', 'SRV:', false)`, id)
	requirePgError(t, err, "23505", "rollback_records_pkey")

	// A move no longer in pre-flight neither changes nor gets a record.
	gone := f.move(t, g, w, "carol@contoso.com", migration.MoveStateCancelled)
	require.ErrorIs(t, toMoving(gone, first), store.ErrStale)
	require.Zero(t, f.count(t, `SELECT count(*) FROM rollback_records WHERE move_id = $1`, gone))

	// No policies are stored as none.
	other := f.move(t, g, w, "bob@contoso.com", migration.MoveStatePreflight)
	require.NoError(t, toMoving(other, migration.ShellUser{SipAddress: "sip:bob@contoso.com", RegistrarPool: "pool01.contoso.local", HostingProvider: "SRV:"}))
	rec, err = q.RollbackRecordGet(ctx, other)
	require.NoError(t, err)
	require.NotNil(t, rec)
	require.Empty(t, rec.Policies)
}

func TestLeaseAcquire(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 2)
	m := make([]int64, 4)
	for i := range m {
		m[i] = f.move(t, g, w, fmt.Sprintf("lease%d@contoso.com", i), migration.MoveStatePreflight)
	}
	acquire := func(move int64, ttl time.Duration) bool {
		t.Helper()
		lease, err := q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: move, TTL: ttl, Holder: "test"})
		ok := lease.OK
		require.NoError(t, err)
		return ok
	}
	expires := func(move int64) time.Time {
		t.Helper()
		var at time.Time
		require.NoError(t, f.pool.QueryRow(ctx, `SELECT expires_at FROM wave_slots WHERE move_id = $1`, move).Scan(&at))
		return at
	}
	live := func(move int64) bool {
		t.Helper()
		return f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1 AND expires_at > now()`, move) == 1
	}
	leases := func() []int64 {
		t.Helper()
		rows, err := f.pool.Query(ctx, `SELECT move_id FROM wave_slots WHERE wave_id = $1 AND move_id IS NOT NULL ORDER BY move_id`, w)
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		return ids
	}

	// Up to the wave's concurrency, and no further.
	require.True(t, acquire(m[0], time.Minute))
	require.True(t, acquire(m[1], time.Minute))
	require.False(t, acquire(m[2], time.Minute), "the wave's two slots are taken")
	require.Equal(t, []int64{m[0], m[1]}, leases())

	// A move that holds a lease renews it, even with the wave full.
	before := expires(m[0])
	require.True(t, acquire(m[0], time.Hour))
	require.True(t, expires(m[0]).After(before.Add(30*time.Minute)), "renewed: %s, before %s", expires(m[0]), before)
	require.Equal(t, []int64{m[0], m[1]}, leases())

	// A lease whose worker died expires and frees its slot.
	f.expire(t, m[1])
	require.True(t, acquire(m[2], time.Minute))
	require.Equal(t, []int64{m[0], m[2]}, leases(), "the expired lease is gone")
	require.False(t, acquire(m[1], time.Minute), "the dead worker's move waits like any other")

	// A move whose own lease expired renews it while a slot is free for it.
	f.expire(t, m[0])
	require.False(t, live(m[0]))
	require.True(t, acquire(m[0], time.Minute))
	require.True(t, live(m[0]), "renewed")

	// Released slots are taken again.
	require.NoError(t, q.LeaseRelease(ctx, m[0], "test"))
	require.Equal(t, []int64{m[2]}, leases())
	require.True(t, acquire(m[3], time.Minute))
	require.False(t, acquire(m[1], time.Minute))

	// Other waves have slots of their own.
	w2 := f.wave(t, g, migration.WaveStateRunning, 1)
	other := f.move(t, g, w2, "lease-other@contoso.com", migration.MoveStatePreflight)
	lease, err := q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: w2, MoveID: other, TTL: time.Minute, Holder: "test"})
	ok := lease.OK
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []int64{m[2], m[3]}, leases())
}

func TestLeaseAcquireConcurrent(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	const concurrency, workers = 3, 24
	w := f.wave(t, g, migration.WaveStateRunning, concurrency)
	moves := make([]int64, workers)
	for i := range moves {
		moves[i] = f.move(t, g, w, fmt.Sprintf("race%d@contoso.com", i), migration.MoveStateQueued)
	}
	var (
		wg      sync.WaitGroup
		granted atomic.Int64
		errs    = make(chan error, workers)
	)
	for _, id := range moves {
		wg.Go(func() {
			lease, err := q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: id, TTL: time.Minute, Holder: "test"})
			ok := lease.OK
			if err != nil {
				errs <- err
				return
			}
			if ok {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(concurrency), granted.Load())
	require.Equal(t, concurrency, f.count(t, `SELECT count(*) FROM wave_slots WHERE wave_id = $1 AND move_id IS NOT NULL`, w))
}

// TestLeaseAcquireSerialised checks that an acquire does not take a slot that
// another transaction's acquire, not yet committed, has taken: it must wait
// for it (here: give up after lock_timeout) or refuse.
func TestLeaseAcquireSerialised(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 1)
	first := f.move(t, g, w, "first@contoso.com", migration.MoveStateQueued)
	second := f.move(t, g, w, "second@contoso.com", migration.MoveStateQueued)

	tx, err := f.pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck
	lease, err := store.New(tx).LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: first, TTL: time.Minute, Holder: "test"})
	ok := lease.OK
	require.NoError(t, err)
	require.True(t, ok)

	conn, err := f.pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "SET lock_timeout = '200ms'")
	require.NoError(t, err)
	defer conn.Exec(context.Background(), "RESET lock_timeout") //nolint:errcheck
	lease, err = store.New(conn).LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: second, TTL: time.Minute, Holder: "test"})
	ok = lease.OK
	require.False(t, err == nil && ok, "the wave's only slot was given twice")

	require.NoError(t, tx.Commit(ctx))
	lease, err = store.New(conn).LeaseAcquire(ctx, store.LeaseRequest{WaveID: w, MoveID: second, TTL: time.Minute, Holder: "test"})
	ok = lease.OK
	require.NoError(t, err)
	require.False(t, ok, "the slot is taken")
}

func TestWaveAfterMoveCompletes(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	finish := func(w int64) (bool, error) {
		out, err := f.review(t, w)
		return out.Completed, err
	}
	waveState := func(t *testing.T, id int64) (migration.WaveState, bool) {
		t.Helper()
		var (
			s        migration.WaveState
			finished bool
		)
		require.NoError(t, f.pool.QueryRow(ctx, `SELECT state, finished_at IS NOT NULL FROM waves WHERE id = $1`, id).Scan(&s, &finished))
		return s, finished
	}

	// A running wave with one move in each state finishes iff that move is
	// not active.
	for _, s := range migration.MoveStates {
		t.Run("one move "+string(s), func(t *testing.T) {
			t.Parallel()
			w := f.wave(t, g, migration.WaveStateRunning, 10)
			f.move(t, g, w, fmt.Sprintf("finish.%s@contoso.com", s), s)
			done, err := finish(w)
			require.NoError(t, err)
			require.Equal(t, !s.Active(), done)
			state, finished := waveState(t, w)
			if s.Active() {
				require.Equal(t, migration.WaveStateRunning, state)
				require.False(t, finished)
				return
			}
			require.Equal(t, migration.WaveStateCompleted, state)
			require.True(t, finished)
		})
	}

	t.Run("last move finishing", func(t *testing.T) {
		t.Parallel()
		w := f.wave(t, g, migration.WaveStateRunning, 10)
		f.move(t, g, w, "last.moved@contoso.com", migration.MoveStateMoved)
		f.move(t, g, w, "last.failed@contoso.com", migration.MoveStateFailed)
		f.move(t, g, w, "last.skipped@contoso.com", migration.MoveStateSkipped)
		last := f.move(t, g, w, "last.moving@contoso.com", migration.MoveStateMoving)

		done, err := finish(w)
		require.NoError(t, err)
		require.False(t, done, "a move is still moving")

		_, err = f.pool.Exec(ctx, `UPDATE moves SET state = 'verifying' WHERE id = $1`, last)
		require.NoError(t, err)
		done, err = finish(w)
		require.NoError(t, err)
		require.False(t, done, "a move is still verifying")

		_, err = f.pool.Exec(ctx, `UPDATE moves SET state = 'moved' WHERE id = $1`, last)
		require.NoError(t, err)
		done, err = finish(w)
		require.NoError(t, err)
		require.True(t, done)
		state, finished := waveState(t, w)
		require.Equal(t, migration.WaveStateCompleted, state)
		require.True(t, finished)

		done, err = finish(w)
		require.NoError(t, err)
		require.False(t, done, "a completed wave is finished once")
	})

	t.Run("running wave without moves", func(t *testing.T) {
		t.Parallel()
		w := f.wave(t, g, migration.WaveStateRunning, 10)
		done, err := finish(w)
		require.NoError(t, err)
		require.True(t, done)
	})

	for _, ws := range []migration.WaveState{migration.WaveStateScheduled, migration.WaveStateCancelled, migration.WaveStateCompleted,
		migration.WaveStatePaused, migration.WaveStateBlocked} {
		t.Run("wave "+string(ws), func(t *testing.T) {
			t.Parallel()
			w := f.wave(t, g, ws, 10)
			f.move(t, g, w, fmt.Sprintf("notrunning.%s@contoso.com", ws), migration.MoveStateCancelled)
			done, err := finish(w)
			require.NoError(t, err)
			require.False(t, done, "only a running wave finishes")
			state, _ := waveState(t, w)
			require.Equal(t, ws, state)
		})
	}

	t.Run("no such wave", func(t *testing.T) {
		t.Parallel()
		done, err := finish(1 << 40)
		require.Equal(t, migration.ENotFound, migration.ErrorKind(err))
		require.False(t, done)
	})
}

// TestMoveUpdatesAllOrNothing: changes sent together apply in order, and one
// that finds the move changed under it undoes the ones before it.
func TestMoveUpdatesAllOrNothing(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	w := f.wave(t, g, migration.WaveStateRunning, 10)
	tests := []struct {
		name  string
		from  migration.MoveState
		to    []migration.MoveState
		stale bool
	}{
		{name: "both apply", from: migration.MoveStateMoving, to: []migration.MoveState{migration.MoveStateVerifying, migration.MoveStateMoved}},
		{name: "second stale", from: migration.MoveStateMoving, to: []migration.MoveState{migration.MoveStateVerifying, migration.MoveStateQueued}, stale: true},
		{name: "first stale", from: migration.MoveStateQueued, to: []migration.MoveState{migration.MoveStateVerifying, migration.MoveStateMoved}, stale: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := f.move(t, g, w, fmt.Sprintf("batch.%d@contoso.com", i), tt.from)
			f.lease(t, w, id)
			events := f.count(t, `SELECT count(*) FROM move_events WHERE move_id = $1`, id)
			var cs []store.MoveChange
			for _, to := range tt.to {
				cs = append(cs, store.MoveChange{MoveID: id, To: to, Attempt: 1, Message: "batch", Actor: "test"})
			}
			err := q.MoveUpdates(ctx, "test", cs...)
			m, getErr := q.MoveGet(ctx, id)
			require.NoError(t, getErr)
			if tt.stale {
				require.ErrorIs(t, err, store.ErrStale)
				require.Equal(t, tt.from, m.State, "nothing applied")
				require.Equal(t, events, f.count(t, `SELECT count(*) FROM move_events WHERE move_id = $1`, id))
				require.Equal(t, 1, f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1`, id), "the slot is still held")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.to[len(tt.to)-1], m.State)
			require.Equal(t, events+len(tt.to), f.count(t, `SELECT count(*) FROM move_events WHERE move_id = $1`, id))
			require.Zero(t, f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1`, id), "the slot is freed")
		})
	}
}

// TestMoveEnd: the end of a move commits, and then, in the same round trip,
// the wave's activity is read: of two moves ending at once, one always sees
// no other move of the wave active (the wave's last end is never missed). An
// end that finds the move changed under it changes nothing, and the pool
// goes on.
func TestMoveEnd(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	// end ends a move, freeing its slot; endHolding keeps the slot, as a
	// move of a wave with a failure threshold does until it has reviewed
	// the wave.
	endBy := func(releaseBy string, w, id int64) (migration.WaveFacts, error) {
		return q.MoveEnd(ctx, w, migration.MoveEnding{Counted: true}, releaseBy, store.MoveChange{MoveID: id, To: migration.MoveStateVerifying, Attempt: 1, Message: "verifying", Actor: "test"},
			store.MoveChange{MoveID: id, To: migration.MoveStateMoved, Attempt: 1, Message: "moved", Actor: "test"})
	}
	end := func(w, id int64) (migration.WaveFacts, error) { return endBy("test", w, id) }
	endHolding := func(w, id int64) (migration.WaveFacts, error) { return endBy("", w, id) }
	tests := []struct {
		name  string
		other migration.MoveState // "": no other move
		// otherSlot: the other move holds a slot (in flight, or ended and
		// not yet past its review of the wave).
		otherSlot bool
		want      bool // active
	}{
		{name: "the last move", want: false},
		{name: "another move queued", other: migration.MoveStateQueued, want: true},
		{name: "another move in flight", other: migration.MoveStateMoving, otherSlot: true, want: true},
		{name: "another move ended", other: migration.MoveStateFailed, want: false},
		{name: "another move ended, holding its slot", other: migration.MoveStateFailed, otherSlot: true, want: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := f.wave(t, g, migration.WaveStateRunning, 2)
			id := f.move(t, g, w, fmt.Sprintf("end.%d@contoso.com", i), migration.MoveStateMoving)
			f.lease(t, w, id)
			if tt.other != "" {
				other := f.move(t, g, w, fmt.Sprintf("end.%d.other@contoso.com", i), tt.other)
				if tt.otherSlot {
					f.lease(t, w, other)
					t.Cleanup(func() { _ = q.LeaseRelease(ctx, other, "test") }) // the cap's slots are the test's to share
				}
			}
			act, err := end(w, id)
			require.NoError(t, err)
			require.Equal(t, w, act.Wave.ID)
			require.Equal(t, tt.want, act.OtherActive)
			require.Equal(t, migration.MoveStateMoved, f.moveState(t, id))
			require.Zero(t, f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1`, id), "the slot is freed")
		})
	}
	for _, pair := range []struct {
		name, tag string
		end       func(w, id int64) (migration.WaveFacts, error)
	}{
		{name: "two moves ending at once", tag: "pair", end: end},
		{name: "two moves ending at once, each holding its slot", tag: "held", end: endHolding},
	} {
		t.Run(pair.name, func(t *testing.T) {
			t.Parallel()
			for i := range 20 {
				w := f.wave(t, g, migration.WaveStateRunning, 2)
				ids := []int64{f.move(t, g, w, fmt.Sprintf("%s.%d.a@contoso.com", pair.tag, i), migration.MoveStateMoving),
					f.move(t, g, w, fmt.Sprintf("%s.%d.b@contoso.com", pair.tag, i), migration.MoveStateMoving)}
				acts := make([]migration.WaveFacts, len(ids))
				errs := make([]error, len(ids))
				var start, wg sync.WaitGroup
				start.Add(1)
				for k, id := range ids {
					f.lease(t, w, id)
					wg.Go(func() { start.Wait(); acts[k], errs[k] = pair.end(w, id) })
				}
				start.Done()
				wg.Wait()
				require.NoError(t, errors.Join(errs...))
				require.False(t, acts[0].OtherActive && acts[1].OtherActive, "round %d: each end saw the other's move active, so neither would complete the wave", i)
				for _, id := range ids { // freed after the review, if held
					require.NoError(t, q.LeaseRelease(ctx, id, "test"))
				}
			}
		})
	}
	t.Run("the read after the end fails", func(t *testing.T) {
		t.Parallel()
		w := f.wave(t, g, migration.WaveStateRunning, 2)
		id := f.move(t, g, w, "unread.end@contoso.com", migration.MoveStateMoving)
		f.lease(t, w, id)
		_, err := end(1<<40, id) // a wave that does not exist: its read finds nothing
		require.ErrorIs(t, err, store.ErrEndUnread)
		require.Equal(t, migration.MoveStateMoved, f.moveState(t, id), "the end is committed")
		require.Zero(t, f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1`, id), "the slot is freed")
	})
	t.Run("a move changed under its end", func(t *testing.T) {
		t.Parallel()
		w := f.wave(t, g, migration.WaveStateRunning, 2)
		id := f.move(t, g, w, "stale.end@contoso.com", migration.MoveStateQueued)
		f.lease(t, w, id)
		events := f.count(t, `SELECT count(*) FROM move_events WHERE move_id = $1`, id)
		_, err := end(w, id)
		require.ErrorIs(t, err, store.ErrStale)
		require.Equal(t, migration.MoveStateQueued, f.moveState(t, id), "nothing applied")
		require.Equal(t, events, f.count(t, `SELECT count(*) FROM move_events WHERE move_id = $1`, id))
		require.Equal(t, 1, f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1`, id), "the slot is still held")
		for range 10 { // every connection of the pool answers
			_, err := q.MoveGet(ctx, id)
			require.NoError(t, err)
		}
	})
}

// TestLeaseStart: the slot and the move's start in one statement; a move
// changed under it keeps the slot taken (for the caller to free) and is not
// started.
func TestLeaseStart(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	tests := []struct {
		name    string
		state   migration.MoveState
		limit   int
		wantOK  bool
		stale   bool
		started bool
	}{
		{name: "queued starts", state: migration.MoveStateQueued, limit: 1, wantOK: true, started: true},
		{name: "cancelled is stale", state: migration.MoveStateCancelled, limit: 1, wantOK: true, stale: true},
		{name: "no slot", state: migration.MoveStateQueued, limit: 0, wantOK: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := f.wave(t, g, migration.WaveStateRunning, max(tt.limit, 1))
			if tt.limit == 0 {
				f.lease(t, w, f.move(t, g, w, fmt.Sprintf("holder.%d@contoso.com", i), migration.MoveStateMoving))
			}
			id := f.move(t, g, w, fmt.Sprintf("start.%d@contoso.com", i), tt.state)
			lease, err := q.LeaseStart(ctx, store.LeaseRequest{WaveID: w, MoveID: id, TTL: time.Minute, Holder: "test"},
				store.MoveChange{MoveID: id, To: migration.MoveStatePreflight, From: []migration.MoveState{migration.MoveStateQueued}, Attempt: 1, Message: "start", Actor: "test"})
			if tt.stale {
				require.ErrorIs(t, err, store.ErrStale)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.wantOK, lease.OK)
			m, err := q.MoveGet(ctx, id)
			require.NoError(t, err)
			if tt.started {
				require.Equal(t, migration.MoveStatePreflight, m.State)
				require.NotNil(t, m.StartedAt)
			} else {
				require.Equal(t, tt.state, m.State)
			}
			require.Equal(t, map[bool]int{true: 1, false: 0}[tt.wantOK], f.count(t, `SELECT count(*) FROM wave_slots WHERE move_id = $1`, id))
		})
	}
}

// lease gives a move a slot of its wave for a minute.
func (f fixtures) lease(t *testing.T, waveID, moveID int64) {
	t.Helper()
	var ok bool
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT ok FROM cutover_lease_acquire($1, $2, 60, true, 'test')`, waveID, moveID).Scan(&ok))
	require.True(t, ok, "a slot for move %d", moveID)
}

// expire makes a move's slots expire, as if its worker had died.
func (f fixtures) expire(t *testing.T, moveID int64) {
	t.Helper()
	for _, table := range []string{"wave_slots", "cap_slots"} {
		_, err := f.pool.Exec(context.Background(), `UPDATE `+table+` SET expires_at = now() - interval '1 second' WHERE move_id = $1`, moveID)
		require.NoError(t, err)
	}
}

// review reviews wave w as the sweep does: its facts under its lock, the
// rule, and the rule's answer applied, in one transaction.
func (f fixtures) review(t *testing.T, w int64) (store.WaveOutcome, error) {
	t.Helper()
	ctx := context.Background()
	var out store.WaveOutcome
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		facts, err := q.WaveReviewFactsLocked(ctx, w, 0, migration.Recount)
		if err != nil {
			return err
		}
		out, err = q.WaveReviewApply(ctx, facts, migration.ReviewWave(facts, migration.Recount), "test")
		return err
	})
	return out, err
}

// TestWaveReviewFacts: the end of a move reads the facts its wave's review
// judges, and asks for the wave's lock only when the rule says the end
// changes the wave. The threshold's counts are read exactly where
// migration.ThresholdCountsNeeded says, however many moves ended.
func TestWaveReviewFacts(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	tests := []struct {
		name    string
		state   migration.WaveState
		set     string // an update of the wave
		other   migration.MoveState
		leased  bool // the other move holds a slot
		earlier int  // moves of the wave that ended (moved) before
		success bool
		counted bool // the threshold's counts are read
		want    bool // the wave's lock is taken
	}{
		{name: "another move active", state: migration.WaveStateRunning, other: migration.MoveStateQueued, want: false},
		{name: "another move in flight holds a slot", state: migration.WaveStateRunning, other: migration.MoveStateMoving, leased: true, want: false},
		// An ended move keeps its slot only through its own review of the
		// wave, which it makes after its end has committed.
		{name: "another move ended holds its slot", state: migration.WaveStateRunning, other: migration.MoveStateMoved, leased: true, want: true},
		{name: "last move", state: migration.WaveStateRunning, other: migration.MoveStateMoved, want: true},
		{name: "completed wave", state: migration.WaveStateCompleted, other: migration.MoveStateMoved, want: false},
		{name: "paused wave", state: migration.WaveStatePaused, other: migration.MoveStateMoved, want: false},
		{name: "halted, rolling back on halt", state: migration.WaveStateRunning, set: "state = 'halted', rollback_on_halt = true, failure_threshold_count = 1", other: migration.MoveStateQueued, want: true},
		{name: "success under a lowered limit", state: migration.WaveStateRunning, set: "concurrency = 4, concurrency_limit = 2", other: migration.MoveStateQueued, success: true, want: true},
		{name: "overload under a lowered limit", state: migration.WaveStateRunning, set: "concurrency = 4, concurrency_limit = 2", other: migration.MoveStateQueued, want: false},
		{name: "failure crossing the threshold", state: migration.WaveStateRunning, set: "failure_threshold_count = 1, failure_min_sample = 1", other: migration.MoveStateQueued, counted: true, want: true},
		{name: "failure below the threshold", state: migration.WaveStateRunning, set: "failure_threshold_count = 2, failure_min_sample = 1", other: migration.MoveStateQueued, counted: true, want: false},
		// The sample is 1 and the concurrency 1: past 2 ended moves a
		// success is not counted, a failure always is.
		{name: "failure crossing the threshold past the sample", state: migration.WaveStateRunning, set: "failure_threshold_count = 1, failure_min_sample = 1", other: migration.MoveStateQueued, earlier: 5, counted: true, want: true},
		{name: "success within the sample", state: migration.WaveStateRunning, set: "failure_threshold_count = 1, failure_min_sample = 1", other: migration.MoveStateQueued, earlier: 1, success: true, counted: true, want: false},
		{name: "success past the sample", state: migration.WaveStateRunning, set: "failure_threshold_count = 1, failure_min_sample = 1", other: migration.MoveStateQueued, earlier: 5, success: true, counted: false, want: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := f.wave(t, g, tt.state, 1)
			if tt.set != "" {
				_, err := f.pool.Exec(ctx, `UPDATE waves SET `+tt.set+` WHERE id = $1`, w)
				require.NoError(t, err)
			}
			state, ending := migration.MoveStateMoved, migration.MoveEnding{Counted: true}
			if !tt.success {
				state, ending = migration.MoveStateFailed, migration.MoveEnding{Counted: true, Failed: true, Overload: true}
			}
			for k := range tt.earlier {
				f.move(t, g, w, fmt.Sprintf("earlier.%d.%d@contoso.com", i, k), migration.MoveStateMoved)
			}
			ended := f.move(t, g, w, fmt.Sprintf("ended.%d@contoso.com", i), state)
			_, err := f.pool.Exec(ctx, `UPDATE moves SET started_at = now(), finished_at = now() WHERE wave_id = $1`, w)
			require.NoError(t, err)
			other := f.move(t, g, w, fmt.Sprintf("other.%d@contoso.com", i), tt.other)
			if tt.leased {
				f.lease(t, w, other)
			}
			facts, err := q.WaveReviewFacts(ctx, w, ended, ending)
			require.NoError(t, err)
			require.Equal(t, w, facts.Wave.ID)
			require.Equal(t, tt.counted, facts.Counted, "the counts read")
			require.Equal(t, migration.ThresholdCountsNeeded(facts.Wave, ending, tt.earlier+1), facts.Counted,
				"the statement reads the counts where the rule says")
			if facts.Counted {
				failed := map[bool]int{false: 1}[tt.success]
				require.Equal(t, []int{failed, tt.earlier + 1, tt.earlier + 1}, []int{facts.Failed, facts.Ended, facts.Started})
			}
			require.Equal(t, tt.want, migration.ReviewWave(facts, ending).Changes())
		})
	}
}

// TestAnalyzeAfterBulkImport: a big import refreshes the planner's
// statistics of the members at once; a small one leaves them to autovacuum.
func TestAnalyzeAfterBulkImport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		members  int
		analyzed bool
	}{
		{name: "small import", members: 10, analyzed: false},
		{name: "bulk import", members: store.BulkRows, analyzed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, q := newFixtures(t)
			ms := make([]migration.Member, tt.members)
			for i := range ms {
				upn := fmt.Sprintf("bulk.%05d@contoso.com", i)
				ms[i] = migration.Member{UPN: upn, SIP: upn}
			}
			_, err := q.GroupCreate(context.Background(), store.NewGroup{Name: "bulk", Source: "json", Members: ms})
			require.NoError(t, err)
			// reltuples is -1 until the table is first analyzed.
			var tuples float64
			require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT reltuples FROM pg_class WHERE oid = 'group_members'::regclass`).Scan(&tuples))
			require.Equal(t, tt.analyzed, tuples >= 0, "reltuples %v", tuples)
		})
	}
}

// TestLeaseAcquireCap: the deployment's cap holds across waves and
// concurrent takers, follows a raised cap, and a lowered one takes effect as
// slots are freed.
func TestLeaseAcquireCap(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	const waves, perWave = 4, 6
	_, err := q.SettingsSetMaxInFlight(ctx, 5, "test")
	require.NoError(t, err)
	type take struct{ wave, move int64 }
	var takes []take
	for i := range waves {
		w := f.wave(t, g, migration.WaveStateRunning, perWave)
		for j := range perWave {
			takes = append(takes, take{w, f.move(t, g, w, fmt.Sprintf("cap.%d.%d@contoso.com", i, j), migration.MoveStateQueued)})
		}
	}
	acquireAll := func(ts []take) []take {
		var mu sync.Mutex
		var granted []take
		var wg sync.WaitGroup
		for _, tk := range ts {
			wg.Go(func() {
				lease, err := q.LeaseAcquire(ctx, store.LeaseRequest{WaveID: tk.wave, MoveID: tk.move, TTL: time.Minute, Holder: "test"})
				if !assert.NoError(t, err) || !lease.OK {
					return
				}
				mu.Lock()
				granted = append(granted, tk)
				mu.Unlock()
			})
		}
		wg.Wait()
		return granted
	}
	held := func() int {
		n, err := q.LeasesHeld(ctx)
		require.NoError(t, err)
		return n
	}

	granted := acquireAll(takes)
	require.Len(t, granted, 5, "24 takers at once, a cap of 5")
	require.Equal(t, 5, held())

	_, err = q.SettingsSetMaxInFlight(ctx, 8, "test")
	require.NoError(t, err)
	require.Len(t, acquireAll(takes), 8, "raised to 8: three more, and the five renew theirs")
	require.Equal(t, 8, held())

	_, err = q.SettingsSetMaxInFlight(ctx, 2, "test")
	require.NoError(t, err)
	require.Equal(t, 8, held(), "lowered: the holders keep their slots")
	for _, tk := range granted {
		require.NoError(t, q.LeaseRelease(ctx, tk.move, "test"))
	}
	require.Equal(t, 3, held())
	var waiting []take
	for _, tk := range takes {
		if f.count(t, `SELECT count(*) FROM cap_slots WHERE move_id = $1`, tk.move) == 0 {
			waiting = append(waiting, tk)
		}
	}
	require.Empty(t, acquireAll(waiting), "above the lowered cap, nothing is taken")
	for _, tk := range takes {
		require.NoError(t, q.LeaseRelease(ctx, tk.move, "test"))
	}
	require.Len(t, acquireAll(waiting), 2, "drained: the lowered cap of 2")
}

// TestWaveStateTrigger walks every pair of wave states against the
// database: a change the state machine allows is made, any other refused
// and the wave left alone.
func TestWaveStateTrigger(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	g := f.group(t)
	for _, from := range migration.WaveStates {
		for _, to := range migration.WaveStates {
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				t.Parallel()
				id := f.wave(t, g, from, 1)
				_, err := f.pool.Exec(context.Background(), `
					UPDATE waves SET state = $2, started_at = coalesce(started_at, now()),
					       finished_at = CASE WHEN $2 IN ('completed', 'cancelled', 'rolled_back') THEN now() END
					WHERE id = $1`, id, to)
				var now migration.WaveState
				require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT state FROM waves WHERE id = $1`, id).Scan(&now))
				if from == to || from.CanMoveTo(to) {
					require.NoError(t, err)
					require.Equal(t, to, now)
					return
				}
				requirePgError(t, err, "23514", "waves_state_transition")
				require.Contains(t, err.Error(), fmt.Sprintf("illegal wave state change %s -> %s", from, to))
				require.Equal(t, from, now, "the refused change left the wave alone")
			})
		}
	}
}

// TestWaveStateTransitionsTable: the database's table of wave changes is
// the domain's.
func TestWaveStateTransitionsTable(t *testing.T) {
	t.Parallel()
	f, _ := newFixtures(t)
	rows, err := f.pool.Query(context.Background(), `SELECT from_state || ' -> ' || to_state FROM wave_state_transitions ORDER BY 1`)
	require.NoError(t, err)
	inDB, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	var inGo []string
	for _, from := range migration.WaveStates {
		for _, to := range migration.WaveStates {
			if from.CanMoveTo(to) {
				inGo = append(inGo, fmt.Sprintf("%s -> %s", from, to))
			}
		}
	}
	slices.Sort(inGo)
	require.Equal(t, inGo, inDB)
}

// TestWaveSetStateChanges walks every named wave change from every wave
// state through the store: it applies from exactly the states it starts
// from, records its event, and otherwise refuses with a conflict that says
// why, leaving the wave alone.
func TestWaveSetStateChanges(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	g := f.group(t)
	for _, c := range migration.WaveChanges {
		for _, from := range migration.WaveStates {
			t.Run(fmt.Sprintf("%s:%s->%s", c.Event, from, c.To), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				id := f.wave(t, g, from, 1)
				w, err := q.WaveSetState(ctx, id, c, "", "changed", "test")
				if !c.Starts(from) {
					require.Equal(t, migration.EConflict, migration.ErrorKind(err), "%v", err)
					require.Contains(t, err.Error(), "cannot be "+c.Words)
					require.Equal(t, 0, f.count(t, `SELECT count(*) FROM wave_events WHERE wave_id = $1`, id))
					return
				}
				require.NoError(t, err)
				require.Equal(t, c.To, w.State)
				require.Equal(t, 1, f.count(t, `SELECT count(*) FROM wave_events WHERE wave_id = $1 AND kind = $2`, id, c.Event))
			})
		}
	}
}

// TestWaveReasonCode: the code beside a wave's reason speaks of that
// reason: set with it, and cleared by any change of the state or the
// reason that does not set it.
func TestWaveReasonCode(t *testing.T) {
	t.Parallel()
	f, q := newFixtures(t)
	ctx := context.Background()
	g := f.group(t)
	tests := []struct {
		name   string
		change func(t *testing.T, w int64)
		want   string
	}{
		{name: "set with its reason", change: func(t *testing.T, w int64) {}, want: migration.ReasonReadiness},
		{name: "another reason without a code", change: func(t *testing.T, w int64) {
			require.NoError(t, q.WaveReason(ctx, w, migration.WaveStateScheduled, "not started: waiting for its window", ""))
		}},
		{name: "the wave starts", change: func(t *testing.T, w int64) {
			_, err := f.pool.Exec(ctx, `UPDATE waves SET state = 'running', started_at = now() WHERE id = $1`, w)
			require.NoError(t, err)
		}},
		{name: "an update that leaves state and reason alone", change: func(t *testing.T, w int64) {
			_, err := f.pool.Exec(ctx, `UPDATE waves SET schedule_rev = schedule_rev + 1 WHERE id = $1`, w)
			require.NoError(t, err)
		}, want: migration.ReasonReadiness},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := f.wave(t, g, migration.WaveStateScheduled, 1)
			require.NoError(t, q.WaveReason(ctx, w, migration.WaveStateScheduled, "not started: hybrid readiness check dns fails", migration.ReasonReadiness))
			tt.change(t, w)
			got, err := q.WaveGet(ctx, w)
			require.NoError(t, err)
			require.Equal(t, tt.want, got.StateReasonCode)
			require.Equal(t, tt.want == migration.ReasonReadiness, got.HeldByReadiness())
		})
	}
}
