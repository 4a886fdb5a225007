package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// A lead's actions on a wave. Each is one transaction with the jobs it
// queues, and each is in the wave's timeline.

// WavePause pauses a wave: moves in flight finish, none start until it is
// resumed. A wave that has not started does not start while paused.
func (s *Scheduler) WavePause(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	var w migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		w, err = store.New(tx).WaveSetState(ctx, waveID, migration.WavePause, "paused by "+actor, "paused: moves in flight finish, no move starts until the wave is resumed", actor)
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
			change := migration.WaveResume
			if cur.StartedAt == nil {
				change = migration.WaveResumeScheduled
			}
			if w, err = q.WaveSetState(ctx, waveID, change, "", "resumed", actor); err != nil {
				return err
			}
			if change.To == migration.WaveStateScheduled {
				if w, err = q.WaveReschedule(ctx, waveID, w.StartAt, actor); err != nil {
					return err
				}
				return scheduleStart(ctx, tx, s.client, w)
			}
			_, err = reviewWave(ctx, tx, s.client, waveID, false, actor) // a wave whose last move ended while paused completes
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
			_, err = reviewWave(ctx, tx, s.client, waveID, false, actor)
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
		if w, err = q.WaveSetState(ctx, waveID, migration.WaveCancel, "cancelled by "+actor, "", actor); err != nil {
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
		if w, err = q.WaveSetState(ctx, waveID, migration.WaveRollBack, "rollback requested by "+actor, "", actor); err != nil {
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
