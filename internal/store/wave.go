package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
)

// activeStates is the SQL list of the states of an active move; it matches
// migration.MoveState.Active and the moves_one_active_per_upn index.
const activeStates = `('pending', 'queued', 'preflight', 'moving', 'verifying', 'retrying', 'rolling_back')`

// PlanFunc makes the waves of a plan once the number of members left to plan
// and the number of the next wave are known.
type PlanFunc func(unplanned, nextNumber int) ([]migration.WaveSpec, error)

// WavesCreate plans the members of a group not yet in a wave into new waves,
// in import order, with a pending move per member and a "planned" event each.
// The group is locked while it plans, so two plans of one group do not race.
// A member with an active move in another group makes the plan an EConflict
// error naming them.
func (q *Queries) WavesCreate(ctx context.Context, groupID int64, actor string, plan PlanFunc) ([]migration.Wave, error) {
	var waves []migration.Wave
	err := q.inTx(ctx, func(tx *Queries) error {
		var name string
		if err := tx.db.QueryRow(ctx, `SELECT name FROM pilot_groups WHERE id = $1 FOR NO KEY UPDATE`, groupID).Scan(&name); err != nil {
			return notFound(err, "pilot group %d does not exist", groupID)
		}
		rows, _ := tx.db.Query(ctx, `
			SELECT gm.id, gm.upn FROM group_members gm
			WHERE gm.group_id = $1 AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id)
			ORDER BY gm.position`, groupID)
		type member struct {
			ID  int64
			UPN string
		}
		members, err := pgx.CollectRows(rows, pgx.RowToStructByPos[member])
		if err != nil {
			return err
		}
		if len(members) == 0 {
			return migration.Errorf(migration.EConflict, "already_planned", "every member of pilot group %q is in a wave already", name)
		}
		var next int
		if err := tx.db.QueryRow(ctx, `SELECT coalesce(max(number), 0) + 1 FROM waves WHERE group_id = $1`, groupID).Scan(&next); err != nil {
			return err
		}
		specs, err := plan(len(members), next)
		if err != nil {
			return err
		}
		upns := make([]string, len(members))
		for i, m := range members {
			upns[i] = m.UPN
		}
		if err := tx.busyUsers(ctx, upns); err != nil {
			return err
		}

		memberIDs := make([]int64, 0, len(members))
		waveIDs := make([]int64, 0, len(members))
		for i, spec := range specs {
			var w migration.Wave
			if w, err = tx.waveInsert(ctx, groupID, next+i, spec, nil); err != nil {
				return err
			}
			waves = append(waves, w)
			for _, m := range members[len(memberIDs) : len(memberIDs)+spec.Size] {
				memberIDs = append(memberIDs, m.ID)
				waveIDs = append(waveIDs, w.ID)
			}
		}
		_, err = tx.db.Exec(ctx, `
			WITH planned AS (
				INSERT INTO moves (wave_id, member_id, upn, sip)
				SELECT p.wave_id, gm.id, gm.upn, gm.sip
				FROM unnest($1::bigint[], $2::bigint[]) AS p(member_id, wave_id)
				JOIN group_members gm ON gm.id = p.member_id
				RETURNING id, wave_id
			)
			INSERT INTO move_events (move_id, state, message, actor)
			SELECT p.id, 'pending',
			       'planned into ' || w.name || ' of ' || $3 || ', starting ' ||
			       to_char(w.start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', $4
			FROM planned p JOIN waves w ON w.id = p.wave_id`, memberIDs, waveIDs, name, actor)
		return translate(err)
	})
	return waves, err
}

// waveInsert adds a wave to a group.
func (q *Queries) waveInsert(ctx context.Context, groupID int64, number int, spec migration.WaveSpec, retryOf *int64) (migration.Wave, error) {
	c := spec.Controls
	rows, _ := q.db.Query(ctx, `
		INSERT INTO waves (group_id, number, name, size, start_at, max_attempts, concurrency,
		                   failure_threshold_percent, failure_threshold_count, failure_min_sample, rollback_on_halt,
		                   windows, time_zone, blackout_dates, retry_of, bypass_enterprise_voice_check)
		VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, 0::double precision), nullif($9, 0), $10, $11,
		        coalesce($12::text[], '{}'), coalesce(nullif($13, ''), 'UTC'), coalesce($14::date[], '{}'), $15, $16)
		RETURNING `+waveColumns, groupID, number, spec.Name, spec.Size, spec.StartAt, spec.MaxAttempts, spec.Concurrency,
		c.Threshold.Percent, c.Threshold.Count, max(c.Threshold.MinSample, 1), c.RollbackOnHalt,
		c.Windows, c.TimeZone, c.BlackoutDates, retryOf, c.BypassEnterpriseVoiceCheck)
	w, err := pgx.CollectExactlyOneRow(rows, scanWave)
	return w, translate(err)
}

// busyUsers returns an EConflict error naming the users (up to
// migration.MaxProblems) that have an active move.
func (q *Queries) busyUsers(ctx context.Context, upns []string) error {
	rows, _ := q.db.Query(ctx, `
		SELECT m.upn || ' is in ' || w.name || ' of pilot group ' || g.name || ' (' || m.state || ')'
		FROM moves m JOIN waves w ON w.id = m.wave_id JOIN pilot_groups g ON g.id = w.group_id
		WHERE m.upn = ANY($1) AND m.state IN `+activeStates+`
		ORDER BY m.upn LIMIT $2`, upns, migration.MaxProblems)
	busy, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(busy) == 0 {
		return err
	}
	e := migration.Errorf(migration.EConflict, "user_busy",
		"%d of this group's users already have an active move elsewhere: %s", len(busy), strings.Join(busy[:min(3, len(busy))], "; "))
	for _, b := range busy {
		e.Details = append(e.Details, migration.Problem{Field: "members", Message: b})
	}
	return e
}

