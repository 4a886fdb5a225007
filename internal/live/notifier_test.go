package live

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
)

var discard = slog.New(slog.DiscardHandler)

func set(ids ...int64) map[int64]struct{} {
	m := map[int64]struct{}{}
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

func bools(ids ...int64) map[int64]bool {
	m := map[int64]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// manyWaves returns n wave IDs of 13 digits: 14 bytes each in a payload.
func manyWaves(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1_000_000_000_000 + int64(i)
	}
	return out
}

func TestPayloads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		waves, groups []int64
		all           bool
		want          []string // nil: only checked to split and parse back
	}{
		{"waves in order", []int64{12, 3}, nil, false, []string{"3,12"}},
		{"waves and groups", []int64{5}, []int64{2, 1}, false, []string{"5,g1,g2"}},
		{"every page names nothing else", []int64{5}, []int64{2}, true, []string{"*"}},
		{"more than one payload holds", manyWaves(3000), []int64{4}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := payloads(set(c.waves...), set(c.groups...), c.all)
			if c.want != nil {
				require.Equal(t, c.want, got)
			}
			back := change{waves: map[int64]bool{}, groups: map[int64]bool{}}
			for _, p := range got {
				require.LessOrEqual(t, len(p), maxPayload, "a payload Postgres takes")
				require.NotEmpty(t, p)
				merge(&back, parse(p))
			}
			require.Equal(t, c.all, back.all)
			if !c.all {
				require.Equal(t, bools(c.waves...), back.waves)
				require.Equal(t, bools(c.groups...), back.groups)
			}
			if len(c.waves) == 3000 {
				require.Greater(t, len(got), 5, "split")
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		payload string
		want    change
	}{
		{"1", change{waves: bools(1), groups: bools()}},
		{"1,2,g3", change{waves: bools(1, 2), groups: bools(3)}},
		{"*", change{all: true, waves: bools(), groups: bools()}},
		{"x,7,gy,,g8,h9", change{waves: bools(7), groups: bools(8)}}, // a later version's tokens are skipped
	}
	for _, c := range cases {
		t.Run(c.payload, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, parse(c.payload))
		})
	}
}

func merge(into *change, c change) {
	into.all = into.all || c.all
	for id := range c.waves {
		into.waves[id] = true
	}
	for id := range c.groups {
		into.groups[id] = true
	}
}

// listen returns a connection of the test's listening on the channel.
func listen(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	_, err = conn.Exec(context.Background(), "LISTEN cutover_waves")
	require.NoError(t, err)
	return conn
}

// heard collects the payloads conn receives until it has heard nothing
// for quiet.
func heard(t *testing.T, conn *pgx.Conn, quiet time.Duration) []string {
	t.Helper()
	var out []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		n, err := conn.WaitForNotification(ctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			return out
		}
		out = append(out, n.Payload)
	}
}

func testPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// TestNotifierBatches: however many touches, a Notifier sends one
// statement per flush (at most one every its interval), naming every wave
// touched once.
func TestNotifierBatches(t *testing.T) {
	t.Parallel()
	const every = 200 * time.Millisecond
	cases := []struct {
		name  string
		touch func(n *Notifier)
		want  change
		// most is the most statements sent.
		most int64
	}{
		{"one wave touched a thousand times", func(n *Notifier) {
			for range 1000 {
				n.Touch(7)
			}
		}, change{waves: bools(7), groups: bools()}, 2},
		{"a hundred waves ten times each", func(n *Notifier) {
			for range 10 {
				for id := range int64(100) {
					n.Touch(id + 1)
				}
			}
		}, change{waves: bools(manyIDs(100)...), groups: bools()}, 2},
		{"a group and its waves", func(n *Notifier) {
			n.Touch(1, 2)
			n.TouchGroup(3)
			n.Touch(2)
		}, change{waves: bools(1, 2), groups: bools(3)}, 2},
		{"every page", func(n *Notifier) {
			n.Touch(1)
			n.TouchAll()
		}, change{all: true, waves: bools(1), groups: bools()}, 2},
		{"a busy second: a touch a millisecond", func(n *Notifier) {
			end := time.Now().Add(time.Second)
			for i := int64(1); time.Now().Before(end); i++ {
				n.Touch(i%50 + 1)
				time.Sleep(time.Millisecond)
			}
		}, change{waves: bools(manyIDs(50)...), groups: bools()}, int64(time.Second/every) + 2},
		{"more waves than a payload holds", func(n *Notifier) {
			n.Touch(manyWaves(3000)...)
		}, change{waves: bools(manyWaves(3000)...), groups: bools()}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			url := dbtest.URL(t)
			conn := listen(t, url)
			n := newNotifier(testPool(t, url), discard, every)
			c.touch(n)
			n.Close() // sends what is left
			require.LessOrEqual(t, n.Sent(), c.most, "statements sent")
			require.Positive(t, n.Sent())

			got := change{waves: map[int64]bool{}, groups: map[int64]bool{}}
			payloads := heard(t, conn, 500*time.Millisecond)
			for _, p := range payloads {
				merge(&got, parse(p))
			}
			if c.want.all {
				require.True(t, got.all, "every page woken")
				return
			}
			require.Equal(t, c.want, got)
			if len(c.want.waves) == 3000 {
				require.Greater(t, len(payloads), int(n.Sent()), "split into several notifications, sent in one statement")
			}
		})
	}
}

func manyIDs(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// TestNilNotifier: a process without pages to wake passes nil.
func TestNilNotifier(t *testing.T) {
	t.Parallel()
	var n *Notifier
	n.Touch(1)
	n.TouchGroup(2)
	n.TouchAll()
	n.Close()
	require.Zero(t, n.Sent())
}

// TestNotifierKeepsWhatFailed: what could not be sent is sent with the
// next statement that goes through.
func TestNotifierKeepsWhatFailed(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	conn := listen(t, url)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	n := newNotifier(pool, discard, 20*time.Millisecond)
	pool.Close() // every statement fails
	n.Touch(4)
	require.Eventually(t, func() bool { return n.Sent() >= 2 }, 5*time.Second, 10*time.Millisecond, "tried, and tried again")
	n.mu.Lock()
	n.pool = testPool(t, url)
	n.mu.Unlock()
	n.Touch(5)
	n.Close()
	got := change{waves: map[int64]bool{}, groups: map[int64]bool{}}
	for _, p := range heard(t, conn, 500*time.Millisecond) {
		merge(&got, parse(p))
	}
	require.Equal(t, bools(4, 5), got.waves)
}
