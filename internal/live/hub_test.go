package live

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
)

// runHub runs a Hub on the database at url until the test ends; options
// change it before it runs.
func runHub(t *testing.T, url string, options ...func(*Hub)) *Hub {
	t.Helper()
	h := NewHub(testPool(t, url), discard)
	for _, o := range options {
		o(h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func waitListening(t *testing.T, h *Hub) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.WaitListening(ctx))
}

// drain empties a subscription's channel.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// TestHubDeliversAcrossConnections: a Notifier on one connection wakes the
// subscribers of the waves it names, on the Hub's connection, and no one
// else.
func TestHubDeliversAcrossConnections(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	h := runHub(t, url)
	n := newNotifier(testPool(t, url), discard, 20*time.Millisecond)
	t.Cleanup(n.Close)
	subs := map[string]<-chan struct{}{}
	for name, sub := range map[string]func() (<-chan struct{}, func()){
		"wave 1":        func() (<-chan struct{}, func()) { return h.Subscribe(1) },
		"wave 2":        func() (<-chan struct{}, func()) { return h.Subscribe(2) },
		"waves 1 and 3": func() (<-chan struct{}, func()) { return h.Subscribe(1, 3) },
		"group 7":       func() (<-chan struct{}, func()) { return h.SubscribeGroup(7, 3) },
	} {
		ch, cancel := sub()
		t.Cleanup(cancel)
		subs[name] = ch
	}
	waitListening(t, h)

	cases := []struct {
		name  string
		touch func()
		woken []string
	}{
		{"a wave", func() { n.Touch(1) }, []string{"wave 1", "waves 1 and 3"}},
		{"a group's wave", func() { n.Touch(3) }, []string{"group 7", "waves 1 and 3"}},
		{"a group", func() { n.TouchGroup(7) }, []string{"group 7"}},
		{"a wave no page follows", func() { n.Touch(99) }, nil},
		{"every page", func() { n.TouchAll() }, []string{"group 7", "wave 1", "wave 2", "waves 1 and 3"}},
	}
	for _, c := range cases {
		// One after another: they share the Hub.
		t.Run(c.name, func(t *testing.T) {
			for _, ch := range subs {
				drain(ch)
			}
			c.touch()
			for _, name := range c.woken {
				select {
				case <-subs[name]:
				case <-time.After(2 * time.Second):
					t.Fatalf("%s not woken", name)
				}
			}
			time.Sleep(200 * time.Millisecond) // anything else would have come by now
			for name, ch := range subs {
				if slices.Contains(c.woken, name) {
					continue
				}
				select {
				case <-ch:
					t.Fatalf("%s woken", name)
				default:
				}
			}
		})
	}
	require.GreaterOrEqual(t, h.Stats().Notifications, int64(4))
}

// TestHubReconnects: when the Hub's connection drops it wakes every
// subscriber (they may have missed changes), connects again and goes on
// delivering; while it cannot connect, it wakes them at polling's pace.
func TestHubReconnects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cut  func(t *testing.T, h *Hub, url string)
		// listens says whether the Hub listens again.
		listens bool
	}{
		{"the session is terminated", func(t *testing.T, h *Hub, url string) {
			pid := h.pid.Load()
			require.NotZero(t, pid)
			var ok bool
			require.NoError(t, testPool(t, url).QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&ok))
			require.True(t, ok)
		}, true},
		{"the database cannot be reached", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			url := dbtest.URL(t)
			var h *Hub
			if c.cut == nil {
				h = NewHub(testPool(t, url), discard)
				h.config.Port = 1 // nothing listens there
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				go h.Run(ctx)
			} else {
				h = runHub(t, url)
				waitListening(t, h)
			}
			ch, cancel := h.Subscribe(5)
			t.Cleanup(cancel)
			drain(ch)
			if c.cut != nil {
				c.cut(t, h, url)
			}
			wakes := 0
			deadline := time.After(2*maxBackoff + time.Second)
		count:
			for {
				select {
				case <-ch:
					wakes++
				case <-deadline:
					break count
				}
			}
			require.GreaterOrEqual(t, wakes, 2, "woken on the cut, and again")
			if !c.listens {
				require.False(t, h.Listening())
				return
			}
			waitListening(t, h)
			require.Equal(t, int64(2), h.Stats().Connects)
			n := newNotifier(testPool(t, url), discard, 20*time.Millisecond)
			t.Cleanup(n.Close)
			drain(ch)
			n.Touch(5)
			select {
			case <-ch:
			case <-time.After(2 * time.Second):
				t.Fatal("not woken after the reconnection")
			}
		})
	}
}

// TestHubQuiet: a Hub that hears nothing for a while makes sure its
// session still answers, and keeps it.
func TestHubQuiet(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	h := runHub(t, url, func(h *Hub) { h.idle = 50 * time.Millisecond })
	waitListening(t, h)
	ch, cancel := h.Subscribe(8)
	t.Cleanup(cancel)
	drain(ch)
	time.Sleep(500 * time.Millisecond) // about ten quiet spells, each checked
	require.True(t, h.Listening())
	require.Equal(t, int64(1), h.Stats().Connects, "the same session throughout")
	n := newNotifier(testPool(t, url), discard, 20*time.Millisecond)
	t.Cleanup(n.Close)
	n.Touch(8)
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("not woken after quiet spells")
	}
}
