package live

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Topic is what a page follows: one wave, or one group with its waves.
type Topic struct {
	Group bool
	ID    int64
	// User is a user's page, by UPN or SIP address as the page asked.
	User string
}

// WaveTopic is a wave's page.
func WaveTopic(id int64) Topic { return Topic{ID: id} }

// GroupTopic is a group's page, which shows each of its waves.
func GroupTopic(id int64) Topic { return Topic{Group: true, ID: id} }

// UserTopic is a user's page (the helpdesk's lookup), which shows the
// user's moves in their waves.
func UserTopic(identity string) Topic { return Topic{User: identity} }

// followsWaves reports whether the topic's page shows the waves its read
// names (a group's, a user's) rather than the one wave it is.
func (t Topic) followsWaves() bool { return t.Group || t.User != "" }

// Read reads what a page of topic t shows (its JSON), and for a group or a
// user the IDs of the waves whose changes concern the page.
type Read func(ctx context.Context, t Topic) (data []byte, waves []int64, err error)

// Update is a topic's answer as last read.
type Update struct {
	Data []byte
	// Seq numbers the answers that differ, from 1: a follower that has
	// sent answer n sends none numbered n or less.
	Seq uint64
}

const (
	// MinGap is the least time between two reads of a topic: the changes
	// heard meanwhile are read together, once for every page that follows
	// it.
	MinGap = 500 * time.Millisecond
	// Refresh is how often a topic is read when nothing is heard of it, so
	// that a change whose process notified no one (a version without a
	// Notifier, a hand-made fix in psql) still shows within it.
	Refresh = 30 * time.Second
	// readTimeout bounds one read.
	readTimeout = 10 * time.Second
)

// ErrClosed is Follow's error once the Feeds are closed (the server is
// stopping).
var ErrClosed = errors.New("live: the feeds are closed")

// Feeds read each topic that pages follow once per batch of changes, and
// hand the answer to every page following it: twenty pages on one wave cost
// one read per change, not twenty. A topic is read only while some page
// follows it.
type Feeds struct {
	hub     *Hub
	read    Read
	log     *slog.Logger
	gap     time.Duration
	refresh time.Duration

	mu     sync.Mutex
	feeds  map[Topic]*feed
	closed bool
	done   chan struct{} // closed by Close
	ctx    context.Context
	cancel context.CancelFunc

	reads atomic.Int64
}

// NewFeeds returns Feeds that hear of changes from hub and read topics
// with read.
func NewFeeds(hub *Hub, read Read, log *slog.Logger) *Feeds {
	ctx, cancel := context.WithCancel(context.Background())
	return &Feeds{hub: hub, read: read, log: log, gap: MinGap, refresh: Refresh,
		feeds: map[Topic]*feed{}, done: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// Reads returns how many reads the Feeds have made.
func (f *Feeds) Reads() int64 { return f.reads.Load() }

// Close ends every follower (their Done channels close) and stops reading.
func (f *Feeds) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	close(f.done)
	f.cancel()
	for t, fd := range f.feeds {
		fd.halt()
		delete(f.feeds, t)
	}
}

// Follow follows topic t: it returns the topic's current answer and a
// Follower that receives the next ones. The first page to follow a topic
// reads it; the others get its last answer, which every change since has
// replaced. An error is the first read's (the wave does not exist, say).
func (f *Feeds) Follow(ctx context.Context, t Topic) (Update, *Follower, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return Update{}, nil, ErrClosed
	}
	fd := f.feeds[t]
	if fd == nil {
		fd = &feed{f: f, topic: t, stop: make(chan struct{}), ready: make(chan struct{}), followers: map[*Follower]struct{}{}}
		f.feeds[t] = fd
		go fd.run()
	}
	fl := &Follower{ch: make(chan Update, 1), fd: fd}
	fd.followers[fl] = struct{}{}
	f.mu.Unlock()

	select {
	case <-fd.ready:
	case <-ctx.Done():
		fl.Close()
		return Update{}, nil, ctx.Err()
	case <-f.done:
		fl.Close()
		return Update{}, nil, ErrClosed
	}
	if fd.err != nil {
		fl.Close()
		return Update{}, nil, fd.err
	}
	fd.mu.Lock()
	first := fd.last
	select {
	case <-fl.ch: // that answer, or an older one: first replaces it
	default:
	}
	fd.mu.Unlock()
	return first, fl, nil
}

// Follower is one page's following of a topic.
type Follower struct {
	ch   chan Update
	fd   *feed
	once sync.Once
}

// Updates receives the topic's answers after the first. It holds one: a
// page slower than the changes gets the latest, not every one.
func (fl *Follower) Updates() <-chan Update { return fl.ch }

