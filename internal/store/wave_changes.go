package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// waveLock locks a wave and returns it.
func (q *Queries) waveLock(ctx context.Context, waveID int64) (migration.Wave, error) {
	r, err := q.gen.WaveLock(ctx, waveID)
	return waveOf(r), notFound(err, "wave %d does not exist", waveID)
}

// WaveLock locks a wave for the rest of the transaction and returns it.
func (q *Queries) WaveLock(ctx context.Context, waveID int64) (migration.Wave, error) {
	return q.waveLock(ctx, waveID)
}

// WaveSetState locks a wave and makes change c if the wave is in a state it
// starts from, with the reason shown beside it and c's event (none if
// message is ""). It returns the wave as changed, or an EConflict error
// saying why it cannot change.
func (q *Queries) WaveSetState(ctx context.Context, waveID int64, c migration.WaveChange, reason, message, actor string) (migration.Wave, error) {
	w, err := q.waveLock(ctx, waveID)
	if err != nil {
		return w, err
	}
	if !c.Starts(w.State) {
		allowed := make([]string, len(c.From))
		for i, s := range c.From {
			allowed[i] = string(s)
		}
		return w, migration.Errorf(migration.EConflict, "wave_"+string(w.State), "%s is %s, so it cannot be %s (only a wave that is %s can)",
			w.Name, w.State, c.Words, strings.Join(allowed, ", "))
	}
	if w, err = waveOrErr(q.gen.WaveSetState(ctx, dbsqlc.WaveSetStateParams{WaveID: waveID, ToState: string(c.To), Reason: reason})); err != nil || message == "" {
		return w, err
	}
	_, err = q.WaveEventAdd(ctx, waveID, c.Event, message, actor)
	return w, err
}

// MovesCancel cancels a wave's moves that have not started (pending, queued,
// waiting for a retry) with a code saying why, each with an event. It
// returns how many it cancelled.
func (q *Queries) MovesCancel(ctx context.Context, waveID int64, code migration.ErrorCode, message, actor string) (int, error) {
	n, err := q.gen.MovesCancel(ctx, dbsqlc.MovesCancelParams{WaveID: waveID, ErrorCode: string(code), Message: message, Actor: actor})
	return int(n), translate(err)
}

// MovesRequeueCancelled queues again a wave's moves that its halt cancelled,
// unless their user has an active move elsewhere or was planned again since.
// It returns them for the caller to enqueue.
func (q *Queries) MovesRequeueCancelled(ctx context.Context, waveID int64, message, actor string) ([]QueuedMove, error) {
	return queuedOf(q.gen.MovesRequeueCancelled(ctx, dbsqlc.MovesRequeueCancelledParams{WaveID: waveID, Message: message, Actor: actor}))
}

// WaveOutcome is what a wave's review did to it.
type WaveOutcome struct {
	Halted    bool
	Completed bool
	Wave      migration.Wave
	Reason    string // the halt's: the threshold crossed, in words
	Cancelled int
	Blocked   []migration.Wave
	Event     WaveEvent // the halt's or the completion's
	// RollBacks are the moves set rolling back (a halted wave that rolls
	// back what it moved), for the caller to enqueue.
	RollBacks []RollbackQueued
}

// WaveReviewFacts reads what the review of wave waveID judges after the
// end of its move moveID (0: a review without a move's end), in one
// statement, without the wave's lock.
func (q *Queries) WaveReviewFacts(ctx context.Context, waveID, moveID int64, end migration.MoveEnding) (migration.WaveFacts, error) {
	p := dbsqlc.WaveReviewFactsParams{WaveID: waveID, MoveID: moveID, CountAll: end.Failed}
	return factsOf(q.gen.WaveReviewFacts(ctx, p))
}

// WaveReviewFactsLocked locks the wave and reads the facts of its review
// (WaveReviewFacts), in a transaction: q must run in one.
func (q *Queries) WaveReviewFactsLocked(ctx context.Context, waveID, moveID int64, end migration.MoveEnding) (migration.WaveFacts, error) {
	if _, err := q.waveLock(ctx, waveID); err != nil {
		return migration.WaveFacts{}, err
	}
	return q.WaveReviewFacts(ctx, waveID, moveID, end)
}

