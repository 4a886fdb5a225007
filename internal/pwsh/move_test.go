//go:build !windows

package pwsh_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	_, err = jobs.NewScheduler(pool, client).Plan(ctx, g.ID, "test", func(unplanned, next int) ([]migration.WaveSpec, error) {
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
