package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// MoveGet returns a move.
func (q *Queries) MoveGet(ctx context.Context, id int64) (migration.Move, error) {
	r, err := q.gen.MoveGet(ctx, id)
	return moveOf(r), notFound(err, "move %d does not exist", id)
}

// MoveWithWave returns a move and its wave, in one round trip.
func (q *Queries) MoveWithWave(ctx context.Context, id int64) (migration.Move, migration.Wave, error) {
	r, err := q.gen.MoveWithWave(ctx, id)
	return moveOf(r.MoveDetail), waveOf(r.Wave), notFound(err, "move %d does not exist", id)
}

// MovesByUser returns the moves of the user with this UPN or SIP address
// (with or without "sip:"), newest first.
func (q *Queries) MovesByUser(ctx context.Context, identity string) ([]migration.Move, error) {
	return movesOf(q.gen.MovesByUser(ctx, NormalizeIdentity(identity)))
}

// WaveMovesOf returns the moves of a wave of the users with these UPNs or
// SIP addresses (with or without "sip:").
func (q *Queries) WaveMovesOf(ctx context.Context, waveID int64, identities []string) ([]migration.Move, error) {
	ids := make([]string, len(identities))
	for i, id := range identities {
		ids[i] = NormalizeIdentity(id)
	}
	return movesOf(q.gen.WaveMovesOf(ctx, dbsqlc.WaveMovesOfParams{WaveID: waveID, Identities: ids}))
}

// MoveList returns a wave's moves, optionally only those in one state, in
// plan order.
func (q *Queries) MoveList(ctx context.Context, waveID int64, state migration.MoveState) ([]migration.Move, error) {
	return movesOf(q.gen.MoveList(ctx, dbsqlc.MoveListParams{WaveID: waveID, State: string(state)}))
}

// Membership is a pilot group a user is a member of.
type Membership struct {
	GroupID     int64  `json:"group_id"`
	GroupName   string `json:"group_name"`
	UPN         string `json:"upn"`
	SIP         string `json:"sip"`
	DisplayName string `json:"display_name"`
	Planned     bool   `json:"planned"`
	MemberID    int64  `json:"-"`
}

// UserView is what a lookup of one user shows, read in one round trip:
// every move of theirs, each with its timeline and rollback record, and
// the last pre-flight of each membership. Where the user stands is the
// domain's to read from the moves (migration.StandingOf).
type UserView struct {
	Groups []Membership     // newest group first
	Moves  []migration.Move // newest first
	// Timelines are each move's timeline, oldest first, by move ID.
	Timelines map[int64][]migration.MoveEvent
	// Rollbacks are the rollback records captured, by move ID.
	Rollbacks map[int64]*migration.RollbackRecord
	// Preflights are the last pre-flight of each membership, by member ID.
	Preflights map[int64]*Preflight
	// Completion is each moved move's completion items, by move ID.
	Completion map[int64][]migration.CompletionItem
}

