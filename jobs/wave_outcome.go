package jobs

import (
	"log/slog"

	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/store"
)

// touchOutcome tells the pages of a wave reviewed (its review committed),
// and those of the waves its halt blocked.
func touchOutcome(n *live.Notifier, waveID int64, out store.WaveOutcome) {
	n.Touch(waveID)
	for _, b := range out.Blocked {
		n.Touch(b.ID)
	}
}

// logOutcome logs a wave's halt or completion.
func logOutcome(log *slog.Logger, out store.WaveOutcome) {
	switch {
	case out.Halted:
		log.Warn("wave halted", "wave_id", out.Wave.ID, "wave", out.Wave.Name, "reason", out.Reason, "cancelled", out.Cancelled, "blocked_waves", len(out.Blocked))
	case out.Completed:
		log.Info("wave completed", "wave_id", out.Wave.ID, "wave", out.Wave.Name)
	}
}