// factsOf is the facts of a wave's review as WaveReviewFacts reads them.
func factsOf(r dbsqlc.WaveReviewFactsRow, err error) (migration.WaveFacts, error) {
	if err != nil {
		return migration.WaveFacts{}, notFound(err, "the wave does not exist")
	}
	f := migration.WaveFacts{Wave: waveOf(r.Wave), OtherActive: r.Active}
	if len(r.Counts) == 3 {
		f.Counted, f.Failed, f.Ended, f.Started = true, int(r.Counts[0]), int(r.Counts[1]), int(r.Counts[2])
	}
	return f, nil
}

// WaveReviewApply applies review r of the wave whose facts f were read
// under its lock (WaveReviewFactsLocked), in that transaction: it decides
// nothing. The adaptive limit is written; a halt halts the wave, cancels
// its moves not started and blocks the group's later waves; a completion
// completes it unless a move became active meanwhile; a rollback sets the
// users the halted wave moved rolling back (returned to enqueue). Each
// change is an event of the wave's.
func (q *Queries) WaveReviewApply(ctx context.Context, f migration.WaveFacts, r migration.WaveReview, actor string) (WaveOutcome, error) {
	w := f.Wave
	out := WaveOutcome{Wave: w}
	if r.CountSuccess {
		if err := q.gen.WaveLimitSuccess(ctx, dbsqlc.WaveLimitSuccessParams{WaveID: w.ID, ConcurrencyLimit: r.Limit, LimitSuccesses: r.Successes}); err != nil {
			return out, err
		}
		if r.LimitRaised {
			msg := fmt.Sprintf("moves in flight limited to %d (was %d)", r.Limit, w.ConcurrencyLimit)
			if _, err := q.WaveEventAdd(ctx, w.ID, migration.WaveEventLimitRaised, msg, actor); err != nil {
				return out, err
			}
		}
	}
	var err error
	switch {
	case r.Halt:
		out.Halted, out.Reason = true, r.HaltReason
		err = q.halt(ctx, &out, actor)
	case r.Complete:
		var n int64
		n, err = q.gen.WaveComplete(ctx, dbsqlc.WaveCompleteParams{WaveID: w.ID,
			FromStates: names(migration.WaveComplete.From), ToState: string(migration.WaveComplete.To)})
		if err != nil || n == 0 {
			return out, err
		}
		out.Completed = true
		out.Event, err = q.WaveEventAdd(ctx, w.ID, migration.WaveEventCompleted, w.Name+" completed", actor)
	}
	if err != nil || !r.RollBack {
		return out, err
	}
	// Users the wave moved, including those whose move was in flight when
	// it halted and has just ended.
	out.RollBacks, err = q.MovesRollBack(ctx, w.ID, "rollback on halt: moving the user back on premises", actor)
	return out, err
}

// WavesToReview returns the waves whose state a move's end may still change
// (running ones, and halted ones that roll back what they moved and have a
// user moved), for the periodic review that makes up for a review cut
// off by a dead process.
func (q *Queries) WavesToReview(ctx context.Context) ([]int64, error) {
	return q.gen.WavesToReview(ctx)
}

// halt halts the locked wave of out: cancels its moves not started and blocks
// the group's later waves.
func (q *Queries) halt(ctx context.Context, out *WaveOutcome, actor string) error {
	w := out.Wave
	var err error
	out.Wave, out.Cancelled, err = q.WaveStop(ctx, w.ID, migration.WaveHalt, migration.HaltReason(out.Reason), migration.CodeWaveHalted,
		"halted ("+out.Reason+")", actor)
	if err != nil {
		return err
	}
	msg := migration.HaltEvent(out.Reason, out.Cancelled, w.RollbackOnHalt)
	if out.Event, err = q.WaveEventAdd(ctx, w.ID, migration.WaveEventHalted, msg, actor); err != nil {
		return err
	}
	out.Blocked, err = q.blockLater(ctx, w, actor)
	return err
}

// WaveStop makes change c of a wave (a halt, a cancel) with the reason
// shown beside its state, and cancels its moves not started (pending,
// queued, waiting for a retry) with code, each saying "cancelled before it
// started: WAVE why"; moves in flight finish. It returns the wave as
// changed and how many moves it cancelled. The caller writes the wave's
// event, which says that number.
func (q *Queries) WaveStop(ctx context.Context, waveID int64, c migration.WaveChange, reason string, code migration.ErrorCode, why, actor string) (migration.Wave, int, error) {
	w, err := q.WaveSetState(ctx, waveID, c, reason, "", actor)
	if err != nil {
		return w, 0, err
	}
	n, err := q.MovesCancel(ctx, waveID, code, "cancelled before it started: "+w.Name+" "+why, actor)
	return w, n, err
}

