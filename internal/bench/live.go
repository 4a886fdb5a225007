package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

var sqlLiveMoveEnds = statement("live_move_ends")

// live: twenty dashboards open on a running wave, following it by
// server-sent events, against the same twenty pages polling GET
// /api/v1/groups/{id} every 2 s as they did before: the statements a
// minute the database runs for them (the API's reads, and the NOTIFY
// statements that feed the events), and how long after a move's end each
// page shows it.
func (b *bencher) live(ctx context.Context, sz Sizes) (Figure, error) {
	window := time.Duration(sz.LiveSeconds) * time.Second
	polled, err := b.dashboards(ctx, window, false)
	if err != nil {
		return Figure{}, err
	}
	streamed, err := b.dashboards(ctx, window, true)
	if err != nil {
		return Figure{}, err
	}
	ratio := streamed.perMinute / polled.perMinute
	return Figure{Name: fmt.Sprintf("%d dashboards on a running wave: queries/min", dashboardPages), Baseline: "polling GET /api/v1/groups/{id} every 2 s",
		Base: polled.perMinute, Value: streamed.perMinute, Unit: "/min", Ratio: ratio,
		Goal: "< 1×, each page ≤ 2 s after a move's end", Met: ratio < 1 && streamed.worst <= 2*time.Second,
		Notes: fmt.Sprintf("a wave of %d moves/s (%d users, cap %d, 200 ms moves) measured for %s; live: %d group reads shared by the %d pages and %d NOTIFY statements, "+
			"a move's end shown %s after it at worst (median %s); polling: %d group reads, shown %s after at worst (median %s). Counted: every statement of the API's pool "+
			"(a group read is 4, and the NOTIFYs run there too); the workers' own are the same on both sides",
			dashboardRate, dashboardUsers, dashboardCap, window, streamed.reads, dashboardPages, streamed.notifies, streamed.worst.Round(time.Millisecond), streamed.median.Round(time.Millisecond),
			polled.reads, polled.worst.Round(time.Millisecond), polled.median.Round(time.Millisecond))}, nil
}

// The dashboards benchmark's wave: busy (moves end at dashboardRate a
// second), the worst case for the live pages, which read once per batch of
// changes.
const (
	dashboardPages = 20
	dashboardUsers = 2000
	dashboardCap   = 10
	dashboardRate  = 50 // dashboardCap moves of 200 ms at once
)

// dashboardRun is what one side of the dashboards benchmark measured.
type dashboardRun struct {
	perMinute     float64
	reads         int64 // the group's reads (polls, or the feed's)
	notifies      int64
	worst, median time.Duration
}

// statementCounter counts the statements a pool sends, those of a batch
// each.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.n.Add(1)
}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// pageView is what a dashboard showed, and when.
type pageView struct {
	at   time.Time
	done int
}

