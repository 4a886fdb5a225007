package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// afterMove looks at a move's wave once the move has ended, under the wave's
// lock in tx (success: it went without throttling): it halts the wave when
// its failures cross the threshold, rolls back what a halt says to roll
// back, completes the wave when nothing is left, and notifies webhooks of
// what happened.
func afterMove(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], waveID int64, success bool, actor string) (store.WaveOutcome, error) {
	q := store.New(tx)
	out, err := q.WaveAfterMove(ctx, waveID, success, actor)
	if err != nil {
		return out, err
	}
	if out.Wave.State == migration.WaveStateHalted && out.Wave.RollbackOnHalt {
		// Users the wave moved, including those whose move was in flight
		// when it halted and has just ended.
		if err := rollBackWave(ctx, tx, client, waveID, "rollback on halt: moving the user back on premises", actor); err != nil {
			return out, err
		}
	}
	if out.Halted || out.Completed {
		if err := notify(ctx, tx, client, out.Event, out.Wave); err != nil {
			return out, err
		}
	}
	return out, nil
}

// settle looks at a move's wave once the move's end has committed: when the
// end may change the wave (store.WaveMaySettle) it runs afterMove, under the
// wave's lock, in a transaction of its own. A look cut off by a dead process
// is made up for by WaveSweepWorker.
func settle(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], waveID, moveID int64, success bool, actor string) (store.WaveOutcome, error) {
	var out store.WaveOutcome
	may, err := store.New(pool).WaveMaySettle(ctx, waveID, moveID, success)
	if err != nil || !may {
		return out, err
	}
	return afterMoveTx(ctx, pool, client, waveID, success, actor)
}

// afterMoveTx runs afterMove in a transaction of its own.
func afterMoveTx(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], waveID int64, success bool, actor string) (store.WaveOutcome, error) {
	var out store.WaveOutcome
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		out, err = afterMove(ctx, tx, client, waveID, success, actor)
		return err
	})
	return out, err
}

// WaveSweepArgs looks at every wave a move's end may still change, in case
// the look after some move's end was cut off (its process died between the
// move's end and the look): a wave whose last move so ended would otherwise
// run for ever. River's leader inserts it every SweepInterval.
type WaveSweepArgs struct{}

// Kind implements river.JobArgs.
func (WaveSweepArgs) Kind() string { return "wave_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WaveSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// SweepInterval is how often the waves are swept (WaveSweepArgs).
const SweepInterval = 30 * time.Second

// WaveSweepWorker works WaveSweepArgs.
type WaveSweepWorker struct {
	river.WorkerDefaults[WaveSweepArgs]
	pool  *pgxpool.Pool
	cfg   Config
	log   *slog.Logger
	actor string
}

// Work implements river.Worker.
func (w *WaveSweepWorker) Work(ctx context.Context, job *river.Job[WaveSweepArgs]) error {
	ids, err := store.New(w.pool).WavesUnsettled(ctx)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	for _, id := range ids {
		out, err := afterMoveTx(ctx, w.pool, client, id, false, w.actor)
		if err != nil {
			return err
		}
		logOutcome(w.log, out)
	}
	return w.heal(ctx, client)
}

// heal gives every stranded move (not final, no River job that will run it:
// River discarded its job, or it was deleted) a new job, and says so in its
// timeline. The new job reads the homing first, as any run does.
func (w *WaveSweepWorker) heal(ctx context.Context, client *river.Client[pgx.Tx]) error {
	stranded, err := store.New(w.pool).MovesWithoutJob(ctx, w.cfg.StrandedQuiet, 1000)
	if err != nil || len(stranded) == 0 {
		return err
	}
	for _, m := range stranded {
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			res, err := client.InsertTx(ctx, tx, MoveArgs{MoveID: m.MoveID, Run: m.Run}, &river.InsertOpts{MaxAttempts: m.MaxAttempts})
			if err != nil {
				return err
			}
			if res.UniqueSkippedAsDuplicate {
				w.log.Warn("a stranded move's new job was refused as a duplicate of a finished one", "move_id", m.MoveID, "run", m.Run)
				return nil
			}
			return store.New(tx).MoveEventAdd(ctx, m.MoveID, migration.MoveEvent{Actor: w.actor,
				Message: "no job was left to run this move (River gave it up, or it was deleted): a new one is queued"})
		})
		if err != nil {
			return err
		}
		w.log.Warn("a stranded move was given a new job", "move_id", m.MoveID, "run", m.Run)
	}
	return nil
}

