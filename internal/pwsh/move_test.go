//go:build !windows

package pwsh_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pwsh"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// TestWaveThroughPowerShell moves a wave through the PowerShell driver (on the
// fake pwsh): every user ends as the simulator would have them end, with the
// same codes, and nobody is moved twice.
func TestWaveThroughPowerShell(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		kind  sim.Kind
		state migration.MoveState
		code  migration.ErrorCode
	}{
		"ok@contoso.com":        {sim.KindOK, migration.MoveStateMoved, ""},
		"online@contoso.com":    {sim.KindAlreadyOnline, migration.MoveStateSkipped, ""},
		"nolicence@contoso.com": {sim.KindLicenceMissing, migration.MoveStateFailed, migration.CodeLicenceMissing},
		"tenant@contoso.com":    {sim.KindTenantNotEnabled, migration.MoveStateFailed, migration.CodeTenantNotEnabled},
		"missing@contoso.com":   {sim.KindNotFound, migration.MoveStateFailed, migration.CodeUserNotFound},
		"slow@contoso.com":      {sim.KindTimeout, migration.MoveStateMoved, ""},
		"crash@contoso.com":     {"crash", migration.MoveStateFailed, migration.CodeUnknown},
	}
	users := map[string]fakeUser{}
	var members []migration.Member
	for upn, w := range want {
		users[upn] = fakeUser{Kind: string(w.kind), Failures: 1}
		members = append(members, migration.Member{UPN: upn, SIP: upn})
	}
	for i := range 12 {
		upn := fmt.Sprintf("user%02d@fabrikam.com", i)
		members = append(members, migration.Member{UPN: upn, SIP: upn})
	}
	shell, dir := setup(t, users, pwsh.Config{CallTimeout: 3 * time.Second})
	pool := dbtest.Pool(t)
	// A 507 is a missing licence at once: no settle time.
	client := jobstest.Start(t, pool, shell, func(c *jobs.Config) { c.LicenceSettle = time.Nanosecond })
	q := store.New(pool)
	ctx := context.Background()
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "pwsh", Source: "json", Members: members})
	require.NoError(t, err)
	_, err = app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 3, Concurrency: 8}}, unplanned, next)
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		waves, err := q.WaveList(ctx, g.ID)
		return err == nil && waves[0].State == migration.WaveStateCompleted
	}, 60*time.Second, 100*time.Millisecond)

	for _, m := range members {
		moves, err := q.MovesByUser(ctx, m.UPN)
		require.NoError(t, err)
		w, special := want[m.UPN]
		if !special {
			w.state = migration.MoveStateMoved
		}
		require.Equal(t, w.state, moves[0].State, m.UPN)
		require.Equal(t, w.code, moves[0].ErrorCode, m.UPN)
	}
	// An unknown failure is retried once, then stops.
	moves, err := q.MovesByUser(ctx, "crash@contoso.com")
	require.NoError(t, err)
	require.Equal(t, 2, moves[0].Attempts)
	// Nobody was moved twice: one effective move-online per moved user.
	calls, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	require.NoError(t, err)
	state, err := os.ReadFile(filepath.Join(dir, "state.json"))
	require.NoError(t, err)
	require.NotContains(t, string(state), `"moves":2`)
	require.Equal(t, 1, strings.Count(string(calls), "move-online ok@contoso.com\n"))
}