// blockLater blocks the scheduled waves after w in its group.
func (q *Queries) blockLater(ctx context.Context, w migration.Wave, actor string) ([]migration.Wave, error) {
	reason := fmt.Sprintf("%s halted: resume or cancel it to let later waves start", w.Name)
	blocked, err := wavesOf(q.gen.WavesBlockAfter(ctx, dbsqlc.WavesBlockAfterParams{GroupID: w.GroupID, Number: w.Number,
		Reason: reason, FromStates: names(migration.WaveBlock.From), ToState: string(migration.WaveBlock.To)}))
	if err != nil {
		return nil, err
	}
	for _, b := range blocked {
		if _, err := q.WaveEventAdd(ctx, b.ID, migration.WaveEventBlocked, "blocked: "+reason, actor); err != nil {
			return nil, err
		}
	}
	return blocked, nil
}

// WaveGate blocks a wave about to start if an earlier wave of its group is
// halted, and says which; "" means it may start.
func (q *Queries) WaveGate(ctx context.Context, w migration.Wave, actor string) (string, error) {
	if w.GateOverride {
		return "", nil
	}
	halted, err := q.gen.WaveHaltedBefore(ctx, dbsqlc.WaveHaltedBeforeParams{GroupID: w.GroupID, Number: w.Number})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	reason := fmt.Sprintf("%s halted: resume or cancel it to let later waves start", halted)
	_, err = q.WaveSetState(ctx, w.ID, migration.WaveBlock, reason, "blocked: "+reason, actor)
	return reason, err
}

// WavesUnblock returns the group's blocked waves after number to scheduled,
// unless an earlier wave is still halted. It returns them, for the caller to
// schedule their start.
func (q *Queries) WavesUnblock(ctx context.Context, groupID int64, actor string) ([]migration.Wave, error) {
	waves, err := wavesOf(q.gen.WavesUnblock(ctx, dbsqlc.WavesUnblockParams{GroupID: groupID,
		FromStates: names(migration.WaveUnblock.From), ToState: string(migration.WaveUnblock.To)}))
	if err != nil {
		return nil, err
	}
	for _, w := range waves {
		if _, err := q.WaveEventAdd(ctx, w.ID, migration.WaveEventUnblocked, "unblocked: no earlier wave is halted; starts at its time", actor); err != nil {
			return nil, err
		}
	}
	return waves, nil
}

// WaveLimitOverload halves a wave's adaptive limit after a move that started
// at started failed with throttling or a time-out, unless the limit was
// lowered since that move started (its failure is news from before). It
// returns the limits before and after, equal when nothing changed.
func (q *Queries) WaveLimitOverload(ctx context.Context, waveID int64, started time.Time, code migration.ErrorCode, actor string) (int, int, error) {
	r, err := q.gen.WaveLimitLock(ctx, waveID)
	if err != nil {
		return 0, 0, err
	}
	from, lowered := r.ConcurrencyLimit, r.LimitLoweredAt
	to := migration.LimitDecrease(from)
	if (lowered != nil && !started.After(*lowered)) || from == to {
		return from, from, nil
	}
	if err := q.gen.WaveLimitLower(ctx, dbsqlc.WaveLimitLowerParams{WaveID: waveID, ConcurrencyLimit: to}); err != nil {
		return 0, 0, err
	}
	_, err = q.WaveEventAdd(ctx, waveID, migration.WaveEventLimitLowered,
		fmt.Sprintf("moves in flight limited to %d (was %d): %s", to, from, code), actor)
	return from, to, err
}

// RollbackQueued is a move set rolling back, with the run of its rollback.
type RollbackQueued struct {
	MoveID      int64
	Run         int
	MaxAttempts int
}

