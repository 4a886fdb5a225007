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
	pr := wv.Progress
	bar := outcomeBar(pr.Outcomes)
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
	return fmt.Sprintf("  %-8s %s  %3d/%-3d ended  moved %3d  skipped %2d  failed %2d  in flight %2d  retrying %2d  %s",
		wv.Name, bar, pr.Done, pr.Total,
		c[migration.MoveStateMoved], c[migration.MoveStateSkipped], c[migration.MoveStateFailed], pr.InFlight, c[migration.MoveStateRetrying], status)
}

// barMarks draws each outcome that has ended in a terminal's bar, in
// order: a failure is never drawn as a move.
var barMarks = []struct {
	outcome migration.Outcome
	mark    string
}{
	{migration.OutcomeMoved, "█"}, {migration.OutcomeSkipped, "▓"}, {migration.OutcomeRollbackFailed, "X"},
	{migration.OutcomeFailed, "x"}, {migration.OutcomeRolledBack, "r"}, {migration.OutcomeCancelled, "-"},
}

// outcomeBar is a bar of 30 marks split by outcome, as the pages' bars are:
// moved █, already in Teams ▓, failed x, rolled back r, cancelled -, the
// rest (in progress, scheduled) ░.
func outcomeBar(t migration.Tally) string {
	const width = 30
	users := t.Users()
	var b strings.Builder
	left := 0 // outcomes still to draw, each at least one mark
	for _, m := range barMarks {
		if t[m.outcome] > 0 {
			left++
		}
	}
	sum, drawn := 0, 0
	for _, m := range barMarks {
		if t[m.outcome] == 0 {
			continue
		}
		sum += t[m.outcome]
		left--
		end := min(max((width*sum+users/2)/users, drawn+1), width-left)
		b.WriteString(strings.Repeat(m.mark, end-drawn))
		drawn = end
	}
	b.WriteString(strings.Repeat("░", max(width-drawn, 0)))
	return b.String()
}
