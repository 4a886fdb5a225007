package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// queryCounter counts the statements a pool runs, each of a batch too.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.n.Add(1)
}

func (c *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// liveBundle serves the API with live feeds, as serve does: the workers,
// on a pool of their own, notify what they commit; the server listens on a
// connection of its own, and its pool counts the statements it runs.
type liveBundle struct {
	*testBundle
	server  *api.Server
	queries *queryCounter
}

func setupLive(t *testing.T, shell *sim.Shell) *liveBundle {
	t.Helper()
	return setupLiveWorking(t, shell, shell)
}

// setupLiveWorking is setupLive with the workers' shell apart (one that
// holds moves, say).
func setupLiveWorking(t *testing.T, shell *sim.Shell, working migration.Shell) *liveBundle {
	t.Helper()
	url := dbtest.URL(t)
	ctx := context.Background()
	workers, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(workers.Close)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	queries := &queryCounter{}
	cfg.ConnConfig.Tracer = queries
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	log := slog.New(slog.DiscardHandler)
	notifier := live.NewNotifier(workers, log)
	t.Cleanup(notifier.Close) // after the workers stop (cleanups run last first)
	client := jobstest.Start(t, workers, working, func(c *jobs.Config) { c.LicenceSettle, c.Notifier = time.Nanosecond, notifier })
	hub := live.NewHub(pool, log)
	hubCtx, stopHub := context.WithCancel(ctx)
	t.Cleanup(stopHub)
	go hub.Run(hubCtx)
	server := api.NewServer(pool, app.New(pool, jobs.NewQueue(client)).WithNotifier(notifier), log, nil)
	server.ServeLive(hub)
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(server.CloseLive) // first: the streams end, then the server closes
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, hub.WaitListening(wait))
	return &liveBundle{testBundle: &testBundle{srv: srv, shell: shell, pool: pool, token: newToken(t, pool, auth.RoleLead)}, server: server, queries: queries}
}

// sseEvent is one server-sent event as a client reads it.
type sseEvent struct {
	Name, ID, Data string
	At             time.Time // when it arrived
}

// sseStream is an open stream.
type sseStream struct {
	Header http.Header
	events chan sseEvent
	ended  chan struct{}
}

// open opens a live route and reads its events as they come.
func (b *testBundle) open(t *testing.T, path string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Accept", "text/event-stream")
	res, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	s := &sseStream{Header: res.Header, events: make(chan sseEvent, 10000), ended: make(chan struct{})}
	go func() {
		defer close(s.ended)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				if line == "" && e.Data != "" {
					e.At = time.Now()
					s.events <- e
				}
				if line == "" {
					e = sseEvent{}
				}
			case "event":
				e.Name = value
			case "id":
				e.ID = value
			case "data":
				e.Data += value
			}
		}
	}()
	t.Cleanup(func() { cancel(); res.Body.Close(); <-s.ended })
	return s
}

// next returns the stream's next event.
func (s *sseStream) next(t *testing.T, within time.Duration) sseEvent {
	t.Helper()
	select {
	case e := <-s.events:
		return e
	case <-s.ended:
		t.Fatal("the stream ended")
	case <-time.After(within):
		t.Fatalf("no event within %s", within)
	}
	return sseEvent{}
}

// until reads events until one satisfies done, and returns them all.
func (s *sseStream) until(t *testing.T, within time.Duration, done func(sseEvent) bool) []sseEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	var out []sseEvent
	for {
		e := s.next(t, time.Until(deadline))
		out = append(out, e)
		if done(e) {
			return out
		}
	}
}

