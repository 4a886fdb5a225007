package jobs

import "github.com/cutover/cutover/internal/migration"

// The skeleton of a failed attempt, shared by the move and rollback
// workers: the worker classifies the cause, migration.Decide names the next
// step, and the worker's own steps take it. Both complete their River job
// the same way: by returning (nil once the move's outcome is written, an
// error to retry, a snooze to wait).

// failureSteps are a worker's steps after a failed attempt.
type failureSteps struct {
	// hold: not the user's (sign-in, Graph, no ready host): the move waits,
	// and the attempt is not counted.
	hold func(f migration.Failure, msg string) error
	// resume: a broken shell session, not counted; nil for a worker that
	// counts every break (a rollback).
	resume func(f migration.Failure, msg string) error
	// fail: for good; note says why when the attempts ran out.
	fail func(f migration.Failure, msg, note string) error
	// retry: River runs the job again after its backoff.
	retry func(f migration.Failure, msg string) error
}

// afterFailure takes the step that follows attempt n of maxAttempts, failed with f
// (its cause's message truncated as msg), breaks being the broken sessions
// of the run so far.
func afterFailure(f migration.Failure, cause error, n, maxAttempts, breaks int, s failureSteps) error {
	msg := truncate(cause.Error(), 1000)
	if s.resume == nil {
		breaks = max(breaks, migration.SessionBreaksFree) // none free
	}
	d := migration.Decide(f, n, maxAttempts, breaks)
	switch d.Next {
	case migration.NextHold:
		return s.hold(f, msg)
	case migration.NextResume:
		return s.resume(f, msg)
	case migration.NextFail:
		note := ""
		if d.NoAttemptsLeft {
			note = "; no attempts left"
		}
		return s.fail(f, msg, note)
	}
	return s.retry(f, msg)
}