// MovesRollBack sets a wave's moved users (and failed rollbacks) rolling
// back, each with an event, and returns them for the caller to enqueue.
//
// A user being moved in another wave cannot be moved back: an EConflict
// error names each (up to migration.MaxProblems), with the wave they are
// in and what to do, and nothing changes.
func (q *Queries) MovesRollBack(ctx context.Context, waveID int64, message, actor string) ([]RollbackQueued, error) {
	var rows []dbsqlc.MovesRollBackRow
	err := q.inTx(ctx, func(tx *Queries) (err error) {
		rows, err = tx.gen.MovesRollBack(ctx, dbsqlc.MovesRollBackParams{WaveID: waveID, Message: message, Actor: actor})
		return err
	})
	if violates(err, "moves_one_active_per_upn") {
		return nil, q.usersBusy(ctx, waveID, []migration.MoveState{migration.MoveStateMoved, migration.MoveStateRollbackFailed}, "moved back on premises")
	}
	return mapRows(rows, err, func(r dbsqlc.MovesRollBackRow) RollbackQueued { return RollbackQueued(r) })
}

// usersBusy is the EConflict error of an action on a wave's users in
// states that would give some of them a second active move: it names each
// (up to migration.MaxProblems) with the wave they are busy in, and says
// what to do. what says what the action would do to them.
func (q *Queries) usersBusy(ctx context.Context, waveID int64, states []migration.MoveState, what string) error {
	busy, err := q.gen.WaveUsersBusy(ctx, dbsqlc.WaveUsersBusyParams{WaveID: waveID, States: names(states), MaxUsers: migration.MaxProblems})
	if err != nil {
		return err
	}
	if len(busy) == 0 { // they are no longer: the other moves ended meanwhile
		return migration.Errorf(migration.EConflict, "user_busy", "a user of this wave was in another wave a moment ago; try again")
	}
	var problems []migration.Problem
	for _, b := range busy {
		problems = append(problems, migration.Problem{Field: "users", Message: busyWords(b.UPN, b.DisplayName, migration.MoveState(b.BusyState),
			b.BusyWave, migration.WaveState(b.BusyWaveState), b.BusyGroup)})
	}
	e := migration.Errorf(migration.EConflict, "user_busy", "%s cannot be %s while in another wave: %s", usersWord(len(busy)), what, problems[0].Message)
	if len(busy) > 1 {
		e.Message += fmt.Sprintf(" (and %d more: see the details)", len(busy)-1)
	}
	e.Details = problems
	return e
}

// busyWords says where a user busy in another wave is, and what to do:
// "Ana Lima (ana.lima@contoso.com) is being moved in the running wave 2
// of Pilot: Finance; wait for the move to end".
func busyWords(upn, name string, state migration.MoveState, wave string, waveState migration.WaveState, group string) string {
	who := nameOfMember(upn, name)
	in := fmt.Sprintf("the %s wave %s of %s", waveState.Words(), wave, group)
	switch state {
	case migration.MoveStatePending:
		return fmt.Sprintf("%s is planned into %s; remove the user from that wave (or cancel it) first", who, in)
	case migration.MoveStateRollingBack:
		return fmt.Sprintf("%s is being moved back on premises by %s; wait for it to end", who, in)
	case migration.MoveStateRetrying:
		return fmt.Sprintf("%s waits to retry a move in %s; wait for it to end, or cancel that wave", who, in)
	}
	return fmt.Sprintf("%s is being moved in %s; wait for the move to end", who, in)
}

// WaveRollbackEnded looks at a wave once a rollback of one of its moves has
// ended, in that transaction: when none of its moves is still rolling back,
// a wave rolling back is rolled back, and the event saying so is returned
// (for a halted wave rolling back the users it moved, too). ok is false while
// rollbacks remain.
func (q *Queries) WaveRollbackEnded(ctx context.Context, waveID int64, actor string) (ev WaveEvent, w migration.Wave, ok bool, err error) {
	if w, err = q.waveLock(ctx, waveID); err != nil {
		return ev, w, false, err
	}
	if w.State != migration.WaveStateRollingBack && !(w.State == migration.WaveStateHalted && w.RollbackOnHalt) {
		return ev, w, false, nil
	}
	counts, err := q.gen.WaveRollbackCounts(ctx, waveID)
	if err != nil {
		return ev, w, false, err
	}
	if counts.Rolling > 0 {
		return ev, w, false, nil
	}
	rolledBack, failed := counts.RolledBack, counts.Failed
	msg := fmt.Sprintf("rollback ended: %d users moved back on premises, %d rollbacks failed", rolledBack, failed)
	if w.State == migration.WaveStateRollingBack {
		w, err = q.WaveSetState(ctx, waveID, migration.WaveRolledBack, "", "", actor)
		if err != nil {
			return ev, w, false, err
		}
	}
	ev, err = q.WaveEventAdd(ctx, waveID, migration.WaveEventRolledBack, msg, actor)
	return ev, w, err == nil, err
}

