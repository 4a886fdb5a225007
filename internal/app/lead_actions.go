package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// A lead's actions. Each is one transaction with the jobs it queues and its
// audit entry, and each is in the timelines of the waves and users it
// changes.

// GroupImport creates a pilot group and its members: all of them or
// nothing. (The store refreshes the planner's statistics after a big one.)
// It reports which users stand in cutover's moves in other groups, and
// leaves out those of the kinds g.LeaveOut names.
func (s *Service) GroupImport(ctx context.Context, a Actor, g store.NewGroup) (migration.Group, store.ImportReport, error) {
	var created migration.Group
	var report store.ImportReport
	g.CreatedBy = a.Name
	if a.Subject == "" {
		a.Subject = g.Name // the audit log names the group imported
	}
	err := s.changeBy(ctx, &a, AuditGroupImport, "group "+g.Name, func(_ pgx.Tx, q *store.Queries) (err error) {
		created, report, err = q.GroupCreateChecked(ctx, g)
		a.GroupID = &created.ID
		return err
	})
	return created, report, err
}

// errPreviewImport ends an import's preview: its transaction is rolled back.
var errPreviewImport = errors.New("import preview")

// GroupImportPreview reads and checks a new group exactly as GroupImport
// would (every member, the name in use, the users in cutover's moves
// elsewhere) and keeps nothing: its transaction is rolled back.
func (s *Service) GroupImportPreview(ctx context.Context, g store.NewGroup) (store.ImportReport, error) {
	var report store.ImportReport
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if _, report, err = store.New(tx).GroupCreateChecked(ctx, g); err != nil {
			return err
		}
		return errPreviewImport
	})
	if !errors.Is(err, errPreviewImport) {
		return report, err
	}
	return report, nil
}

// Plan plans the group's members not yet in a wave into the waves plan
// makes (once it knows how many are left and the next wave's number), and
// schedules a start job for each wave at its start time.
//
// Errors: ENotFound (no such group), EConflict (every member planned already,
// or users with an active move elsewhere), EInvalid (from the plan).
func (s *Service) Plan(ctx context.Context, a Actor, groupID int64, plan store.PlanFunc) ([]migration.Wave, error) {
	return s.PlanSaid(ctx, a, groupID, plan, store.PlanSaid{})
}

