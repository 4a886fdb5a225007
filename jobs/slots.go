package jobs

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// A move's slots: one of the deployment's cap and one of its wave's,
// taken with the start of its pre-flight and freed with its end; and the
// moves of this process that wait for one.

// acquire takes a slot for the move, waiting for one up to slotWait: a slot
// freed in this process wakes it at once, one freed elsewhere within
// SlotPoll. A move in flight already (cut off by a dead worker) takes a
// slot whatever its wave's state. closed says whether the move's window is
// closed (an error to return), before each try. start, when set, is the
// change that starts the move, made with the slot in one statement; the
// slot is held when that returns ErrStale.
func (w *MoveWorker) acquire(ctx context.Context, m migration.Move, closed func() error, start *store.MoveChange) (store.Lease, error) {
	q := store.New(w.pool)
	req := store.LeaseRequest{WaveID: m.WaveID, MoveID: m.ID, TTL: w.cfg.leaseTTL(), AnyState: m.State.InFlight(), Holder: w.cfg.ID}
	deadline := time.Now().Add(w.cfg.slotWait())
	// Registered before each try, so that a slot freed here during the
	// try wakes this move (or another waiting one) rather than nobody.
	wake := w.freed.wait()
	defer func() { w.freed.drop(wake) }()
	hops := -1 // not woken
	for {
		if err := closed(); err != nil {
			return store.Lease{}, err
		}
		var lease store.Lease
		var err error
		if start != nil {
			lease, err = q.LeaseStart(ctx, req, *start)
		} else {
			lease, err = q.LeaseAcquire(ctx, req)
		}
		if err != nil {
			return lease, dbErr(err)
		}
		if lease.OK || lease.WaveState != migration.WaveStateRunning && !m.State.InFlight() {
			return lease, nil
		}
		if hops >= 0 && hops < maxHops && lease.WaveFull {
			// Woken for a slot this move's wave may not take (it is at
			// its limit): pass it on to the next move waiting, which may
			// be of another wave. (A slot another move took first is
			// gone: there is nothing to pass on.)
			w.freed.drop(wake)
			w.freed.wakeOne(hops + 1)
			wake = w.freed.wait()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return lease, nil
		}
		poll := time.NewTimer(min(left, w.cfg.SlotPoll))
		select {
		case <-ctx.Done():
			poll.Stop()
			return lease, ctx.Err()
		case hops = <-wake:
			wake = w.freed.wait()
		case <-poll.C:
			hops = -1
		}
		poll.Stop()
	}
}

// release frees the move's slot and wakes a move waiting for one here.
func (w *MoveWorker) release(ctx context.Context, moveID int64) {
	if err := store.New(w.pool).LeaseRelease(ctx, moveID, w.cfg.ID); err != nil {
		w.log.Warn("freeing a move's slot failed; the slot frees itself when it expires", "move_id", moveID, "error", err)
	}
	w.freed.wakeOne(0)
}

// waiters are the moves of this process waiting for a slot, first come
// first woken: a slot freed here wakes one of them, not all, which would
// send them all to the database for the one slot.
type waiters struct {
	mu sync.Mutex
	q  []chan int
}

// wait registers a waiter. Its channel receives, when it is woken, how many
// waiters the wake was passed on by already.
func (s *waiters) wait() chan int {
	ch := make(chan int, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q = append(s.q, ch)
	return ch
}

// drop unregisters a waiter that no longer waits: a wake it was given and
// did not use (its own try took a slot, or it passes a wake on) goes to the
// next waiter.
func (s *waiters) drop(ch chan int) {
	s.mu.Lock()
	if i := slices.Index(s.q, ch); i >= 0 {
		s.q = slices.Delete(s.q, i, i+1)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	select {
	case hops := <-ch:
		s.wakeOne(hops)
	default:
	}
}

// wakeOne wakes the waiter that has waited longest, if any, telling it the
// wake was passed on hops times.
func (s *waiters) wakeOne(hops int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) > 0 {
		s.q[0] <- hops
		s.q = slices.Delete(s.q, 0, 1)
	}
}

// maxHops bounds how often a wake is passed on, so that moves of waves at
// their limits do not pass it round for ever.
const maxHops = 8