// progressOf reads the progress and state of a wave's or a group's event.
func progressOf(t *testing.T, e sseEvent) (done int, state string) {
	t.Helper()
	var v struct {
		State    string `json:"state"`
		Progress struct {
			Done int `json:"done"`
		} `json:"progress"`
		FinishedAt *time.Time `json:"finished_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(e.Data), &v), e.Data)
	if v.State == "" && v.FinishedAt != nil {
		v.State = "completed" // a group finished
	}
	return v.Progress.Done, v.State
}

// sameJSON checks that an event carries what GET answers.
func sameJSON(t *testing.T, want []byte, got string) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w))
	require.NoError(t, json.Unmarshal([]byte(got), &g))
	require.Equal(t, w, g)
}

// moveEnds returns when each of a wave's moves ended, in order.
func moveEnds(t *testing.T, pool *pgxpool.Pool, waveID int64) []time.Time {
	t.Helper()
	rows, _ := pool.Query(context.Background(), `SELECT finished_at FROM moves WHERE wave_id = $1 AND finished_at IS NOT NULL ORDER BY finished_at`, waveID)
	ends, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	require.NoError(t, err)
	return ends
}

// worstDelay is the longest a page waited, after a move's end, for an
// event counting it done.
func worstDelay(t *testing.T, ends []time.Time, events []sseEvent) time.Duration {
	t.Helper()
	var worst time.Duration
	for k, end := range ends {
		i := slices.IndexFunc(events, func(e sseEvent) bool { d, _ := progressOf(t, e); return d >= k+1 })
		require.GreaterOrEqual(t, i, 0, "no event showed move %d's end", k+1)
		worst = max(worst, events[i].At.Sub(end))
	}
	return worst
}

// TestLiveStream: a page gets the current answer at once, then each move's
// end within two seconds, and at the end what GET answers.
func TestLiveStream(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path func(g group, waveID int64) string
		get  func(g group, waveID int64) string
		kind string
	}{
		{"a wave", func(_ group, w int64) string { return fmt.Sprintf("/api/v1/waves/%d/live", w) },
			func(_ group, w int64) string { return fmt.Sprintf("/api/v1/waves/%d", w) }, "wave"},
		{"a group", func(g group, _ int64) string { return fmt.Sprintf("/api/v1/groups/%d/live", g.ID) },
			func(g group, _ int64) string { return fmt.Sprintf("/api/v1/groups/%d", g.ID) }, "group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setupLive(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: 150 * time.Millisecond}))
			const n = 10
			g := b.createGroup(t, "live", users(n, "live."))
			waveID := decode[struct {
				Waves []wave `json:"waves"`
			}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": n, "start_at": future().Format(time.RFC3339), "concurrency": 1, "max_attempts": 1}}}), http.StatusCreated).Waves[0].ID

			s := b.open(t, c.path(g, waveID))
			require.Equal(t, "text/event-stream", s.Header.Get("Content-Type"))
			require.Equal(t, "no-store", s.Header.Get("Cache-Control"))
			require.Equal(t, "no", s.Header.Get("X-Accel-Buffering"))
			first := s.next(t, 2*time.Second)
			require.Equal(t, c.kind, first.Name)
			sameJSON(t, b.get(t, c.get(g, waveID)).Body, first.Data)
			done, _ := progressOf(t, first)
			require.Zero(t, done)

			decode[wave](t, b.waveAction(t, waveID, "reschedule", map[string]string{"start_at": "now"}), http.StatusOK)
			events := s.until(t, 30*time.Second, func(e sseEvent) bool { _, state := progressOf(t, e); return state == "completed" })
			ends := moveEnds(t, b.pool, waveID)
			require.Len(t, ends, n)
			worst := worstDelay(t, ends, events)
			t.Logf("%d events for %d moves; the worst delay from a move's end to its event: %s", len(events), n, worst)
			require.Less(t, worst, 2*time.Second)
			sameJSON(t, b.get(t, c.get(g, waveID)).Body, events[len(events)-1].Data)
		})
	}
}

// TestLiveGroupNewWave: a group's page hears of a wave planned into it.
func TestLiveGroupNewWave(t *testing.T) {
	t.Parallel()
	b := setupLive(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
	g := b.createGroup(t, "new wave", users(3, "new."))
	s := b.open(t, fmt.Sprintf("/api/v1/groups/%d/live", g.ID))
	var v struct {
		Waves []wave `json:"waves"`
	}
	require.NoError(t, json.Unmarshal([]byte(s.next(t, 2*time.Second).Data), &v))
	require.Empty(t, v.Waves)
	b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 3, "start_at": future().Format(time.RFC3339)}}})
	e := s.next(t, 2*time.Second)
	require.NoError(t, json.Unmarshal([]byte(e.Data), &v))
	require.Len(t, v.Waves, 1)
}

// TestLiveUser: a user's page hears of their move as it goes, each event
// what GET answers, the last one the move's end, within two seconds of it.
func TestLiveUser(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	held := holdAfter(shell, 0) // every move call waits until the test has seen it begin
	b := setupLiveWorking(t, shell, held)
	g := b.createGroup(t, "live user", users(3, "lu."))
	const upn = "lu.001@contoso.com"
	waveID := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 3, "start_at": future().Format(time.RFC3339), "concurrency": 3}}}), http.StatusCreated).Waves[0].ID

	s := b.open(t, "/api/v1/users/"+upn+"/live")
	first := s.next(t, 2*time.Second)
	require.Equal(t, "user", first.Name)
	sameJSON(t, b.get(t, "/api/v1/users/"+upn).Body, first.Data)
	stateOf := func(e sseEvent) string {
		var u userStatus
		require.NoError(t, json.Unmarshal([]byte(e.Data), &u))
		return u.State
	}
	require.Equal(t, "pending", stateOf(first))

	// The move is heard on its way, not only at its end: the page shows
	// the user being moved while the move call runs.
	decode[wave](t, b.waveAction(t, waveID, "reschedule", map[string]string{"start_at": "now"}), http.StatusOK)
	s.until(t, 30*time.Second, func(e sseEvent) bool { return stateOf(e) == "moving" })
	close(held.release)
	events := s.until(t, 30*time.Second, func(e sseEvent) bool { return stateOf(e) == "moved" })
	var end time.Time
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT finished_at FROM moves WHERE upn = $1`, upn).Scan(&end))
	require.Less(t, events[len(events)-1].At.Sub(end), 2*time.Second)
	sameJSON(t, b.get(t, "/api/v1/users/"+upn).Body, events[len(events)-1].Data)
}

