package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// MoveArgs moves one user. Run is the move's run the job belongs to: a job
// of an earlier run (before a lead's retry) does nothing.
type MoveArgs struct {
	MoveID int64 `json:"move_id"`
	Run    int   `json:"run"`
}

// Kind implements river.JobArgs.
func (MoveArgs) Kind() string { return "move" }

// InsertOpts implements river.JobArgsWithInsertOpts: one job per move and run.
func (MoveArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMoves, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// MoveWorker moves one user: pre-flight (read the homing), capture the
// rollback record, move, verify. A transient failure retries with backoff up
// to the wave's max attempts; a permanent one fails the move at once. Every
// outcome is written in the transaction that completes the job.
//
// A move starts only while its wave runs, inside the wave's maintenance
// windows, and with a slot: under the wave's adaptive limit and the
// deployment's cap on moves in flight.
type MoveWorker struct {
	river.WorkerDefaults[MoveArgs]
	pool   *pgxpool.Pool
	shell  migration.Shell
	cfg    Config
	log    *slog.Logger
	actor  string
	tenant tenantCache
	freed  waiters // moves waiting for a slot freed in this process
	ready  *Readiness
	// overloads are each wave's latest attempt ends in this process: its
	// limit is lowered when a share of them said the service pushes back.
	overloads overloads
}

// NextRetry implements river.Worker: the backoff of Config.
func (w *MoveWorker) NextRetry(job *river.Job[MoveArgs]) time.Time {
	return time.Now().Add(w.cfg.Backoff(job.Attempt, job.ID))
}

// Timeout implements river.Worker.
func (w *MoveWorker) Timeout(*river.Job[MoveArgs]) time.Duration { return w.cfg.jobTimeout() }

// Work implements river.Worker. A move stopped by the database (out of
// reach, or cut off mid-attempt) or whose move changed under it spends no
// attempt: it runs again shortly, reading the move and the homing afresh.
func (w *MoveWorker) Work(ctx context.Context, job *river.Job[MoveArgs]) error {
	defer w.ready.beat.work(job.Args.MoveID)()
	err := w.work(ctx, job)
	if de, ok := errors.AsType[databaseError](err); ok && (ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return w.databaseWait(ctx, job, de)
	}
	if errors.Is(err, store.ErrStale) {
		// The move changed under this attempt (a lead cancelled it, or it
		// went to another process while this one was cut off), or this
		// process lost its slot before the move call: nothing more is done
		// here, and the next run reads the move afresh.
		w.release(context.WithoutCancel(ctx), job.Args.MoveID)
		return river.JobSnooze(time.Second)
	}
	return err
}

// databaseWait hands a move stopped by the database back to the queue
// without spending an attempt, and says so wherever it can: in the log and
// the metrics, and in the move's timeline if the database answers again.
func (w *MoveWorker) databaseWait(ctx context.Context, job *river.Job[MoveArgs], de databaseError) error {
	ctx = context.WithoutCancel(ctx)
	w.log.Warn("a move met a database failure: it runs again shortly, no attempt counted", "move_id", job.Args.MoveID, "error", de.err)
	if w.cfg.Interrupted != nil {
		w.cfg.Interrupted(CauseDatabase, 1)
	}
	note, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = store.New(w.pool).MoveEventAdd(note, job.Args.MoveID, migration.MoveEvent{Attempt: job.Attempt, Actor: w.actor,
		Message: fmt.Sprintf("attempt %d of %d: not counted: the database failed (%s); the move goes on shortly from where it was", job.Attempt, job.MaxAttempts, truncate(de.err.Error(), 300))})
	w.release(note, job.Args.MoveID)
	return river.JobSnooze(time.Second + time.Duration(job.ID%1000)*time.Millisecond)
}

// databaseError marks an error of the database rather than of the user's
// move (store.Unavailable).
type databaseError struct{ err error }

func (e databaseError) Error() string { return "the database: " + e.err.Error() }

func (e databaseError) Unwrap() error { return e.err }

// dbErr marks an error of a query as the database's when it is.
func dbErr(err error) error {
	if store.Unavailable(err) {
		return databaseError{err}
	}
	return err
}

func (w *MoveWorker) work(ctx context.Context, job *river.Job[MoveArgs]) error {
	m, wave, err := store.New(w.pool).MoveWithWave(ctx, job.Args.MoveID)
	err = dbErr(err)
	if migration.ErrorKind(err) == migration.ENotFound {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if m.Run != job.Args.Run || m.State.Done() {
		return nil // a job of an earlier run, or a move ended (or cancelled)
	}
	// Nothing starts on a host that is not ready, or while the deployment
	// is held (a sign-in that fails): the move waits, spending no attempt.
	w.ready.ensure(river.ClientFromContext[pgx.Tx](ctx))
	if err := w.ready.gate(ctx, job.ID); err != nil {
		return dbErr(err)
	}
	// A move cut off in flight (its worker died) finishes whatever its wave
	// does since; one that has not started waits for its wave and window.
	var cal migration.Calendar
	hold := true // a move cut off in flight is rare: hold its slot whatever its wave
	if !m.State.InFlight() {
		if wave.State == migration.WaveStatePaused {
			return river.JobSnooze(w.cfg.PausePoll)
		}
		cal, hold = wave.Calendar(), wave.Threshold.Set()
	}
	closed := func() error {
		if cal.Always() {
			return nil
		}
		now := w.cfg.Now()
		next, ok := cal.NextOpen(now)
		if !ok {
			return river.JobSnooze(24 * time.Hour)
		}
		if next.After(now) {
			return river.JobSnooze(w.cfg.windowWait(next) + time.Duration(job.ID%1000)*time.Millisecond)
		}
		return nil
	}
	n := job.Attempt
	if m.State.InFlight() && m.Attempts > 0 {
		// A run cut off in flight (its worker died, or the database failed
		// under it and River counted the job's run) goes on as the same
		// attempt: the interruption is not counted.
		n = m.Attempts
	}
	a := &attempt{w: w, job: job, move: m, wave: wave, n: n, holdSlot: hold}
	start := a.start()
	lease, err := w.acquire(ctx, m, closed, start)
	if errors.Is(err, store.ErrStale) {
		// The slot was taken, but the move changed under us before it
		// started (its wave halted or was cancelled): nothing was done.
		w.release(context.WithoutCancel(ctx), m.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if !lease.OK {
		switch lease.WaveState {
		case migration.WaveStateRunning:
			// Still no slot: wait without spending an attempt.
			return river.JobSnooze(time.Second + time.Duration(job.ID%500)*time.Millisecond)
		case migration.WaveStatePaused:
			return river.JobSnooze(w.cfg.PausePoll)
		}
		return nil // the wave halted or was cancelled: the move was cancelled with it
	}
	a.leasedAt, a.slotAt = lease.At, time.Now()
	if start != nil {
		a.changed(*start)
	}
	err = a.run(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// Cancelled (the process is stopping): free the slot and hand the
		// move to the next worker without spending an attempt. That worker
		// reads the homing first, so a move cut off half way is not repeated.
		w.release(context.WithoutCancel(ctx), m.ID)
		return river.JobSnooze(0)
	}
	return err
}