// WaveRetryCreate adds a wave to w's group holding users of w to move
// again, starting at startAt with w's settings, and returns it: with
// memberIDs nil, w's failed users; else exactly those members, each of
// whose move in w failed, was rolled back or was cancelled. Either way only
// users whose move in w is where they stand now (nothing later, here or in
// another group, stands in for it); a member named who is not is an
// EConflict error naming them. Its users' moves are pending until it
// starts, and supersede their moves in w.
func (q *Queries) WaveRetryCreate(ctx context.Context, w migration.Wave, memberIDs []int64, startAt time.Time, actor string) (migration.Wave, error) {
	if _, err := q.gen.GroupLock(ctx, w.GroupID); err != nil {
		return migration.Wave{}, err
	}
	next, err := q.gen.WaveNextNumber(ctx, w.GroupID)
	if err != nil {
		return migration.Wave{}, err
	}
	members, err := q.gen.WaveToRetry(ctx, dbsqlc.WaveToRetryParams{WaveID: w.ID, MemberIDs: memberIDs})
	if err != nil {
		return migration.Wave{}, err
	}
	if len(members) < len(memberIDs) {
		return migration.Wave{}, q.notRetryable(ctx, w, memberIDs, members)
	}
	if len(members) == 0 {
		return migration.Wave{}, migration.Errorf(migration.EConflict, "no_failed_users", "%s has no failed users to retry", w.Name)
	}
	name := fmt.Sprintf("%s retry", w.Name)
	if len([]rune(name)) > 100 {
		name = fmt.Sprintf("retry of wave %d", w.Number)
	}
	spec := migration.WaveSpec{Name: name, Size: len(members), StartAt: startAt, MaxAttempts: w.MaxAttempts,
		Concurrency: w.Concurrency, Controls: w.Controls}
	retry, err := q.waveInsert(ctx, w.GroupID, next, spec, &w.ID)
	if err != nil {
		return retry, err
	}
	what, planned := fmt.Sprintf("planned into %s to retry the failure in %s", retry.Name, w.Name), fmt.Sprintf("%d failed users planned into %s", len(members), retry.Name)
	if memberIDs != nil {
		what, planned = fmt.Sprintf("planned into %s to be moved again after %s", retry.Name, w.Name), fmt.Sprintf("%s planned into %s to be moved again", usersWord(len(members)), retry.Name)
	}
	if err := q.movesPlan(ctx, retry, members, what, actor); err != nil {
		return retry, err
	}
	_, err = q.WaveEventAdd(ctx, w.ID, migration.WaveEventRetryPlanned, planned, actor)
	return retry, err
}

// WaveRetryable checks that each of the members of w can be moved again
// from w (as WaveRetryCreate would take them): an EConflict error names
// those who cannot.
func (q *Queries) WaveRetryable(ctx context.Context, w migration.Wave, memberIDs []int64) error {
	members, err := q.gen.WaveToRetry(ctx, dbsqlc.WaveToRetryParams{WaveID: w.ID, MemberIDs: memberIDs})
	if err != nil {
		return err
	}
	if len(members) < len(memberIDs) {
		return q.notRetryable(ctx, w, memberIDs, members)
	}
	return nil
}

// notRetryable is the error of a retry of members of w some of whom
// (those not in eligible) cannot be moved again from w: it names each, with
// where they stand.
func (q *Queries) notRetryable(ctx context.Context, w migration.Wave, asked, eligible []int64) error {
	moves, err := q.MoveList(ctx, w.ID, "")
	if err != nil {
		return err
	}
	var problems []migration.Problem
	for i, id := range asked {
		if slices.Contains(eligible, id) {
			continue
		}
		why := fmt.Sprintf("member %d is not in %s", id, w.Name)
		for _, m := range moves {
			if m.MemberID != id {
				continue
			}
			switch {
			case m.SupersededBy != nil:
				why = fmt.Sprintf("%s was moved on to a later wave after %s; act on that wave instead", nameOf(m), w.Name)
			case m.State.Active() || m.State == migration.MoveStateMoved || m.State == migration.MoveStateSkipped || m.State == migration.MoveStateRollbackFailed:
				why = fmt.Sprintf("%s is %s in %s, so there is nothing to move again", nameOf(m), migration.OutcomeOf(m.State).Words(), w.Name)
			default:
				why = fmt.Sprintf("%s has been moved or planned in another group since %s; look the user up to see where they stand", nameOf(m), w.Name)
			}
		}
		problems = append(problems, migration.Problem{Field: fmt.Sprintf("users[%d]", i), Message: why})
	}
	e := migration.Errorf(migration.EConflict, "not_retryable", "%s of the %d chosen cannot be moved again from %s: %s",
		usersWord(len(problems)), len(asked), w.Name, problems[0].Message)
	e.Details = problems
	return e
}

