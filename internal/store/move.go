package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cutover/cutover/internal/migration"
)

const moveSelect = `
SELECT m.id, m.wave_id, w.name, w.start_at, g.id, g.name, m.upn, m.sip, gm.display_name,
       m.state, m.run, m.attempts, w.max_attempts, coalesce(m.error_code, ''), coalesce(m.error_message, ''),
       m.next_attempt_at, m.move_issued_at, m.started_at, m.finished_at, m.updated_at, m.member_id,
       (extract(epoch FROM m.stranded) * 1e9)::bigint
FROM moves m
JOIN waves w ON w.id = m.wave_id
JOIN pilot_groups g ON g.id = w.group_id
JOIN group_members gm ON gm.id = m.member_id`

// MoveGet returns a move.
func (q *Queries) MoveGet(ctx context.Context, id int64) (migration.Move, error) {
	rows, _ := q.db.Query(ctx, moveSelect+` WHERE m.id = $1`, id)
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[migration.Move])
	return m, notFound(err, "move %d does not exist", id)
}

// MoveWithWave returns a move and its wave, in one round trip.
func (q *Queries) MoveWithWave(ctx context.Context, id int64) (migration.Move, migration.Wave, error) {
	var m migration.Move
	var w migration.Wave
	b := &pgx.Batch{}
	b.Queue(moveSelect+` WHERE m.id = $1`, id).Query(func(rows pgx.Rows) (err error) {
		m, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[migration.Move])
		return notFound(err, "move %d does not exist", id)
	})
	b.Queue(`SELECT `+waveColumns+` FROM waves WHERE id = (SELECT wave_id FROM moves WHERE id = $1)`, id).Query(func(rows pgx.Rows) (err error) {
		w, err = pgx.CollectExactlyOneRow(rows, scanWave)
		return notFound(err, "move %d does not exist", id)
	})
	err := q.db.SendBatch(ctx, b).Close()
	return m, w, err
}

// MovesByUser returns the moves of the user with this UPN or SIP address
// (with or without "sip:"), newest first.
func (q *Queries) MovesByUser(ctx context.Context, identity string) ([]migration.Move, error) {
	rows, _ := q.db.Query(ctx, movesByUserSQL, NormalizeIdentity(identity))
	return pgx.CollectRows(rows, pgx.RowToStructByPos[migration.Move])
}

// MoveList returns a wave's moves, optionally only those in one state, in
// plan order.
func (q *Queries) MoveList(ctx context.Context, waveID int64, state migration.MoveState) ([]migration.Move, error) {
	rows, _ := q.db.Query(ctx, moveSelect+` WHERE m.wave_id = $1 AND ($2 = '' OR m.state = $2) ORDER BY gm.position`, waveID, state)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[migration.Move])
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

// membershipsSQL reads the memberships of the user $1, newest group first.
const membershipsSQL = `
	SELECT g.id, g.name, gm.upn, gm.sip, gm.display_name,
	       EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id), gm.id
	FROM group_members gm JOIN pilot_groups g ON g.id = gm.group_id
	WHERE gm.upn = $1 OR gm.sip = $1 ORDER BY g.id DESC`

// movesByUserSQL reads the moves of the user $1, newest first.
const movesByUserSQL = moveSelect + ` WHERE m.upn = $1 OR m.sip = $1 ORDER BY m.id DESC`

// UserView is what a lookup of one user shows, read in one round trip.
type UserView struct {
	Groups []Membership     // newest group first
	Moves  []migration.Move // newest first
	// Current is the move that matters: the active one, else the latest;
	// nil when the user was never planned.
	Current  *migration.Move
	Timeline []migration.MoveEvent // the current move's
	Rollback *migration.RollbackRecord
	// Preflight is the last pre-flight of the current move's member, or of
	// the newest membership when there is no move.
	Preflight *Preflight
}

