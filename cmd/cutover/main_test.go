package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// TestMain lets the test binary stand in for the cutover binary: run with
// CUTOVER_TEST_MAIN=1, it is cutover.
func TestMain(m *testing.M) {
	if os.Getenv("CUTOVER_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startCutover starts this binary as "cutover args...", stopped (SIGTERM) when
// the test ends.
func startCutover(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return startCutoverEnv(t, nil, args...)
}

// startCutoverEnv is startCutover with more environment.
func startCutoverEnv(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, _ := startCutoverOutput(t, env, args...)
	return cmd
}

// output is a process's output so far, read while it runs.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startCutoverOutput is startCutoverEnv, with the process's output.
func startCutoverOutput(t *testing.T, env []string, args ...string) (*exec.Cmd, *output) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "CUTOVER_TEST_MAIN=1"), env...)
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState != nil { // killed and reaped by the test
			return
		}
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("cutover %v:\n%s", args, out.String())
		}
	})
	return cmd, out
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// post sends a request with a token to the API and decodes its JSON answer.
func post(t *testing.T, token, url, contentType string, body []byte, out any) {
	t.Helper()
	var resp *http.Response
	var err error
	for range 100 { // the API process may still be starting
		req, rerr := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, rerr)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(data))
	require.NoError(t, json.Unmarshal(data, out))
}

// startFleet starts an API-only process and worker-only processes (with
// workerArgs) on a database of the test's own, the workers sharing shell over
// HTTP. It returns the API's address, the database and a lead's token.
func startFleet(t *testing.T, shell *sim.Shell, workers int, workerArgs ...string) (addr, dbURL, token string) {
	t.Helper()
	dbURL = dbtest.URL(t)
	token = leadToken(t, dbURL)
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)
	addr = freeAddr(t)
	startCutover(t, "serve", "--role", "api", "--database-url", dbURL, "--listen", addr, "--log-level", "warn")
	for range workers {
		startCutover(t, append([]string{"serve", "--role", "workers", "--database-url", dbURL,
			"--shell", "sim+" + tenant.URL, "--log-level", "warn"}, workerArgs...)...)
	}
	return addr, dbURL, token
}

// leadToken makes a lead's token in the database at dbURL.
func leadToken(t *testing.T, dbURL string) string {
	t.Helper()
	pool, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	defer pool.Close()
	_, secret, err := store.New(pool).TokenCreate(context.Background(), "test lead", auth.RoleLead, "test")
	require.NoError(t, err)
	return secret
}

// TestRolesAcrossProcesses runs cutover as operators would spread it: one
// API-only process, which imports and plans a 500-user group, and two
// worker-only processes sharing one database and one simulated tenant. Every
// user is moved, none twice, and both worker processes did part of the work.
func TestRolesAcrossProcesses(t *testing.T) {
	t.Parallel()
	const users = 500
	ctx := context.Background()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	addr, dbURL, token := startFleet(t, shell, 2, "--workers", "20", "--retry-base", "100ms")

	var csv strings.Builder
	csv.WriteString("upn\n")
	for i := range users {
		fmt.Fprintf(&csv, "u%04d@contoso.com\n", i)
	}
	var group struct{ ID int64 }
	post(t, token, "http://"+addr+"/api/v1/groups?name=spread", "text/csv", []byte(csv.String()), &group)
	var planned struct{ Waves []struct{ ID int64 } }
	post(t, token, fmt.Sprintf("http://%s/api/v1/groups/%d/plan", addr, group.ID), "application/json",
		[]byte(`{"shorthand": "canary 100, then waves of 400 every 1s, starting now", "concurrency": 30}`), &planned)
	require.Len(t, planned.Waves, 2)

	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	waitFor(t, pool, 2*time.Minute, 2, `SELECT count(*) FROM waves WHERE state = 'completed'`)

	var moved, workers int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state = 'moved'`).Scan(&moved))
	require.Equal(t, users, moved)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT actor) FROM move_events WHERE state = 'moved'`).Scan(&workers))
	require.Equal(t, 2, workers, "both worker processes should have moved users")
	for i := range users {
		upn := fmt.Sprintf("u%04d@contoso.com", i)
		require.Equal(t, 1, shell.CallsFor(upn).MoveOnline, "%s: Move-CsUser calls", upn)
		require.Equal(t, 1, shell.MovesFor(upn), "%s: moves that took effect", upn)
	}
	require.LessOrEqual(t, shell.Stats().MaxInFlight, 60, "two waves of concurrency 30")

	// The workers' shell is the simulated tenant's: the API alone, which
	// runs none, says so on its pages and in /me.
	resp, err := http.Get("http://" + addr + "/ui/signin")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(page), "The on-premises shell is simulated")
}