const waveColumns = `id, group_id, number, name, state, size, start_at, max_attempts, concurrency, started_at, finished_at,
	state_reason, concurrency_limit, coalesce(failure_threshold_percent, 0), coalesce(failure_threshold_count, 0),
	failure_min_sample, rollback_on_halt, windows, time_zone, blackout_dates::text[], retry_of, threshold_since, schedule_rev, gate_override, limit_successes,
	bypass_enterprise_voice_check, readiness_override`

// scanWave reads a row of waveColumns.
func scanWave(row pgx.CollectableRow) (migration.Wave, error) {
	var w migration.Wave
	err := row.Scan(&w.ID, &w.GroupID, &w.Number, &w.Name, &w.State, &w.Size, &w.StartAt, &w.MaxAttempts, &w.Concurrency,
		&w.StartedAt, &w.FinishedAt, &w.StateReason, &w.ConcurrencyLimit, &w.Threshold.Percent, &w.Threshold.Count,
		&w.Threshold.MinSample, &w.RollbackOnHalt, &w.Windows, &w.TimeZone, &w.BlackoutDates, &w.RetryOf,
		&w.ThresholdSince, &w.ScheduleRev, &w.GateOverride, &w.LimitSuccesses, &w.BypassEnterpriseVoiceCheck, &w.ReadinessOverride)
	if !w.Threshold.Set() {
		w.Threshold.MinSample = 0
	}
	if len(w.Windows) == 0 {
		w.Windows = nil
	}
	if len(w.BlackoutDates) == 0 {
		w.BlackoutDates = nil
	}
	return w, err
}

// WaveGet returns a wave.
func (q *Queries) WaveGet(ctx context.Context, id int64) (migration.Wave, error) {
	rows, _ := q.db.Query(ctx, `SELECT `+waveColumns+` FROM waves WHERE id = $1`, id)
	w, err := pgx.CollectExactlyOneRow(rows, scanWave)
	return w, notFound(err, "wave %d does not exist", id)
}

// WaveList returns the waves of a group in order.
func (q *Queries) WaveList(ctx context.Context, groupID int64) ([]migration.Wave, error) {
	rows, _ := q.db.Query(ctx, `SELECT `+waveColumns+` FROM waves WHERE group_id = $1 ORDER BY number`, groupID)
	return pgx.CollectRows(rows, scanWave)
}

// WaveTally counts a wave's moves by state, and those that needed more than
// one attempt.
type WaveTally struct {
	Counts  map[migration.MoveState]int
	Retried int
}

// WaveTallies returns the tally of each wave.
func (q *Queries) WaveTallies(ctx context.Context, waveIDs []int64) (map[int64]WaveTally, error) {
	rows, err := q.db.Query(ctx, `
		SELECT wave_id, state, count(*)::int, (count(*) FILTER (WHERE attempts > 1))::int
		FROM moves WHERE wave_id = ANY($1) GROUP BY 1, 2`, waveIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]WaveTally, len(waveIDs))
	var (
		waveID     int64
		state      migration.MoveState
		n, retried int
	)
	_, err = pgx.ForEachRow(rows, []any{&waveID, &state, &n, &retried}, func() error {
		t := out[waveID]
		if t.Counts == nil {
			t.Counts = map[migration.MoveState]int{}
		}
		t.Counts[state] = n
		t.Retried += retried
		out[waveID] = t
		return nil
	})
	return out, err
}

// QueuedMove is a move queued for a worker, with the run its job belongs to.
type QueuedMove struct {
	MoveID int64
	Run    int
}

// WaveStart sets a scheduled wave running and queues its pending moves,
// returning them for the caller to enqueue in the same transaction. A wave
// that is not scheduled (started already, or cancelled) is left alone:
// started is false.
func (q *Queries) WaveStart(ctx context.Context, waveID int64, actor string) (w migration.Wave, queued []QueuedMove, started bool, err error) {
	rows, _ := q.db.Query(ctx, `
		UPDATE waves SET state = $3, started_at = now(), state_reason = ''
		WHERE id = $1 AND state = ANY($2) RETURNING `+waveColumns, waveID, migration.WaveStart.From, migration.WaveStart.To)
	w, err = pgx.CollectExactlyOneRow(rows, scanWave)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, nil, false, nil
	}
	if err != nil {
		return w, nil, false, err
	}
	rows, _ = q.db.Query(ctx, `
		WITH q AS (
			UPDATE moves SET state = 'queued', run = run + 1, updated_at = now()
			WHERE wave_id = $1 AND state = 'pending' RETURNING id, run
		), ev AS (
			INSERT INTO move_events (move_id, state, message, actor)
			SELECT id, 'queued', $2, $3 FROM q
		)
		SELECT id, run FROM q ORDER BY id`, waveID, fmt.Sprintf("%s started; waiting for a worker", w.Name), actor)
	queued, err = pgx.CollectRows(rows, pgx.RowToStructByPos[QueuedMove])
	return w, queued, true, err
}