// UserView reads what a lookup of the user with this UPN or SIP address
// shows: the queries of sql/queries/users.sql and MovesByUser, sent at once.
func (q *Queries) UserView(ctx context.Context, identity string) (UserView, error) {
	v := UserView{Timelines: map[int64][]migration.MoveEvent{}, Rollbacks: map[int64]*migration.RollbackRecord{},
		Preflights: map[int64]*Preflight{}, Completion: map[int64][]migration.CompletionItem{}}
	id := NormalizeIdentity(identity)
	b := &pgx.Batch{}
	queue(b, func(g *dbsqlc.Queries) { g.UserMemberships(ctx, id) }).Query(func(rows pgx.Rows) error {
		ms, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbsqlc.UserMembershipsRow])
		v.Groups, err = mapRows(ms, err, func(m dbsqlc.UserMembershipsRow) Membership {
			return Membership{GroupID: m.GroupID, GroupName: m.GroupName, UPN: m.UPN, SIP: m.SIP,
				DisplayName: m.DisplayName, Planned: m.Planned, MemberID: m.MemberID}
		})
		return err
	})
	queue(b, func(g *dbsqlc.Queries) { g.MovesByUser(ctx, id) }).Query(func(rows pgx.Rows) (err error) {
		v.Moves, err = movesOf(pgx.CollectRows(rows, pgx.RowToStructByPos[dbsqlc.MoveDetail]))
		return err
	})
	queue(b, func(g *dbsqlc.Queries) { g.UserTimelines(ctx, id) }).Query(func(rows pgx.Rows) error {
		tl, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbsqlc.UserTimelinesRow])
		for _, r := range tl {
			v.Timelines[r.MoveID] = append(v.Timelines[r.MoveID], eventOf(dbsqlc.MoveEventsRow{At: r.At, State: r.State,
				Attempt: r.Attempt, ErrorCode: r.ErrorCode, Message: r.Message, Actor: r.Actor}))
		}
		return err
	})
	queue(b, func(g *dbsqlc.Queries) { g.UserRollbackRecords(ctx, id) }).Query(func(rows pgx.Rows) error {
		rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbsqlc.RollbackRecord])
		for _, r := range rs {
			v.Rollbacks[r.MoveID] = rollbackOf(r)
		}
		return err
	})
	queue(b, func(g *dbsqlc.Queries) { g.UserPreflights(ctx, id) }).Query(func(rows pgx.Rows) error {
		ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbsqlc.PreflightResult])
		for _, r := range ps {
			v.Preflights[r.MemberID] = &Preflight{CheckedAt: r.CheckedAt, Status: migration.CheckStatus(r.Status), Checks: r.Checks}
		}
		return err
	})
	queue(b, func(g *dbsqlc.Queries) { g.UserCompletion(ctx, id) }).Query(func(rows pgx.Rows) error {
		items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbsqlc.CompletionItem])
		for _, r := range items {
			v.Completion[r.MoveID] = append(v.Completion[r.MoveID], completionOf(r))
		}
		return err
	})
	err := q.db.SendBatch(ctx, b).Close()
	return v, err
}

