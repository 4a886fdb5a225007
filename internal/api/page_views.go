package api

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

// What the pages' templates compute from the views: bars split by outcome,
// times, and the links to the users a count speaks of.

// barWidth is the width of a bar in its SVG's units.
const barWidth = 1000

// segment is one outcome's part of a bar, with its legend.
type segment struct {
	Outcome migration.Outcome
	Words   string
	Users   int
	X, W    int // in barWidth units
}

// barView is a bar split by outcome: each user once, in the order of
// migration.Outcomes, with a legend whose entries lead to the users.
type barView struct {
	Segments []segment
	// Label says the whole bar in words, for those who do not see it.
	Label string
	// Link is the users list the legend's entries filter ("" for none).
	Link string
}

// bar splits a progress by outcome. link is the users list of the wave or
// group ("" for none).
func bar(p migration.Progress, link string) barView {
	v := barView{Link: link}
	users := p.Outcomes.Users()
	v.Label = fmt.Sprintf("%s: %s", usersCount(users), p.Outcomes.Words())
	x := 0
	for _, o := range migration.Outcomes {
		n := p.Outcomes[o]
		if n == 0 {
			continue
		}
		w := barWidth * n / max(users, 1)
		v.Segments = append(v.Segments, segment{Outcome: o, Words: o.Words(), Users: n, X: x, W: max(w, 2)})
		x += w
	}
	return v
}

// usersCount says "1 user" or "n users".
func usersCount(n int) string {
	if n == 1 {
		return "1 user"
	}
	return strconv.Itoa(n) + " users"
}

// outcomeNames is every outcome's words, in order, as the pages' script
// reads them (data-outcomes): the one list of words, said by the server.
func outcomeNames() string {
	pairs := make([][2]string, len(migration.Outcomes))
	for i, o := range migration.Outcomes {
		pairs[i] = [2]string{string(o), o.Words()}
	}
	b, _ := json.Marshal(pairs)
	return string(b)
}

