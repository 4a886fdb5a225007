package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/migration"
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
	var l Lease
	var state *string
	err := q.db.QueryRow(ctx, `SELECT ok, wave_state, at, wave_full FROM cutover_lease_acquire($1, $2, $3, $4, $5)`,
		r.WaveID, r.MoveID, r.TTL.Seconds(), r.AnyState, r.Holder).Scan(&l.OK, &state, &l.At, &l.WaveFull)
	if err != nil {
		return l, err
	}
	if state == nil {
		return l, missing("wave %d does not exist", r.WaveID)
	}
	l.WaveState = migration.WaveState(*state)
	return l, nil
}

// LeasesHeld counts the unexpired slots held across the deployment.
func (q *Queries) LeasesHeld(ctx context.Context) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM cap_slots WHERE expires_at >= now()`).Scan(&n)
	return n, err
}

// LeaseRelease frees the move's slots that holder holds.
func (q *Queries) LeaseRelease(ctx context.Context, moveID int64, holder string) error {
	_, err := q.db.Exec(ctx, `SELECT cutover_lease_release($1, $2)`, moveID, holder)
	return err
}
