package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progress tells stderr which benchmark and which of its phases runs,
// and how far a phase is while the benchmark waits on it. A phase's line
// reads "bench NAME [i/n]: PHASE ... 1.2 s". Elsewhere than on a terminal
// (a log, a file) its updates are plain lines of their own, at most one a
// second and one per tenth of the phase (or one per 10 s while it stalls);
// on a terminal the phase's line is redrawn with \r once a second. Its
// methods are safe for concurrent use (tick's updates come from a goroutine
// of their own).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	now   func() time.Time
	bench string    // "bench enqueue [1/6]"
	began time.Time // the bench's start
	phase string
	start time.Time // the phase's start
	open  bool      // the phase's line waits for its end
	last  time.Time // the last update printed
	asked time.Time // the last time due said yes
	tenth int       // the tenth of the phase the last update printed
	drawn int       // on a terminal, the length of the line drawn
}

// progressEvery is how often an update may come: about once a second (a little
// less, so that tick's updates, a second apart give or take, all come).
const progressEvery = 900 * time.Millisecond

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb" {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, now: time.Now}
}

// startBench names the benchmark that runs: the i-th of n.
func (p *progress) startBench(name string, i, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLine()
	p.bench, p.began, p.phase = fmt.Sprintf("bench %s [%d/%d]", name, i, n), p.now(), ""
}

// endBench says how long the benchmark took.
func (p *progress) endBench() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLine()
	fmt.Fprintf(p.w, "%s: done, %s\n", p.bench, seconds(p.now().Sub(p.began)))
}

// startPhase begins a phase of the benchmark ("baseline: River
// InsertManyFast 100000 jobs"), ending the one before.
func (p *progress) startPhase(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLocked()
	p.phase, p.start, p.last, p.tenth = fmt.Sprintf(format, args...), p.now(), p.now(), 0
	p.draw(p.head())
	p.open = true
}

// endPhase says how long the phase took.
func (p *progress) endPhase() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLocked()
}

// due reports whether an update may be printed now, for a count that
// costs a query of its own: at most once per progressEvery, whether or not
// the count's update is printed, so that the count does not load the
// database the benchmark measures.
func (p *progress) due() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.phase == "" || now.Sub(p.last) < progressEvery || now.Sub(p.asked) < progressEvery {
		return false
	}
	p.asked = now
	return true
}

// count reports done of total ("45000/100000 jobs queued"), at most once a
// second.
func (p *progress) count(done, total int, what string) {
	p.update(done, total, fmt.Sprintf("%d/%d %s", done, total, what))
}

// tick reports the seconds elapsed of a measured window of d, once a
// second, until stop is called.
func (p *progress) tick(d time.Duration) (stop func()) {
	quit, stopped := make(chan struct{}), make(chan struct{})
	began := p.now()
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				el := min(p.now().Sub(began), d)
				p.update(int(el/time.Millisecond), int(d/time.Millisecond),
					fmt.Sprintf("%.0f/%.0f s measured", el.Seconds(), d.Seconds()))
			}
		}
	}()
	return func() { close(quit); <-stopped }
}

// note prints a line of its own under the benchmark ("10000 users: peak
// RSS 81.2 MB").
func (p *progress) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLine()
	fmt.Fprintf(p.w, "  %s\n", fmt.Sprintf(format, args...))
}

func (p *progress) update(done, total int, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.phase == "" || now.Sub(p.last) < progressEvery {
		return
	}
	tenth := 0
	if total > 0 {
		tenth = 10 * done / total
	}
	if !p.tty && tenth == p.tenth && now.Sub(p.last) < 10*time.Second {
		return
	}
	p.tenth = tenth
	p.print(text)
}

// step reports a step of the phase done ("imported and planned"), at once.
func (p *progress) step(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phase != "" {
		p.print(fmt.Sprintf(format, args...))
	}
}

// print writes an update of the phase: its own line, or on a terminal the
// phase's line redrawn.
func (p *progress) print(text string) {
	now := p.now()
	p.last = now
	text = fmt.Sprintf("%s (%s)", text, seconds(now.Sub(p.start)))
	if p.tty {
		p.draw(p.head() + " " + text)
		return
	}
	p.closeLine()
	fmt.Fprintf(p.w, "  %s: %s\n", p.phase, text)
}

// head is a phase's line, before its time.
func (p *progress) head() string { return fmt.Sprintf("%s: %s ...", p.bench, p.phase) }

// endLocked ends the phase that runs, if one does: its line gets the time
// it took (a line of its own if updates came between).
func (p *progress) endLocked() {
	if p.phase == "" {
		return
	}
	took := seconds(p.now().Sub(p.start))
	switch {
	case p.tty:
		p.draw(p.head() + " " + took)
		fmt.Fprintln(p.w)
	case p.open:
		fmt.Fprintf(p.w, " %s\n", took)
	default:
		fmt.Fprintf(p.w, "%s %s\n", p.head(), took)
	}
	p.phase, p.open, p.drawn = "", false, 0
}

// draw writes s as the line that runs: on a terminal over the one drawn
// before (padded with spaces, no escape codes), elsewhere as the start of
// a line that waits for its end.
func (p *progress) draw(s string) {
	if !p.tty {
		fmt.Fprint(p.w, s)
		return
	}
	n := utf8.RuneCountInString(s)
	pad := ""
	if p.drawn > n {
		pad = strings.Repeat(" ", p.drawn-n)
	}
	fmt.Fprintf(p.w, "\r%s%s", s, pad)
	p.drawn = n
}

// closeLine ends a phase's line left open, for a line of another kind.
func (p *progress) closeLine() {
	if p.open || p.drawn > 0 {
		fmt.Fprintln(p.w)
	}
	p.open, p.drawn = false, 0
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