// UserView reads what a lookup of the user with this UPN or SIP address
// shows: five queries sent at once.
func (q *Queries) UserView(ctx context.Context, identity string) (UserView, error) {
	var v UserView
	id := NormalizeIdentity(identity)
	current := `(SELECT id FROM moves WHERE upn = $1 OR sip = $1 ORDER BY state IN ` + activeStates + ` DESC, id DESC LIMIT 1)`
	member := `coalesce((SELECT member_id FROM moves WHERE id = ` + current + `),
		(SELECT gm.id FROM group_members gm WHERE gm.upn = $1 OR gm.sip = $1 ORDER BY gm.group_id DESC LIMIT 1))`
	b := &pgx.Batch{}
	b.Queue(membershipsSQL, id).Query(func(rows pgx.Rows) (err error) {
		v.Groups, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Membership])
		return err
	})
	b.Queue(movesByUserSQL, id).Query(func(rows pgx.Rows) (err error) {
		v.Moves, err = pgx.CollectRows(rows, pgx.RowToStructByPos[migration.Move])
		return err
	})
	b.Queue(eventsSQL(current), id).Query(func(rows pgx.Rows) (err error) {
		v.Timeline, err = pgx.CollectRows(rows, pgx.RowToStructByPos[migration.MoveEvent])
		return err
	})
	b.Queue(rollbackSQL(current), id).Query(func(rows pgx.Rows) (err error) {
		v.Rollback, err = optional(pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByPos[migration.RollbackRecord]))
		return err
	})
	b.Queue(preflightSQL(member), id).Query(func(rows pgx.Rows) (err error) {
		v.Preflight, err = optional(pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByPos[Preflight]))
		return err
	})
	if err := q.db.SendBatch(ctx, b).Close(); err != nil {
		return v, err
	}
	for i, m := range v.Moves {
		if v.Current == nil || m.State.Active() && !v.Current.State.Active() {
			v.Current = &v.Moves[i]
		}
	}
	return v, nil
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
	rows, _ := q.db.Query(ctx, eventsSQL("$1"), moveID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[migration.MoveEvent])
}

// eventsSQL reads the timeline of the move whose ID is the expression moveID.
func eventsSQL(moveID string) string {
	return `SELECT at, state, attempt, coalesce(error_code, ''), message, actor
		FROM move_events WHERE move_id = ` + moveID + ` ORDER BY id`
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
	sql, args := moveUpdateSQL(c, countChanged, nil)
	var n int
	if err := q.db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return translate(err)
	}
	return stale(c, n)
}

// MoveUpdates applies changes one after the other and, with releaseBy set,
// frees the move's slot that process holds, all in one round trip: on a pool, in one implicit
// transaction. A change whose move is not in a state it may start from
// changes nothing, nor do the ones after it, and MoveUpdates returns
// ErrStale.
func (q *Queries) MoveUpdates(ctx context.Context, releaseBy string, cs ...MoveChange) error {
	b := &pgx.Batch{}
	for _, c := range cs {
		sql, args := moveUpdateSQL(c, expectChanged, nil)
		b.Queue(sql, args...)
	}
	if releaseBy != "" && len(cs) > 0 {
		b.Queue(`SELECT cutover_lease_release($1, $2)`, cs[0].MoveID, releaseBy)
	}
	res := q.db.SendBatch(ctx, b)
	for _, c := range cs {
		var n int
		if err := res.QueryRow().Scan(&n); err != nil {
			res.Close()
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "CT001" {
				return stale(c, 0)
			}
			return translate(err)
		}
	}
	return res.Close()
}

// LeaseStart takes a slot for a move as LeaseAcquire does and, if it got
// one, applies the change that starts the move, in one statement. The
// statement commits without waiting for the WAL flush, as a lease does: a
// move that has only started its pre-flight has done nothing a crash could
// lose. It returns the lease, and ErrStale if the slot was taken but the
// move was not in a state the change may start from.
func (q *Queries) LeaseStart(ctx context.Context, r LeaseRequest, c MoveChange) (Lease, error) {
	sql, args := moveUpdateSQL(c, withLease, &r)
	var l Lease
	var state *string
	var changed int
	if err := q.db.QueryRow(ctx, sql, args...).Scan(&l.OK, &state, &l.At, &l.WaveFull, &changed); err != nil {
		return l, translate(err)
	}
	if state == nil {
		return l, missing("wave %d does not exist", r.WaveID)
	}
	l.WaveState = migration.WaveState(*state)
	if l.OK {
		return l, stale(c, changed)
	}
	return l, nil
}