// TestLiveSharedReads: twenty pages on a running wave cost one read per
// batch of changes between them, not one each.
func TestLiveSharedReads(t *testing.T) {
	t.Parallel()
	const pages, n = 20, 40
	b := setupLive(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: 50 * time.Millisecond}))
	g := b.createGroup(t, "shared", users(n, "shared."))
	waveID := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": n, "start_at": future().Format(time.RFC3339), "concurrency": 2, "max_attempts": 1}}}), http.StatusCreated).Waves[0].ID

	streams := make([]*sseStream, pages)
	for i := range streams {
		streams[i] = b.open(t, fmt.Sprintf("/api/v1/waves/%d/live", waveID))
		streams[i].next(t, 2*time.Second)
	}
	readsBefore, queriesBefore := b.server.LiveReads(), b.queries.n.Load()
	start := time.Now()
	decode[wave](t, b.waveAction(t, waveID, "reschedule", map[string]string{"start_at": "now"}), http.StatusOK)

	seen := map[string]bool{} // the answers sent, by event ID
	finals := map[string]bool{}
	var took time.Duration
	for _, s := range streams {
		events := s.until(t, 60*time.Second, func(e sseEvent) bool { _, state := progressOf(t, e); return state == "completed" })
		for _, e := range events {
			seen[e.ID] = true
		}
		last := events[len(events)-1]
		finals[last.Data] = true
		took = max(took, last.At.Sub(start))
	}
	reads, queries := b.server.LiveReads()-readsBefore, b.queries.n.Load()-queriesBefore
	t.Logf("%s: %d reads for %d pages, %d answers sent; %d statements on the server's pool", took.Round(time.Millisecond), reads, pages, len(seen), queries)
	require.Len(t, finals, 1, "every page ended on the same answer")
	// Each read is of every page, and is read again only after a change:
	// about one read per answer sent, and never more than MinGap allows.
	require.LessOrEqual(t, reads, int64(len(seen))+3)
	require.LessOrEqual(t, reads, int64(took/live.MinGap)+3)
	// A wave's read is two statements; the reschedule a dozen more.
	require.LessOrEqual(t, queries, 2*reads+25)
	polled := int64(pages) * int64(took/(2*time.Second)+1) * 2
	require.Less(t, queries, polled, "fewer statements than %d pages polling every 2 s", pages)
}

