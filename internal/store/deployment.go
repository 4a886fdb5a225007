package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// WorkerHost is migration.WorkerHost: the store reads and writes it.
type WorkerHost = migration.WorkerHost

// HostSave records a worker process's check of its host.
func (q *Queries) HostSave(ctx context.Context, h WorkerHost) error {
	return q.gen.HostSave(ctx, dbsqlc.HostSaveParams(h))
}

// HostList returns the worker hosts checked since since, most recent first.
func (q *Queries) HostList(ctx context.Context, since time.Time) ([]WorkerHost, error) {
	rows, err := q.gen.HostList(ctx, since)
	return mapRows(rows, err, func(r dbsqlc.WorkerHost) WorkerHost { return WorkerHost(r) })
}

// Hold is migration.Hold: the store reads and writes it.
type Hold = migration.Hold

// Holds returns the deployment's holds.
func (q *Queries) Holds(ctx context.Context) ([]Hold, error) {
	rows, err := q.gen.Holds(ctx)
	return mapRows(rows, err, holdOf)
}

// holdOf is the store's hold of a row.
func holdOf(r dbsqlc.DeploymentHold) Hold {
	return Hold{Code: migration.ErrorCode(r.Code), Reason: r.Reason, Evidence: r.Evidence, Since: r.Since, SetBy: r.SetBy}
}

// HoldsLock serialises, until the transaction of q ends, the changes of the
// deployment's holds and of the reasons they give running waves: take it
// before reading the holds to change either.
func (q *Queries) HoldsLock(ctx context.Context) error { return q.gen.HoldsLock(ctx) }

// HoldSet records a hold, unless one of its code is held already: created
// says whether this call made it (and so whether to tell anyone).
func (q *Queries) HoldSet(ctx context.Context, h Hold) (created bool, err error) {
	n, err := q.gen.HoldSet(ctx, dbsqlc.HoldSetParams{Code: string(h.Code), Reason: h.Reason, Evidence: h.Evidence, SetBy: h.SetBy})
	return err == nil && n == 1, err
}

// HoldClear removes a hold, returning it if there was one.
// The hold is kept in the history that HeldSpans reads.
func (q *Queries) HoldClear(ctx context.Context, code migration.ErrorCode) (*Hold, error) {
	r, err := q.gen.HoldClear(ctx, string(code))
	h := holdOf(dbsqlc.DeploymentHold(r))
	return optional(&h, err)
}

// HeldSpans returns the spans of time since since during which the
// deployment was held (those still held end now), for
// migration.HeldWithin.
func (q *Queries) HeldSpans(ctx context.Context, since time.Time) ([]migration.Span, error) {
	rows, err := q.gen.HeldSpans(ctx, since)
	return mapRows(rows, err, func(r dbsqlc.HeldSpansRow) migration.Span { return migration.Span(r) })
}

// WavesRunning returns the waves that are running.
func (q *Queries) WavesRunning(ctx context.Context) ([]migration.Wave, error) {
	return wavesOf(q.gen.WavesRunning(ctx))
}

// ReadinessSection is migration.ReadinessSection: the store reads and writes it.
type ReadinessSection = migration.ReadinessSection

// ReadinessSave records a section's checks.
func (q *Queries) ReadinessSave(ctx context.Context, s ReadinessSection) error {
	return q.gen.ReadinessSave(ctx, dbsqlc.ReadinessSaveParams(s))
}

// ReadinessList returns every section's last checks.
func (q *Queries) ReadinessList(ctx context.Context) ([]ReadinessSection, error) {
	rows, err := q.gen.ReadinessList(ctx)
	return mapRows(rows, err, func(r dbsqlc.ReadinessCheck) ReadinessSection { return ReadinessSection(r) })
}

// WaveReadinessOverride lets a scheduled wave start although a hybrid
// readiness check that blocks moves fails.
func (q *Queries) WaveReadinessOverride(ctx context.Context, waveID int64) (migration.Wave, error) {
	return waveOrErr(q.gen.WaveReadinessOverride(ctx, waveID))
}

// ReadinessRequest asks every worker to check its host now.
func (q *Queries) ReadinessRequest(ctx context.Context, actor string) (time.Time, error) {
	return q.gen.ReadinessRequest(ctx, actor)
}

// ReadinessRequestedAt is when a check was last asked for (zero if never).
func (q *Queries) ReadinessRequestedAt(ctx context.Context) (time.Time, error) {
	at, err := q.gen.ReadinessRequestedAt(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	return at, err
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
	rows, err := q.gen.Heartbeat(ctx, dbsqlc.HeartbeatParams{ID: id, Host: host, TTLSeconds: ttl.Seconds(),
		DeadAfterSeconds: deadAfter.Seconds(), Moves: moves})
	return mapRows(rows, err, func(r dbsqlc.HeartbeatRow) LostWorker {
		return LostWorker{ID: r.Process, LastHeartbeat: r.LastHeartbeat, Jobs: r.Jobs, MoveIDs: r.MoveIDs}
	})
}

// ProcessEnd records that worker process id stopped of itself.
func (q *Queries) ProcessEnd(ctx context.Context, id, reason string) error {
	return q.gen.ProcessEnd(ctx, dbsqlc.ProcessEndParams{ID: id, Reason: reason})
}

// WorkerProcess is a worker process as its heartbeats show it.
type WorkerProcess struct {
	ID          string     `json:"id"`
	Host        string     `json:"host"`
	StartedAt   time.Time  `json:"started_at"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndReason   string     `json:"end_reason,omitempty"`
	// Lost: found dead by another process's heartbeat, not stopped.
	Lost bool `json:"lost,omitempty"`
}

// Processes returns the worker processes alive, or ended since since, most
// recent first.
func (q *Queries) Processes(ctx context.Context, since time.Time) ([]WorkerProcess, error) {
	rows, err := q.gen.Processes(ctx, since)
	return mapRows(rows, err, func(r dbsqlc.ProcessesRow) WorkerProcess { return WorkerProcess(r) })
}
