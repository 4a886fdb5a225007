package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// RollbackArgs moves one moved user back on premises, to the registrar pool
// in the move's rollback record.
type RollbackArgs struct {
	MoveID int64 `json:"move_id"`
	// Run counts the rollbacks of the move (a failed rollback can be
	// requested again).
	Run int `json:"run"`
}

// Kind implements river.JobArgs.
func (RollbackArgs) Kind() string { return "rollback" }

// InsertOpts implements river.JobArgsWithInsertOpts: one job per rollback.
func (RollbackArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMoves, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RollbackWorker moves a user back to the pool their rollback record names,
// with its own retries and timeline events. The user loses what lives only
// online: no contacts come back from Teams (migration.ExpectMovedBack).
type RollbackWorker struct {
	river.WorkerDefaults[RollbackArgs]
	pool  *pgxpool.Pool
	shell migration.Shell
	cfg   Config
	log   *slog.Logger
	actor string
	ready *Readiness
}

// NextRetry implements river.Worker: the backoff of Config.
func (w *RollbackWorker) NextRetry(job *river.Job[RollbackArgs]) time.Time {
	return time.Now().Add(w.cfg.Backoff(job.Attempt, job.ID))
}

// Timeout implements river.Worker.
func (w *RollbackWorker) Timeout(*river.Job[RollbackArgs]) time.Duration { return w.cfg.jobTimeout() }

// Work implements river.Worker.
func (w *RollbackWorker) Work(ctx context.Context, job *river.Job[RollbackArgs]) error {
	q := store.New(w.pool)
	m, err := q.MoveGet(ctx, job.Args.MoveID)
	if err != nil {
		return err
	}
	if m.State != migration.MoveStateRollingBack {
		return nil // done already, or not asked for
	}
	w.ready.ensure(river.ClientFromContext[pgx.Tx](ctx))
	if err := w.ready.gate(ctx, job.ID); err != nil {
		return err
	}
	prefix := fmt.Sprintf("rollback attempt %d of %d: ", job.Attempt, job.MaxAttempts)
	rec, err := q.RollbackRecordGet(ctx, m.ID)
	if err != nil {
		return err
	}
	// finish records the rollback's outcome. As a move's job does, the job
	// completes once Work returns: a rollback already ended makes a rerun
	// do nothing.
	finish := func(to migration.MoveState, code migration.ErrorCode, msg, errMsg string) error {
		ctx := context.WithoutCancel(ctx)
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			q := store.New(tx)
			if err := q.MoveUpdate(ctx, store.MoveChange{MoveID: m.ID, To: to, Attempt: m.Attempts,
				ErrorCode: code, ErrorMessage: errMsg, Message: prefix + msg, Actor: w.actor}); err != nil {
				return err
			}
			// The wave's last rollback ends the wave's rollback.
			ev, wave, ended, err := q.WaveRollbackEnded(ctx, m.WaveID, w.actor)
			if err != nil {
				return err
			}
			if ended {
				return notify(ctx, tx, river.ClientFromContext[pgx.Tx](ctx), ev, wave)
			}
			return nil
		})
		if err == nil {
			w.cfg.Notifier.Touch(m.WaveID)
		}
		return err
	}
	if rec == nil {
		return finish(migration.MoveStateRollbackFailed, migration.CodeNoRollbackRecord,
			"failed: no rollback record was captured for this move", "no rollback record")
	}
	// A rollback counts a broken session as the transient failure it is:
	// it has no free ones (no resume step).
	fail := func(cause error) error {
		if se, ok := errors.AsType[sideError](cause); ok {
			// A shell that answers nobody: not counted, and the rollback
			// waits for it as moves do.
			held, err := w.ready.unanswered(ctx, river.ClientFromContext[pgx.Tx](ctx), se)
			if err != nil {
				return err
			}
			if held {
				e := notCounted(prefix, se)
				e.Attempt, e.Actor = m.Attempts, w.actor
				if err := q.MoveEventAdd(context.WithoutCancel(ctx), m.ID, e); err != nil {
					return err
				}
				return w.ready.snooze(job.ID)
			}
		}
		return afterFailure(migration.Classify(cause), cause, job.Attempt, job.MaxAttempts, 0, failureSteps{
			hold: func(f migration.Failure, msg string) error { // not the user's: held, not counted
				if err := w.ready.holdMove(context.WithoutCancel(ctx), river.ClientFromContext[pgx.Tx](ctx), f, m.ID,
					migration.MoveEvent{Actor: w.actor, Message: prefix}, msg); err != nil {
					return err
				}
				return w.ready.snooze(job.ID)
			},
			fail: func(f migration.Failure, msg, note string) error {
				return finish(migration.MoveStateRollbackFailed, f.Code, "failed: "+string(f.Code)+": "+msg+note, msg)
			},
			retry: func(f migration.Failure, msg string) error {
				if err := q.MoveEventAdd(ctx, m.ID, migration.MoveEvent{ErrorCode: f.Code, Actor: w.actor,
					Message: prefix + "failed: " + string(f.Code) + ": " + msg + "; retrying"}); err != nil {
					return err
				}
				return fmt.Errorf("%s: %w", f.Code, cause)
			},
		})
	}
	call := func(cmdlet string, fn func(context.Context) error) error {
		return w.ready.call(ctx, migration.SideShell, cmdlet+" for "+m.UPN, fn)
	}
	var u migration.ShellUser
	if err := call("Get-CsUser", func(ctx context.Context) (err error) { u, err = w.shell.GetUser(ctx, m.UPN); return err }); err != nil {
		return fail(err)
	}
	if u.HomedOnline(w.cfg.Target) {
		if err := call("Move-CsUser", func(ctx context.Context) error { return w.shell.MoveToPool(ctx, m.UPN, rec.RegistrarPool) }); err != nil {
			return fail(err)
		}
		if err := call("Get-CsUser", func(ctx context.Context) (err error) { u, err = w.shell.GetUser(ctx, m.UPN); return err }); err != nil {
			return fail(err)
		}
	}
	if u.HomedOnline(w.cfg.Target) || !strings.EqualFold(u.RegistrarPool, rec.RegistrarPool) {
		return fail(fmt.Errorf("the user is not back on %s (HostingProvider %q, RegistrarPool %q)", rec.RegistrarPool, u.HostingProvider, u.RegistrarPool))
	}
	return finish(migration.MoveStateRolledBack, "", fmt.Sprintf(
		"moved back to %s (Move-CsUser -Target %s). %s Recorded before the move, for checking: %s, %s.",
		rec.RegistrarPool, rec.RegistrarPool, migration.ExpectMovedBack, rec.SipAddress, rec.VoiceWords()), "")
}
