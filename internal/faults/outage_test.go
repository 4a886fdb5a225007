package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/graph"
	"github.com/cutover/cutover/internal/metrics"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// The operator's wave of the issue: 300 users, 3 attempts each, a cap of
// 10, a shell time-out of 10 s, against the simulated tenant's usual mix.
const (
	users        = 300
	maxAttempts  = 3
	concurrency  = 10
	shellTimeout = 10 * time.Second
	graphTimeout = 10 * time.Second
	outage       = 3 * time.Minute
)

// tenant is one run of the wave: its own database, simulated tenant,
// workers, API and webhook receiver.
type tenant struct {
	t      *testing.T
	pool   *pgxpool.Pool
	q      *store.Queries
	shell  *sim.Shell
	graph  *sim.Graph
	api    *httptest.Server // as a migration lead
	waveID int64

	mu    sync.Mutex
	hooks map[string]int // webhook deliveries by event
}

// startTenant plans the wave and lets it run.
func startTenant(t *testing.T) *tenant {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.Pool(t)
	shell := sim.NewShell(sim.ShellConfig{Seed: 26, Latency: 100 * time.Millisecond, MoveLatency: 600 * time.Millisecond})
	fake, err := sim.StartGraph(shell, sim.GraphConfig{ProvisioningDelay: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	dir, err := graph.New(graph.Config{TenantID: fake.TenantID(), ClientID: "cutover-test", ClientSecret: "test-secret",
		GraphURL: fake.GraphURL(), AuthorityHost: fake.URL() + "/", HTTPClient: fake.Client()})
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	m := metrics.New(pool, log)
	tn := &tenant{t: t, pool: pool, q: store.New(pool), shell: shell, graph: fake, hooks: map[string]int{}}

	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n jobs.Notification
		if json.NewDecoder(r.Body).Decode(&n) == nil {
			tn.mu.Lock()
			tn.hooks[n.Event]++
			tn.mu.Unlock()
		}
	}))
	t.Cleanup(hooks.Close)
	_, err = tn.q.WebhookCreate(ctx, "lead", hooks.URL, "json", "test")
	require.NoError(t, err)

	client := jobstest.Start(t, pool, m.Shell(shell), func(c *jobs.Config) {
		c.Directory, c.MoveEnded, c.Interrupted = m.Directory(dir), m.MoveEnded, m.Interrupted
		c.MoveWorkers, c.ShellTimeout, c.GraphTimeout = 20, shellTimeout, graphTimeout
		c.RetryBase, c.RetryMax, c.ProvisioningWait, c.HostRecheck = 500*time.Millisecond, 5*time.Second, 2*time.Minute, 2*time.Second
	})
	scheduler := app.New(pool, jobs.NewQueue(client))
	handler := api.NewServer(pool, scheduler, log, &api.Options{Directory: dir, Metrics: m.Handler()}).Handler()
	_, secret, err := tn.q.TokenCreate(ctx, "lead", auth.RoleLead, "test")
	require.NoError(t, err)
	tn.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+secret)
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(tn.api.Close)

	members := make([]migration.Member, users)
	for i := range members {
		upn := fmt.Sprintf("user%03d@contoso.com", i)
		members[i] = migration.Member{UPN: upn, SIP: upn}
	}
	g, err := tn.q.GroupCreate(ctx, store.NewGroup{Name: "outage", Source: "json", Members: members})
	require.NoError(t, err)
	waves, err := scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: users, StartAt: time.Now(), MaxAttempts: maxAttempts, Concurrency: concurrency}}, unplanned, next)
	})
	require.NoError(t, err)
	tn.waveID = waves[0].ID
	return tn
}