// stale is ErrStale when change c changed n = 0 moves.
func stale(c MoveChange, n int) error {
	if n == 0 {
		return fmt.Errorf("move %d to %s: %w", c.MoveID, c.To, ErrStale)
	}
	return nil
}

// updateResult is what the statement of a change answers.
type updateResult int

const (
	countChanged  updateResult = iota // how many moves it changed (0 or 1)
	expectChanged                     // the same, raising CT001 for 0 (see MoveUpdates)
	withLease                         // the lease taken first, then the count (see LeaseStart)
)

// moveUpdateSQL is the statement of a change and its arguments. withLease
// takes the slot of lease first and changes the move only if it got one.
func moveUpdateSQL(c MoveChange, result updateResult, lease *LeaseRequest) (string, []any) {
	from := c.From
	if from == nil {
		from = migration.MoveStatesTo(c.To)
	}
	capture, message := "", "$9::text"
	args := []any{c.MoveID, c.To, from, c.Attempt, c.ErrorCode, c.ErrorMessage, c.NextAttemptAt, c.MoveIssued, c.Message, c.Actor, c.SlotHolder}
	with, answer := "", "SELECT count(*) FROM changed"
	gate := ` AND ($11::text = '' OR EXISTS (SELECT 1 FROM cap_slots WHERE move_id = $1 AND holder = $11 AND expires_at > now()))`
	switch result {
	case expectChanged:
		answer = "SELECT cutover_expect_changed(count(*)) FROM changed"
	case withLease:
		gate += " AND (SELECT ok FROM lease)"
		answer = "SELECT lease.ok, lease.wave_state, lease.at, lease.wave_full, (SELECT count(*) FROM changed) FROM lease"
	}
	if u := c.Capture; u != nil {
		policies := u.Policies
		if policies == nil {
			policies = map[string]string{}
		}
		capture = `rec AS (
			INSERT INTO rollback_records (move_id, sip_address, registrar_pool, hosting_provider,
			                              enterprise_voice_enabled, line_uri, policies, captured_at)
			SELECT $1, $12, $13, $14, $15, $16, $17, now() WHERE EXISTS (SELECT 1 FROM moves WHERE id = $1 AND state = ANY($3))` + gate + `
			ON CONFLICT (move_id) DO NOTHING RETURNING move_id
		), `
		message = `CASE WHEN EXISTS (SELECT 1 FROM rec) THEN 'rollback record captured (registrar pool ' || $13 || '); '
		           ELSE 'rollback record kept from an earlier attempt; ' END || $9`
		args = append(args, u.SipAddress, u.RegistrarPool, u.HostingProvider, u.EnterpriseVoiceEnabled, u.LineURI, policies)
	}
	if result == withLease {
		n := len(args)
		with = fmt.Sprintf(`lease AS MATERIALIZED (SELECT ok, wave_state, at, wave_full FROM cutover_lease_acquire($%d, $1, $%d, $%d, $%d)), `, n+1, n+2, n+3, n+4)
		args = append(args, lease.WaveID, lease.TTL.Seconds(), lease.AnyState, lease.Holder)
	}
	return `
		WITH ` + with + capture + `changed AS (
			UPDATE moves SET
				state = $2,
				attempts = CASE WHEN $4 > 0 THEN $4 ELSE attempts END,
				error_code = nullif($5, ''),
				error_message = nullif($6, ''),
				next_attempt_at = $7,
				move_issued_at = CASE WHEN $8 THEN coalesce(move_issued_at, now()) ELSE move_issued_at END,
				started_at = CASE WHEN $2 = 'preflight' THEN coalesce(started_at, now()) ELSE started_at END,
				finished_at = CASE WHEN $2 IN ` + activeStates + ` THEN NULL ELSE now() END,
				updated_at = now()
			WHERE id = $1 AND state = ANY($3)` + gate + `
			RETURNING id, attempts
		), ev AS (
			INSERT INTO move_events (move_id, state, attempt, error_code, message, actor)
			SELECT id, $2, attempts, nullif($5, ''), ` + message + `, $10 FROM changed
		)
		` + answer, args
}