// optional turns "no row" into nil.
func optional[T any](v *T, err error) (*T, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// NormalizeIdentity lower-cases a UPN or SIP address and drops "sip:".
func NormalizeIdentity(identity string) string {
	return migration.NormalizeAddress(identity)
}

// MoveEvents returns a move's timeline, oldest first.
func (q *Queries) MoveEvents(ctx context.Context, moveID int64) ([]migration.MoveEvent, error) {
	rows, err := q.gen.MoveEvents(ctx, moveID)
	return mapRows(rows, err, eventOf)
}

// MoveChange is a change of a move's state and the event that records it.
type MoveChange struct {
	MoveID int64
	To     migration.MoveState
	// From limits the change to moves in these states; nil means any state
	// from which To is legal.
	From []migration.MoveState
	// Attempt is the attempt the change belongs to (recorded on the move and
	// on its event); 0 leaves the move's count alone.
	Attempt       int
	ErrorCode     migration.ErrorCode
	ErrorMessage  string
	NextAttemptAt *time.Time
	MoveIssued    bool // the move call is about to be made
	// SlotHolder, when set, makes the change only while that process holds
	// the move's slot of the deployment's cap, unexpired: a process cut off
	// from the database, whose slot was freed, makes no move call.
	SlotHolder string
	// Capture, when set, is the user's on-premises state, kept as the
	// move's rollback record in the same statement (see MoveUpdate).
	Capture *migration.ShellUser
	Message string
	Actor   string
}

// MoveUpdate applies a change and appends its event, in one statement. If the
// move is not in a state the change may start from, it returns ErrStale.
//
// With Capture, the same statement stores the user's on-premises state as
// the move's rollback record, unless an earlier attempt stored it, and the
// event says which. The record's time is the statement's start, before the
// event's.
func (q *Queries) MoveUpdate(ctx context.Context, c MoveChange) error {
	r, err := q.gen.MoveChange(ctx, c.params(false))
	if err != nil {
		return translate(err)
	}
	return stale(c, r.Changed)
}

// MoveUpdates applies changes one after the other and, with releaseBy set,
// frees the move's slot that process holds, all in one round trip: on a
// pool, in one implicit transaction. A change whose move is not in a
// state it may start from changes nothing, nor do the ones after it, and
// MoveUpdates returns ErrStale.
func (q *Queries) MoveUpdates(ctx context.Context, releaseBy string, cs ...MoveChange) error {
	_, err := q.moveUpdates(ctx, 0, migration.MoveEnding{}, releaseBy, cs)
	return err
}

// MoveEnd applies the changes that end a move's attempt (how it ended:
// end) as MoveUpdates does and commits them; then, in the same round trip,
// it reads the facts of the review of the move's wave (waveID), as
// WaveReviewFacts does. The
// read follows the commit, so that of two moves of a wave ending at once
// the later to read sees the other's end, and the last move's end is never
// missed. It runs on a pool, not in a transaction: its batch commits half
// way (an explicit transaction inside the batch). An error after the commit
// is ErrEndUnread: the changes are made.
func (q *Queries) MoveEnd(ctx context.Context, waveID int64, end migration.MoveEnding, releaseBy string, cs ...MoveChange) (migration.WaveFacts, error) {
	if _, ok := q.db.(*pgxpool.Pool); !ok || len(cs) == 0 {
		return migration.WaveFacts{}, errors.New("store: MoveEnd takes a change and runs on a pool")
	}
	return q.moveUpdates(ctx, waveID, end, releaseBy, cs)
}

// moveUpdates is MoveUpdates and, with waveID set, MoveEnd.
func (q *Queries) moveUpdates(ctx context.Context, waveID int64, end migration.MoveEnding, releaseBy string, cs []MoveChange) (migration.WaveFacts, error) {
	var act migration.WaveFacts
	if len(cs) == 0 {
		return act, nil
	}
	b := &pgx.Batch{}
	// The statements before the changes, whose results are read first.
	var before []*pgx.QueuedQuery
	if waveID != 0 {
		before = append(before, queue(b, func(g *dbsqlc.Queries) { g.BatchBegin(ctx) }))
	}
	for _, c := range cs {
		queue(b, func(g *dbsqlc.Queries) { g.MoveChange(ctx, c.params(true)) })
	}
	if releaseBy != "" {
		queue(b, func(g *dbsqlc.Queries) {
			g.LeaseRelease(ctx, dbsqlc.LeaseReleaseParams{MoveID: cs[0].MoveID, Holder: releaseBy})
		})
	}
	if waveID != 0 {
		queue(b, func(g *dbsqlc.Queries) { g.BatchCommit(ctx) })
		p := dbsqlc.WaveReviewFactsParams{WaveID: waveID, MoveID: cs[0].MoveID, CountAll: end.Failed}
		queue(b, func(g *dbsqlc.Queries) { g.WaveReviewFacts(ctx, p) }).QueryRow(func(row pgx.Row) (err error) {
			act, err = factsOf(dbsqlc.New(rowOnly{row}).WaveReviewFacts(ctx, p))
			return err
		})
	}
	res := q.db.SendBatch(ctx, b)
	for range before {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return act, translate(err)
		}
	}
	for _, c := range cs {
		if _, err := res.Exec(); err != nil {
			res.Close()
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "CT001" {
				return act, stale(c, 0)
			}
			return act, translate(err)
		}
	}
	if waveID == 0 {
		return act, res.Close()
	}
	if releaseBy != "" {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return act, translate(err)
		}
	}
	if _, err := res.Exec(); err != nil { // the commit
		res.Close()
		return act, translate(err)
	}
	if err := res.Close(); err != nil {
		return act, fmt.Errorf("%w: %w", ErrEndUnread, translate(err))
	}
	return act, nil
}