// logOutcome logs a wave's halt or completion.
func logOutcome(log *slog.Logger, out store.WaveOutcome) {
	switch {
	case out.Halted:
		log.Warn("wave halted", "wave_id", out.Wave.ID, "wave", out.Wave.Name, "reason", out.Reason, "cancelled", out.Cancelled, "blocked_waves", len(out.Blocked))
	case out.Completed:
		log.Info("wave completed", "wave_id", out.Wave.ID, "wave", out.Wave.Name)
	}
}

// rollBackWave sets the wave's moved users rolling back and queues their
// rollback jobs.
func rollBackWave(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], waveID int64, message, actor string) error {
	queued, err := store.New(tx).MovesRollBack(ctx, waveID, message, actor)
	if err != nil || len(queued) == 0 {
		return err
	}
	params := make([]river.InsertManyParams, len(queued))
	for i, r := range queued {
		params[i] = river.InsertManyParams{Args: RollbackArgs{MoveID: r.MoveID, Run: r.Run}, InsertOpts: &river.InsertOpts{MaxAttempts: r.MaxAttempts}}
	}
	_, err = client.InsertManyTx(ctx, tx, params)
	return err
}

// enqueueMoves queues a job for each move.
func enqueueMoves(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], queued []store.QueuedMove, maxAttempts int, at time.Time) error {
	if len(queued) == 0 {
		return nil
	}
	opts := &river.InsertOpts{MaxAttempts: maxAttempts}
	if at.After(time.Now()) {
		opts.ScheduledAt = at
	}
	// In chunks, so that a wave of 100,000 does not hold every job's
	// encoded row in memory at once.
	for chunk := range slices.Chunk(queued, enqueueChunk) {
		params := make([]river.InsertManyParams, len(chunk))
		for i, m := range chunk {
			params[i] = river.InsertManyParams{Args: MoveArgs{MoveID: m.MoveID, Run: m.Run}, InsertOpts: opts}
		}
		if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
			return err
		}
	}
	return nil
}

// enqueueChunk is how many move jobs are inserted at a time.
const enqueueChunk = 2000

// scheduleStart queues the start job of a wave at its start time (at once if
// that has passed).
func scheduleStart(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], w migration.Wave) error {
	opts := &river.InsertOpts{}
	if w.StartAt.After(time.Now()) {
		opts.ScheduledAt = w.StartAt
	}
	_, err := client.InsertTx(ctx, tx, WaveStartArgs{WaveID: w.ID, Rev: w.ScheduleRev}, opts)
	return err
}

// unblock returns a group's blocked waves to their schedule once no earlier
// wave is halted.
func unblock(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], groupID int64, actor string) error {
	waves, err := store.New(tx).WavesUnblock(ctx, groupID, actor)
	if err != nil {
		return err
	}
	for _, w := range waves {
		if err := scheduleStart(ctx, tx, client, w); err != nil {
			return err
		}
	}
	return nil
}

// A lead's actions on a wave. Each is one transaction with the jobs it
// queues, and each is in the wave's timeline.

// WavePause pauses a wave: moves in flight finish, none start until it is
// resumed. A wave that has not started does not start while paused.
func (s *Scheduler) WavePause(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		w, err = store.New(tx).WaveSetState(ctx, waveID, []migration.WaveState{migration.WaveStateRunning, migration.WaveStateScheduled},
			migration.WaveStatePaused, "paused by "+actor, store.WaveEventPaused, "paused: moves in flight finish, no move starts until the wave is resumed", actor)
		return err
	})
	return w, err
}

