package jobs

import (
	"sync"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// overloads are the latest attempt ends of each wave this process worked
// (migration.OverloadWindow): a wave's adaptive limit is lowered on the
// share of them that said the service pushes back, not on one user's
// time-out. Each process reads its own share of a wave's attempts; the
// share is alike in each.
type overloads struct {
	mu    sync.Mutex
	waves map[int64]*migration.OverloadWindow
}

// forgetAfter is how many waves are remembered before those quiet for
// longer than the window's age are forgotten.
const forgetAfter = 64

// end records an attempt of the wave that ended now, overloaded or not, and
// reports whether it is an overload in a wave whose latest ends say the
// service is struggling: the limit is to fall. The ends that said so are
// then forgotten, so that the same evidence does not lower it twice.
func (o *overloads) end(waveID int64, overload bool, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.waves == nil {
		o.waves = map[int64]*migration.OverloadWindow{}
	}
	w := o.waves[waveID]
	if w == nil {
		if len(o.waves) >= forgetAfter {
			for id, old := range o.waves {
				if now.Sub(old.Last()) > migration.OverloadWindowAge {
					delete(o.waves, id)
				}
			}
		}
		w = &migration.OverloadWindow{}
		o.waves[waveID] = w
	}
	w.Add(now, overload)
	if !overload || !w.Struggling(now) {
		return false
	}
	w.Reset()
	return true
}
