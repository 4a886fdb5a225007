package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/store"
)

// TestKilledWorkerThroughPowerShell kills (SIGKILL) a worker moving 200 users
// through the PowerShell driver, with sessions, against the fake pwsh, and
// restarts one: every user ends moved, and none was moved twice, although
// calls in flight at the kill may have landed.
func TestKilledWorkerThroughPowerShell(t *testing.T) {
	t.Parallel()
	const users = 200
	dir := t.TempDir()
	fake := filepath.Join(dir, "pwsh")
	out, err := exec.Command("go", "build", "-o", fake, "../../internal/pwsh/testdata/fakepwsh").CombinedOutput()
	require.NoError(t, err, string(out))
	statePath := filepath.Join(dir, "state.json")
	require.NoError(t, os.WriteFile(statePath, []byte(`{"users": {}}`), 0o600))

	ctx := context.Background()
	dbURL := dbtest.URL(t)
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	worker := []string{"serve", "--role", "workers", "--database-url", dbURL, "--workers", "20",
		"--shell", "pwsh", "--pwsh", fake, "--pwsh-user", "svc@contoso.onmicrosoft.com", "--pwsh-sessions", "20", "--shell-timeout", "3s", "--retry-base", "100ms", "--log-level", "warn"}
	env := []string{"FAKEPWSH_STATE=" + statePath, "FAKEPWSH_LOG=" + filepath.Join(dir, "calls.log"), "FAKEPWSH_DELAY=250ms", "CUTOVER_PWSH_PASSWORD=not-a-secret"}
	first := startCutoverEnv(t, env, worker...)

	members := planUsers(t, pool, "p", users, 20)

	waitFor(t, pool, 60*time.Second, 40, `SELECT count(*) FROM moves WHERE state = 'moved'`)
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()
	var stranded int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state IN ('preflight', 'moving', 'verifying')`).Scan(&stranded))
	require.Positive(t, stranded, "the kill should catch moves in flight")

	startCutoverEnv(t, env, worker...)
	waitFor(t, pool, 3*time.Minute, users, `SELECT count(*) FROM moves WHERE state = 'moved'`)

	raw, err := os.ReadFile(statePath)
	require.NoError(t, err)
	var state struct {
		Users map[string]struct {
			Online bool
			Moves  int
		}
	}
	require.NoError(t, json.Unmarshal(raw, &state))
	for _, m := range members {
		u := state.Users[m.UPN]
		require.True(t, u.Online, m.UPN)
		require.Equal(t, 1, u.Moves, "%s moved %d times", m.UPN, u.Moves)
	}
	calls, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	require.NoError(t, err)
	require.Greater(t, strings.Count(string(calls), "start\n"), 20, "the second worker started sessions of its own")
}
