package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

// progressPrinter draws a progress bar per wave. On a terminal it redraws
// them in place; elsewhere (a log, CI) it prints a line per wave whenever a
// wave changes state, and every few seconds while one runs.
type progressPrinter struct {
	w        io.Writer
	tty      bool
	drawn    int
	last     string
	lastTime time.Time
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb" {
			tty = true
		}
	}
	return &progressPrinter{w: w, tty: tty}
}

func (p *progressPrinter) print(g app.GroupView, now time.Time) {
	lines := make([]string, len(g.Waves))
	var states []string
	for i, wv := range g.Waves {
		lines[i] = waveLine(wv, now)
		states = append(states, string(wv.State))
	}
	key := strings.Join(states, ",")
	if p.tty {
		if p.drawn > 0 {
			fmt.Fprintf(p.w, "\033[%dA", p.drawn)
		}
		for _, l := range lines {
			fmt.Fprintf(p.w, "\033[2K%s\n", l)
		}
		p.drawn = len(lines)
		return
	}
	if key == p.last && now.Sub(p.lastTime) < 3*time.Second {
		return
	}
	p.last, p.lastTime = key, now
	fmt.Fprintf(p.w, "[%s]\n", now.Format("15:04:05"))
	for _, l := range lines {
		fmt.Fprintln(p.w, l)
	}
}

func waveLine(wv app.WaveView, now time.Time) string {
	const width = 30
	pr := wv.Progress
	filled := 0
	if pr.Total > 0 {
		filled = width * pr.Done / pr.Total
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	c := pr.Counts
	status := string(wv.State)
	switch {
	case wv.State == migration.WaveStateScheduled:
		status = fmt.Sprintf("starts in %s", max(0, wv.StartAt.Sub(now)).Round(time.Second))
	case wv.State == migration.WaveStateRunning && pr.EstimatedFinish != nil:
		status = fmt.Sprintf("running, about %s left", max(0, pr.EstimatedFinish.Sub(now)).Round(time.Second))
	}
	if wv.State == migration.WaveStateRunning && wv.ConcurrencyLimit < wv.Concurrency {
		status += fmt.Sprintf(" (backed off to %d in flight)", wv.ConcurrencyLimit)
	}
	return fmt.Sprintf("  %-8s %s %5.1f%%  %3d/%-3d  moved %3d  skipped %2d  failed %2d  in flight %2d  retrying %2d  %s",
		wv.Name, bar, pr.Percent, pr.Done, pr.Total,
		c[migration.MoveStateMoved], c[migration.MoveStateSkipped], c[migration.MoveStateFailed], pr.InFlight, c[migration.MoveStateRetrying], status)
}
