package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	step := func(d time.Duration) { now = now.Add(d) }

	p.startBench("enqueue", 1, 6)
	p.startPhase("baseline: River InsertManyFast %d jobs", 100)
	step(1200 * time.Millisecond)
	p.endPhase()
	p.startPhase("cutover: import+plan+enqueue %d users", 100)
	p.count(5, 100, "jobs queued") // too soon
	p.step("imported and planned")
	step(1100 * time.Millisecond)
	p.count(45, 100, "jobs queued")
	step(1100 * time.Millisecond)
	p.count(47, 100, "jobs queued") // the same tenth, less than 10 s after
	step(10 * time.Second)
	p.count(48, 100, "jobs queued") // the same tenth, but 10 s after
	step(1100 * time.Millisecond)
	if p.due() != true {
		t.Error("an update is due a second after the last")
	}
	if p.due() {
		t.Error("an update is due again at once: a count asked for and not printed (the same tenth) would query on every poll")
	}
	p.count(100, 100, "jobs queued")
	step(100 * time.Millisecond)
	p.endPhase()
	p.note("%d users: peak RSS %.1f MB", 100, 81.25)
	p.endBench()

	want := strings.Join([]string{
		"bench enqueue [1/6]: baseline: River InsertManyFast 100 jobs ... 1.2 s",
		"bench enqueue [1/6]: cutover: import+plan+enqueue 100 users ...",
		"  cutover: import+plan+enqueue 100 users: imported and planned (0.0 s)",
		"  cutover: import+plan+enqueue 100 users: 45/100 jobs queued (1.1 s)",
		"  cutover: import+plan+enqueue 100 users: 48/100 jobs queued (12.2 s)",
		"  cutover: import+plan+enqueue 100 users: 100/100 jobs queued (13.3 s)",
		"bench enqueue [1/6]: cutover: import+plan+enqueue 100 users ... 13.4 s",
		"  100 users: peak RSS 81.2 MB",
		"bench enqueue [1/6]: done, 14.6 s",
		"",
	}, "\n")
	if got := out.String(); got != want {
		t.Errorf("progress:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(out.String(), "\033") || strings.Contains(out.String(), "\r") {
		t.Error("escape codes or carriage returns in plain output")
	}
}

func TestProgressTerminalRedrawsOneLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	p.tty = true
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }

	p.startBench("lookup", 4, 6)
	p.startPhase("cutover")
	now = now.Add(time.Second)
	p.count(1, 10, "s measured")
	now = now.Add(time.Second)
	p.endPhase()

	want := "\rbench lookup [4/6]: cutover ..." +
		"\rbench lookup [4/6]: cutover ... 1/10 s measured (1.0 s)" +
		"\rbench lookup [4/6]: cutover ... 2.0 s" + strings.Repeat(" ", 18) + "\n"
	if got := out.String(); got != want {
		t.Errorf("progress:\n%q\nwant:\n%q", got, want)
	}
}
