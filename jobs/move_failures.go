package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// What an attempt does after a failure: classify it, then hold, resume,
// retry or fail as migration.Decide says (afterFailure).

// fail records a failed attempt: a transient failure with attempts left
// waits for its retry (River schedules it with NextRetry); anything else
// fails the move.
func (a *attempt) fail(ctx context.Context, cause error) error {
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return cause // stopping: Work hands the move on
	}
	if _, ok := errors.AsType[databaseError](cause); ok {
		return cause // not the user's: Work hands the move on
	}
	if se, ok := errors.AsType[sideError](cause); ok {
		held, err := a.w.ready.unanswered(ctx, river.ClientFromContext[pgx.Tx](ctx), se)
		if err != nil {
			return dbErr(err)
		}
		if held {
			return a.unanswered(ctx, se)
		}
	}
	f, err := a.classify(ctx, cause)
	if err != nil {
		return err
	}
	breaks := 0
	if f.Code == migration.CodeSessionBroken {
		if _, breaks, err = store.New(a.w.pool).MoveRunErrors(context.WithoutCancel(ctx), a.move.ID, f.Code); err != nil {
			return dbErr(err)
		}
	}
	return afterFailure(f, cause, a.n, a.job.MaxAttempts, breaks, failureSteps{
		hold:   func(f migration.Failure, msg string) error { return a.hold(ctx, f, msg) },
		resume: func(f migration.Failure, msg string) error { return a.resume(ctx, f, msg) },
		fail: func(f migration.Failure, msg, note string) error {
			return a.finish(ctx, store.MoveChange{To: migration.MoveStateFailed, ErrorCode: f.Code, ErrorMessage: msg,
				Message: fmt.Sprintf("failed: %s: %s%s", f.Code, msg, note)})
		},
		retry: func(f migration.Failure, msg string) error { return a.retry(ctx, f, msg, cause) },
	})
}

// retry writes that the attempt failed and when the next one is, frees the
// move's slot, and returns the error that has River run the job again.
func (a *attempt) retry(ctx context.Context, f migration.Failure, msg string, cause error) error {
	next := time.Now().Add(a.w.cfg.Backoff(a.n, a.job.ID)).Truncate(time.Second)
	err := a.change(context.WithoutCancel(ctx), store.New(a.w.pool), store.MoveChange{
		To: migration.MoveStateRetrying, ErrorCode: f.Code, ErrorMessage: msg, NextAttemptAt: &next,
		Message: a.prefix() + fmt.Sprintf("failed: %s: %s; next attempt at %s", f.Code, msg, next.UTC().Format("15:04:05 UTC")),
	}, true)
	if err != nil {
		return err
	}
	a.w.freed.wakeOne(0)
	if a.w.overloads.end(a.move.WaveID, f.Overload(), time.Now()) {
		a.overload(context.WithoutCancel(ctx), f.Code)
	}
	return fmt.Errorf("%s: %w", f.Code, cause)
}

// hold stops moves across the deployment for a failure that is not the
// user's (a sign-in that fails, Graph unreachable): the attempt is not counted, the slot is
// freed, and the move waits for the hold to clear. The next run reads the
// homing first, so a move cut off here is not made twice.
func (a *attempt) hold(ctx context.Context, f migration.Failure, msg string) error {
	ctx = context.WithoutCancel(ctx)
	if err := a.w.ready.holdMove(ctx, river.ClientFromContext[pgx.Tx](ctx), f, a.move.ID,
		migration.MoveEvent{Attempt: a.n, Actor: a.w.actor, Message: a.prefix()}, msg); err != nil {
		return dbErr(err)
	}
	a.w.release(ctx, a.move.ID)
	return a.w.ready.snooze(a.job.ID)
}

// resume hands back a move stopped by a failure that is not the user's
// (the shell's session broke: the host's fault): the attempt is not
// counted, the timeline says so, the slot is freed, and this host checks
// its shell again at once (a host that fails takes no moves, and with none
// ready the deployment is held).
func (a *attempt) resume(ctx context.Context, f migration.Failure, msg string) error {
	ctx = context.WithoutCancel(ctx)
	if err := store.New(a.w.pool).MoveEventAdd(ctx, a.move.ID, migration.MoveEvent{Attempt: a.n, Actor: a.w.actor, ErrorCode: f.Code,
		Message: a.prefix() + "not counted: " + string(f.Code) + ": " + msg + "; this host checks its shell again, and the move goes on from where it was"}); err != nil {
		return dbErr(err)
	}
	if a.w.cfg.Interrupted != nil {
		a.w.cfg.Interrupted(CauseShellSession, 1)
	}
	a.w.ready.recheck()
	a.w.release(ctx, a.move.ID)
	return a.w.ready.snooze(a.job.ID)
}

// unanswered hands back a move whose call met a side that does not answer
// (the deployment, or this host, is held for it): the attempt is not
// counted, the timeline says so, the slot is freed, and the move waits for
// the side to answer a probe again.
func (a *attempt) unanswered(ctx context.Context, se sideError) error {
	ctx = context.WithoutCancel(ctx)
	e := notCounted(a.prefix(), se)
	e.Attempt, e.Actor = a.n, a.w.actor
	if err := store.New(a.w.pool).MoveEventAdd(ctx, a.move.ID, e); err != nil {
		return dbErr(err)
	}
	if a.w.cfg.Interrupted != nil {
		a.w.cfg.Interrupted(string(se.side.Code()), 1)
	}
	a.w.release(ctx, a.move.ID)
	return a.w.ready.snooze(a.job.ID)
}

// classify finds the failure's catalogue entry. A 507 is read against time
// (migration.SettleLicence): from the licence's assignment in Graph, or
// else from the first 507 of this run of the move.
func (a *attempt) classify(ctx context.Context, cause error) (migration.Failure, error) {
	if _, ok := errors.AsType[sideError](cause); ok {
		// A call that did not answer while its side answered others:
		// the user's own time-out.
		return migration.FailureFor(migration.CodeTimeout), nil
	}
	f := migration.Classify(cause)
	if f.Code != migration.CodeLicenceMissing {
		return f, nil
	}
	ctx = context.WithoutCancel(ctx)
	q := store.New(a.w.pool)
	since := a.licencedAt
	if since.IsZero() {
		first, _, err := q.MoveRunErrors(ctx, a.move.ID, migration.CodeLicenceProvisioning)
		if err != nil {
			return f, dbErr(err)
		}
		since = cmp.Or(first, time.Now())
	}
	// The time the deployment was held is not the licence's: read the
	// settle time without it.
	now := time.Now()
	spans, err := q.HeldSpans(ctx, since)
	if err != nil {
		return f, dbErr(err)
	}
	return migration.SettleLicence(f, since, now.Add(-migration.HeldWithin(spans, since, now)), a.w.cfg.LicenceSettle), nil
}