// WaveResume resumes a paused wave, a halted one (its cancelled moves are
// queued again and failures before now stop counting toward its threshold;
// the group's blocked waves may start), or lets a blocked one start at its
// time although an earlier wave is halted.
func (s *Scheduler) WaveResume(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		cur, err := q.WaveGet(ctx, waveID)
		if err != nil {
			return err
		}
		switch cur.State {
		case migration.WaveStatePaused:
			to := migration.WaveStateRunning
			if cur.StartedAt == nil {
				to = migration.WaveStateScheduled
			}
			if w, err = q.WaveSetState(ctx, waveID, []migration.WaveState{migration.WaveStatePaused}, to, "", store.WaveEventResumed, "resumed", actor); err != nil {
				return err
			}
			if to == migration.WaveStateScheduled {
				if w, err = q.WaveReschedule(ctx, waveID, w.StartAt, actor); err != nil {
					return err
				}
				return scheduleStart(ctx, tx, s.client, w)
			}
			_, err = afterMove(ctx, tx, s.client, waveID, false, actor) // a wave whose last move ended while paused completes
			return err
		case migration.WaveStateHalted:
			var queued []store.QueuedMove
			if w, queued, err = q.WaveResumeHalted(ctx, waveID, actor); err != nil {
				return err
			}
			if err := enqueueMoves(ctx, tx, s.client, queued, w.MaxAttempts, time.Time{}); err != nil {
				return err
			}
			if err := unblock(ctx, tx, s.client, w.GroupID, actor); err != nil {
				return err
			}
			_, err = afterMove(ctx, tx, s.client, waveID, false, actor)
			return err
		case migration.WaveStateBlocked:
			if w, err = q.WaveGateOverride(ctx, waveID, actor); err != nil {
				return err
			}
			return scheduleStart(ctx, tx, s.client, w)
		}
		return migration.Errorf(migration.EConflict, "wave_"+string(cur.State), "%s is %s; only a paused, halted or blocked wave can be resumed", cur.Name, cur.State)
	})
	if err != nil {
		return w, err
	}
	return store.New(s.pool).WaveGet(ctx, waveID)
}

// WaveOverrideReadiness lets a scheduled wave start although a hybrid
// readiness check that blocks moves fails: the lead's decision, in the
// wave's timeline (and, through the API, the audit log).
func (s *Scheduler) WaveOverrideReadiness(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		cur, err := q.WaveGet(ctx, waveID)
		if err != nil {
			return err
		}
		if cur.State != migration.WaveStateScheduled {
			return migration.Errorf(migration.EConflict, "wave_"+string(cur.State), "%s is %s; only a scheduled wave waits for readiness", cur.Name, cur.State)
		}
		if w, err = q.WaveReadinessOverride(ctx, waveID); err != nil {
			return err
		}
		if _, err := q.WaveEventAdd(ctx, waveID, store.WaveEventRescheduled, "hybrid readiness overridden: the wave starts although a check that blocks moves fails", actor); err != nil {
			return err
		}
		return scheduleStart(ctx, tx, s.client, w)
	})
	return w, err
}

// WaveCancel cancels a wave that has not finished: its moves not started are
// cancelled, moves in flight finish. Cancelling a halted wave lets the
// group's blocked waves start.
func (s *Scheduler) WaveCancel(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		q := store.New(tx)
		if w, err = q.WaveSetState(ctx, waveID, []migration.WaveState{migration.WaveStateScheduled, migration.WaveStateBlocked,
			migration.WaveStateRunning, migration.WaveStatePaused, migration.WaveStateHalted},
			migration.WaveStateCancelled, "cancelled by "+actor, store.WaveEventCancelled, "", actor); err != nil {
			return err
		}
		n, err := q.MovesCancel(ctx, waveID, migration.CodeWaveCancelled, "cancelled before it started: "+w.Name+" was cancelled by "+actor, actor)
		if err != nil {
			return err
		}
		if _, err := q.WaveEventAdd(ctx, waveID, store.WaveEventCancelled, fmt.Sprintf("cancelled: %d moves not started were cancelled; moves in flight finish", n), actor); err != nil {
			return err
		}
		return unblock(ctx, tx, s.client, w.GroupID, actor)
	})
	return w, err
}

