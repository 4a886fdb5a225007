package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// bencher runs the benchmarks, each in databases of its own.
type bencher struct {
	dbURL  string
	log    *slog.Logger
	stderr io.Writer
	p      *progress
	n      int // the databases made so far
	dbs    Databases
	newAPI func(pool *pgxpool.Pool, svc *app.Service, log *slog.Logger) API
}

// fresh returns a pool on a new, migrated database of its own, dropped at
// cleanup. It is a phase of its own in the progress (it ends the one that
// runs).
func (b *bencher) fresh(ctx context.Context) (*pgxpool.Pool, string, func(), error) {
	b.p.startPhase("setup: a fresh database, migrated")
	defer b.p.endPhase()
	b.n++
	url := b.dbs.Named(b.dbURL, fmt.Sprintf("cutover_bench_%d_%d", os.Getpid(), b.n))
	if err := b.dbs.Reset(ctx, url); err != nil {
		return nil, "", nil, err
	}
	// The pool is serve's (store.Open): what is measured is what runs.
	pool, err := store.Open(ctx, url)
	if err == nil {
		_, err = store.Migrate(ctx, pool, b.log)
	}
	if err != nil {
		return nil, "", nil, err
	}
	return pool, url, func() {
		pool.Close()
		_ = b.dbs.Drop(context.WithoutCancel(ctx), url)
	}, nil
}

// noopArgs is the baselines' River job: nothing to do.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done func()
}

func (w *noopWorker) Work(ctx context.Context, job *river.Job[noopArgs]) error {
	w.done()
	return nil
}

// riverClient is a River client with only the no-op worker, working queue
// "moves" with workers at once (0: insert only).
func riverClient(pool *pgxpool.Pool, workers int, done func()) (*river.Client[pgx.Tx], error) {
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{done: done})
	cfg := &river.Config{Workers: ws, Logger: slog.New(slog.DiscardHandler), FetchPollInterval: 50 * time.Millisecond,
		FetchCooldown: 50 * time.Millisecond}
	if workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{jobs.QueueMoves: {MaxWorkers: workers}}
	}
	return river.NewClient(riverpgxv5.New(pool), cfg)
}

// timed runs fn and returns how long it took.
func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// waitFor polls cond until it holds.
func waitFor(ctx context.Context, every time.Duration, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// count runs a statement that counts.
func count(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) (int, error) {
	var n int
	err := pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// doneStates are the moves' states that are an outcome for their wave.
var doneStates = func() []string {
	var states []string
	for _, s := range migration.MoveStates {
		if s.Done() {
			states = append(states, string(s))
		}
	}
	return states
}()

var sqlMovesDone = statement("moves_done")

// movesDone reports how many of a wave's n moves have reached an outcome,
// when an update of the progress is due (it costs a query).
func (b *bencher) movesDone(ctx context.Context, pool *pgxpool.Pool, waveID int64, n int) error {
	if !b.p.due() {
		return nil
	}
	c, err := count(ctx, pool, sqlMovesDone, waveID, doneStates)
	if err == nil {
		b.p.count(c, n, "moves done")
	}
	return err
}

func benchCSV(n int, prefix string) []byte {
	var buf bytes.Buffer
	buf.WriteString("upn,display_name\n")
	for i := range n {
		fmt.Fprintf(&buf, "%s%07d@contoso.com,User %d\n", prefix, i, i)
	}
	return buf.Bytes()
}

// benchAPI serves the API on pool with a lead's token, with the workers of
// cfg (none works moves unless cfg says so).
func (b *bencher) benchAPI(ctx context.Context, pool *pgxpool.Pool, shell migration.Shell, cfg jobs.Config) (*httptest.Server, *river.Client[pgx.Tx], string, error) {
	client, err := jobs.NewClient(pool, shell, cfg, b.log)
	if err != nil {
		return nil, nil, "", err
	}
	if cfg.MoveWorkers > 0 || cfg.Control {
		if err := client.Start(ctx); err != nil {
			return nil, nil, "", err
		}
	}
	_, token, err := store.New(pool).TokenCreate(ctx, "bench", auth.RoleLead, "cutover bench")
	if err != nil {
		return nil, nil, "", err
	}
	srv := httptest.NewServer(b.newAPI(pool, app.New(pool, jobs.NewQueue(client)), b.log).Handler())
	return srv, client, token, nil
}

func call(ctx context.Context, srv, token, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, srv+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// importAndPlan imports n users over the API and plans them as one wave
// starting now with concurrency, returning the wave's ID.
func importAndPlan(ctx context.Context, srv, token string, n, concurrency int) (int64, error) {
	var g struct{ ID int64 }
	if err := call(ctx, srv, token, "POST", "/api/v1/groups?name=bench", "text/csv", benchCSV(n, "b"), &g); err != nil {
		return 0, err
	}
	var planned struct{ Waves []struct{ ID int64 } }
	body := fmt.Sprintf(`{"waves": [{"size": %d, "start_at": "now", "concurrency": %d, "max_attempts": 1}]}`, n, concurrency)
	if err := call(ctx, srv, token, "POST", fmt.Sprintf("/api/v1/groups/%d/plan", g.ID), "application/json", []byte(body), &planned); err != nil {
		return 0, err
	}
	return planned.Waves[0].ID, nil
}