// PlanSaid is Plan, keeping the plan as the lead wrote it (said) with the
// group, where its page shows it again.
func (s *Service) PlanSaid(ctx context.Context, a Actor, groupID int64, plan store.PlanFunc, said store.PlanSaid) ([]migration.Wave, error) {
	var waves []migration.Wave
	err := s.change(ctx, a, AuditGroupPlan, fmt.Sprintf("group %d", groupID), func(tx pgx.Tx, q *store.Queries) error {
		var err error
		if waves, err = q.WavesCreate(ctx, groupID, a.Name, plan); err != nil {
			return err
		}
		if said.Sentence != "" {
			ids := make([]int64, len(waves))
			for i, w := range waves {
				ids[i] = w.ID
			}
			if err := q.GroupPlanAdd(ctx, groupID, said, ids, a.Name); err != nil {
				return err
			}
		}
		for _, w := range waves {
			if err := s.queue.WaveStart(ctx, tx, w); err != nil {
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
		store.New(s.pool).AnalyzeAfterBulk(ctx, n, "moves")
	}
	return waves, err
}

// errPreview ends a plan's preview: its transaction is rolled back.
var errPreview = errors.New("plan preview")

// PlanPreview makes a plan's waves exactly as Plan would (names, sizes,
// start times, the users still unplanned, the users busy in another wave)
// and keeps nothing: the transaction is rolled back. The waves have no ID.
func (s *Service) PlanPreview(ctx context.Context, groupID int64, plan store.PlanFunc) ([]migration.Wave, error) {
	var waves []migration.Wave
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if waves, err = store.New(tx).WavesCreate(ctx, groupID, "preview", plan); err != nil {
			return err
		}
		return errPreview
	})
	if !errors.Is(err, errPreview) {
		return nil, err
	}
	for i := range waves {
		waves[i].ID = 0
	}
	return waves, nil
}

// PlanEnd is when a plan's waves are expected to end, at the pace of the
// moves of the last week: each wave from its start, its users at most its
// concurrency at once, each taking the median time a move took (windows and
// failures not counted).
type PlanEnd struct {
	// Pace is the median move; Moves how many it is the median of (0: no
	// move has ended, and nothing is estimated).
	Pace  time.Duration
	Moves int
	// Ends are each wave's expected end, in the plan's order; Last the
	// latest.
	Ends []time.Time
	Last time.Time
}

// PlanEnds estimates when the waves of a plan end.
func (s *Service) PlanEnds(ctx context.Context, waves []migration.Wave) (PlanEnd, error) {
	var e PlanEnd
	var err error
	if e.Pace, e.Moves, err = s.q().MovePace(ctx); err != nil || e.Moves == 0 {
		return e, err
	}
	for _, w := range waves {
		rounds := (w.Size + max(w.Concurrency, 1) - 1) / max(w.Concurrency, 1)
		end := w.StartAt.Add(time.Duration(rounds) * e.Pace)
		e.Ends = append(e.Ends, end)
		if end.After(e.Last) {
			e.Last = end
		}
	}
	return e, nil
}

// UserRollBack moves a user back on premises, to the pool in the rollback
// record of the move that put them in Teams (which need not be their
// latest: a later group may have found them online); a failed rollback can
// be asked for again.
//
// Errors: ENotFound (no move for this user), EConflict (the user is not in
// Teams by a move of cutover's, or is being moved).
func (s *Service) UserRollBack(ctx context.Context, a Actor, identity string) (migration.Move, error) {
	var m migration.Move
	err := s.change(ctx, a, AuditUserRollBack, identity, func(tx pgx.Tx, q *store.Queries) error {
		st, err := standingOf(ctx, q, identity, "roll back")
		if err != nil {
			return err
		}
		if st.MovedBy == nil || st.Place != migration.PlaceTeams {
			return migration.Errorf(migration.EConflict, "not_moved", "%s cannot be rolled back: %s; only a user cutover moved to Teams can be moved back",
				st.Current.UPN, standingWords(st))
		}
		m = *st.MovedBy
		return s.rollBackMove(ctx, tx, q, m, "rollback requested: moving the user back on premises", a.Name)
	})
	return m, err
}

// rollBackMove sets a moved user's move rolling back, with message in its
// timeline, and queues the rollback's job, in tx.
func (s *Service) rollBackMove(ctx context.Context, tx pgx.Tx, q *store.Queries, m migration.Move, message, actor string) error {
	runs, err := q.MoveEventCount(ctx, m.ID, migration.MoveStateRollingBack)
	if err != nil {
		return err
	}
	if err := q.MoveUpdate(ctx, store.MoveChange{MoveID: m.ID, To: migration.MoveStateRollingBack, Attempt: m.Attempts,
		Message: message, Actor: actor}); err != nil {
		return err
	}
	return s.queue.Rollbacks(ctx, tx, []store.RollbackQueued{{MoveID: m.ID, Run: runs + 1, MaxAttempts: m.MaxAttempts}})
}

// UserRetry moves a user on premises to Teams again: a failed move whose
// wave can still run it (running, paused or completed) runs again, as a
// new run with its own attempts; any other (a failure in a wave that has
// ended otherwise, a rollback, a cancelled move) is planned into a new wave
// of its group holding the user alone, starting now. It returns the move
// that will run.
//
// Errors: ENotFound (no move for this user), EConflict (the user is in
// Teams or being moved).
func (s *Service) UserRetry(ctx context.Context, a Actor, identity string) (migration.Move, error) {
	var m migration.Move
	err := s.change(ctx, a, AuditUserRetry, identity, func(tx pgx.Tx, q *store.Queries) error {
		st, err := standingOf(ctx, q, identity, "retry")
		if err != nil {
			return err
		}
		if !retryable(st) {
			return migration.Errorf(migration.EConflict, "not_failed", "%s cannot be moved again: %s; only a user on premises whose move failed, was rolled back or was cancelled can be",
				st.Current.UPN, standingWords(st))
		}
		latest := *st.Current
		wave, err := q.WaveGet(ctx, latest.WaveID)
		if err != nil {
			return err
		}
		if !requeues(latest, wave.State) {
			retry, err := q.WaveRetryCreate(ctx, wave, []int64{latest.MemberID}, time.Now(), a.Name)
			if err != nil {
				return err
			}
			if err := s.queue.WaveStart(ctx, tx, retry); err != nil {
				return err
			}
			moves, err := q.MoveList(ctx, retry.ID, "")
			if err != nil || len(moves) != 1 {
				return cmp.Or(err, fmt.Errorf("retry wave %d has %d moves", retry.ID, len(moves)))
			}
			m = moves[0]
			return nil
		}
		if m, err = requeue(ctx, q, latest, a); err != nil {
			return err
		}
		return s.queue.Moves(ctx, tx, []store.QueuedMove{{MoveID: m.ID, Run: m.Run}}, m.MaxAttempts, time.Time{})
	})
	return m, err
}

// UserMigrateMeetings asks that Microsoft migrate a moved user's meetings
// again (Start-CsExMeetingMigration), once their meetings item failed or
// was handed to a person: the completion job sends it, at most once per
// user, since it sends the meeting invitations again. The request is in the
// audit log and the user's timeline.
func (s *Service) UserMigrateMeetings(ctx context.Context, a Actor, identity string) (migration.Move, error) {
	var m migration.Move
	err := s.change(ctx, a, AuditUserMigrateMeetings, identity, func(tx pgx.Tx, q *store.Queries) error {
		st, err := standingOf(ctx, q, identity, "migrate the meetings of")
		if err != nil {
			return err
		}
		by := st.MovedBy
		if by == nil || by.State != migration.MoveStateMoved || st.Place != migration.PlaceTeams {
			return migration.Errorf(migration.EConflict, "not_moved", "%s's meetings cannot be migrated again: %s; only a user cutover moved to Teams has a meeting migration", identity, standingWords(st))
		}
		ok, err := q.CompletionMeetingsRequest(ctx, by.ID, "a migration lead ("+a.Name+") asked that Microsoft migrate the user's meetings again; cutover sends the request once.", a.Name)
		if err != nil {
			return err
		}
		if !ok {
			return migration.Errorf(migration.EConflict, "meetings_not_failed",
				"%s's meetings are not failed, or were asked for again already: Start-CsExMeetingMigration sends the meeting invitations again, so cutover sends it at most once", by.UPN)
		}
		m = *by
		return nil
	})
	return m, err
}

// requeue queues failed move m again in its wave, as a new run. A move or
// wave that changed since it was read (the wave halted or was cancelled
// meanwhile) is an EConflict error saying to look again.
func requeue(ctx context.Context, q *store.Queries, m migration.Move, a Actor) (migration.Move, error) {
	queued, err := q.MoveRequeue(ctx, m.ID, a.Name)
	if errors.Is(err, store.ErrStale) {
		return migration.Move{}, migration.Errorf(migration.EConflict, "not_failed", "%s changed while it was being retried; look again", m.UPN)
	}
	return queued, err
}

// standingOf reads where the user stands from all their moves, or returns
// an ENotFound error saying there is no move to act on.
func standingOf(ctx context.Context, q *store.Queries, identity, action string) (migration.Standing, error) {
	moves, err := q.MovesByUser(ctx, identity)
	if err != nil {
		return migration.Standing{}, err
	}
	if len(moves) == 0 {
		return migration.Standing{}, migration.Errorf(migration.ENotFound, "user_not_found", "%s has no move to %s", identity, action)
	}
	return migration.StandingOf(moves), nil
}

// standingWords says in a clause where a user stands: "they are in Teams
// (already in Teams, wave 1 of Pilot: Finance)".
func standingWords(st migration.Standing) string {
	c := st.Current
	where := map[migration.Place]string{migration.PlaceTeams: "they are in Teams", migration.PlaceOnPremises: "they are on premises",
		migration.PlaceMoving: "they are being moved"}[st.Place]
	return fmt.Sprintf("%s (%s, %s of %s)", where, migration.OutcomeOf(c.State).Words(), c.WaveName, c.GroupName)
}

// WavePause pauses a wave: moves in flight finish, none start until it is
// resumed. A wave that has not started does not start while paused.
func (s *Service) WavePause(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	var w migration.Wave
	err := s.change(ctx, a, AuditWavePause, waveTarget(waveID), func(_ pgx.Tx, q *store.Queries) (err error) {
		w, err = q.WaveSetState(ctx, waveID, migration.WavePause, "paused by "+a.Name, "paused: moves in flight finish, no move starts until the wave is resumed", a.Name)
		return err
	})
	return w, err
}

// WaveResume resumes a paused wave, a halted one (its cancelled moves are
// queued again and failures before now stop counting toward its threshold;
// the group's blocked waves may start), or lets a blocked one start at its
// time although an earlier wave is halted.
func (s *Service) WaveResume(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	err := s.change(ctx, a, AuditWaveResume, waveTarget(waveID), func(tx pgx.Tx, q *store.Queries) error {
		cur, err := q.WaveGet(ctx, waveID)
		if err != nil {
			return err
		}
		switch cur.State {
		case migration.WaveStatePaused:
			return s.resumePaused(ctx, tx, q, cur, a.Name)
		case migration.WaveStateHalted:
			w, queued, err := q.WaveResumeHalted(ctx, waveID, a.Name)
			if err != nil {
				return err
			}
			if err := s.queue.Moves(ctx, tx, queued, w.MaxAttempts, time.Time{}); err != nil {
				return err
			}
			if err := unblock(ctx, tx, s.queue, w.GroupID, a.Name); err != nil {
				return err
			}
			_, err = ReviewWave(ctx, tx, s.queue, waveID, 0, migration.Recount, a.Name)
			return err
		case migration.WaveStateBlocked:
			w, err := q.WaveGateOverride(ctx, waveID, a.Name)
			if err != nil {
				return err
			}
			return s.queue.WaveStart(ctx, tx, w)
		}
		return migration.Errorf(migration.EConflict, "wave_"+string(cur.State), "%s is %s; only a paused, halted or blocked wave can be resumed", cur.Name, cur.State)
	})
	if err != nil {
		return migration.Wave{}, err
	}
	return store.New(s.pool).WaveGet(ctx, waveID)
}

// resumePaused resumes a paused wave in tx: one that had started runs
// again (and completes, if its last move ended while it was paused), one
// that had not starts at its time.
func (s *Service) resumePaused(ctx context.Context, tx pgx.Tx, q *store.Queries, cur migration.Wave, actor string) error {
	change := migration.WaveResume
	if cur.StartedAt == nil {
		change = migration.WaveResumeScheduled
	}
	w, err := q.WaveSetState(ctx, cur.ID, change, "", "resumed", actor)
	if err != nil {
		return err
	}
	if change.To == migration.WaveStateScheduled {
		if w, err = q.WaveReschedule(ctx, cur.ID, w.StartAt, actor); err != nil {
			return err
		}
		return s.queue.WaveStart(ctx, tx, w)
	}
	_, err = ReviewWave(ctx, tx, s.queue, cur.ID, 0, migration.Recount, actor) // a wave whose last move ended while paused completes
	return err
}

// WaveOverrideReadiness lets a scheduled wave start although a hybrid
// readiness check that blocks moves fails: the lead's decision, in the
// wave's timeline and the audit log.
func (s *Service) WaveOverrideReadiness(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	var w migration.Wave
	err := s.change(ctx, a, AuditWaveOverrideReadiness, waveTarget(waveID), func(tx pgx.Tx, q *store.Queries) error {
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
		if _, err := q.WaveEventAdd(ctx, waveID, migration.WaveEventRescheduled, "hybrid readiness overridden: the wave starts although a check that blocks moves fails", a.Name); err != nil {
			return err
		}
		return s.queue.WaveStart(ctx, tx, w)
	})
	return w, err
}

// WaveConfirmRouting records a lead's confirmation that the SBC sends the
// wave's numbers to Direct Routing instead of the on-premises Mediation
// Server (outside Microsoft 365, so cutover cannot see it), in the audit
// log and the wave's timeline; the voice items that waited on it are
// checked again at once (the timeline says how many).
func (s *Service) WaveConfirmRouting(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	return s.waveVoiceDecision(ctx, a, waveID, AuditWaveConfirmRouting, migration.WaveEventRoutingConfirmed,
		"the SBC's routing of the wave's numbers to Direct Routing confirmed", func(q *store.Queries, ctx context.Context, cur migration.Wave, actor string) (migration.Wave, int, error) {
			if cur.RoutingConfirmedAt != nil {
				return cur, 0, migration.Errorf(migration.EConflict, "routing_confirmed",
					"%s: %s confirmed the SBC's routing already, at %s", cur.Name, cur.RoutingConfirmedBy, cur.RoutingConfirmedAt.UTC().Format(time.RFC3339))
			}
			return q.WaveConfirmRouting(ctx, cur.ID, actor)
		})
}

// WaveApproveNumbers records a lead's approval of moving the wave's numbers
// to online management (its number plan online): the number items that
// waited on it go on, each in the wave's maintenance window (the timeline
// says how many).
func (s *Service) WaveApproveNumbers(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	return s.waveVoiceDecision(ctx, a, waveID, AuditWaveApproveNumbers, migration.WaveEventNumbersApproved,
		"moving the wave's numbers to online management approved", func(q *store.Queries, ctx context.Context, cur migration.Wave, actor string) (migration.Wave, int, error) {
			switch {
			case cur.NumberPlan.Or() != migration.NumbersOnline:
				return cur, 0, migration.Errorf(migration.EConflict, "numbers_on_premises",
					"%s keeps its users' numbers managed on premises (its number plan): there are no number moves to approve", cur.Name)
			case cur.NumbersApprovedAt != nil:
				return cur, 0, migration.Errorf(migration.EConflict, "numbers_approved",
					"%s: %s approved its number moves already, at %s", cur.Name, cur.NumbersApprovedBy, cur.NumbersApprovedAt.UTC().Format(time.RFC3339))
			}
			return q.WaveApproveNumbers(ctx, cur.ID, actor)
		})
}

// waveVoiceDecision records a lead's decision on a wave's voice, with an
// event in its timeline saying how many users it reopened.
func (s *Service) waveVoiceDecision(ctx context.Context, a Actor, waveID int64, action AuditAction, kind, says string,
	record func(q *store.Queries, ctx context.Context, cur migration.Wave, actor string) (migration.Wave, int, error)) (migration.Wave, error) {
	var w migration.Wave
	var n int
	err := s.change(ctx, a, action, waveTarget(waveID), func(tx pgx.Tx, q *store.Queries) (err error) {
		cur, err := q.WaveLock(ctx, waveID)
		if err != nil {
			return err
		}
		// Any wave's state: a cancelled or ended wave's moved users stay in
		// Teams, and their items wait on the decision all the same.
		if w, n, err = record(q, ctx, cur, a.Name); err != nil {
			return err
		}
		_, err = q.WaveEventAdd(ctx, waveID, kind, fmt.Sprintf("%s: %s", says, usersWaiting(n)), a.Name)
		return err
	})
	return w, err
}

// usersWaiting says how many users a decision reopened.
func usersWaiting(n int) string {
	switch n {
	case 0:
		return "no user was waiting on it"
	case 1:
		return "1 user waiting on it goes on"
	}
	return fmt.Sprintf("%d users waiting on it go on", n)
}

// WaveCancel cancels a wave that has not finished: its moves not started are
// cancelled, moves in flight finish. Cancelling a halted wave lets the
// group's blocked waves start.
func (s *Service) WaveCancel(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	var w migration.Wave
	err := s.change(ctx, a, AuditWaveCancel, waveTarget(waveID), func(tx pgx.Tx, q *store.Queries) (err error) {
		var n int
		if w, n, err = q.WaveStop(ctx, waveID, migration.WaveCancel, "cancelled by "+a.Name, migration.CodeWaveCancelled,
			"was cancelled by "+a.Name, a.Name); err != nil {
			return err
		}
		if _, err := q.WaveEventAdd(ctx, waveID, migration.WaveEventCancelled, fmt.Sprintf("cancelled: %d moves not started were cancelled; moves in flight finish", n), a.Name); err != nil {
			return err
		}
		return unblock(ctx, tx, s.queue, w.GroupID, a.Name)
	})
	return w, err
}

// WaveRollBack moves a wave's moved users back on premises, through their
// rollback records. The wave must have ended (completed, halted or
// cancelled) with no move in flight; a rolled-back wave can be rolled back
// again to retry failed rollbacks.
func (s *Service) WaveRollBack(ctx context.Context, a Actor, waveID int64) (migration.Wave, error) {
	var w migration.Wave
	err := s.change(ctx, a, AuditWaveRollBack, waveTarget(waveID), func(tx pgx.Tx, q *store.Queries) (err error) {
		tallies, err := q.WaveTallies(ctx, []int64{waveID})
		if err != nil {
			return err
		}
		counts := tallies[waveID].Counts
		inFlight := unended(counts)
		if w, err = q.WaveSetState(ctx, waveID, migration.WaveRollBack, "rollback requested by "+a.Name, "", a.Name); err != nil {
			return err
		}
		if inFlight > 0 {
			return migration.Errorf(migration.EConflict, "moves_in_flight", "%s has %d moves queued or in flight; wait for them to end (or cancel the wave) before rolling it back", w.Name, inFlight)
		}
		toRollBack := counts[migration.MoveStateMoved] + counts[migration.MoveStateRollbackFailed]
		if toRollBack == 0 {
			return migration.Errorf(migration.EConflict, "nothing_to_roll_back", "%s has no moved users to roll back", w.Name)
		}
		if _, err := q.WaveEventAdd(ctx, waveID, migration.WaveEventRollingBack, fmt.Sprintf("rolling back: %d users are moved back on premises", toRollBack), a.Name); err != nil {
			return err
		}
		return rollBackWave(ctx, tx, s.queue, waveID, "rollback of "+w.Name+" requested: moving the user back on premises", a.Name)
	})
	return w, err
}

// WaveScheduleRequest names a wave and a start time.
type WaveScheduleRequest struct {
	WaveID  int64
	StartAt time.Time // for a retry wave, zero means now
}

// WaveRetryFailed plans a wave's failed users into a new wave of the same
// group, with the same settings, starting at r.StartAt (now if zero). It
// returns the new wave.
func (s *Service) WaveRetryFailed(ctx context.Context, a Actor, r WaveScheduleRequest) (migration.Wave, error) {
	var retry migration.Wave
	err := s.change(ctx, a, AuditWaveRetryFailed, waveTarget(r.WaveID), func(tx pgx.Tx, q *store.Queries) error {
		w, err := q.WaveGet(ctx, r.WaveID)
		if err != nil {
			return err
		}
		startAt := r.StartAt
		if startAt.IsZero() {
			startAt = time.Now()
		}
		if retry, err = q.WaveRetryCreate(ctx, w, nil, startAt, a.Name); err != nil {
			return err
		}
		return s.queue.WaveStart(ctx, tx, retry)
	})
	return retry, err
}

// WaveReschedule moves the start of a wave that has not started.
func (s *Service) WaveReschedule(ctx context.Context, a Actor, r WaveScheduleRequest) (migration.Wave, error) {
	var w migration.Wave
	err := s.change(ctx, a, AuditWaveReschedule, waveTarget(r.WaveID), func(tx pgx.Tx, q *store.Queries) (err error) {
		if w, err = q.WaveReschedule(ctx, r.WaveID, r.StartAt, a.Name); err != nil {
			return err
		}
		if w.State != migration.WaveStateScheduled {
			return nil // blocked or paused: it is scheduled when released
		}
		return s.queue.WaveStart(ctx, tx, w)
	})
	return w, err
}

// WaveMembersRequest adds users of the wave's group to a wave and removes
// users from it, by UPN or SIP address.
type WaveMembersRequest struct {
	WaveID      int64
	Add, Remove []string
}

// WaveMembers changes the users of a wave that has not started.
func (s *Service) WaveMembers(ctx context.Context, a Actor, r WaveMembersRequest) (migration.Wave, error) {
	var w migration.Wave
	err := s.change(ctx, a, AuditWaveMembers, waveTarget(r.WaveID), func(_ pgx.Tx, q *store.Queries) (err error) {
		w, err = q.WaveMembersChange(ctx, r.WaveID, r.Add, r.Remove, a.Name)
		return err
	})
	return w, err
}

// GroupPause pauses every wave of a group that can be paused (scheduled or
// running), as one action: moves in flight finish, no other starts until
// the lead resumes them. It returns how many waves it paused.
//
// Errors: ENotFound (no such group), EConflict (no wave of it can be paused).
func (s *Service) GroupPause(ctx context.Context, a Actor, groupID int64) (int, error) {
	n := 0
	err := s.change(ctx, a, AuditGroupPause, fmt.Sprintf("group %d", groupID), func(_ pgx.Tx, q *store.Queries) error {
		g, waves, err := groupWaves(ctx, q, groupID)
		if err != nil {
			return err
		}
		for _, w := range waves {
			if !migration.WavePause.Starts(w.State) {
				continue
			}
			if _, err := q.WaveSetState(ctx, w.ID, migration.WavePause, "paused with the whole group by "+a.Name,
				"paused with the whole group: moves in flight finish, no move starts until the wave is resumed", a.Name); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return migration.Errorf(migration.EConflict, "nothing_to_pause", "no wave of %s is scheduled or running, so there is nothing to pause", g.Name)
		}
		return nil
	})
	return n, err
}

// GroupResume resumes every paused wave of a group, as one action: those
// that had started run again, those that had not start at their time. It
// returns how many waves it resumed.
//
// Errors: ENotFound (no such group), EConflict (no wave of it is paused).
func (s *Service) GroupResume(ctx context.Context, a Actor, groupID int64) (int, error) {
	n := 0
	err := s.change(ctx, a, AuditGroupResume, fmt.Sprintf("group %d", groupID), func(tx pgx.Tx, q *store.Queries) error {
		g, waves, err := groupWaves(ctx, q, groupID)
		if err != nil {
			return err
		}
		for _, w := range waves {
			if w.State != migration.WaveStatePaused {
				continue
			}
			if err := s.resumePaused(ctx, tx, q, w, a.Name); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return migration.Errorf(migration.EConflict, "nothing_to_resume", "no wave of %s is paused, so there is nothing to resume", g.Name)
		}
		return nil
	})
	return n, err
}

// groupWaves reads a group and its waves.
func groupWaves(ctx context.Context, q *store.Queries, groupID int64) (migration.Group, []migration.Wave, error) {
	g, err := q.GroupGet(ctx, groupID)
	if err != nil {
		return g, nil, err
	}
	waves, err := q.WaveList(ctx, groupID)
	return g, waves, err
}