// nameOf names the user of a move for a person: "Ana Lima (ana.lima@contoso.com)".
func nameOf(m migration.Move) string { return nameOfMember(m.UPN, m.DisplayName) }

// usersWord says "1 user" or "n users".
func usersWord(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

// movesPlan adds a pending move to wave w for each member; they share one
// timeline entry with message.
func (q *Queries) movesPlan(ctx context.Context, w migration.Wave, memberIDs []int64, message, actor string) error {
	return translate(q.gen.MovesPlan(ctx, dbsqlc.MovesPlanParams{WaveID: w.ID, MemberIDs: memberIDs, Message: message, Actor: actor}))
}

// WaveMembersChange adds group members (by UPN or SIP address) to a wave that
// has not started and removes users from it. Members to add must be in the
// wave's group, not being moved anywhere, and not planned, or not moved by
// their move in the group (failed, rolled back or cancelled: this wave
// moves them again); users to remove
// must be in the wave. Every problem is named; nothing changes unless all
// are right. It returns the wave as changed.
func (q *Queries) WaveMembersChange(ctx context.Context, waveID int64, add, remove []string, actor string) (migration.Wave, error) {
	w, err := q.waveLock(ctx, waveID)
	if err != nil {
		return w, err
	}
	if !w.Unstarted() {
		return w, migration.Errorf(migration.EConflict, "wave_started", "%s has started (%s): users can be added or removed only before it starts", w.Name, w.State)
	}
	var problems []migration.Problem
	var addIDs, removeIDs []int64
	for i, id := range add {
		r, err := q.gen.WaveMemberToAdd(ctx, dbsqlc.WaveMemberToAddParams{GroupID: w.GroupID, Identity: NormalizeIdentity(id)})
		state := migration.MoveState(r.State)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			problems = append(problems, migration.Problem{Field: fmt.Sprintf("add[%d]", i), Message: fmt.Sprintf("%s is not a member of the wave's pilot group", id)})
		case err != nil:
			return w, err
		case r.BusyState != "":
			problems = append(problems, migration.Problem{Field: fmt.Sprintf("add[%d]", i), Message: busyWords(id, r.DisplayName,
				migration.MoveState(r.BusyState), r.BusyWave, migration.WaveState(r.BusyWaveState), r.BusyGroup)})
		case r.State == "" || state == migration.MoveStateFailed || state == migration.MoveStateRolledBack || state == migration.MoveStateCancelled:
			addIDs = append(addIDs, r.ID) // never planned, or not moved: moved (again) by this wave
		default:
			problems = append(problems, migration.Problem{Field: fmt.Sprintf("add[%d]", i),
				Message: fmt.Sprintf("%s is %s in %s already", id, migration.OutcomeOf(state).Words(), r.WaveName)})
		}
	}
	for i, id := range remove {
		moveID, err := q.gen.WaveMoveToRemove(ctx, dbsqlc.WaveMoveToRemoveParams{WaveID: waveID, Identity: NormalizeIdentity(id)})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			problems = append(problems, migration.Problem{Field: fmt.Sprintf("remove[%d]", i), Message: fmt.Sprintf("%s is not in %s", id, w.Name)})
		case err != nil:
			return w, err
		default:
			removeIDs = append(removeIDs, moveID)
		}
	}
	if len(problems) > 0 {
		return w, migration.InvalidProblems("invalid_members", problems)
	}
	size := w.Size + len(addIDs) - len(removeIDs)
	if size < 1 {
		return w, migration.Invalid("invalid_members", "remove", "removing %d users would leave %s empty; cancel the wave instead", len(removeIDs), w.Name)
	}
	if len(addIDs) > 0 {
		// A user removed from this wave and added back gets their move back.
		revived, err := q.gen.MovesRevive(ctx, dbsqlc.MovesReviveParams{WaveID: waveID, MemberIDs: addIDs,
			Message: "added back to " + w.Name + " by a migration lead", Actor: actor})
		if err != nil {
			return w, translate(err)
		}
		fresh := slices.DeleteFunc(addIDs, func(id int64) bool { return slices.Contains(revived, id) })
		if len(fresh) > 0 {
			if err := q.movesPlan(ctx, w, fresh, "added to "+w.Name+" by a migration lead", actor); err != nil {
				return w, err
			}
		}
	}
	if len(removeIDs) > 0 {
		if err := q.gen.MovesRemove(ctx, dbsqlc.MovesRemoveParams{MoveIDs: removeIDs,
			Message: "removed from " + w.Name + " by a migration lead", Actor: actor}); err != nil {
			return w, translate(err)
		}
	}
	if w, err = waveOrErr(q.gen.WaveResize(ctx, dbsqlc.WaveResizeParams{WaveID: waveID, Size: size})); err != nil {
		return w, err
	}
	_, err = q.WaveEventAdd(ctx, waveID, migration.WaveEventMembers, fmt.Sprintf("%d users added, %d removed; %d in the wave", len(addIDs), len(removeIDs), size), actor)
	return w, err
}