// LeaseStart takes a slot for a move as LeaseAcquire does and, if it got
// one, applies the change that starts the move, in one statement. The
// statement commits without waiting for the WAL flush, as a lease does: a
// move that has only started its pre-flight has done nothing a crash could
// lose. It returns the lease, and ErrStale if the slot was taken but the
// move was not in a state the change may start from.
func (q *Queries) LeaseStart(ctx context.Context, r LeaseRequest, c MoveChange) (Lease, error) {
	p := c.params(false)
	p.Lease, p.LeaseWaveID, p.LeaseTTLSeconds, p.LeaseAnyState, p.LeaseHolder = true, r.WaveID, r.TTL.Seconds(), r.AnyState, r.Holder
	row, err := q.gen.MoveChange(ctx, p)
	if err != nil {
		return Lease{}, translate(err)
	}
	if row.WaveMissing {
		return Lease{}, missing("wave %d does not exist", r.WaveID)
	}
	l := Lease{OK: row.LeaseOk, WaveState: migration.WaveState(row.WaveState), At: row.LeaseAt, WaveFull: row.WaveFull}
	if l.OK {
		return l, stale(c, row.Changed)
	}
	return l, nil
}

// stale is ErrStale when change c changed n = 0 moves.
func stale(c MoveChange, n int64) error {
	if n == 0 {
		return fmt.Errorf("move %d to %s: %w", c.MoveID, c.To, ErrStale)
	}
	return nil
}

// params are the arguments of the statement of change c (MoveChange in
// sql/queries/moves.sql); expect makes a change that finds the move
// changed under it raise CT001 rather than answer 0.
func (c MoveChange) params(expect bool) dbsqlc.MoveChangeParams {
	from := c.From
	if from == nil {
		from = migration.MoveStatesTo(c.To)
	}
	p := dbsqlc.MoveChangeParams{
		Expect: expect, MoveID: c.MoveID, FromStates: names(from), SlotHolder: c.SlotHolder, ToState: string(c.To),
		Attempt: c.Attempt, ErrorCode: string(c.ErrorCode), ErrorMessage: c.ErrorMessage, NextAttemptAt: c.NextAttemptAt,
		MoveIssued: c.MoveIssued, Message: c.Message, Actor: c.Actor,
		CapturePolicies: []byte("{}"),
	}
	if u := c.Capture; u != nil {
		policies := u.Policies
		if policies == nil {
			policies = map[string]string{}
		}
		doc, _ := json.Marshal(policies) // a map of strings always encodes
		p.Capture, p.CaptureSIP, p.CapturePool, p.CaptureProvider = true, u.SipAddress, u.RegistrarPool, u.HostingProvider
		p.CaptureVoice, p.CaptureLineURI, p.CapturePolicies = u.EnterpriseVoiceEnabled, u.LineURI, doc
	}
	return p
}

// MoveEventCount counts a move's events in one state.
func (q *Queries) MoveEventCount(ctx context.Context, moveID int64, state migration.MoveState) (int, error) {
	n, err := q.gen.MoveEventCount(ctx, dbsqlc.MoveEventCountParams{MoveID: moveID, State: string(state)})
	return int(n), err
}

// MoveRunErrors says when the move's current run (since it was last
// queued) first failed with one of codes (the zero time if it has not), and
// how often.
func (q *Queries) MoveRunErrors(ctx context.Context, moveID int64, codes ...migration.ErrorCode) (first time.Time, n int, err error) {
	r, err := q.gen.MoveRunErrors(ctx, dbsqlc.MoveRunErrorsParams{MoveID: moveID, Codes: names(codes)})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, 0, nil
	}
	return r.FirstAt, int(r.Errors), err
}

// MoveEventAdd appends an event to a move's timeline without changing it.
func (q *Queries) MoveEventAdd(ctx context.Context, moveID int64, e migration.MoveEvent) error {
	return q.gen.MoveEventAdd(ctx, dbsqlc.MoveEventAddParams{MoveID: moveID, Attempt: e.Attempt,
		ErrorCode: string(e.ErrorCode), Message: e.Message, Actor: e.Actor})
}

