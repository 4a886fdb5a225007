package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
)

// WorkerHost is a worker process's last check of its host.
type WorkerHost struct {
	ID        string              `json:"id"`
	Host      string              `json:"host"`
	Ready     bool                `json:"ready"`
	Facts     migration.HostFacts `json:"facts"`
	Checks    []migration.Check   `json:"checks"`
	CheckedAt time.Time           `json:"checked_at"`
}

// HostSave records a worker process's check of its host.
func (q *Queries) HostSave(ctx context.Context, h WorkerHost) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO worker_hosts (id, host, ready, facts, checks, checked_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET host = $2, ready = $3, facts = $4, checks = $5, checked_at = $6`,
		h.ID, h.Host, h.Ready, h.Facts, h.Checks, h.CheckedAt)
	return err
}

// HostList returns the worker hosts checked since since, most recent first.
func (q *Queries) HostList(ctx context.Context, since time.Time) ([]WorkerHost, error) {
	rows, _ := q.db.Query(ctx, `
		SELECT id, host, ready, facts, checks, checked_at FROM worker_hosts
		WHERE checked_at >= $1 ORDER BY checked_at DESC, id`, since)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[WorkerHost])
}

// Hold is a condition of the whole deployment that stops every move start.
type Hold struct {
	Code     migration.ErrorCode `json:"code"`
	Reason   string              `json:"reason"`
	Evidence string              `json:"evidence"`
	Since    time.Time           `json:"since"`
	SetBy    string              `json:"set_by"`
}

// Holds returns the deployment's holds.
func (q *Queries) Holds(ctx context.Context) ([]Hold, error) {
	rows, _ := q.db.Query(ctx, `SELECT code, reason, evidence, since, set_by FROM deployment_holds ORDER BY since, code`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Hold])
}

// HoldSet records a hold, unless one of its code is held already: created
// says whether this call made it (and so whether to tell anyone).
func (q *Queries) HoldSet(ctx context.Context, h Hold) (created bool, err error) {
	tag, err := q.db.Exec(ctx, `
		INSERT INTO deployment_holds (code, reason, evidence, set_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (code) DO NOTHING`, h.Code, h.Reason, h.Evidence, h.SetBy)
	return err == nil && tag.RowsAffected() == 1, err
}

// HoldClear removes a hold, returning it if there was one.
func (q *Queries) HoldClear(ctx context.Context, code migration.ErrorCode) (*Hold, error) {
	rows, _ := q.db.Query(ctx, `DELETE FROM deployment_holds WHERE code = $1 RETURNING code, reason, evidence, since, set_by`, code)
	h, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Hold])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &h, err
}

// WavesRunning returns the waves that are running.
func (q *Queries) WavesRunning(ctx context.Context) ([]migration.Wave, error) {
	rows, _ := q.db.Query(ctx, `SELECT `+waveColumns+` FROM waves WHERE state = 'running' ORDER BY id`)
	return pgx.CollectRows(rows, scanWave)
}

// ReadinessSection is one section of the deployment's hybrid readiness as a
// worker last checked it.
type ReadinessSection struct {
	Section   string            `json:"section"`
	Checks    []migration.Check `json:"checks"`
	CheckedAt time.Time         `json:"checked_at"`
	CheckedBy string            `json:"checked_by"`
}

// ReadinessSave records a section's checks.
func (q *Queries) ReadinessSave(ctx context.Context, s ReadinessSection) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO readiness_checks (section, checks, checked_at, checked_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (section) DO UPDATE SET checks = $2, checked_at = $3, checked_by = $4`,
		s.Section, s.Checks, s.CheckedAt, s.CheckedBy)
	return err
}

// ReadinessList returns every section's last checks.
func (q *Queries) ReadinessList(ctx context.Context) ([]ReadinessSection, error) {
	rows, _ := q.db.Query(ctx, `SELECT section, checks, checked_at, checked_by FROM readiness_checks ORDER BY section`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ReadinessSection])
}

// WaveReadinessOverride lets a scheduled wave start although a hybrid
// readiness check that blocks moves fails.
func (q *Queries) WaveReadinessOverride(ctx context.Context, waveID int64) (migration.Wave, error) {
	rows, _ := q.db.Query(ctx, `
		UPDATE waves SET readiness_override = true, schedule_rev = schedule_rev + 1
		WHERE id = $1 RETURNING `+waveColumns, waveID)
	return pgx.CollectExactlyOneRow(rows, scanWave)
}

// ReadinessRequest asks every worker to check its host now.
func (q *Queries) ReadinessRequest(ctx context.Context, actor string) (time.Time, error) {
	var at time.Time
	err := q.db.QueryRow(ctx, `
		INSERT INTO readiness_requests (requested_at, requested_by) VALUES (now(), $1)
		ON CONFLICT (id) DO UPDATE SET requested_at = now(), requested_by = $1 RETURNING requested_at`, actor).Scan(&at)
	return at, err
}

// ReadinessRequestedAt is when a check was last asked for (zero if never).
func (q *Queries) ReadinessRequestedAt(ctx context.Context) (time.Time, error) {
	var at *time.Time
	err := q.db.QueryRow(ctx, `SELECT max(requested_at) FROM readiness_requests`).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}, err
	}
	return *at, nil
}

// LostWorker is a worker process found dead by a heartbeat: its slots were
// freed and its running jobs handed back to the queue.
type LostWorker struct {
	ID            string
	LastHeartbeat time.Time
	Jobs          int     // running River jobs handed back
	MoveIDs       []int64 // moves in flight among them
}

// Heartbeat records that worker process id (on host) lives, renews for ttl
// the slots it holds for the moves it is working (moves), and buries the
// processes silent for deadAfter (sql/0009): one round trip.
func (q *Queries) Heartbeat(ctx context.Context, id, host string, ttl, deadAfter time.Duration, moves []int64) ([]LostWorker, error) {
	if moves == nil {
		moves = []int64{}
	}
	rows, _ := q.db.Query(ctx, `SELECT process, last_heartbeat, jobs, move_ids FROM cutover_heartbeat($1, $2, $3, $4, $5)`,
		id, host, ttl.Seconds(), deadAfter.Seconds(), moves)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[LostWorker])
}

// ProcessEnd records that worker process id stopped of itself.
func (q *Queries) ProcessEnd(ctx context.Context, id, reason string) error {
	_, err := q.db.Exec(ctx, `UPDATE worker_processes SET ended_at = now(), end_reason = $2 WHERE id = $1 AND ended_at IS NULL`, id, reason)
	return err
}

// WorkerProcess is a worker process as its heartbeats show it.
type WorkerProcess struct {
	ID          string     `json:"id"`
	Host        string     `json:"host"`
	StartedAt   time.Time  `json:"started_at"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndReason   string     `json:"end_reason,omitempty"`
}

// Processes returns the worker processes alive, or ended since since, most
// recent first.
func (q *Queries) Processes(ctx context.Context, since time.Time) ([]WorkerProcess, error) {
	rows, _ := q.db.Query(ctx, `
		SELECT id, host, started_at, heartbeat_at, ended_at, coalesce(end_reason, '') FROM worker_processes
		WHERE ended_at IS NULL OR ended_at >= $1 ORDER BY ended_at DESC NULLS FIRST, started_at DESC`, since)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[WorkerProcess])
}