// WaveReschedule moves the start of a wave that has not started, and bumps
// its schedule so that its earlier start job does nothing. It returns the
// wave as changed.
func (q *Queries) WaveReschedule(ctx context.Context, waveID int64, startAt time.Time, actor string) (migration.Wave, error) {
	w, err := q.waveLock(ctx, waveID)
	if err != nil {
		return w, err
	}
	if !w.Unstarted() {
		return w, migration.Errorf(migration.EConflict, "wave_started", "%s has started (%s), so it cannot be rescheduled", w.Name, w.State)
	}
	if w, err = waveOrErr(q.gen.WaveReschedule(ctx, dbsqlc.WaveRescheduleParams{WaveID: waveID, StartAt: startAt})); err != nil {
		return w, err
	}
	_, err = q.WaveEventAdd(ctx, waveID, migration.WaveEventRescheduled, "rescheduled to start "+startAt.UTC().Format("2006-01-02 15:04:05 UTC"), actor)
	return w, err
}

// WaveResumeHalted sets a halted wave running again: failures before now no
// longer count toward its threshold, and the moves its halt cancelled are
// queued again (returned for the caller to enqueue).
func (q *Queries) WaveResumeHalted(ctx context.Context, waveID int64, actor string) (migration.Wave, []QueuedMove, error) {
	w, err := q.WaveSetState(ctx, waveID, migration.WaveResumeHalted, "", "", actor)
	if err != nil {
		return w, nil, err
	}
	if err := q.gen.WaveThresholdRestart(ctx, waveID); err != nil {
		return w, nil, err
	}
	queued, err := q.MovesRequeueCancelled(ctx, waveID, "queued again: "+w.Name+" was resumed after its halt", actor)
	if err != nil {
		return w, nil, err
	}
	_, err = q.WaveEventAdd(ctx, waveID, migration.WaveEventResumed,
		fmt.Sprintf("resumed after the halt: %d moves queued again; failures before now no longer count toward the threshold", len(queued)), actor)
	return w, queued, err
}

// WaveGateOverride lets a blocked wave start at its time although an earlier
// wave is halted (a lead's decision).
func (q *Queries) WaveGateOverride(ctx context.Context, waveID int64, actor string) (migration.Wave, error) {
	w, err := q.WaveSetState(ctx, waveID, migration.WaveUnblock, "",
		"unblocked by a migration lead: starts at its time although an earlier wave is halted", actor)
	if err != nil {
		return w, err
	}
	return waveOrErr(q.gen.WaveGateOverride(ctx, waveID))
}

// WaveReason sets the reason shown beside a wave's state, and its code
// ("" or migration.ReasonReadiness), if the wave is still in that state.
func (q *Queries) WaveReason(ctx context.Context, waveID int64, state migration.WaveState, reason, code string) error {
	return q.gen.WaveReason(ctx, dbsqlc.WaveReasonParams{WaveID: waveID, State: string(state), Reason: reason, Code: code})
}
