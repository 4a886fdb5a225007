package live

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/store"
)

// FlushEvery is how often a Notifier sends at most: the changes of a busy
// wave (many moves ending a second) become a few notifications a second.
const FlushEvery = 250 * time.Millisecond

// maxPayload bounds one notification's payload, under Postgres's 8000
// bytes; more is split into several, still sent in one statement.
const maxPayload = 7900

// Tokens of a payload besides wave IDs: a group ("g12"), whose page
// should read its list of waves again (a wave was planned into it), and
// every page at once.
const (
	groupPrefix = "g"
	allToken    = "*"
)

// Notifier gathers the waves changed in this process and notifies them on
// store.LiveChannel, at most one statement every FlushEvery. Touching is
// cheap and never waits for the database, so the moves' hot path can call
// it after every change. A nil *Notifier is valid and tells no one, for
// processes and tests that have no pages to wake.
type Notifier struct {
	log   *slog.Logger
	every time.Duration

	mu     sync.Mutex
	pool   *pgxpool.Pool
	waves  map[int64]struct{}
	groups map[int64]struct{}
	all    bool

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	close   sync.Once
	failing bool // the last flush failed: said once in the log

	sent atomic.Int64 // statements sent
}

// NewNotifier returns a Notifier sending on pool; Close it to send what is
// left and stop.
func NewNotifier(pool *pgxpool.Pool, log *slog.Logger) *Notifier {
	return newNotifier(pool, log, FlushEvery)
}

// newNotifier is NewNotifier sending at most once every every.
func newNotifier(pool *pgxpool.Pool, log *slog.Logger, every time.Duration) *Notifier {
	n := &Notifier{pool: pool, log: log, every: every,
		waves: map[int64]struct{}{}, groups: map[int64]struct{}{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go n.run()
	return n
}

// Touch notes that waves changed. Call it once the change has committed:
// a page woken earlier would read the state before it.
func (n *Notifier) Touch(waveIDs ...int64) {
	if n == nil || len(waveIDs) == 0 {
		return
	}
	n.mu.Lock()
	for _, id := range waveIDs {
		n.waves[id] = struct{}{}
	}
	n.mu.Unlock()
	n.wake()
}

// TouchGroup notes that groups changed as a whole (a wave planned into
// one): their pages read which waves they have again.
func (n *Notifier) TouchGroup(groupIDs ...int64) {
	if n == nil || len(groupIDs) == 0 {
		return
	}
	n.mu.Lock()
	for _, id := range groupIDs {
		n.groups[id] = struct{}{}
	}
	n.mu.Unlock()
	n.wake()
}

// TouchAll wakes every page, for a change that does not say which waves it
// made: each page followed is read once more.
func (n *Notifier) TouchAll() {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.all = true
	n.mu.Unlock()
	n.wake()
}

// Sent returns how many statements the Notifier has sent (or tried to:
// one that failed is counted, and its waves go with the next).
func (n *Notifier) Sent() int64 {
	if n == nil {
		return 0
	}
	return n.sent.Load()
}

// Close sends what was touched and not sent yet, and stops the Notifier. A
// command that changes a wave and exits closes it before closing the pool.
func (n *Notifier) Close() {
	if n == nil {
		return
	}
	n.close.Do(func() { close(n.stop) })
	<-n.done
}

func (n *Notifier) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// run sends at once the first touch after a quiet spell, so that a page
// hears of a lone change without waiting; touches within FlushEvery of a
// send wait for the next.
func (n *Notifier) run() {
	defer close(n.done)
	for {
		select {
		case <-n.kick:
		case <-n.stop:
			n.flush()
			return
		}
		n.flush()
		select {
		case <-time.After(n.every):
		case <-n.stop:
			n.flush()
			return
		}
	}
}

// flush sends what was touched since the last flush. What could not be
// sent (the database is out of reach) is kept for the next: the pages read
// it late rather than never.
func (n *Notifier) flush() {
	n.mu.Lock()
	pool, waves, groups, all := n.pool, n.waves, n.groups, n.all
	if len(waves) == 0 && len(groups) == 0 && !all {
		n.mu.Unlock()
		return
	}
	n.waves, n.groups, n.all = map[int64]struct{}{}, map[int64]struct{}{}, false
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := store.New(pool).LiveNotify(ctx, payloads(waves, groups, all))
	n.sent.Add(1)
	if err == nil {
		if n.failing {
			n.log.Info("live notifications sent again")
			n.failing = false
		}
		return
	}
	if !n.failing {
		n.log.Warn("sending live notifications failed; pages that follow waves see their changes when it works again (or within their periodic read)", "error", err)
		n.failing = true
	}
	n.mu.Lock()
	for id := range waves {
		n.waves[id] = struct{}{}
	}
	for id := range groups {
		n.groups[id] = struct{}{}
	}
	n.all = n.all || all
	n.mu.Unlock()
	n.wake()
}

// payloads writes what was touched as comma-separated tokens ("12,13,g4"),
// split so that no payload exceeds maxPayload.
func payloads(waves, groups map[int64]struct{}, all bool) []string {
	if all {
		return []string{allToken}
	}
	tokens := make([]string, 0, len(waves)+len(groups))
	for _, id := range slices.Sorted(maps.Keys(waves)) {
		tokens = append(tokens, strconv.FormatInt(id, 10))
	}
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		tokens = append(tokens, groupPrefix+strconv.FormatInt(id, 10))
	}
	var out []string
	var b strings.Builder
	for _, t := range tokens {
		if b.Len() > 0 && b.Len()+1+len(t) > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t)
	}
	return append(out, b.String())
}

// change is what one notification names.
type change struct {
	all    bool
	waves  map[int64]bool
	groups map[int64]bool
}

// parse reads a payload; tokens it does not know (of a later version) are
// skipped.
func parse(payload string) change {
	c := change{waves: map[int64]bool{}, groups: map[int64]bool{}}
	for t := range strings.SplitSeq(payload, ",") {
		switch {
		case t == allToken:
			c.all = true
		case strings.HasPrefix(t, groupPrefix):
			if id, err := strconv.ParseInt(t[len(groupPrefix):], 10, 64); err == nil {
				c.groups[id] = true
			}
		default:
			if id, err := strconv.ParseInt(t, 10, 64); err == nil {
				c.waves[id] = true
			}
		}
	}
	return c
}