// TestLiveWithoutFeeds: a server that does not stream answers the current
// state as one event and ends, and the page polls.
func TestLiveWithoutFeeds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "no feeds", users(2, "nofeeds."))
	w := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 2, "start_at": future().Format(time.RFC3339)}}}), http.StatusCreated).Waves[0]
	cases := []struct {
		path, kind string
		status     int
	}{
		{fmt.Sprintf("/api/v1/waves/%d/live", w.ID), "wave", http.StatusOK},
		{fmt.Sprintf("/api/v1/groups/%d/live", g.ID), "group", http.StatusOK},
		{"/api/v1/waves/999999/live", "", http.StatusNotFound},
		{"/api/v1/groups/999999/live", "", http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			r := b.get(t, c.path)
			require.Equal(t, c.status, r.Status, "%s", r)
			if c.status != http.StatusOK {
				require.Contains(t, r.Header.Get("Content-Type"), "application/json")
				return
			}
			require.Equal(t, "text/event-stream", r.Header.Get("Content-Type"))
			require.Contains(t, string(r.Body), "retry: 2000\n")
			require.Contains(t, string(r.Body), "event: "+c.kind+"\n")
			require.Equal(t, 1, strings.Count(string(r.Body), "data: "))
		})
	}
}

// TestLiveEnds: the streams end when the server stops, with a word saying
// to connect again, and a missing wave is a 404 before any stream.
func TestLiveEnds(t *testing.T) {
	t.Parallel()
	b := setupLive(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
	g := b.createGroup(t, "ends", users(2, "ends."))
	s := b.open(t, fmt.Sprintf("/api/v1/groups/%d/live", g.ID))
	s.next(t, 2*time.Second)
	apiErr(t, b.get(t, "/api/v1/waves/999999/live"), http.StatusNotFound, "not_found")
	b.server.CloseLive()
	require.Equal(t, "reconnect", s.next(t, 2*time.Second).Name)
	select {
	case <-s.ended:
	case <-time.After(2 * time.Second):
		t.Fatal("the stream did not end")
	}
}

// TestBrowserLiveDashboardStreams: the group's page follows the wave by
// its stream, says so, and shows it done without a reload.
func TestBrowserLiveDashboardStreams(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	b := setupLive(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 20 * time.Millisecond}))
	const n = 30
	g := b.createGroup(t, "Streamed pilot", users(n, "stream."))
	waveID := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": n, "start_at": future().Format(time.RFC3339), "name": "wave S", "concurrency": 2, "max_attempts": 1}}}), http.StatusCreated).Waves[0].ID

	var how string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/ui/groups/%d", b.srv.URL, g.ID)),
		signIn(b.token),
		chromedp.WaitVisible(`#dashboard`, chromedp.ByID),
		chromedp.Evaluate(`window.notReloaded = true`, nil),
	))
	require.Eventually(t, func() bool {
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('updated').dataset.mode || ''`, &how))
		return how == "live"
	}, 10*time.Second, 100*time.Millisecond, "the page says it is live")
	decode[wave](t, b.waveAction(t, waveID, "reschedule", map[string]string{"start_at": "now"}), http.StatusOK)

	var summary string
	require.Eventually(t, func() bool {
		_ = chromedp.Run(ctx, chromedp.Evaluate(summaryText, &summary))
		return summary == fmt.Sprintf("%d of %d users moved to Teams.", n, n)
	}, 60*time.Second, 100*time.Millisecond, "the page showed the wave done; last: %q", summary)
	var notReloaded bool
	var line string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`window.notReloaded === true`, &notReloaded),
		chromedp.Text(`#updated`, &line, chromedp.ByID),
	))
	require.True(t, notReloaded)
	require.True(t, strings.HasPrefix(line, "live · updated "), line)
	browsertest.Screenshot(t, ctx, "dashboard-live")
}
