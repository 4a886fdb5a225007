package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// What an attempt writes: each change of its move before it acts on it,
// and its end with the freeing of its slot and the review of its wave.

// change moves the move to a new state and records the event, after the
// pending change if there is one, in one round trip; with release it frees
// the move's slot in the same implicit transaction.
func (a *attempt) change(ctx context.Context, q *store.Queries, c store.MoveChange, release ...bool) error {
	releaseBy := ""
	if len(release) > 0 && release[0] {
		releaseBy = a.w.cfg.ID
	}
	return a.write(c, func(cs []store.MoveChange) error { return q.MoveUpdates(ctx, releaseBy, cs...) })
}

// end is change for the change that ends the attempt (how: ending): once
// it has committed, in the same round trip, it reads the facts of its
// wave's review (store.MoveEnd). The facts are zero when the end was
// written but the read after it failed.
func (a *attempt) end(ctx context.Context, c store.MoveChange, ending migration.MoveEnding, release bool) (act migration.WaveFacts, err error) {
	releaseBy := ""
	if release {
		releaseBy = a.w.cfg.ID
	}
	err = a.write(c, func(cs []store.MoveChange) (err error) {
		act, err = store.New(a.w.pool).MoveEnd(ctx, a.move.WaveID, ending, releaseBy, cs...)
		if errors.Is(err, store.ErrEndUnread) {
			// The end is written: only the review of the wave is lost,
			// and the sweep makes it up.
			a.w.log.Warn("a move ended, but its wave could not be read after it; the sweep reviews the wave", "wave_id", a.move.WaveID, "move_id", a.move.ID, "error", err)
			act, err = migration.WaveFacts{}, nil
		}
		return err
	})
	return act, err
}

// write writes c, after the pending change if there is one, with send.
func (a *attempt) write(c store.MoveChange, send func([]store.MoveChange) error) error {
	c.MoveID, c.Attempt, c.Actor = a.move.ID, a.n, a.w.actor
	cs := []store.MoveChange{c}
	if a.pending != nil {
		cs = []store.MoveChange{*a.pending, c}
	}
	if err := send(cs); err != nil {
		return dbErr(err)
	}
	for _, c := range cs {
		a.changed(c)
	}
	return nil
}

// flush writes the pending change, if any.
func (a *attempt) flush(ctx context.Context, q *store.Queries) error {
	if a.pending == nil {
		return nil
	}
	if err := q.MoveUpdate(ctx, *a.pending); err != nil {
		return dbErr(err)
	}
	a.changed(*a.pending)
	return nil
}

// changed notes a change written to the move (committed: the pages
// following its wave are told).
func (a *attempt) changed(c store.MoveChange) {
	a.w.cfg.Notifier.Touch(a.move.WaveID)
	if a.pending != nil && c.To == a.pending.To {
		a.pending = nil
	}
	a.move.State = c.To
	if c.To == migration.MoveStatePreflight && a.move.StartedAt == nil {
		now := time.Now()
		a.move.StartedAt = &now
	}
	if c.MoveIssued && a.move.MoveIssuedAt == nil {
		now := time.Now() // the database's own is a moment earlier
		a.move.MoveIssuedAt = &now
	}
}

// overload lowers the wave's adaptive limit after a throttling or time-out
// failure, once the wave's latest attempt ends say the service is
// struggling (overloads). It runs after the failure is recorded, in a
// transaction of its own: a limit not lowered is no reason to lose the
// failure.
func (a *attempt) overload(ctx context.Context, code migration.ErrorCode) {
	from, to, err := store.New(a.w.pool).WaveLimitOverload(ctx, a.move.WaveID, a.leasedAt, code, a.w.actor)
	switch {
	case err != nil:
		a.w.log.Warn("lowering the wave's concurrency failed", "wave_id", a.move.WaveID, "error", err)
	case to < from:
		a.w.cfg.Notifier.Touch(a.move.WaveID)
		a.w.log.Info("wave's concurrency lowered", "wave_id", a.move.WaveID, "wave", a.move.WaveName, "from", from, "to", to, "code", code)
	}
}

// finish ends the move (moved, skipped or failed) and frees its slot in one
// round trip, which reads the facts of the wave's review; then it reviews
// the wave (app.ReviewAfterEnd), which counts the outcome toward the wave's
// adaptive limit and halts or completes the wave as the rule says.
func (a *attempt) finish(ctx context.Context, c store.MoveChange) error {
	ctx = context.WithoutCancel(ctx) // the outcome is known: record it even if the job times out now
	c.Message = a.prefix() + c.Message
	failed := c.To == migration.MoveStateFailed
	overload := failed && migration.FailureFor(c.ErrorCode).Overload()
	ending := migration.MoveEnding{Counted: true, Failed: failed, Overload: overload}
	// River completes the job once Work returns: a move already ended
	// makes a rerun of the job do nothing, so the two need not commit
	// together.
	//
	// In a wave with a failure threshold the slot is held until the wave
	// has been reviewed, so that no move takes it before the threshold
	// halts the wave.
	hold := a.holdSlot
	act, err := a.end(ctx, c, ending, !hold)
	if err != nil {
		return err
	}
	if !hold {
		a.w.freed.wakeOne(0)
		a.slotHeld()
	}
	var out store.WaveOutcome
	if act.Wave.ID != 0 { // else unread: the sweep reviews the wave
		out, err = app.ReviewAfterEnd(ctx, a.w.pool, queueOf(ctx), act, a.move.ID, ending, a.w.actor)
	}
	if err != nil {
		// The move's end is recorded; the wave is reviewed again by the
		// next move's end or the sweep.
		a.w.log.Warn("reviewing the wave after a move ended failed", "wave_id", a.move.WaveID, "move_id", a.move.ID, "error", err)
	} else {
		touchOutcome(a.w.cfg.Notifier, a.move.WaveID, out)
	}
	if hold {
		a.w.release(ctx, a.move.ID)
		a.slotHeld()
	}
	logOutcome(a.w.log, out)
	if a.w.cfg.MoveEnded != nil {
		took := time.Duration(0)
		if a.move.StartedAt != nil {
			took = time.Since(*a.move.StartedAt)
		}
		a.w.cfg.MoveEnded(c.To, took)
	}
	if a.w.overloads.end(a.move.WaveID, overload, time.Now()) {
		a.overload(ctx, c.ErrorCode)
	}
	return nil
}

// slotHeld reports, once the slot is freed, how long the attempt held it
// outside its move call (attempts that made no call are not reported).
func (a *attempt) slotHeld() {
	if a.w.cfg.SlotHeld != nil && a.callTook > 0 && !a.slotAt.IsZero() {
		a.w.cfg.SlotHeld(time.Since(a.slotAt) - a.callTook)
	}
}
