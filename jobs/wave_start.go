package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// WaveStartArgs starts a wave. The job is scheduled at the wave's start time.
// Rev is the wave's schedule it belongs to: a reschedule makes earlier jobs
// do nothing.
type WaveStartArgs struct {
	WaveID int64 `json:"wave_id"`
	Rev    int   `json:"rev,omitempty"`
}

// Kind implements river.JobArgs.
func (WaveStartArgs) Kind() string { return "wave_start" }

// InsertOpts implements river.JobArgsWithInsertOpts: one start job per wave
// and schedule.
func (WaveStartArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// WaveStartWorker starts a wave at its time: unless an earlier wave of its
// group is halted (the wave is blocked), and only inside its maintenance
// windows (it waits for the next). It sets the wave running and queues a
// move job for each of its users, in one transaction with the job's
// completion.
type WaveStartWorker struct {
	river.WorkerDefaults[WaveStartArgs]
	pool  *pgxpool.Pool
	cfg   Config
	actor string
}

// Work implements river.Worker.
func (w *WaveStartWorker) Work(ctx context.Context, job *river.Job[WaveStartArgs]) error {
	wave, err := store.New(w.pool).WaveGet(ctx, job.Args.WaveID)
	if migration.ErrorKind(err) == migration.ENotFound {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if wave.ScheduleRev != job.Args.Rev || wave.State != migration.WaveStateScheduled {
		return nil // rescheduled, or not to start (paused, cancelled, started)
	}
	if cal := wave.Calendar(); !cal.Always() {
		now := w.cfg.Now()
		if next, ok := cal.NextOpen(now); !ok || next.After(now) {
			return w.waitForWindow(ctx, wave, next, ok)
		}
	}
	if !wave.ReadinessOverride {
		if failed, err := blockingReadiness(ctx, store.New(w.pool)); err != nil || failed != nil {
			if err != nil {
				return err
			}
			return w.waitForReadiness(ctx, wave, *failed)
		}
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	err = pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		// First, as a hold's change takes it before the waves' rows: a hold
		// set while the wave starts then names it too.
		if err := q.HoldsLock(ctx); err != nil {
			return err
		}
		blocked, err := q.WaveGate(ctx, wave, w.actor)
		if err != nil {
			return err
		}
		if blocked != "" {
			return complete(ctx, tx, job)
		}
		wave, queued, started, err := q.WaveStart(ctx, job.Args.WaveID, w.actor)
		if err != nil || !started {
			return err
		}
		ev, err := q.WaveEventAdd(ctx, wave.ID, migration.WaveEventStarted, fmt.Sprintf("started: %d moves queued", queued), w.actor)
		if err != nil {
			return err
		}
		// Started while the deployment is held: its moves wait, and it says why.
		holds, err := q.Holds(ctx)
		if err != nil {
			return err
		}
		if len(holds) > 0 {
			if err := q.WaveReason(ctx, wave.ID, migration.WaveStateRunning, movesWait(holds), ""); err != nil {
				return err
			}
		}
		if err := notify(ctx, tx, client, ev, wave); err != nil {
			return err
		}
		// A chunk at a time: a wave of 100,000 is never in memory at once.
		if err := q.MovesQueued(ctx, wave.ID, enqueueChunk, func(chunk []store.QueuedMove) error {
			return NewQueue(client).Moves(ctx, tx, chunk, wave.MaxAttempts, time.Time{})
		}); err != nil {
			return err
		}
		if queued == 0 {
			if _, err := app.ReviewWave(ctx, tx, NewQueue(client), wave.ID, 0, migration.Recount, w.actor); err != nil {
				return err
			}
		}
		return complete(ctx, tx, job)
	})
	if err == nil {
		w.cfg.Notifier.Touch(job.Args.WaveID) // started or blocked
	}
	return err
}

// blockingReadiness returns the first failed check of the deployment's
// hybrid readiness (on premises, DNS) as workers last recorded it, if any: a
// wave does not start while one fails.
func blockingReadiness(ctx context.Context, q *store.Queries) (*migration.Check, error) {
	sections, err := q.ReadinessList(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range sections {
		for _, c := range s.Checks {
			if c.Status == migration.CheckFail {
				return &c, nil
			}
		}
	}
	return nil, nil
}

// readinessRecheck is how often a wave held by hybrid readiness looks again.
const readinessRecheck = 30 * time.Second

// waitForReadiness notes on the wave (once per reason) that it waits for a
// hybrid readiness check, and looks again later.
func (w *WaveStartWorker) waitForReadiness(ctx context.Context, wave migration.Wave, c migration.Check) error {
	reason := fmt.Sprintf("not started: hybrid readiness check %s fails: %s. Fix: %s. A lead can start it anyway (override readiness).", c.Name, c.Evidence, c.Fix)
	if wave.StateReason != reason {
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			q := store.New(tx)
			if err := q.WaveReason(ctx, wave.ID, migration.WaveStateScheduled, reason, migration.ReasonReadiness); err != nil {
				return err
			}
			_, err := q.WaveEventAdd(ctx, wave.ID, migration.WaveEventHeld, reason, w.actor)
			return err
		})
		if err != nil {
			return err
		}
		w.cfg.Notifier.Touch(wave.ID)
	}
	return river.JobSnooze(min(readinessRecheck, w.cfg.HostRecheck*10))
}

// waitForWindow notes in the wave's timeline (once) that it waits for its
// maintenance window, and snoozes the start until then.
func (w *WaveStartWorker) waitForWindow(ctx context.Context, wave migration.Wave, next time.Time, ok bool) error {
	reason := "no maintenance window opens in the next 18 months; reschedule the wave or change its windows"
	wait := 24 * time.Hour
	if ok {
		reason = "waiting for its maintenance window, which opens " + next.Format("Mon 2 Jan 2006 15:04 MST")
		wait = w.cfg.windowWait(next)
	}
	if wave.StateReason != reason {
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			q := store.New(tx)
			if err := q.WaveReason(ctx, wave.ID, migration.WaveStateScheduled, reason, ""); err != nil {
				return err
			}
			_, err := q.WaveEventAdd(ctx, wave.ID, migration.WaveEventWaiting, reason, w.actor)
			return err
		})
		if err != nil {
			return err
		}
		w.cfg.Notifier.Touch(wave.ID)
	}
	return river.JobSnooze(wait)
}