// Done is closed when the Feeds close: the page's stream should end.
func (fl *Follower) Done() <-chan struct{} { return fl.fd.f.done }

// Close ends the following; the topic is no longer read once no page
// follows it.
func (fl *Follower) Close() {
	fl.once.Do(func() {
		f := fl.fd.f
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(fl.fd.followers, fl)
		if len(fl.fd.followers) == 0 && f.feeds[fl.fd.topic] == fl.fd {
			delete(f.feeds, fl.fd.topic)
			fl.fd.halt()
		}
	})
}

// feed reads one topic for its followers.
type feed struct {
	f     *Feeds
	topic Topic
	stop  chan struct{}
	halts sync.Once
	ready chan struct{} // closed once the first read is done
	err   error         // the first read's, set before ready closes

	followers map[*Follower]struct{} // under f.mu

	mu   sync.Mutex
	last Update
}

func (fd *feed) halt() { fd.halts.Do(func() { close(fd.stop) }) }

// run reads the topic, then again on each change heard of it (at most once
// per MinGap, however many changes and followers), until no page follows
// it.
func (fd *feed) run() {
	f := fd.f
	// Subscribed before the first read, so that a change made during it
	// is heard.
	ch, cancel := fd.subscribe(nil)
	defer func() { cancel() }()
	data, waves, err := fd.readOnce()
	if err != nil {
		fd.err = err
		f.mu.Lock()
		if f.feeds[fd.topic] == fd {
			delete(f.feeds, fd.topic)
		}
		f.mu.Unlock()
		close(fd.ready)
		return
	}
	fd.publish(data)
	close(fd.ready)
	if fd.topic.followsWaves() {
		ch, cancel = fd.resubscribe(waves, cancel)
	}
	last := time.Now()
	refresh := time.NewTimer(f.refresh)
	defer refresh.Stop()
	failing := false
	for {
		select {
		case <-ch:
		case <-refresh.C:
		case <-fd.stop:
			return
		}
		if wait := f.gap - time.Since(last); wait > 0 {
			select {
			case <-time.After(wait):
			case <-fd.stop:
				return
			}
		}
		last = time.Now()
		refresh.Reset(f.refresh)
		data, w, err := fd.readOnce()
		if err != nil {
			if !failing && f.ctx.Err() == nil {
				f.log.Warn("live updates: reading a followed page failed; its pages keep the last answer until a read works", "group", fd.topic.Group, "id", fd.topic.ID, "user", fd.topic.User, "error", err)
			}
			failing = true
			continue
		}
		failing = false
		if fd.topic.followsWaves() && !slices.Equal(w, waves) {
			waves = w
			ch, cancel = fd.resubscribe(waves, cancel)
		}
		fd.publish(data)
	}
}

func (fd *feed) subscribe(waves []int64) (chan struct{}, func()) {
	switch {
	case fd.topic.Group:
		return fd.f.hub.subscribe(fd.topic.ID, waves)
	case fd.topic.User != "":
		return fd.f.hub.subscribe(0, waves)
	}
	return fd.f.hub.subscribe(0, []int64{fd.topic.ID})
}

// resubscribe follows a group's waves as last read. The new subscription
// starts before the old one ends, with a wake in it: a change to a wave new
// to the page, made between the read and the subscription, is read then.
func (fd *feed) resubscribe(waves []int64, cancel func()) (chan struct{}, func()) {
	ch, next := fd.subscribe(waves)
	cancel()
	wake(ch)
	return ch, next
}

func (fd *feed) readOnce() ([]byte, []int64, error) {
	ctx, cancel := context.WithTimeout(fd.f.ctx, readTimeout)
	defer cancel()
	fd.f.reads.Add(1)
	return fd.f.read(ctx, fd.topic)
}

// publish hands a new answer to every follower; an answer equal to the
// last is not news.
func (fd *feed) publish(data []byte) {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	if fd.last.Seq > 0 && bytes.Equal(data, fd.last.Data) {
		return
	}
	fd.last = Update{Data: data, Seq: fd.last.Seq + 1}
	fd.f.mu.Lock()
	followers := make([]*Follower, 0, len(fd.followers))
	for fl := range fd.followers {
		followers = append(followers, fl)
	}
	fd.f.mu.Unlock()
	for _, fl := range followers {
		// Latest wins: an answer not sent yet is replaced.
		select {
		case fl.ch <- fd.last:
		default:
			select {
			case <-fl.ch:
			default:
			}
			select {
			case fl.ch <- fd.last:
			default:
			}
		}
	}
}