// ended is how many of the wave's users are in a final state.
func (tn *tenant) ended() int {
	var n int
	require.NoError(tn.t, tn.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM moves WHERE wave_id = $1 AND state IN ('moved', 'skipped', 'failed')`, tn.waveID).Scan(&n))
	return n
}

// outcome is the wave's users by state and error code, once it completed.
func (tn *tenant) outcome(within time.Duration) map[string]int {
	tn.t.Helper()
	deadline := time.Now().Add(within)
	for {
		w, err := tn.q.WaveGet(context.Background(), tn.waveID)
		require.NoError(tn.t, err)
		if w.State == migration.WaveStateCompleted {
			break
		}
		require.True(tn.t, time.Now().Before(deadline), "the wave is still %s (%s) after %s: %d of %d users ended", w.State, w.StateReason, within, tn.ended(), users)
		time.Sleep(250 * time.Millisecond)
	}
	rows, err := tn.pool.Query(context.Background(),
		`SELECT state || coalesce(':' || error_code, ''), count(*)::int FROM moves WHERE wave_id = $1 GROUP BY 1`, tn.waveID)
	require.NoError(tn.t, err)
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(tn.t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(tn.t, rows.Err())
	return out
}

// get reads a page or an answer of the API as a lead: at once, though
// Microsoft does not answer.
func (tn *tenant) get(path string) string {
	tn.t.Helper()
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Get(tn.api.URL + path)
	require.NoError(tn.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tn.t, err)
	require.Equal(tn.t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
	return string(body)
}

func (tn *tenant) delivered(event string) int {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.hooks[event]
}

// TestFaultMicrosoftStopsAnswering freezes the simulated shell and Graph
// (and, in the second case, Graph alone) for three minutes in the middle of
// the wave: they stop answering without refusing anything. Within 15 s of
// the first time-outs the deployment is held with a reason naming the
// side, in the wave, the readiness page and answer, the metrics and one
// wave.held webhook; no attempt is spent while it lasts; afterwards the
// wave completes with the same failures by code as the same wave run
// beside it without the outage.
func TestFaultMicrosoftStopsAnswering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		code    migration.ErrorCode // the hold: shell_unavailable freezes the shell and Graph
		reason  string
		timeout time.Duration // of the calls that meet the outage first
	}{
		{name: "shell and Graph", code: migration.CodeShellUnavailable, timeout: shellTimeout},
		{name: "Graph alone", code: migration.CodeGraphUnavailable, reason: "Microsoft Graph does not answer", timeout: graphTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The same wave without the outage, run beside it.
			calm, tn := startTenant(t), startTenant(t)

			// 15 s or so in: a fifth of the users have ended.
			deadline := time.Now().Add(2 * time.Minute)
			for tn.ended() < users/5 {
				require.True(t, time.Now().Before(deadline), "the wave did not get going: %d users ended", tn.ended())
				time.Sleep(100 * time.Millisecond)
			}
			frozenAt := time.Now()
			if tt.code == migration.CodeShellUnavailable {
				tn.shell.Freeze()
			}
			tn.graph.Freeze()
			t.Logf("frozen after %d of %d users ended", tn.ended(), users)

			// Held within 15 s of the first time-outs.
			var hold store.Hold
			require.Eventually(t, func() bool {
				holds, err := tn.q.Holds(context.Background())
				require.NoError(t, err)
				for _, h := range holds {
					if h.Code == tt.code {
						hold = h
						return true
					}
				}
				return false
			}, tt.timeout+15*time.Second, 100*time.Millisecond, "held for %s", tt.code)
			t.Logf("held %s after the freeze: %s (%s)", time.Since(frozenAt).Round(100*time.Millisecond), hold.Reason, hold.Evidence)
			reason := tt.reason
			if reason == "" {
				require.Regexp(t, `^the Skype for Business management shell on \S+ does not answer$`, hold.Reason)
				reason = hold.Reason
			}
			require.Equal(t, reason, hold.Reason)

			// The wave, the readiness page and answer, the metrics and a
			// webhook say so.
			require.Eventually(t, func() bool {
				w, err := tn.q.WaveGet(context.Background(), tn.waveID)
				require.NoError(t, err)
				return strings.HasPrefix(w.StateReason, "moves wait: ") && strings.Contains(w.StateReason, reason)
			}, 5*time.Second, 100*time.Millisecond, "the wave's reason names the outage")
			require.Contains(t, tn.get("/ui/readiness"), reason)
			var readiness struct {
				Holds []store.Hold `json:"holds"`
			}
			require.NoError(t, json.Unmarshal([]byte(tn.get("/api/v1/readiness")), &readiness))
			require.True(t, slices.ContainsFunc(readiness.Holds, func(h store.Hold) bool { return h.Code == tt.code && h.Reason == reason }), "%+v", readiness.Holds)
			require.Contains(t, tn.get("/metrics"), `cutover_deployment_held{code="`+string(tt.code)+`"} 1`)
			require.Eventually(t, func() bool { return tn.delivered("wave.held") == 1 }, 10*time.Second, 100*time.Millisecond, "one wave.held webhook")

			// The outage lasts; then Microsoft answers again.
			time.Sleep(time.Until(frozenAt.Add(outage)))
			tn.shell.Thaw()
			tn.graph.Thaw()
			thawedAt := time.Now()
			t.Logf("thawed after %s", thawedAt.Sub(frozenAt).Round(time.Second))

			got, want := tn.outcome(4*time.Minute), calm.outcome(time.Minute)
			t.Logf("wave ended %s after the thaw: %v", time.Since(thawedAt).Round(time.Second), got)
			require.Equal(t, want, got, "the same outcome by code as without the outage")
			require.Equal(t, 1, tn.delivered("wave.held"), "one wave.held webhook in all")

			// No attempt was spent while it lasted; the moves that met it
			// said they were not counted.
			var counted, notCounted int
			require.NoError(t, tn.pool.QueryRow(context.Background(), `
				SELECT count(*) FILTER (WHERE e.state IN ('retrying', 'failed')),
				       count(*) FILTER (WHERE e.message LIKE '%not counted: ' || $4 || '%')
				FROM move_events e JOIN moves m ON m.id = e.move_id
				WHERE m.wave_id = $1 AND e.at BETWEEN $2 AND $3`,
				tn.waveID, frozenAt.Add(2*time.Second), thawedAt, string(tt.code)).Scan(&counted, &notCounted))
			if counted > 0 { // say which, for whoever reads the failure
				rows, err := tn.pool.Query(context.Background(), `
					SELECT m.upn || ' ' || e.state || ' at ' || e.at::text || ': ' || e.message
					FROM move_events e JOIN moves m ON m.id = e.move_id
					WHERE m.wave_id = $1 AND e.at BETWEEN $2 AND $3 AND e.state IN ('retrying', 'failed')`,
					tn.waveID, frozenAt.Add(2*time.Second), thawedAt)
				require.NoError(t, err)
				for rows.Next() {
					var line string
					require.NoError(t, rows.Scan(&line))
					t.Logf("counted during the outage (frozen at %s): %s", frozenAt.UTC().Format("15:04:05.000"), line)
				}
				rows.Close()
			}
			require.Zero(t, counted, "attempts spent during the outage")
			require.Positive(t, notCounted, "moves met the outage")
			holds, err := tn.q.Holds(context.Background())
			require.NoError(t, err)
			require.Empty(t, holds, "every hold cleared")
		})
	}
}