// MoveWaitNote records when a move waiting in its state is looked at next,
// adding the event only when the wait begins (the move had no next attempt
// set), so that a long wait is one line in the timeline. With
// teamsWaiting, the wait is for Teams, which answered now that the user is
// not a Teams user yet: the first such answer of the run is kept
// (MoveTeamsWaitingSince).
func (q *Queries) MoveWaitNote(ctx context.Context, moveID int64, next time.Time, teamsWaiting bool, e migration.MoveEvent) error {
	return q.gen.MoveWaitNote(ctx, dbsqlc.MoveWaitNoteParams{MoveID: moveID, NextAttemptAt: &next, TeamsWaiting: teamsWaiting,
		Attempt: e.Attempt, Message: e.Message, Actor: e.Actor})
}

// MoveTeamsWaitingSince says when Teams first answered, in the move's run,
// that the moved user is not a Teams user yet (nil: it has not).
func (q *Queries) MoveTeamsWaitingSince(ctx context.Context, moveID int64) (*time.Time, error) {
	return q.gen.MoveTeamsWaitingSince(ctx, moveID)
}

// MoveRequeue queues a failed move again (a lead's retry): a new run, its
// attempts counted from zero; its wave is running again until the move
// ends. It returns the move as queued.
//
// A user being moved in another wave cannot be queued again: an EConflict
// error says where they are and what to do, and nothing changes.
func (q *Queries) MoveRequeue(ctx context.Context, moveID int64, actor string) (migration.Move, error) {
	var n int64
	err := q.inTx(ctx, func(tx *Queries) (err error) {
		// The wave's lock first: a review of the wave that read the move
		// failed, and is completing the wave, ends before the requeue reads
		// the wave's state, so the requeue reopens what it completed. Without
		// it the requeue saw the wave running, left it, and the review
		// completed the wave under a queued move that no job would run.
		m, err := tx.MoveGet(ctx, moveID)
		if err != nil {
			return err
		}
		w, err := tx.waveLock(ctx, m.WaveID)
		if err != nil {
			return err
		}
		if !slices.Contains(migration.RetryIn, w.State) {
			// Halted or cancelled since it was read: its moves are not run.
			return fmt.Errorf("requeue move %d: its wave is %s: %w", moveID, w.State, ErrStale)
		}
		n, err = tx.gen.MoveRequeue(ctx, dbsqlc.MoveRequeueParams{MoveID: moveID, Actor: actor,
			WaveFrom: names(migration.WaveReopen.From), WaveTo: string(migration.WaveReopen.To)})
		return err
	})
	if violates(err, "moves_one_active_per_upn") {
		return migration.Move{}, q.userBusy(ctx, moveID)
	}
	if err != nil {
		return migration.Move{}, translate(err)
	}
	if n == 0 {
		return migration.Move{}, fmt.Errorf("requeue move %d: %w", moveID, ErrStale)
	}
	return q.MoveGet(ctx, moveID)
}

// userBusy is the EConflict error of a change that would give the user of
// move moveID a second active move: it says which wave holds them, and
// what to do.
func (q *Queries) userBusy(ctx context.Context, moveID int64) error {
	m, err := q.MoveGet(ctx, moveID)
	if err != nil {
		return err
	}
	moves, err := q.MovesByUser(ctx, m.UPN)
	if err != nil {
		return err
	}
	for _, o := range moves {
		if o.ID == moveID || !o.State.Active() {
			continue
		}
		w, err := q.WaveGet(ctx, o.WaveID)
		if err != nil {
			return err
		}
		return migration.Errorf(migration.EConflict, "user_busy", "%s",
			busyWords(m.UPN, m.DisplayName, o.State, w.Name, w.State, o.GroupName))
	}
	return migration.Errorf(migration.EConflict, "user_busy", "%s was in another wave a moment ago; try again", m.UPN)
}