// MoveEventCount counts a move's events in one state.
func (q *Queries) MoveEventCount(ctx context.Context, moveID int64, state migration.MoveState) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM move_events WHERE move_id = $1 AND state = $2`, moveID, state).Scan(&n)
	return n, err
}

// MoveRunErrors says when the move's current run (since it was last
// queued) first failed with one of codes (the zero time if it has not), and
// how often.
func (q *Queries) MoveRunErrors(ctx context.Context, moveID int64, codes ...migration.ErrorCode) (first time.Time, n int, err error) {
	var at *time.Time
	err = q.db.QueryRow(ctx, `
		SELECT min(e.at), count(*) FROM move_events e
		WHERE e.move_id = $1 AND e.error_code = ANY($2)
		  AND e.at > coalesce((SELECT max(at) FROM move_events WHERE move_id = $1 AND state = 'queued'), '-infinity')`,
		moveID, codes).Scan(&at, &n)
	if err != nil || at == nil {
		return time.Time{}, n, err
	}
	return *at, n, nil
}

// MoveEventAdd appends an event to a move's timeline without changing it.
func (q *Queries) MoveEventAdd(ctx context.Context, moveID int64, e migration.MoveEvent) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO move_events (move_id, state, attempt, error_code, message, actor)
		SELECT id, state, $2, nullif($3, ''), $4, $5 FROM moves WHERE id = $1`,
		moveID, e.Attempt, e.ErrorCode, e.Message, e.Actor)
	return err
}

// MoveWaitNote records when a move waiting in its state is looked at next,
// adding the event only when the wait begins (the move had no next attempt
// set), so that a long wait is one line in the timeline.
func (q *Queries) MoveWaitNote(ctx context.Context, moveID int64, next time.Time, e migration.MoveEvent) error {
	_, err := q.db.Exec(ctx, `
		WITH prev AS (SELECT id, next_attempt_at FROM moves WHERE id = $1 FOR NO KEY UPDATE),
		upd AS (UPDATE moves SET next_attempt_at = $2, updated_at = now() WHERE id = $1)
		INSERT INTO move_events (move_id, state, attempt, message, actor)
		SELECT m.id, m.state, $3, $4, $5 FROM moves m JOIN prev ON prev.id = m.id
		WHERE prev.next_attempt_at IS NULL`, moveID, next, e.Attempt, e.Message, e.Actor)
	return err
}

// MoveRequeue queues a failed move again (a lead's retry): a new run, its
// attempts counted from zero. It returns the move as queued.
func (q *Queries) MoveRequeue(ctx context.Context, moveID int64, actor string) (migration.Move, error) {
	tag, err := q.db.Exec(ctx, `
		WITH q AS (
			UPDATE moves SET state = 'queued', run = run + 1, attempts = 0, error_code = NULL, error_message = NULL,
			                 next_attempt_at = NULL, finished_at = NULL, updated_at = now()
			WHERE id = $1 AND state = 'failed' RETURNING id, wave_id
		), reopened AS (
			-- the wave is running again until this move ends
			UPDATE waves SET state = $4, finished_at = NULL
			WHERE id = (SELECT wave_id FROM q) AND state = ANY($3)
		)
		INSERT INTO move_events (move_id, state, message, actor)
		SELECT id, 'queued', 'retry requested; queued for a worker', $2 FROM q`, moveID, actor, migration.WaveReopen.From, migration.WaveReopen.To)
	if err != nil {
		return migration.Move{}, translate(err)
	}
	if tag.RowsAffected() == 0 {
		return migration.Move{}, fmt.Errorf("requeue move %d: %w", moveID, ErrStale)
	}
	return q.MoveGet(ctx, moveID)
}

