package jobs

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Scheduler writes the changes that need River jobs, each in one transaction
// with its jobs: planning a group into waves, retrying a user.
type Scheduler struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
}

// NewScheduler returns a Scheduler inserting jobs through client.
func NewScheduler(pool *pgxpool.Pool, client *river.Client[pgx.Tx]) *Scheduler {
	return &Scheduler{pool: pool, client: client}
}

// Plan plans the group's members not yet in a wave into the waves plan makes,
// and schedules a start job for each wave at its start time.
//
// Errors: ENotFound (no such group), EConflict (every member planned already,
// or users with an active move elsewhere), EInvalid (from plan).
func (s *Scheduler) Plan(ctx context.Context, groupID int64, actor string, plan store.PlanFunc) ([]migration.Wave, error) {
	var waves []migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if waves, err = store.New(tx).WavesCreate(ctx, groupID, actor, plan); err != nil {
			return err
		}
		for _, w := range waves {
			if err := scheduleStart(ctx, tx, s.client, w); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		n := 0
		for _, w := range waves {
			n += w.Size
		}
		store.New(s.pool).AnalyzeAfterBulk(ctx, n, "moves", "move_events")
	}
	return waves, err
}

// Rollback moves a moved user back on premises, to the pool in their
// rollback record; a failed rollback can be asked for again.
//
// Errors: ENotFound (no move for this user), EConflict (the user's latest
// move is not moved or rollback_failed).
func (s *Scheduler) Rollback(ctx context.Context, identity, actor string) (migration.Move, error) {
	var m migration.Move
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		var err error
		if m, err = latestMove(ctx, q, identity, "roll back"); err != nil {
			return err
		}
		if m.State != migration.MoveStateMoved && m.State != migration.MoveStateRollbackFailed {
			return migration.Errorf(migration.EConflict, "not_moved", "%s cannot be rolled back: their move is %s; only a moved user (or a failed rollback) can be", m.UPN, m.State)
		}
		runs, err := q.MoveEventCount(ctx, m.ID, migration.MoveStateRollingBack)
		if err != nil {
			return err
		}
		if err := q.MoveUpdate(ctx, store.MoveChange{MoveID: m.ID, To: migration.MoveStateRollingBack, Attempt: m.Attempts,
			Message: "rollback requested: moving the user back on premises", Actor: actor}); err != nil {
			return err
		}
		_, err = s.client.InsertTx(ctx, tx, RollbackArgs{MoveID: m.ID, Run: runs + 1}, &river.InsertOpts{MaxAttempts: m.MaxAttempts})
		return err
	})
	return m, err
}

// Retry queues a user's failed move again, as a new run with its own
// attempts.
//
// Errors: ENotFound (no move for this user), EConflict (the user's latest
// move has not failed).
func (s *Scheduler) Retry(ctx context.Context, identity, actor string) (migration.Move, error) {
	var m migration.Move
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		latest, err := latestMove(ctx, q, identity, "retry")
		if err != nil {
			return err
		}
		if latest.State != migration.MoveStateFailed {
			return migration.Errorf(migration.EConflict, "not_failed", "%s cannot be retried: their move is %s, and only a failed move can be retried", latest.UPN, latest.State)
		}
		wave, err := q.WaveGet(ctx, latest.WaveID)
		if err != nil {
			return err
		}
		switch wave.State {
		case migration.WaveStateRunning, migration.WaveStateCompleted, migration.WaveStatePaused:
		default:
			return migration.Errorf(migration.EConflict, "wave_"+string(wave.State), "%s cannot be retried in %s, which is %s; retry the wave's failed users as a new wave instead", latest.UPN, wave.Name, wave.State)
		}
		if m, err = q.MoveRequeue(ctx, latest.ID, actor); err != nil {
			if errors.Is(err, store.ErrStale) {
				return migration.Errorf(migration.EConflict, "not_failed", "%s changed while it was being retried; look again", latest.UPN)
			}
			return err
		}
		_, err = s.client.InsertTx(ctx, tx, MoveArgs{MoveID: m.ID, Run: m.Run}, &river.InsertOpts{MaxAttempts: m.MaxAttempts})
		return err
	})
	return m, err
}

// latestMove returns the user's latest move, or an ENotFound error saying
// there is none to act on.
func latestMove(ctx context.Context, q *store.Queries, identity, action string) (migration.Move, error) {
	moves, err := q.MovesByUser(ctx, identity)
	if err != nil {
		return migration.Move{}, err
	}
	if len(moves) == 0 {
		return migration.Move{}, migration.Errorf(migration.ENotFound, "user_not_found", "%s has no move to %s", identity, action)
	}
	return moves[0], nil
}