// TestSignInFailureHoldsTheDeployment: the fake PowerShell starts answering
// every move with Entra ID's MFA error mid-wave. Move starts stop across the
// deployment within a move's time; no user spends an attempt or fails; the
// wave shows one reason and one webhook goes out; once the host's sign-in
// check passes again the wave finishes, nobody moved twice.
func TestSignInFailureHoldsTheDeployment(t *testing.T) {
	t.Parallel()
	members := fakeMembers(40)
	shell, dir := setup(t, nil, pwsh.Config{Sessions: 4, Env: []string{"FAKEPWSH_DELAY=50ms"}})
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell, func(c *jobs.Config) { c.MoveWorkers = 4 })
	q, ctx := store.New(pool), context.Background()

	var hooks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"wave.held"`) {
			hooks.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	_, err := q.WebhookCreate(ctx, "lead", srv.URL, "json", "test")
	require.NoError(t, err)

	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "signin", Source: "json", Members: members})
	require.NoError(t, err)
	waves, err := app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 3, Concurrency: 4}}, unplanned, next)
	})
	require.NoError(t, err)
	moved := func() int {
		n, err := q.MoveList(ctx, waves[0].ID, migration.MoveStateMoved)
		require.NoError(t, err)
		return len(n)
	}
	require.Eventually(t, func() bool { return moved() >= 8 }, 30*time.Second, 20*time.Millisecond)

	// Entra ID now wants MFA: the fake answers every move with it.
	mfa := migration.TextMFARequired.Fill("cutover")
	setHost(t, dir, func(h *migration.HostFacts) { h.SignIn = mfa })
	require.Eventually(t, func() bool {
		holds, err := q.Holds(ctx)
		return err == nil && len(holds) == 1
	}, 10*time.Second, 20*time.Millisecond)
	holds, err := q.Holds(ctx)
	require.NoError(t, err)
	require.Equal(t, migration.CodeSignInFailed, holds[0].Code)
	require.Contains(t, holds[0].Evidence, "AADSTS50076")

	// Once every worker has seen the hold (its read of the holds lasts half
	// a second), no move call starts any more.
	time.Sleep(time.Second)
	before := moveCalls(t, dir)
	time.Sleep(time.Second)
	require.Equal(t, before, moveCalls(t, dir), "move calls went on during the hold")
	w, err := q.WaveGet(ctx, waves[0].ID)
	require.NoError(t, err)
	require.Equal(t, migration.WaveStateRunning, w.State)
	require.Contains(t, w.StateReason, "Move-CsUser cannot sign in to Teams", "the wave says why its moves wait")
	failed, err := q.MoveList(ctx, waves[0].ID, migration.MoveStateFailed)
	require.NoError(t, err)
	require.Empty(t, failed, "no user fails for the deployment's sign-in")
	require.Less(t, moved(), 40)

	// The sign-in works again: the host check clears the hold.
	setHost(t, dir, func(h *migration.HostFacts) { h.SignIn = "" })
	require.Eventually(t, func() bool {
		w, err := q.WaveGet(ctx, waves[0].ID)
		return err == nil && w.State == migration.WaveStateCompleted
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, 40, moved())
	for _, m := range members {
		moves, err := q.MovesByUser(ctx, m.UPN)
		require.NoError(t, err)
		require.Equal(t, 1, moves[0].Attempts, "%s: the hold spent no attempt", m.UPN)
	}
	state, err := os.ReadFile(filepath.Join(dir, "state.json"))
	require.NoError(t, err)
	require.NotContains(t, string(state), `"moves":2`, "nobody moved twice")
	require.Eventually(t, func() bool { return hooks.Load() == 1 }, 10*time.Second, 20*time.Millisecond, "one webhook for the hold")
	events, err := q.WaveEvents(ctx, waves[0].ID)
	require.NoError(t, err)
	var held, released int
	for _, e := range events {
		switch e.Kind {
		case migration.WaveEventHeld:
			held++
		case migration.WaveEventReleased:
			released++
		}
	}
	require.Equal(t, 1, held)
	require.Equal(t, 1, released)
}

// setHost changes the facts the fake PowerShell's check-host answers.
func setHost(t *testing.T, dir string, change func(*migration.HostFacts)) {
	t.Helper()
	editState(t, dir, "host", sim.DefaultHost, change)
}

// editState changes one part of the fake PowerShell's state (key, def when
// absent), under the lock the fake takes.
func editState[T any](t *testing.T, dir, key string, def T, change func(*T)) {
	t.Helper()
	path := filepath.Join(dir, "state.json")
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
	var st map[string]json.RawMessage
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &st))
	v := def
	if st[key] != nil {
		require.NoError(t, json.Unmarshal(st[key], &v))
	}
	change(&v)
	st[key], err = json.Marshal(v)
	require.NoError(t, err)
	raw, err = json.Marshal(st)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))
}

// fakeMembers are n members user00@contoso.com and on.
func fakeMembers(n int) []migration.Member {
	members := make([]migration.Member, n)
	for i := range members {
		upn := fmt.Sprintf("user%02d@contoso.com", i)
		members[i] = migration.Member{UPN: upn, SIP: upn}
	}
	return members
}

// moveCalls counts the move calls the fake PowerShell received.
func moveCalls(t *testing.T, dir string) int {
	t.Helper()
	calls, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	require.NoError(t, err)
	return strings.Count(string(calls), "move-online ")
}

// TestOldTeamsModuleTakesNoMoves: a worker host whose MicrosoftTeams module is
// older than 6.2.1 fails its readiness check and takes no move, while a ready
// host beside it moves the whole wave; the old host's check is kept for the
// lead, naming the fix.
func TestOldTeamsModuleTakesNoMoves(t *testing.T) {
	t.Parallel()
	members := fakeMembers(30)
	oldShell, oldDir := setup(t, nil, pwsh.Config{Sessions: 2, Env: []string{"FAKEPWSH_DELAY=20ms"}})
	setHost(t, oldDir, func(h *migration.HostFacts) { h.TeamsModule = "5.9.0" })
	readyShell, readyDir := setup(t, nil, pwsh.Config{Sessions: 2, Env: []string{"FAKEPWSH_DELAY=20ms"}})
	pool := dbtest.Pool(t)
	q, ctx := store.New(pool), context.Background()
	oldClient, _ := jobstest.StartChecked(t, pool, oldShell, func(c *jobs.Config) { c.ID, c.MoveWorkers = "old-host", 4 })
	jobstest.StartChecked(t, pool, readyShell, func(c *jobs.Config) { c.ID, c.MoveWorkers = "ready-host", 4 })

	hosts, err := q.HostList(ctx, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.Len(t, hosts, 2)
	for _, h := range hosts {
		if h.ID == "old-host" {
			require.False(t, h.Ready)
			require.Contains(t, failedEvidence(h.Checks), "MicrosoftTeams 5.9.0 is older than 6.2.1")
			require.Contains(t, failedEvidence(h.Checks), "fix: Update-Module MicrosoftTeams")
		} else {
			require.True(t, h.Ready, "%+v", h.Checks)
		}
	}

	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "hosts", Source: "json", Members: members})
	require.NoError(t, err)
	waves, err := app.New(pool, jobs.NewQueue(oldClient)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 3, Concurrency: 6}}, unplanned, next)
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		w, err := q.WaveGet(ctx, waves[0].ID)
		return err == nil && w.State == migration.WaveStateCompleted
	}, 60*time.Second, 50*time.Millisecond)
	moved, err := q.MoveList(ctx, waves[0].ID, migration.MoveStateMoved)
	require.NoError(t, err)
	require.Len(t, moved, 30)
	require.Zero(t, moveCalls(t, oldDir), "the host with the old module took a move")
	require.Equal(t, 30, moveCalls(t, readyDir))
}

func failedEvidence(checks []migration.Check) string {
	var b strings.Builder
	for _, c := range checks {
		if c.Status == migration.CheckFail {
			fmt.Fprintf(&b, "%s: %s (fix: %s)\n", c.Name, c.Evidence, c.Fix)
		}
	}
	return b.String()
}