// RollbackRecordGet returns a move's rollback record, or nil if none was
// captured.
func (q *Queries) RollbackRecordGet(ctx context.Context, moveID int64) (*migration.RollbackRecord, error) {
	rows, _ := q.db.Query(ctx, rollbackSQL("$1"), moveID)
	return optional(pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByPos[migration.RollbackRecord]))
}

// rollbackSQL reads the rollback record of the move whose ID is the
// expression moveID.
func rollbackSQL(moveID string) string {
	return `SELECT move_id, sip_address, registrar_pool, hosting_provider, enterprise_voice_enabled,
		       line_uri, policies, captured_at
		FROM rollback_records WHERE move_id = ` + moveID
}

// FailureCount is how many moves failed with one error code.
type FailureCount struct {
	Code  migration.ErrorCode `json:"code"`
	Count int                 `json:"count"`
}

// FailureCounts returns the failed moves of a group, or of one wave (waveID
// not 0), counted by error code, most frequent first.
func (q *Queries) FailureCounts(ctx context.Context, groupID, waveID int64) ([]FailureCount, error) {
	rows, _ := q.db.Query(ctx, `
		SELECT m.error_code, count(*)::int FROM moves m JOIN waves w ON w.id = m.wave_id
		WHERE (w.group_id = $1 OR $1 = 0) AND (w.id = $2 OR $2 = 0) AND m.state = 'failed'
		GROUP BY 1 ORDER BY 2 DESC, 1`, groupID, waveID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[FailureCount])
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
	rows, _ := q.db.Query(ctx, `
		SELECT g.name, w.name, m.upn, m.sip, gm.display_name, m.state, m.attempts,
		       coalesce(m.error_code, ''), coalesce(m.error_message, ''), m.started_at, m.finished_at,
		       m.state = 'rolled_back',
		       coalesce(rr.enterprise_voice_enabled, gm.enterprise_voice, false), coalesce(nullif(rr.line_uri, ''), gm.line_uri, '')
		FROM moves m JOIN waves w ON w.id = m.wave_id JOIN pilot_groups g ON g.id = w.group_id
		JOIN group_members gm ON gm.id = m.member_id
		LEFT JOIN rollback_records rr ON rr.move_id = m.id
		WHERE (w.group_id = $1 OR $1 = 0) AND (w.id = $2 OR $2 = 0)
		ORDER BY w.number, gm.position`, groupID, waveID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ReportRow])
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
	rows, _ := q.db.Query(ctx, `
		SELECT m.id, m.run, w.max_attempts FROM moves m JOIN waves w ON w.id = m.wave_id
		WHERE m.state IN ('queued', 'preflight', 'moving', 'verifying', 'retrying')
		  AND m.updated_at < now() - make_interval(secs => $1)
		  AND NOT EXISTS (
		      SELECT 1 FROM river_job j
		      WHERE j.kind = 'move' AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
		        AND (j.args->>'move_id')::bigint = m.id AND (j.args->>'run')::int = m.run)
		ORDER BY m.id LIMIT $2`, quiet.Seconds(), limit)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[StrandedMove])
}

// MoveWaves counts the moves among ids by wave.
func (q *Queries) MoveWaves(ctx context.Context, ids []int64) (map[int64]int, error) {
	rows, _ := q.db.Query(ctx, `SELECT wave_id, count(*) FROM moves WHERE id = ANY($1) GROUP BY wave_id`, ids)
	out := map[int64]int{}
	var wave int64
	var n int
	_, err := pgx.ForEachRow(rows, []any{&wave, &n}, func() error { out[wave] = n; return nil })
	return out, err
}
