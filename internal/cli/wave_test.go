package cli_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// TestLeadCommands runs a lead's wave commands against a planned group, as a
// lead would at a terminal.
func TestLeadCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	pool, err := store.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	q := store.New(pool)
	ms := make([]migration.Member, 4)
	for i := range ms {
		ms[i] = migration.Member{UPN: fmt.Sprintf("lead%d@contoso.com", i), SIP: fmt.Sprintf("lead%d@contoso.com", i)}
	}
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "leads", Source: "json", Members: ms})
	require.NoError(t, err)
	client, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	waves, err := app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: 3, StartAt: time.Now().Add(24 * time.Hour),
			Controls: migration.Controls{Threshold: migration.Threshold{Percent: 20}, Windows: []string{"mon-fri 22:00-05:00"}, TimeZone: "Europe/London"}}}, unplanned, next)
	})
	require.NoError(t, err)
	id := fmt.Sprint(waves[0].ID)
	env := map[string]string{"DATABASE_URL": url, "USER": "lee", "CUTOVER_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/sekrit"}

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"show", []string{"wave", "show", id}, 0, []string{"scheduled", "20% permanent failures, once 20 moves have ended", "mon-fri 22:00-05:00"}, ""},
		{"add a user, flags after the ID", []string{"wave", "add", id, "lead3@contoso.com", "--json"}, 0, []string{`"size": 4`, `"members_changed"`, `"actor": "cli:lee"`}, ""},
		{"add an unknown user", []string{"wave", "add", id, "nobody@contoso.com", "lead0@contoso.com"}, 1, nil, "add[0]: nobody@contoso.com is not a member"},
		{"reschedule without a time", []string{"wave", "reschedule", id}, 1, nil, "reschedule needs --start"},
		{"reschedule to a bad time", []string{"wave", "reschedule", id, "--start", "soon"}, 1, nil, `--start "soon" is not an RFC 3339 time`},
		{"reschedule", []string{"wave", "reschedule", id, "--start", "2030-01-07T22:00:00Z"}, 0, []string{"2030-01-07T22:00:00Z", "rescheduled"}, ""},
		{"pause", []string{"wave", "pause", id}, 0, []string{"paused: paused by cli:lee"}, ""},
		{"pause again", []string{"wave", "pause", id}, 1, nil, "is paused, so it cannot be paused"},
		{"resume", []string{"wave", "resume", id}, 0, []string{"scheduled"}, ""},
		{"override readiness", []string{"wave", "override-readiness", id}, 0, []string{"Readiness:", "overridden by a lead", "hybrid readiness overridden"}, ""},
		{"roll back a scheduled wave", []string{"wave", "rollback", id}, 1, nil, "cannot be rolled back (only a wave that is completed, halted, cancelled, rolled_back can)"},
		{"unknown action", []string{"wave", "frob", id}, 2, nil, `want an action`},
		{"no wave", []string{"wave", "show", "999999"}, 1, nil, "wave 999999 does not exist"},
		{"settings", []string{"settings", "--max-in-flight", "7"}, 0, []string{"at most 7 across every wave", "by cli:lee"}, ""},
		{"settings out of range", []string{"settings", "--max-in-flight", "-1"}, 1, nil, "max_in_flight: must be between 1 and 10000"},
		{"webhook", []string{"webhook", "add", "--name", "ops"}, 0, []string{"slack format to hooks.slack.com"}, ""},
		{"webhook list", []string{"webhook", "list"}, 0, []string{"ops", "hooks.slack.com"}, ""},
		{"report", []string{"report", "--wave", id}, 0, []string{"upn,sip,display_name,group,wave,state", "lead0@contoso.com"}, ""},
		{"report without a scope", []string{"report"}, 1, nil, "say which wave"},
		{"cancel", []string{"wave", "cancel", id}, 0, []string{"cancelled", "4 moves not started were cancelled"}, ""},
	}
	for _, tt := range tests { // in order: each builds on the last
		code, stdout, stderr := run(t, env, tt.args...)
		require.Equal(t, tt.code, code, "%s: %s%s", tt.name, stdout, stderr)
		for _, want := range tt.stdout {
			require.Contains(t, stdout, want, tt.name)
		}
		require.Contains(t, stderr, tt.stderr, tt.name)
		require.NotContains(t, stdout+stderr, "sekrit", "%s: a webhook's key reached the output", tt.name)
	}
	// A simulated shell is said on standard error, the output staying the
	// report.
	_, _, stderr := run(t, env, "report", "--wave", id)
	require.NotContains(t, stderr, "SIMULATED TENANT", "nothing is simulated yet")
	require.NoError(t, q.SettingsSetSimulated(ctx, store.Simulated{Shell: true}))
	_, stdout, stderr := run(t, env, "report", "--wave", id)
	require.Contains(t, stderr, "SIMULATED TENANT: The on-premises shell is simulated: no user is moved.")
	for _, args := range [][]string{{"webhook", "list"}, {"token", "list"}, {"settings"}, {"wave", "show", id}} {
		code, _, stderr := run(t, env, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		require.Contains(t, stderr, "SIMULATED TENANT: The on-premises shell is simulated", "%v says so", args)
	}
	// A command with a shell of its own says whether that one is.
	_, _, stderr = run(t, env, "check", "--shell", "sim")
	require.Contains(t, stderr, "SIMULATED TENANT: The on-premises shell is simulated")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5)
	require.Equal(t, "wave_cancelled", rows[1][7])

	// The audit log says each command in words, as it says the API's: the
	// action is the use case's own name, whichever front end asked.
	entries, err := app.New(pool, nil).AuditLog(ctx, store.AuditFilter{Limit: 200})
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Says, e.Action), "%q is not said in words: %q", e.Action, e.Says)
	}
	var all []string
	for _, e := range entries {
		all = append(all, e.Says)
	}
	require.Contains(t, all, "tried to roll back "+waves[0].Name+" of leads; refused wave_scheduled: "+waves[0].Name+" is scheduled, so it cannot be rolled back (only a wave that is completed, halted, cancelled, rolled_back can)")
	require.Contains(t, all, "cancelled "+waves[0].Name+" of leads")
}

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	env := map[string]string{"DATABASE_URL": url, "USER": "ada"}
	code, stdout, stderr := run(t, env, "token", "create", "--role", "helpdesk", "--name", "desk")
	require.Equal(t, 0, code, stderr)
	secret := strings.Fields(stdout)[0]
	require.True(t, strings.HasPrefix(secret, "cutover_"), stdout)
	require.Contains(t, stdout, "shown this once")

	pool, err := store.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	q := store.New(pool)
	p, err := q.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, "token:desk (helpdesk)", p.Name)
	tokens, err := q.TokenList(ctx)
	require.NoError(t, err)
	require.NotNil(t, tokens[0].LastUsedAt, "its use is noted")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"list", []string{"token", "list"}, 0, "desk", ""},
		{"bad role", []string{"token", "create", "--role", "boss", "--name", "x"}, 1, "", `role: "boss" is not a role (helpdesk, lead or admin)`},
		{"no name", []string{"token", "create", "--role", "lead"}, 1, "", "name: must be 1 to 100 characters"},
		{"name in use", []string{"token", "create", "--role", "lead", "--name", "desk"}, 1, "", `a token named "desk" is in use already`},
		{"revoke", []string{"token", "revoke", "desk"}, 0, `token 1 "desk" revoked`, ""},
		{"revoke again", []string{"token", "revoke", "desk"}, 1, "", `no token in use is called or numbered "desk"`},
		{"no action", []string{"token"}, 2, "", "token create"},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, env, tt.args...)
		require.Equal(t, tt.code, code, "%s: %s%s", tt.name, stdout, stderr)
		require.Contains(t, stdout, tt.stdout, tt.name)
		require.Contains(t, stderr, tt.stderr, tt.name)
		require.NotContains(t, stdout+stderr, secret, "%s: the token was shown again", tt.name)
	}
	_, err = q.Authenticate(ctx, secret)
	require.ErrorIs(t, err, auth.ErrUnknown, "a revoked token opens nothing")
	entries, err := q.AuditList(ctx, store.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "cli:ada", entries[0].Actor)
	require.Equal(t, "token revoke", entries[0].Action)
	require.Equal(t, "refused not_found", entries[0].Outcome)
}