// WaveRollback moves a wave's moved users back on premises, through their
// rollback records. The wave must have ended (completed, halted or
// cancelled) with no move in flight; a rolled-back wave can be rolled back
// again to retry failed rollbacks.
func (s *Scheduler) WaveRollback(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		q := store.New(tx)
		tallies, err := q.WaveTallies(ctx, []int64{waveID})
		if err != nil {
			return err
		}
		counts := tallies[waveID].Counts
		inFlight := 0
		for st, n := range counts {
			if st.InFlight() || st == migration.MoveStateQueued || st == migration.MoveStateRetrying {
				inFlight += n
			}
		}
		if w, err = q.WaveSetState(ctx, waveID, []migration.WaveState{migration.WaveStateCompleted, migration.WaveStateHalted,
			migration.WaveStateCancelled, migration.WaveStateRolledBack}, migration.WaveStateRollingBack, "rollback requested by "+actor, store.WaveEventRollingBack, "", actor); err != nil {
			return err
		}
		if inFlight > 0 {
			return migration.Errorf(migration.EConflict, "moves_in_flight", "%s has %d moves queued or in flight; wait for them to end (or cancel the wave) before rolling it back", w.Name, inFlight)
		}
		toRollBack := counts[migration.MoveStateMoved] + counts[migration.MoveStateRollbackFailed]
		if toRollBack == 0 {
			return migration.Errorf(migration.EConflict, "nothing_to_roll_back", "%s has no moved users to roll back", w.Name)
		}
		if _, err := q.WaveEventAdd(ctx, waveID, store.WaveEventRollingBack, fmt.Sprintf("rolling back: %d users are moved back on premises", toRollBack), actor); err != nil {
			return err
		}
		return rollBackWave(ctx, tx, s.client, waveID, "rollback of "+w.Name+" requested: moving the user back on premises", actor)
	})
	return w, err
}

// WaveRetryFailed plans a wave's failed users into a new wave of the same
// group, with the same settings, starting at startAt (now if zero).
func (s *Scheduler) WaveRetryFailed(ctx context.Context, waveID int64, startAt time.Time, actor string) (migration.Wave, error) {
	var retry migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		w, err := q.WaveGet(ctx, waveID)
		if err != nil {
			return err
		}
		if startAt.IsZero() {
			startAt = time.Now()
		}
		if retry, err = q.WaveRetryCreate(ctx, w, startAt, actor); err != nil {
			return err
		}
		return scheduleStart(ctx, tx, s.client, retry)
	})
	return retry, err
}

// WaveMembers adds users of the wave's group to a wave that has not started,
// and removes users from it.
func (s *Scheduler) WaveMembers(ctx context.Context, waveID int64, add, remove []string, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		w, err = store.New(tx).WaveMembersChange(ctx, waveID, add, remove, actor)
		return err
	})
	return w, err
}

// WaveReschedule moves the start of a wave that has not started.
func (s *Scheduler) WaveReschedule(ctx context.Context, waveID int64, startAt time.Time, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		if w, err = store.New(tx).WaveReschedule(ctx, waveID, startAt, actor); err != nil {
			return err
		}
		if w.State != migration.WaveStateScheduled {
			return nil // blocked or paused: it is scheduled when released
		}
		return scheduleStart(ctx, tx, s.client, w)
	})
	return w, err
}