// RollbackRecordGet returns a move's rollback record, or nil if none was
// captured.
func (q *Queries) RollbackRecordGet(ctx context.Context, moveID int64) (*migration.RollbackRecord, error) {
	r, err := q.gen.RollbackRecordGet(ctx, moveID)
	return optional(rollbackOf(r), err)
}

// FailureCount is migration.CodeCount: the store reads it.
type FailureCount = migration.CodeCount

// FailureCounts returns the failed moves of a group, or of one wave (waveID
// not 0), counted by error code, most frequent first.
func (q *Queries) FailureCounts(ctx context.Context, groupID, waveID int64) ([]FailureCount, error) {
	rows, err := q.gen.FailureCounts(ctx, dbsqlc.FailureCountsParams{GroupID: groupID, WaveID: waveID})
	return mapRows(rows, err, func(r dbsqlc.FailureCountsRow) FailureCount {
		return FailureCount{Code: migration.ErrorCode(r.Code), Count: r.Failures}
	})
}

// ReportRow is one user's line in a wave's or a group's report.
type ReportRow struct {
	Group        string
	Wave         string
	UPN          string
	SIP          string
	DisplayName  string
	State        migration.MoveState
	Attempts     int
	ErrorCode    migration.ErrorCode
	ErrorMessage string
	StartedAt    *time.Time
	FinishedAt   *time.Time
	RolledBack   bool
	// EnterpriseVoice and LineURI are the user's voice settings on
	// premises: from the rollback record, or else as a worker read them.
	EnterpriseVoice bool
	LineURI         string
}

// Report returns a line per move of a group, or of one wave (waveID not 0),
// in wave and plan order.
func (q *Queries) Report(ctx context.Context, groupID, waveID int64) ([]ReportRow, error) {
	rows, err := q.gen.Report(ctx, dbsqlc.ReportParams{GroupID: groupID, WaveID: waveID})
	return mapRows(rows, err, func(r dbsqlc.ReportRow) ReportRow {
		return ReportRow{Group: r.GroupName, Wave: r.WaveName, UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName,
			State: migration.MoveState(r.State), Attempts: r.Attempts, ErrorCode: migration.ErrorCode(r.ErrorCode),
			ErrorMessage: r.ErrorMessage, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, RolledBack: r.RolledBack,
			EnterpriseVoice: r.EnterpriseVoice, LineURI: r.LineURI}
	})
}

// StrandedMove is a move that is not final but has no River job that will
// run it.
type StrandedMove struct {
	MoveID      int64
	Run         int
	MaxAttempts int
}

// MovesWithoutJob returns up to limit moves that are not final, unchanged
// for at least quiet, and have no River move job of their run that will run
// them (River discarded it, or it was deleted). Moves waiting on their wave
// keep a job (snoozed), so any found here are stranded.
func (q *Queries) MovesWithoutJob(ctx context.Context, quiet time.Duration, limit int) ([]StrandedMove, error) {
	rows, err := q.gen.MovesWithoutJob(ctx, dbsqlc.MovesWithoutJobParams{QuietSeconds: quiet.Seconds(), MaxMoves: limit})
	return mapRows(rows, err, func(r dbsqlc.MovesWithoutJobRow) StrandedMove { return StrandedMove(r) })
}

// MoveWaves counts the moves among ids by wave.
func (q *Queries) MoveWaves(ctx context.Context, ids []int64) (map[int64]int, error) {
	rows, err := q.gen.MoveWaves(ctx, ids)
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.WaveID] = int(r.Moves)
	}
	return out, err
}

// MovePace is the median time a move took, from its start to its end, over
// the moves that ended moved in the last week, and how many they were (0:
// none, and no pace).
func (q *Queries) MovePace(ctx context.Context) (time.Duration, int, error) {
	r, err := q.gen.MovePace(ctx)
	return time.Duration(r.Seconds * float64(time.Second)), r.Moves, err
}
