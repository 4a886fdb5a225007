package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// TestImportAndPlanFromTheCLI: a lead scripting a migration imports
// examples/pilot-users.csv and plans it with cutover group import and
// cutover plan; the group, its members and its waves are those the API makes
// of the same file and the same plan, each in a database of its own. Bad
// input is refused in words, with nothing kept.
func TestImportAndPlanFromTheCLI(t *testing.T) {
	t.Parallel()
	const plan = "canary 20, then waves of 90 every 1h, starting at 2030-01-07T22:00:00Z"
	csvFile := "../../examples/pilot-users.csv"

	// From the command line.
	cliURL := dbtest.URL(t)
	env := map[string]string{"DATABASE_URL": cliURL, "USER": "lee"}
	code, stdout, stderr := run(t, env, "group", "import", csvFile, "--name", "Pilot: Finance")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "Imported Pilot: Finance (group ")
	require.Contains(t, stdout, "200 users read, 200 in the group.")
	var cliGroup int64
	_, err := fmt.Sscanf(stdout[strings.Index(stdout, "(group ")+len("(group "):], "%d", &cliGroup)
	require.NoError(t, err)
	code, stdout, stderr = run(t, env, "plan", fmt.Sprint(cliGroup), "--shorthand", plan, "--preview")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "Preview (nothing kept):")
	code, stdout, stderr = run(t, env, "plan", fmt.Sprint(cliGroup), "--shorthand", plan, "--max-attempts", "4")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "canary              20 users  starts 2030-01-07 22:00:00 UTC  4 attempts")

	// Through the API.
	ctx := context.Background()
	apiURL := dbtest.URL(t)
	pool, err := store.Open(ctx, apiURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	client, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(api.NewServer(pool, app.New(pool, jobs.NewQueue(client)), slog.New(slog.DiscardHandler), nil).Handler())
	t.Cleanup(srv.Close)
	_, token, err := store.New(pool).TokenCreate(ctx, "lead", auth.RoleLead, "test")
	require.NoError(t, err)
	body, err := os.ReadFile(csvFile)
	require.NoError(t, err)
	post := func(path, contentType, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, answer := post("/api/v1/groups?name=Pilot:%20Finance", "text/csv", string(body))
	require.Equal(t, http.StatusCreated, status, answer)
	var created struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(answer), &created))
	status, answer = post(fmt.Sprintf("/api/v1/groups/%d/plan", created.ID), "application/json",
		fmt.Sprintf(`{"shorthand": %q, "max_attempts": 4}`, plan))
	require.Equal(t, http.StatusCreated, status, answer)

	// The same group, members and waves.
	made := func(url string, group int64) string {
		p, err := store.Open(ctx, url)
		require.NoError(t, err)
		defer p.Close()
		var out strings.Builder
		rows, err := p.Query(ctx, `
			SELECT g.name || ' ' || g.source || ' ' || (SELECT count(*) FROM group_members WHERE group_id = g.id) FROM pilot_groups g WHERE g.id = $1
			UNION ALL (SELECT string_agg(upn || ' ' || sip || ' ' || coalesce(display_name, ''), ',' ORDER BY position) FROM group_members WHERE group_id = $1)
			UNION ALL (SELECT string_agg(number || ' ' || name || ' ' || state || ' ' || size || ' ' || start_at::text || ' ' || max_attempts || ' ' || concurrency, ',' ORDER BY number) FROM waves WHERE group_id = $1)
			UNION ALL (SELECT string_agg(w.number || ' ' || m.upn || ' ' || m.state, ',' ORDER BY w.number, m.upn) FROM moves m JOIN waves w ON w.id = m.wave_id WHERE w.group_id = $1)`, group)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			out.WriteString(line + "\n")
		}
		require.NoError(t, rows.Err())
		return out.String()
	}
	cli, viaAPI := made(cliURL, cliGroup), made(apiURL, created.ID)
	require.Contains(t, cli, "Pilot: Finance csv 200\n")
	require.Contains(t, cli, "1 canary scheduled 20 2030-01-07 22:00:00+00 4 ")
	require.Equal(t, viaAPI, cli, "the CLI's import and plan are the API's")

	// Bad input: named, nothing kept.
	bad := t.TempDir() + "/bad.csv"
	require.NoError(t, os.WriteFile(bad, []byte("upn,sip\nada@contoso.com,not-an-address\n"), 0o600))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "a bad line", args: []string{"group", "import", bad, "--name", "bad"}, code: 1, stderr: "line 2"},
		{name: "standard input without a name", args: []string{"group", "import", "-"}, code: 1, stderr: `the group needs a name: --name "Pilot: Finance"`},
		{name: "no such file", args: []string{"group", "import", "/nonexistent.csv"}, code: 1, stderr: "cannot read /nonexistent.csv"},
		{name: "the name taken", args: []string{"group", "import", csvFile, "--name", "Pilot: Finance"}, code: 1, stderr: "a pilot group with this name exists already"},
		{name: "no plan", args: []string{"plan", fmt.Sprint(cliGroup)}, code: 1, stderr: "the plan needs --shorthand"},
		{name: "a bad plan", args: []string{"plan", fmt.Sprint(cliGroup), "--shorthand", "a few waves soon"}, code: 1, stderr: "shorthand"},
		{name: "everyone planned", args: []string{"plan", fmt.Sprint(cliGroup), "--shorthand", plan}, code: 1, stderr: "is in a wave already"},
		{name: "no such group", args: []string{"plan", "999999", "--shorthand", plan}, code: 1, stderr: "999999"},
		{name: "not an action", args: []string{"group", "frob", csvFile}, code: 2, stderr: "want import"},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, env, tt.args...)
		require.Equal(t, tt.code, code, "%s: %s%s", tt.name, stdout, stderr)
		require.Contains(t, stderr, tt.stderr, tt.name)
		for _, leak := range []string{"SQLSTATE", "violates", "duplicate key"} {
			require.NotContains(t, stderr, leak, tt.name)
		}
	}
	require.Equal(t, cli, made(cliURL, cliGroup), "nothing was kept of the refused commands")
	p, err := store.Open(ctx, cliURL)
	require.NoError(t, err)
	defer p.Close()
	var groups int
	require.NoError(t, p.QueryRow(ctx, `SELECT count(*) FROM pilot_groups`).Scan(&groups))
	require.Equal(t, 1, groups, "no group was half-written")

	// The audit log says the lead's import and plan in words.
	entries, err := app.New(p, nil).AuditLog(ctx, store.AuditFilter{Limit: 50})
	require.NoError(t, err)
	var said []string
	for _, e := range entries {
		said = append(said, e.Actor+" "+e.Says)
	}
	require.Contains(t, said, "cli:lee imported pilot group Pilot: Finance")
	require.Contains(t, said, "cli:lee planned Pilot: Finance")
}
