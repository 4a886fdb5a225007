package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bareHub is a Hub that never connects: the tests deliver its
// notifications themselves.
func bareHub() *Hub {
	return &Hub{subs: map[*subscriber]struct{}{}, up: make(chan struct{}), log: discard}
}

// fakeTopics is what the feeds read: a version per topic, and a group's
// waves.
type fakeTopics struct {
	mu      sync.Mutex
	version map[Topic]int
	waves   map[int64][]int64
	missing map[Topic]bool
	reads   atomic.Int64
}

func (f *fakeTopics) read(_ context.Context, t Topic) ([]byte, []int64, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.missing[t] {
		return nil, nil, errors.New("no such topic")
	}
	return fmt.Appendf(nil, `{"version": %d}`, f.version[t]), f.waves[t.ID], nil
}

func (f *fakeTopics) bump(t Topic) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version[t]++
	return fmt.Sprintf(`{"version": %d}`, f.version[t])
}

func newFakeFeeds(t *testing.T) (*Feeds, *Hub, *fakeTopics) {
	t.Helper()
	hub := bareHub()
	topics := &fakeTopics{version: map[Topic]int{}, waves: map[int64][]int64{}, missing: map[Topic]bool{}}
	f := NewFeeds(hub, topics.read, discard)
	f.gap = 20 * time.Millisecond
	t.Cleanup(f.Close)
	return f, hub, topics
}

// next waits for a follower's next answer.
func next(t *testing.T, fl *Follower) string {
	t.Helper()
	select {
	case u := <-fl.Updates():
		return string(u.Data)
	case <-time.After(2 * time.Second):
		t.Fatal("no answer")
		return ""
	}
}

func follow(t *testing.T, f *Feeds, topic Topic) (Update, *Follower) {
	t.Helper()
	first, fl, err := f.Follow(context.Background(), topic)
	require.NoError(t, err)
	t.Cleanup(fl.Close)
	return first, fl
}

// TestFeedsReadOncePerBatch: twenty pages on one wave cost one read per
// batch of changes, and each gets every batch's answer.
func TestFeedsReadOncePerBatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		followers int
		batches   int
	}{
		{"one page", 1, 5},
		{"twenty pages", 20, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, hub, topics := newFakeFeeds(t)
			wave := WaveTopic(1)
			var followers []*Follower
			for range c.followers {
				first, fl := follow(t, f, wave)
				require.Equal(t, `{"version": 0}`, string(first.Data))
				followers = append(followers, fl)
			}
			require.Equal(t, int64(1), topics.reads.Load(), "the first page read it; the others got that answer")
			for range c.batches {
				time.Sleep(2 * f.gap) // batches apart
				want := topics.bump(wave)
				hub.deliver(parse("1,2,3")) // one notification: a batch
				for _, fl := range followers {
					require.Equal(t, want, next(t, fl))
				}
			}
			require.Equal(t, int64(1+c.batches), topics.reads.Load(), "one read per batch, whatever the pages")
			require.Equal(t, topics.reads.Load(), f.Reads())
		})
	}
}

// TestFeedsCoalesce: changes heard faster than MinGap are read together.
func TestFeedsCoalesce(t *testing.T) {
	t.Parallel()
	f, hub, topics := newFakeFeeds(t)
	f.gap = 300 * time.Millisecond
	wave := WaveTopic(1)
	_, fl := follow(t, f, wave)
	var want string
	start := time.Now()
	for time.Since(start) < time.Second {
		want = topics.bump(wave)
		hub.deliver(parse("1"))
		time.Sleep(10 * time.Millisecond)
	}
	require.Eventually(t, func() bool {
		select {
		case u := <-fl.Updates():
			return string(u.Data) == want
		default:
			return false
		}
	}, 2*time.Second, 10*time.Millisecond)
	// A read at once, then one every gap: about 1 + 1s/300ms, not 100.
	require.LessOrEqual(t, topics.reads.Load(), int64(7))
}

// TestFeedsFollowGroupWaves: a group's page hears of its waves, and of a
// wave planned into it once the group's change is heard.
func TestFeedsFollowGroupWaves(t *testing.T) {
	t.Parallel()
	f, hub, topics := newFakeFeeds(t)
	group := GroupTopic(9)
	topics.waves[9] = []int64{1}
	_, fl := follow(t, f, group)
	require.Eventually(t, func() bool { return hubFollows(hub, 9, 1) }, 2*time.Second, 5*time.Millisecond)

	cases := []struct {
		name    string
		change  func()
		payload string
		heard   bool
	}{
		{"its wave", nil, "1", true},
		{"another group's wave", nil, "5", false},
		{"a wave planned into it", func() { topics.mu.Lock(); topics.waves[9] = []int64{1, 2}; topics.mu.Unlock() }, "g9", true},
		{"its new wave", nil, "2", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.change != nil {
				c.change()
			}
			time.Sleep(2 * f.gap)
			want := topics.bump(group)
			before := topics.reads.Load()
			hub.deliver(parse(c.payload))
			if !c.heard {
				time.Sleep(5 * f.gap)
				require.Equal(t, before, topics.reads.Load())
				topics.mu.Lock()
				topics.version[group]-- // not read: as it was
				topics.mu.Unlock()
				return
			}
			require.Equal(t, want, next(t, fl))
			if c.change != nil {
				// The new wave is followed once the group was read again
				// (and read once more, in case it changed meanwhile).
				require.Eventually(t, func() bool { return hubFollows(hub, 9, 2) }, 2*time.Second, 5*time.Millisecond)
				time.Sleep(3 * f.gap)
			}
		})
	}
}

// hubFollows reports whether a subscription of the group follows wave.
func hubFollows(h *Hub, group, wave int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.group == group && s.waves[wave] {
			return true
		}
	}
	return false
}

// TestFeedsLifecycle: a topic is read only while followed; a first read
// that fails is the follower's error and is tried again by the next; Close
// ends every follower.
func TestFeedsLifecycle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, f *Feeds, hub *Hub, topics *fakeTopics)
	}{
		{"no page, no read", func(t *testing.T, f *Feeds, hub *Hub, topics *fakeTopics) {
			_, fl := follow(t, f, WaveTopic(1))
			fl.Close()
			require.Eventually(t, func() bool { hub.mu.Lock(); defer hub.mu.Unlock(); return len(hub.subs) == 0 }, 2*time.Second, 5*time.Millisecond)
			hub.deliver(parse("1"))
			time.Sleep(5 * f.gap)
			require.Equal(t, int64(1), topics.reads.Load())
		}},
		{"a first read that fails", func(t *testing.T, f *Feeds, _ *Hub, topics *fakeTopics) {
			topics.missing[WaveTopic(4)] = true
			_, _, err := f.Follow(context.Background(), WaveTopic(4))
			require.Error(t, err)
			topics.mu.Lock()
			delete(topics.missing, WaveTopic(4))
			topics.mu.Unlock()
			first, _ := follow(t, f, WaveTopic(4))
			require.Equal(t, `{"version": 0}`, string(first.Data))
		}},
		{"closed", func(t *testing.T, f *Feeds, _ *Hub, _ *fakeTopics) {
			_, fl := follow(t, f, WaveTopic(1))
			f.Close()
			select {
			case <-fl.Done():
			case <-time.After(time.Second):
				t.Fatal("the follower was not ended")
			}
			_, _, err := f.Follow(context.Background(), WaveTopic(1))
			require.ErrorIs(t, err, ErrClosed)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, hub, topics := newFakeFeeds(t)
			c.run(t, f, hub, topics)
		})
	}
}
