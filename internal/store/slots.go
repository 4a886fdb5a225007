package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// LeaseRequest asks for a concurrency slot for a move (see LeaseAcquire).
type LeaseRequest struct {
	WaveID, MoveID int64
	TTL            time.Duration
	AnyState       bool
	// Holder is the worker process that holds the slot (its River client
	// ID): its heartbeat renews the slot, and its death frees it.
	Holder string
}

// Lease is the answer to a request for a slot.
type Lease struct {
	OK bool
	// WaveState is the wave's state: a wave that is not running gives no
	// slots.
	WaveState migration.WaveState
	// At is the database's time when the slot was taken.
	At time.Time
	// WaveFull says that the wave's own limit refused the slot, rather
	// than the deployment's cap.
	WaveFull bool
}

// LeaseAcquire takes a slot for a move, if its wave is running (or
// r.AnyState: a move cut off in flight finishes whatever its wave's state)
// and neither the wave's adaptive limit nor the deployment's cap on moves in
// flight is reached: a row of the wave's slots and one of the deployment's,
// so that the cap holds across processes (sql/0006). The slot is held by
// r.Holder, whose heartbeat renews it (see Heartbeat): a slot whose holder
// died is free once it has expired, or at once when the holder is found
// dead. A move that holds a slot already renews it. It commits without
// waiting for the WAL flush, so it must not run inside a transaction that
// writes anything else.
func (q *Queries) LeaseAcquire(ctx context.Context, r LeaseRequest) (Lease, error) {
	row, err := q.gen.LeaseAcquire(ctx, dbsqlc.LeaseAcquireParams{WaveID: r.WaveID, MoveID: r.MoveID,
		TTLSeconds: r.TTL.Seconds(), AnyState: r.AnyState, Holder: r.Holder})
	if err != nil {
		return Lease{}, err
	}
	if row.WaveState == nil {
		return Lease{}, missing("wave %d does not exist", r.WaveID)
	}
	l := Lease{OK: row.Ok != nil && *row.Ok, WaveState: migration.WaveState(*row.WaveState), WaveFull: row.WaveFull != nil && *row.WaveFull}
	if row.At != nil {
		l.At = *row.At
	}
	return l, nil
}

// LeasesHeld counts the unexpired slots held across the deployment.
func (q *Queries) LeasesHeld(ctx context.Context) (int, error) {
	n, err := q.gen.LeasesHeld(ctx)
	return int(n), err
}

// LeaseRelease frees the move's slots that holder holds.
func (q *Queries) LeaseRelease(ctx context.Context, moveID int64, holder string) error {
	return q.gen.LeaseRelease(ctx, dbsqlc.LeaseReleaseParams{MoveID: moveID, Holder: holder})
}