// dashboards runs a wave with dashboardPages pages open on its group,
// streamed or polling, and counts the statements the API's pool runs for
// them over window (the workers have a pool of their own, not counted, the
// same on both sides).
func (b *bencher) dashboards(ctx context.Context, window time.Duration, streamed bool) (dashboardRun, error) {
	var run dashboardRun
	pool, url, done, err := b.fresh(ctx)
	if err != nil {
		return run, err
	}
	defer done()
	if streamed {
		b.p.startPhase("cutover: %d pages following server-sent events, a wave of %d users", dashboardPages, dashboardUsers)
	} else {
		b.p.startPhase("baseline: %d pages polling every 2 s, a wave of %d users", dashboardPages, dashboardUsers)
	}
	defer b.p.endPhase()
	if _, err := store.New(pool).SettingsSetMaxInFlight(ctx, dashboardCap, "bench"); err != nil {
		return run, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return run, err
	}
	statements := &statementCounter{}
	cfg.ConnConfig.Tracer = statements
	apiPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return run, err
	}
	defer apiPool.Close()

	var notifier *live.Notifier // none when polling: today's workers notify no one
	if streamed {
		// On the API's pool, so that its statements are counted.
		notifier = live.NewNotifier(apiPool, b.log)
		defer notifier.Close()
	}
	client, err := jobs.NewClient(pool, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: 200 * time.Millisecond}),
		jobs.Config{MoveWorkers: dashboardCap * 3 / 2, Control: true, PollInterval: 50 * time.Millisecond, ShellTimeout: time.Minute, Notifier: notifier}, b.log)
	if err != nil {
		return run, err
	}
	if err := client.Start(ctx); err != nil {
		return run, err
	}
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	server := b.newAPI(apiPool, app.New(apiPool, jobs.NewQueue(client)).WithNotifier(notifier), b.log)
	var hub *live.Hub
	if streamed {
		hub = live.NewHub(apiPool, b.log)
		hubCtx, stopHub := context.WithCancel(ctx)
		defer stopHub()
		go hub.Run(hubCtx)
		server.ServeLive(hub)
		listening, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := hub.WaitListening(listening)
		cancel()
		if err != nil {
			return run, err
		}
	}
	srv := httptest.NewServer(server.Handler())
	defer srv.Close()
	defer server.CloseLive() // before the server closes: the streams end
	_, token, err := store.New(pool).TokenCreate(ctx, "bench", auth.RoleLead, "cutover bench")
	if err != nil {
		return run, err
	}
	var g struct{ ID int64 }
	if err := call(ctx, srv.URL, token, "POST", "/api/v1/groups?name=dashboards", "text/csv", benchCSV(dashboardUsers, "d"), &g); err != nil {
		return run, err
	}

	// The pages open before the wave starts, as a lead's would.
	pagesCtx, closePages := context.WithCancel(ctx)
	defer closePages()
	var wg sync.WaitGroup
	views := make([][]pageView, dashboardPages)
	var reads atomic.Int64
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: dashboardPages}}
	opened := make(chan error, dashboardPages)
	for i := range dashboardPages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			see := func(data []byte) {
				var v struct {
					Progress struct{ Done int } `json:"progress"`
				}
				if json.Unmarshal(data, &v) == nil {
					views[i] = append(views[i], pageView{at: time.Now(), done: v.Progress.Done})
				}
			}
			if streamed {
				streamPage(pagesCtx, hc, srv.URL+fmt.Sprintf("/api/v1/groups/%d/live", g.ID), token, see, opened)
				return
			}
			opened <- nil
			pollPage(pagesCtx, hc, srv.URL+fmt.Sprintf("/api/v1/groups/%d", g.ID), token, time.Duration(i)*100*time.Millisecond, see, &reads)
		}()
	}
	for range dashboardPages {
		if err := <-opened; err != nil {
			return run, err
		}
	}
	body := fmt.Sprintf(`{"waves": [{"size": %d, "start_at": "now", "concurrency": %d, "max_attempts": 1}]}`, dashboardUsers, dashboardCap)
	var planned struct{ Waves []struct{ ID int64 } }
	if err := call(ctx, srv.URL, token, "POST", fmt.Sprintf("/api/v1/groups/%d/plan", g.ID), "application/json", []byte(body), &planned); err != nil {
		return run, err
	}
	// Measured once the wave runs at its pace.
	select {
	case <-ctx.Done():
		return run, ctx.Err()
	case <-time.After(3 * time.Second):
	}
	start, statementsBefore, readsBefore, sentBefore := time.Now(), statements.n.Load(), reads.Load()+server.LiveReads(), notifier.Sent()
	stopTick := b.p.tick(window)
	select {
	case <-ctx.Done():
		stopTick()
		return run, ctx.Err()
	case <-time.After(window):
	}
	stopTick()
	end := time.Now()
	run.perMinute = float64(statements.n.Load()-statementsBefore) / end.Sub(start).Minutes()
	run.reads = reads.Load() + server.LiveReads() - readsBefore
	run.notifies = notifier.Sent() - sentBefore
	closePages()
	wg.Wait()

	// How long after each move's end (in the window, and early enough for
	// a poll to have come) each page showed it done.
	rows, err := pool.Query(ctx, sqlLiveMoveEnds, planned.Waves[0].ID)
	if err != nil {
		return run, err
	}
	ends, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return run, err
	}
	var delays []time.Duration
	for k, at := range ends {
		if at.Before(start) || at.After(end.Add(-3*time.Second)) {
			continue
		}
		for _, page := range views {
			i := slices.IndexFunc(page, func(v pageView) bool { return v.done >= k+1 })
			if i < 0 {
				return run, fmt.Errorf("a page never showed the end of move %d of %d", k+1, len(ends))
			}
			delays = append(delays, page[i].at.Sub(at))
		}
	}
	if len(delays) == 0 {
		return run, fmt.Errorf("no move ended while the pages were measured")
	}
	slices.Sort(delays)
	run.worst, run.median = delays[len(delays)-1], percentile(delays, 0.50)
	return run, nil
}

// streamPage follows a live route as a page does, handing each event's
// data to see until ctx ends. It says on opened when the first event came
// (or why none did).
func streamPage(ctx context.Context, hc *http.Client, url, token string, see func([]byte), opened chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		opened <- err
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		opened <- fmt.Errorf("GET %s: %s", url, res.Status)
		return
	}
	first := true
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && name == "group":
			see([]byte(strings.TrimPrefix(line, "data: ")))
			if first {
				opened <- nil
				first = false
			}
		case line == "":
			name = ""
		}
	}
	if first {
		opened <- fmt.Errorf("GET %s: the stream ended before its first event", url)
	}
}

// pollPage reads a group as a page did before the streams: every 2 s after
// the last answer, from after.
func pollPage(ctx context.Context, hc *http.Client, url, token string, after time.Duration, see func([]byte), reads *atomic.Int64) {
	wait := after
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = 2 * time.Second
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := hc.Do(req)
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			reads.Add(1)
			see(data)
		}
	}
}
