package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
)

// simClientSecretForTest is the simulated tenant's Graph client secret,
// which the demo signs in with.
const simClientSecretForTest = "simulated-secret"

// TestDemo runs the demo as a user would (the binary's command line, with
// Microsoft Graph through the SDK on the simulated tenant), on a database of
// its own, and checks what it promises: pre-flight failures with their code
// and fix, every user of the sample group in a final state, one rollback
// record per moved user captured before its move, and the timeline of a
// retried user showing each attempt with its error.
func TestDemo(t *testing.T) {
	t.Parallel()
	name := dbtest.Name(t, "cutover_demotest")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := map[string]string{"DATABASE_URL": dbtest.ServerURL()}
	code := program().Main(ctx, []string{"demo", "--database", name, "--listen", "127.0.0.1:0", "--sim-latency", "10ms",
		"--plan", "canary 20, then waves of 90 every 2s, starting now", "--log-level", "debug"},
		func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 0 {
		// The demo runs in this process: where it hung shows in the
		// goroutines still running.
		var stacks bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Logf("goroutines after the demo:\n%s", stacks.String())
	}
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())

	// No secret reaches the output or the logs (at debug level): not the
	// demo's API token, not the Graph client's secret, not the database
	// password.
	out := stdout.String() + stderr.String()
	require.NotRegexp(t, regexp.MustCompile(regexp.QuoteMeta(auth.TokenPrefix)+`[A-Za-z0-9_-]{43}`), out, "an API token reached the output")
	require.NotContains(t, out, simClientSecretForTest, "the Graph client secret reached the output")
	if u, err := url.Parse(dbtest.ServerURL()); err == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			require.NotContains(t, out, u.User.Username()+":"+pw+"@", "the database password reached the output")
		}
	}
	require.Contains(t, stderr.String(), "level=DEBUG", "the logs were captured at debug level")
	for _, want := range []string{"Imported 200 users", "Hybrid readiness", "Worker hosts: warn", "server_support  Skype for Business Server 2019 reached the end of its support on 14 October 2025", "Migration account: pass", "On premises: pass", "DNS: pass", "dns _sipfederationtls._tcp.contoso.com", "Pre-flight (dry run) in Entra ID",
		"account_disabled", "usage_location_missing", "All 200 users reached a final state", "Failed, by error code:",
		"licence_missing", "Fix:", "/api/v1", "A user who needed", "Pre-flight in Entra ID"} {
		require.Contains(t, stdout.String(), want)
	}
	require.NotContains(t, stderr.String(), "level=ERROR")

	conn, err := pgx.Connect(ctx, dbtest.WithDatabase(dbtest.ServerURL(), name))
	require.NoError(t, err)
	defer conn.Close(ctx)
	count := func(sql string) int {
		t.Helper()
		var n int
		require.NoError(t, conn.QueryRow(ctx, sql).Scan(&n))
		return n
	}
	require.Equal(t, 200, count(`SELECT count(*) FROM moves WHERE state IN ('moved', 'skipped', 'failed')`))
	require.Positive(t, count(`SELECT count(*) FROM moves WHERE state = 'skipped'`))
	require.Positive(t, count(`SELECT count(*) FROM moves WHERE state = 'failed'`))
	require.Zero(t, count(`SELECT count(*) FROM waves WHERE state <> 'completed'`))
	// Every moved user's meetings were followed to their end: migrated, or
	// failed as the seed says (a share of users), and the demo says so.
	require.Equal(t, count(`SELECT count(*) FROM moves WHERE state = 'moved'`), count(`SELECT count(*) FROM completion_items WHERE kind = 'meetings'`))
	require.Zero(t, count(`SELECT count(*) FROM completion_items WHERE state = 'pending'`))
	require.Positive(t, count(`SELECT count(*) FROM completion_items WHERE state = 'done'`))
	require.Positive(t, count(`SELECT count(*) FROM completion_items WHERE state = 'failed'`))
	require.Positive(t, count(`SELECT count(*) FROM completion_items WHERE kind = 'voice'`), "the seed gives Enterprise Voice users")
	require.Contains(t, stdout.String(), "After the move (meetings migrated by Microsoft's Meeting Migration Service; Enterprise Voice users' calling in Teams):")
	// The demo confirms the SBC's routing for the first wave whose voice
	// users wait on it, as a lead does: theirs complete, the others' wait.
	require.Contains(t, stdout.String(), "A lead confirms that the SBC sends")
	require.Positive(t, count(`SELECT count(*) FROM completion_items WHERE kind = 'voice' AND state = 'done'`))
	require.Positive(t, count(`SELECT count(*) FROM completion_items WHERE kind = 'voice' AND waits_for = 'routing'`))
	require.Equal(t, 1, count(`SELECT count(*) FROM waves WHERE routing_confirmed_at IS NOT NULL`))
	byUser := func(state string) int {
		return count(`SELECT count(*) FROM (SELECT cutover_completion_of(array_agg(c.state)) AS s FROM completion_items c
			JOIN moves m ON m.id = c.move_id WHERE m.state = 'moved' GROUP BY m.id) u WHERE u.s = '` + state + `'`)
	}
	require.Regexp(t, fmt.Sprintf(`all\s+%d\s+%d\s+0\s+%d`, count(`SELECT count(*) FROM moves WHERE state = 'moved'`), byUser("done"), byUser("needs")),
		stdout.String(), "the summary counts each moved user once")
	// Every moved user has exactly one rollback record, captured before the
	// first move call of the move.
	require.Zero(t, count(`
		SELECT count(*) FROM moves m
		WHERE m.state = 'moved' AND (
			(SELECT count(*) FROM rollback_records r WHERE r.move_id = m.id) <> 1 OR
			(SELECT r.captured_at FROM rollback_records r WHERE r.move_id = m.id) >
			(SELECT min(e.at) FROM move_events e WHERE e.move_id = m.id AND e.state = 'moving'))`))
	// A user moved after retries has a failed-attempt event, with its error
	// code, for every attempt but the last.
	require.Positive(t, count(`SELECT count(*) FROM moves WHERE state = 'moved' AND attempts > 1`))
	require.Zero(t, count(`
		SELECT count(*) FROM moves m
		WHERE m.state = 'moved' AND m.attempts > 1 AND
			(SELECT count(DISTINCT e.attempt) FROM move_events e
			 WHERE e.move_id = m.id AND e.state = 'retrying' AND e.error_code IS NOT NULL) <> m.attempts - 1`))
}