// waitFor polls a count query until it reaches want.
func waitFor(t *testing.T, pool *pgxpool.Pool, within time.Duration, want int, query string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), query).Scan(&n))
		if n >= want {
			return
		}
		require.True(t, time.Now().Before(deadline), "%q: %d, want %d, after %s", query, n, want, within)
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKilledWorkerResumes kills a worker process (SIGKILL) in the middle of
// a wave. Another worker takes its moves over once the dead one has missed
// its heartbeats (River's rescue stays the backstop), reads each user's
// homing first, and moves every user exactly once.
func TestKilledWorkerResumes(t *testing.T) {
	t.Parallel()
	const users = 20
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: time.Second})
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	worker := []string{"serve", "--role", "workers", "--database-url", dbURL, "--workers", "20",
		"--shell", "sim+" + tenant.URL, "--shell-timeout", "3s", "--retry-base", "100ms", "--log-level", "warn"}
	first := startCutover(t, worker...)

	members := planUsers(t, pool, "k", users, users)

	// Kill the first worker while moves are in flight.
	waitFor(t, pool, 30*time.Second, 5, `SELECT count(*) FROM moves WHERE state IN ('moving', 'verifying')`)
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()
	var stranded int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state IN ('preflight', 'moving', 'verifying')`).Scan(&stranded))
	require.Positive(t, stranded)

	startCutover(t, worker...)
	waitFor(t, pool, 2*time.Minute, users, `SELECT count(*) FROM moves WHERE state = 'moved'`)
	waitFor(t, pool, 10*time.Second, 1, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	for _, m := range members {
		require.Equal(t, 1, shell.MovesFor(m.UPN), "%s: moves that took effect", m.UPN)
	}
	// The stranded moves were taken over, their timelines say so, and
	// none spent an attempt on it.
	var resumed, attempts int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(DISTINCT move_id) FROM move_events e
		WHERE e.message LIKE 'worker % stopped %handed to a live worker%'`).Scan(&resumed))
	require.GreaterOrEqual(t, resumed, stranded)
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(attempts) FROM moves`).Scan(&attempts))
	require.Equal(t, 1, attempts, "no attempt spent on the dead worker")
}

// planUsers imports n users (prefix000@contoso.com, ...) as a pilot group and
// plans them as one wave starting now, inserting its job with a River client
// of its own (no workers: those run in the processes under test).
func planUsers(t *testing.T, pool *pgxpool.Pool, prefix string, n, concurrency int) []migration.Member {
	t.Helper()
	ctx := context.Background()
	inserter, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	members := make([]migration.Member, n)
	for i := range members {
		members[i] = migration.Member{UPN: fmt.Sprintf("%s%03d@contoso.com", prefix, i)}
	}
	members, err = migration.NormalizeMembers(members)
	require.NoError(t, err)
	g, err := store.New(pool).GroupCreate(ctx, store.NewGroup{Name: t.Name(), Source: "json", Members: members})
	require.NoError(t, err)
	_, err = app.New(pool, jobs.NewQueue(inserter)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: n, StartAt: time.Now(), Concurrency: concurrency}}, unplanned, next)
	})
	require.NoError(t, err)
	return members
}

// TestSimulatorProcess runs the simulated tenant as its own process, shell
// and Microsoft Graph, and a worker process reaching both over the network,
// as several worker hosts would share it.
func TestSimulatorProcess(t *testing.T) {
	t.Parallel()
	const users = 20
	dir := t.TempDir()
	shellAddr, graphAddr, ca := freeAddr(t), freeAddr(t), filepath.Join(dir, "graph.pem")
	startCutover(t, "simulate", "--listen", shellAddr, "--graph-listen", graphAddr, "--graph-ca-out", ca,
		"--sim-latency", "20ms", "--log-level", "warn")
	require.Eventually(t, func() bool { _, err := os.Stat(ca); return err == nil }, 30*time.Second, 50*time.Millisecond)

	dbURL := dbtest.URL(t)
	pool, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	// The secret comes from the environment, as operators should give it.
	startCutoverEnv(t, []string{"CUTOVER_GRAPH_CLIENT_SECRET=simulated-secret"},
		"serve", "--role", "workers", "--database-url", dbURL, "--workers", "10", "--log-level", "warn",
		"--shell", "sim+http://"+shellAddr, "--graph", "https://"+graphAddr+"/v1.0", "--graph-authority", "https://"+graphAddr+"/",
		"--graph-tenant", sim.DefaultGraphTenantID, "--graph-client-id", "cutover-simulator", "--graph-ca-file", ca,
		"--retry-base", "200ms")
	planUsers(t, pool, "s", users, 10)
	waitFor(t, pool, 90*time.Second, users, `SELECT count(*) FROM moves WHERE state IN ('moved', 'skipped', 'failed')`)
	var checked, reachedGraph, verified int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM preflight_results`).Scan(&checked))
	// Users online already, or unknown on premises, stop before Graph.
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM moves WHERE state <> 'skipped' AND coalesce(error_code, '') <> 'user_not_found'`).Scan(&reachedGraph))
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM move_events WHERE message LIKE '%Teams accountType%'`).Scan(&verified))
	require.Equal(t, reachedGraph, checked, "every user past the homing read was checked in the simulated Graph")
	require.Greater(t, checked, users/2)
	require.Positive(t, verified, "moves were verified in Teams")
}