// timeUTC is how a page writes a time before the viewer's own script puts
// it in their time zone (the UTC stays on hover).
func timeUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// localTime is a time (a time.Time, or a *time.Time that is not nil) as
// the pages show it: in UTC in the markup, which the pages' script
// (time.js) writes in the viewer's time zone, keeping the UTC in its title.
func localTime(v any) template.HTML {
	t, ok := timeOf(v)
	if !ok {
		return ""
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`,
		t.UTC().Format(time.RFC3339), timeUTC(t), timeUTC(t)))
}

// countdown is how long until t (as localTime takes it), seen at now, in
// words the script keeps current ("in 3 h 12 min").
func countdown(v any, now time.Time) template.HTML {
	t, ok := timeOf(v)
	if !ok {
		return ""
	}
	return template.HTML(fmt.Sprintf(`<span data-countdown="%s">%s</span>`, t.UTC().Format(time.RFC3339), until(t, now)))
}

// timeOf reads a time.Time or a *time.Time (false: nil or neither).
func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case *time.Time:
		if t != nil {
			return *t, true
		}
	}
	return time.Time{}, false
}

// until says how long until t ("in 3 h 12 min", "now").
func until(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "now"
	}
	return "in " + duration(d)
}

// duration says a length of time for a person: "2 h 5 min", "45 s".
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// took says how long a wave (or group) ran, or "".
func took(started, finished *time.Time) string {
	if started == nil || finished == nil {
		return ""
	}
	return duration(finished.Sub(*started))
}

// filterLink is a users list's address with its filters changed: each pair
// of args a name and a value, "" removing the name.
func filterLink(base string, q url.Values, args ...string) string {
	v := url.Values{}
	for k, vs := range q {
		if k == "after" {
			continue
		}
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(args); i += 2 {
		if args[i+1] == "" {
			v.Del(args[i])
		} else {
			v.Set(args[i], args[i+1])
		}
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// nextWave is the group's next wave to start, if any.
func nextWave(g app.GroupView) *app.WaveView {
	var next *app.WaveView
	for i, w := range g.Waves {
		if w.State != migration.WaveStateScheduled {
			continue
		}
		if next == nil || w.StartAt.Before(next.StartAt) {
			next = &g.Waves[i]
		}
	}
	return next
}

// attentionLink is where an attention leads: the users it speaks of, or
// the wave.
func attentionLink(a app.Attention, users string) string {
	switch a.Kind {
	case app.AttentionFailed, app.AttentionRollbackFailed:
		return users + "?outcome=" + url.QueryEscape(a.Kind)
	case app.AttentionCompletion:
		return users + "?completion=" + string(migration.CompletionNeeds)
	}
	return ""
}

// waveArgs is what the wave-status template takes: a wave and the time of
// the page.
type waveArgs struct {
	Wave app.WaveView
	Now  time.Time
}

// failureArgs is what the failures template takes: the counts, the users
// list they lead to, and the table's caption.
type failureArgs struct {
	Failures []migration.FailureCount
	Users    string
	Caption  string
}

// waveTime says when a wave starts, started, ends or ended, and how many
// moves it runs at once while it runs.
func waveTime(w app.WaveView, now time.Time) template.HTML {
	var b strings.Builder
	switch {
	case w.FinishedAt != nil:
		if w.StartedAt != nil {
			fmt.Fprintf(&b, "Started %s, ended %s, after %s.", localTime(w.StartedAt), localTime(w.FinishedAt), took(w.StartedAt, w.FinishedAt))
		} else {
			fmt.Fprintf(&b, "Ended %s without starting.", localTime(w.FinishedAt))
		}
	case w.StartedAt == nil && w.State == migration.WaveStateScheduled:
		fmt.Fprintf(&b, "Starts %s (%s).", localTime(w.StartAt), countdown(w.StartAt, now))
	case w.StartedAt == nil:
		fmt.Fprintf(&b, "Was to start %s.", localTime(w.StartAt))
	default:
		fmt.Fprintf(&b, "Started %s", localTime(w.StartedAt))
		if eta := w.Progress.EstimatedFinish; eta != nil && w.State == migration.WaveStateRunning {
			fmt.Fprintf(&b, "; expected to end around %s (%s)", localTime(eta), countdown(eta, now))
		}
		b.WriteString(".")
		if w.State == migration.WaveStateRunning {
			fmt.Fprintf(&b, " At most %d of %d moves at once now.", w.ConcurrencyLimit, w.Concurrency)
		}
	}
	if w.NextWindowOpen != nil {
		fmt.Fprintf(&b, " Its maintenance window opens %s.", localTime(w.NextWindowOpen))
	}
	return template.HTML(b.String())
}

// chartView is a chart of the moves ended per period, drawn in SVG by the
// overview's template: a column per period, stacked moved, failed and
// rolled back, with its numbers in a table for those who do not see it.
type chartView struct {
	Width, Height    int
	Columns          []chartColumn
	Ticks            []chartTick
	Unit             string // "hour" or "day"
	Moved, Failed    int
	RolledBack       int
	Periods          []migration.PeriodOutcomes
	PlotTop, PlotBot int
	PlotLeft         int
}

// chartColumn is one period's column: its parts from the bottom up.
type chartColumn struct {
	X, W  int
	Parts []chartPart
	Label string // under the axis, for some columns
	Title string // the column's numbers, on hover
}

type chartPart struct {
	Class string
	Y, H  int
}

type chartTick struct {
	Y     int
	Label string
}

// chart lays the history out in a 720x220 SVG.
func chart(history []migration.PeriodOutcomes, daily bool) chartView {
	c := chartView{Width: 720, Height: 220, PlotTop: 10, PlotBot: 190, PlotLeft: 44, Unit: "hour", Periods: history}
	if daily {
		c.Unit = "day"
	}
	most := 1
	for _, p := range history {
		most = max(most, p.Moved+p.Failed+p.RolledBack)
		c.Moved, c.Failed, c.RolledBack = c.Moved+p.Moved, c.Failed+p.Failed, c.RolledBack+p.RolledBack
	}
	plotH := c.PlotBot - c.PlotTop
	scale := func(n int) int { return plotH * n / most }
	for _, n := range []int{0, most / 2, most} {
		c.Ticks = append(c.Ticks, chartTick{Y: c.PlotBot - scale(n), Label: strconv.Itoa(n)})
	}
	if len(history) == 0 {
		return c
	}
	slot := float64(c.Width-c.PlotLeft-8) / float64(len(history))
	every := max(1, len(history)/8)
	for i, p := range history {
		col := chartColumn{X: c.PlotLeft + int(float64(i)*slot+slot*0.1), W: max(1, int(slot*0.8))}
		y := c.PlotBot
		for _, part := range []struct {
			class string
			n     int
		}{{"seg-moved", p.Moved}, {"seg-failed", p.Failed}, {"seg-rolled_back", p.RolledBack}} {
			if part.n == 0 {
				continue
			}
			h := max(1, scale(part.n))
			y -= h
			col.Parts = append(col.Parts, chartPart{Class: part.class, Y: y, H: h})
		}
		at := p.Start.UTC().Format("15:04")
		if daily {
			at = p.Start.UTC().Format("2 Jan")
		}
		if i%every == 0 {
			col.Label = at
		}
		col.Title = fmt.Sprintf("%s UTC: %d moved, %d failed, %d rolled back", p.Start.UTC().Format("Mon 2 Jan 15:04"), p.Moved, p.Failed, p.RolledBack)
		c.Columns = append(c.Columns, col)
	}
	return c
}

// ganttView is a group's waves on a timeline, drawn in SVG by the group's
// template: a row a wave, from its start to its end (an estimate lighter),
// with the time now marked, and the same in a table.
type ganttView struct {
	Width, Height int
	Left          int // where the bars begin, after the waves' names
	Rows          []ganttRow
	Now           *int // x of now, if it falls in the span
	From, To      time.Time
	// FromLabel and ToLabel mark the ends of the time axis (UTC).
	FromLabel, ToLabel string
	Spans              []app.WaveSpan
}

type ganttRow struct {
	Y, X, W  int
	Name     string
	Class    string
	Estimate bool
	Title    string
}

// gantt lays a group's waves out on a timeline 720 wide.
func gantt(spans []app.WaveSpan, now time.Time) ganttView {
	g := ganttView{Width: 720, Left: 130, Spans: spans}
	if len(spans) == 0 {
		return g
	}
	g.From, g.To = spans[0].Start, spans[0].End
	for _, s := range spans {
		if s.Start.Before(g.From) {
			g.From = s.Start
		}
		if s.End.After(g.To) {
			g.To = s.End
		}
	}
	span := max(g.To.Sub(g.From), time.Minute)
	width := g.Width - g.Left - 10
	x := func(t time.Time) int { return g.Left + int(float64(width)*float64(t.Sub(g.From))/float64(span)) }
	for i, s := range spans {
		class := "seg-in_progress"
		switch {
		case s.State == migration.WaveStateCompleted && s.Attention:
			class = "seg-attention"
		case s.State == migration.WaveStateCompleted:
			class = "seg-moved"
		case s.State == migration.WaveStateHalted || s.State == migration.WaveStateBlocked:
			class = "seg-failed"
		case s.State == migration.WaveStateRolledBack || s.State == migration.WaveStateRollingBack:
			class = "seg-rolled_back"
		case s.State == migration.WaveStateCancelled:
			class = "seg-cancelled"
		case s.State == migration.WaveStateScheduled || s.State == migration.WaveStatePaused:
			class = "seg-scheduled"
		}
		end := "ended " + timeUTC(s.End)
		switch {
		case s.Unknown:
			end = "its end not estimated yet"
		case s.Estimated:
			end = "expected to end around " + timeUTC(s.End)
		}
		g.Rows = append(g.Rows, ganttRow{Y: 8 + i*26, X: x(s.Start), W: max(x(s.End)-x(s.Start), 3), Name: s.Name, Class: class,
			Estimate: s.Estimated || s.Unknown, Title: fmt.Sprintf("%s (%s): starts %s, %s", s.Name, s.State.Words(), timeUTC(s.Start), end)})
	}
	g.Height = 8 + len(spans)*26 + 24
	g.FromLabel, g.ToLabel = g.From.UTC().Format("Mon 15:04"), g.To.UTC().Format("Mon 15:04 UTC")
	if !now.Before(g.From) && !now.After(g.To) {
		n := x(now)
		g.Now = &n
	}
	return g
}
