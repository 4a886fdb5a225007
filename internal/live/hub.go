package live

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/store"
)

// Hub listens for the notifications of changed waves on a connection of
// its own and wakes the subscribers of the waves they name. It keeps only
// who subscribed to what: no page's state, no user's.
//
// The connection is not one of the pool's: a listening session must stay
// the same session, and it would take a pooled connection from every query
// for good. When it drops, the Hub connects again (backing off up to
// maxBackoff) and, each time it listens again, wakes every subscriber,
// which may have missed changes meanwhile. While it cannot listen, it wakes
// them every maxBackoff, so that pages go on updating at polling's pace.
type Hub struct {
	config *pgx.ConnConfig
	log    *slog.Logger
	// idle is how long the Hub waits for a notification before it checks
	// that its connection still answers.
	idle time.Duration

	mu   sync.Mutex
	subs map[*subscriber]struct{}

	listening atomic.Bool
	up        chan struct{} // closed and replaced each time the Hub listens
	pid       atomic.Uint32 // the listening session's backend, for tests

	notifications atomic.Int64
	connects      atomic.Int64
}

// Backoff of the Hub's reconnections.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// HubStats count what a Hub heard.
type HubStats struct {
	// Notifications is how many notifications it received.
	Notifications int64
	// Connects is how many times it started listening (1 plus its
	// reconnections).
	Connects int64
}

// subscriber is one subscription: the waves and the group it hears of, and
// its channel, which holds at most one wake (wakes coalesce).
type subscriber struct {
	ch    chan struct{}
	waves map[int64]bool
	group int64 // 0: none
}

// NewHub returns a Hub that connects with the pool's settings (its own
// connection, not one of the pool's). Run it.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "cutover live"
	// Keepalives find a peer gone without a word (a network cut) sooner
	// than the default's minutes.
	cfg.DialFunc = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}).DialContext
	return &Hub{config: cfg, log: log, idle: 30 * time.Second, subs: map[*subscriber]struct{}{}, up: make(chan struct{})}
}

// Subscribe returns a channel that receives when one of waves changes (or
// every subscriber is woken), and the function that ends the
// subscription. A wake not taken yet absorbs the next ones: the receiver
// reads the current state once for all of them.
func (h *Hub) Subscribe(waveIDs ...int64) (<-chan struct{}, func()) {
	ch, cancel := h.subscribe(0, waveIDs)
	return ch, cancel
}

// SubscribeGroup is Subscribe for a group's page: it also hears of the
// group as a whole (a wave planned into it, which waveIDs do not name yet).
func (h *Hub) SubscribeGroup(groupID int64, waveIDs ...int64) (<-chan struct{}, func()) {
	ch, cancel := h.subscribe(groupID, waveIDs)
	return ch, cancel
}

// subscribe subscribes to a group (0: none) and waves.
func (h *Hub) subscribe(group int64, waveIDs []int64) (chan struct{}, func()) {
	s := &subscriber{ch: make(chan struct{}, 1), waves: make(map[int64]bool, len(waveIDs)), group: group}
	for _, id := range waveIDs {
		s.waves[id] = true
	}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
		})
	}
}

// Listening reports whether the Hub listens now.
func (h *Hub) Listening() bool { return h.listening.Load() }

// WaitListening waits until the Hub listens.
func (h *Hub) WaitListening(ctx context.Context) error {
	for {
		h.mu.Lock()
		up := h.up // closed once the Hub listens (after listening is set)
		h.mu.Unlock()
		if h.Listening() {
			return nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats returns what the Hub heard so far.
func (h *Hub) Stats() HubStats {
	return HubStats{Notifications: h.notifications.Load(), Connects: h.connects.Load()}
}

// Run listens until ctx ends, connecting again whenever the connection
// drops.
func (h *Hub) Run(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		started := time.Now()
		err := h.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = minBackoff // a long session: its end is news
		}
		if backoff == minBackoff {
			h.log.Warn("live updates: the listening connection failed; pages are read every few seconds until it is back", "error", err)
		}
		// The pages may have missed changes; and while the Hub cannot
		// listen, this wake every backoff is their polling.
		h.wakeAll()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session connects, listens and delivers notifications until the
// connection fails or ctx ends.
func (h *Hub) session(ctx context.Context) error {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, h.config)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if err := store.New(conn).LiveListen(ctx); err != nil {
		return err
	}
	h.listened(conn.PgConn().PID())
	defer h.down()
	if h.connects.Load() > 1 {
		h.log.Info("live updates: listening again")
	}
	// Whatever changed before the Hub listened is unheard of: every page
	// reads once.
	h.wakeAll()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, h.idle)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			h.notifications.Add(1)
			if n.Channel == store.LiveChannel {
				h.deliver(parse(n.Payload))
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			// Quiet for a while: make sure the session still answers.
			pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// listened records that the Hub listens, on the session of backend pid.
func (h *Hub) listened(pid uint32) {
	h.pid.Store(pid)
	h.connects.Add(1)
	h.listening.Store(true)
	h.mu.Lock()
	close(h.up)
	h.up = make(chan struct{})
	h.mu.Unlock()
}

// down records that the Hub no longer listens.
func (h *Hub) down() {
	h.listening.Store(false)
	h.pid.Store(0)
}

// deliver wakes the subscribers that c concerns.
func (h *Hub) deliver(c change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if c.all || (s.group != 0 && c.groups[s.group]) || concerns(s.waves, c.waves) {
			wake(s.ch)
		}
	}
}

// concerns reports whether the two sets of waves meet.
func concerns(mine, changed map[int64]bool) bool {
	if len(changed) < len(mine) {
		mine, changed = changed, mine
	}
	for id := range mine {
		if changed[id] {
			return true
		}
	}
	return false
}

// wakeAll wakes every subscriber.
func (h *Hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		wake(s.ch)
	}
}

// wake puts a wake in ch unless one waits there already.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
