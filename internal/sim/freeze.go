package sim

import (
	"context"
	"sync"
)

// Freezer makes a simulated side stop answering, as a process stopped with
// SIGSTOP does, without refusing anything: while frozen, every call waits
// unanswered until Thaw, or until its caller gives up (and is then dropped).
// A call that reached the side before the freeze is answered.
type Freezer struct {
	mu     sync.Mutex
	thawed chan struct{} // closed at Thaw; nil when not frozen
}

// Freeze stops the side answering.
func (f *Freezer) Freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thawed == nil {
		f.thawed = make(chan struct{})
	}
}

// Thaw lets the side answer again, beginning with the calls still waiting.
func (f *Freezer) Thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thawed != nil {
		close(f.thawed)
		f.thawed = nil
	}
}

// Frozen reports whether the side is frozen.
func (f *Freezer) Frozen() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.thawed != nil
}

// wait returns at once unless the side is frozen; then when it thaws, or
// with ctx's error if the caller gives up first.
func (f *Freezer) wait(ctx context.Context) error {
	f.mu.Lock()
	ch := f.thawed
	f.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
