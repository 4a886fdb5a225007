package main

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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/metrics"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// apiWithGraph serves the API with Microsoft Graph reached through the SDK on
// a simulated tenant whose directory holds a pilot group. Requests without
// a token of their own carry a lead's.
func apiWithGraph(t *testing.T, gcfg sim.GraphConfig) (*httptest.Server, *sim.Shell) {
	t.Helper()
	env := newAPIEnv(t, gcfg)
	return env.lead, env.shell
}

// apiEnv is the API on a database of the test's own, with workers and
// Microsoft Graph on a simulated tenant.
type apiEnv struct {
	raw       *httptest.Server // the API as it is: every request brings its own token
	lead      *httptest.Server // the API with a lead's token on requests that bring none
	shell     *sim.Shell
	pool      *pgxpool.Pool
	scheduler *app.Service
}

func newAPIEnv(t *testing.T, gcfg sim.GraphConfig) *apiEnv {
	t.Helper()
	pool := dbtest.Pool(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	shell.SetBehaviour("dora.disabled@contoso.com", sim.Behaviour{Kind: sim.KindDisabled})
	shell.SetBehaviour("nora.nolocation@contoso.com", sim.Behaviour{Kind: sim.KindNoUsageLocation})
	gcfg.Groups = map[string]sim.GraphGroup{
		"pilot": {DisplayName: "SfB pilot", Members: []string{"ann.lee@contoso.com", "dora.disabled@contoso.com"},
			Groups: []string{"pilot-fabrikam"}, Devices: []string{"ROOM-1"}, Contacts: []string{"vendor@example.com"}},
		"pilot-fabrikam": {DisplayName: "SfB pilot (Fabrikam)", Members: []string{"bo.chen@fabrikam.com", "nora.nolocation@contoso.com"}},
	}
	fake, err := sim.StartGraph(shell, gcfg)
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	dir, err := openDirectory(context.Background(), cliSettings(fake))
	require.NoError(t, err)
	m := metrics.New(pool, slog.New(slog.DiscardHandler))
	dir = m.Directory(dir)
	client := jobstest.Start(t, pool, m.Shell(shell), func(c *jobs.Config) { c.Directory, c.MoveEnded = dir, m.MoveEnded })
	scheduler := app.New(pool, jobs.NewQueue(client))
	handler := api.NewServer(pool, scheduler, slog.New(slog.DiscardHandler), &api.Options{Directory: dir, Metrics: m.Handler()}).Handler()
	raw := httptest.NewServer(handler)
	t.Cleanup(raw.Close)
	_, secret, err := store.New(pool).TokenCreate(context.Background(), "test lead", auth.RoleLead, "test")
	require.NoError(t, err)
	lead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+secret)
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(lead.Close)
	return &apiEnv{raw: raw, lead: lead, shell: shell, pool: pool, scheduler: scheduler}
}

func call(t *testing.T, method, url string, body any, status int) map[string]any {
	t.Helper()
	return callWith(t, http.DefaultClient, method, url, body, status)
}

// callWith is call through client.
func callWith(t *testing.T, client *http.Client, method, url string, body any, status int) map[string]any {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, string(data))
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

// TestAPIWithGraph: import a pilot group from Entra ID, check the tenant's
// readiness for it, dry-run its pre-flight, and see a user's result.
func TestAPIWithGraph(t *testing.T) {
	t.Parallel()
	srv, _ := apiWithGraph(t, sim.GraphConfig{})
	base := srv.URL + "/api/v1"
	// Every answer here is checked against openapi.yaml too.
	spec := apitest.NewSpecCheck(t, http.DefaultTransport, "../../openapi.yaml")
	call := func(t *testing.T, method, url string, body any, status int) map[string]any {
		t.Helper()
		return callWith(t, &http.Client{Transport: spec}, method, url, body, status)
	}

	g := call(t, "POST", base+"/groups", map[string]string{"name": "From Entra", "entra_group_id": "pilot"}, http.StatusCreated)
	require.Equal(t, "entra", g["source"])
	require.EqualValues(t, 3, g["members"], "ann, bo and nora: nested group followed, the disabled account, device and contact left out")
	require.Equal(t, []any{map[string]any{"upn": "dora.disabled@contoso.com", "reason": "account disabled"}}, g["skipped_users"])

	e := call(t, "POST", base+"/groups", map[string]string{"name": "Nope", "entra_group_id": "no-such-group"}, http.StatusUnprocessableEntity)
	require.Equal(t, "entra_group_not_found", e["error"].(map[string]any)["code"])

	r := call(t, "GET", base+"/tenant/readiness", nil, http.StatusOK)
	require.Equal(t, "pass", r["status"], "%v", r)
	var names []string
	for _, c := range r["checks"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	require.Equal(t, []string{"cloud", "directory_sync", "last_sync", "sip_domain contoso.com", "sip_domain fabrikam.com", "licences TEAMS1", "licences MCOSTANDARD"}, names)

	id := int64(g["id"].(float64))
	rep := call(t, "POST", fmt.Sprintf("%s/groups/%d/preflight", base, id), nil, http.StatusOK)
	require.EqualValues(t, 3, rep["checked"])
	require.EqualValues(t, 2, rep["passed"])
	require.EqualValues(t, 1, rep["failed"])
	byCode := rep["by_code"].([]any)
	require.Len(t, byCode, 1)
	require.Equal(t, "usage_location_missing", byCode[0].(map[string]any)["code"])
	require.NotEmpty(t, byCode[0].(map[string]any)["fix"])

	u := call(t, "GET", base+"/users/nora.nolocation@contoso.com", nil, http.StatusOK)
	pf := u["preflight"].(map[string]any)
	require.Equal(t, "fail", pf["status"])
	for _, want := range []string{"GET /api/v1/tenant/readiness 200", fmt.Sprintf("POST /api/v1/groups/%d/preflight 200", id), "POST /api/v1/groups 201"} {
		require.True(t, spec.Seen(want), "the answer to %s was not checked against openapi.yaml", want)
	}
}

// TestAPIGraphFailures: what Graph refuses reaches the caller as a 502 with
// the code and fix, and an unready tenant says which checks fail.
func TestAPIGraphFailures(t *testing.T) {
	t.Parallel()
	srv, _ := apiWithGraph(t, sim.GraphConfig{SyncDisabled: true, Faults: []sim.GraphFault{
		{Path: "/groups/pilot", Status: 403, Code: "Authorization_RequestDenied"}, // no message, as Graph sometimes answers
	}})
	base := srv.URL + "/api/v1"
	e := call(t, "POST", base+"/groups", map[string]string{"name": "Denied", "entra_group_id": "pilot"}, http.StatusBadGateway)
	require.Equal(t, "graph_access_denied", e["error"].(map[string]any)["code"])
	require.Contains(t, e["error"].(map[string]any)["message"], "Authorization_RequestDenied")

	r := call(t, "GET", base+"/tenant/readiness", nil, http.StatusOK)
	require.Equal(t, "fail", r["status"])
	c := r["checks"].([]any)[1].(map[string]any)
	require.Equal(t, "directory_sync", c["name"])
	require.Equal(t, "fail", c["status"])
	require.Contains(t, c["fix"], "Entra Connect")
}

// TestPreflightCommand runs "cutover preflight tenant" and "preflight group"
// as an operator would, with the simulated tenant's Graph.
func TestPreflightCommand(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		env := map[string]string{"DATABASE_URL": dbURL, "CUTOVER_GRAPH": "sim"}
		code := program().Main(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := run("preflight", "tenant")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Tenant Contoso: pass")
	require.Contains(t, out, "directory_sync")

	code, _, errOut = run("preflight", "group", "42")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "pilot group 42 does not exist")

	code, _, errOut = run("preflight")
	require.Equal(t, 2, code)
	require.True(t, strings.Contains(errOut, "tenant, group ID or wave ID"), errOut)
}

// TestGroupImportFromEntraOnTheCommandLine: "cutover group import
// --entra-group" imports what the API's import of the same Entra ID group
// does (the same members, the same users left out), through Graph's URL as
// an operator gives it; without Graph it says what to set.
func TestGroupImportFromEntraOnTheCommandLine(t *testing.T) {
	t.Parallel()
	env := newAPIEnv(t, sim.GraphConfig{ClientID: "cutover-test", ClientSecret: "test-secret"})
	apiGroup := call(t, "POST", env.lead.URL+"/api/v1/groups", map[string]string{"name": "From Entra", "entra_group_id": "pilot"}, http.StatusCreated)

	fake, err := sim.StartGraph(env.shell, sim.GraphConfig{ClientID: "cutover-test", ClientSecret: "test-secret",
		Groups: map[string]sim.GraphGroup{
			"pilot":          {DisplayName: "SfB pilot", Members: []string{"ann.lee@contoso.com", "dora.disabled@contoso.com"}, Groups: []string{"pilot-fabrikam"}},
			"pilot-fabrikam": {DisplayName: "SfB pilot (Fabrikam)", Members: []string{"bo.chen@fabrikam.com", "nora.nolocation@contoso.com"}},
		}})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	ca := filepath.Join(t.TempDir(), "graph.pem")
	require.NoError(t, os.WriteFile(ca, fake.CertificatePEM(), 0o600))
	dbURL := dbtest.URL(t)
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		vars := map[string]string{"DATABASE_URL": dbURL, "USER": "lee", "CUTOVER_GRAPH_CLIENT_SECRET": "test-secret"}
		code := program().Main(ctx, args, func(k string) string { return vars[k] }, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	graph := []string{"--graph", fake.GraphURL(), "--graph-authority", fake.URL() + "/", "--graph-tenant", fake.TenantID(),
		"--graph-client-id", "cutover-test", "--graph-ca-file", ca}

	code, out, errOut := run(append([]string{"group", "import", "--entra-group", "pilot", "--name", "From Entra", "--json"}, graph...)...)
	require.Equal(t, 0, code, errOut)
	var cliGroup struct {
		Group struct {
			Source  string `json:"source"`
			Members int    `json:"members"`
		} `json:"group"`
		SkippedUsers []struct{ UPN, Reason string } `json:"skipped_users"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &cliGroup), out)
	require.Equal(t, apiGroup["source"], cliGroup.Group.Source)
	require.EqualValues(t, apiGroup["members"], cliGroup.Group.Members)
	require.Equal(t, []struct{ UPN, Reason string }{{"dora.disabled@contoso.com", "account disabled"}}, cliGroup.SkippedUsers)
	members := func(pool *pgxpool.Pool) []string {
		rows, err := pool.Query(context.Background(), `SELECT upn FROM group_members ORDER BY upn`)
		require.NoError(t, err)
		upns, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return upns
	}
	cliPool, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(cliPool.Close)
	require.Equal(t, members(env.pool), members(cliPool), "the same members as the API's import")

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no Graph", []string{"group", "import", "--entra-group", "pilot", "--name", "X"}, "set --graph"},
		{"no such group", append([]string{"group", "import", "--entra-group", "no-such-group", "--name", "Nope"}, graph...), "no-such-group"},
		{"a file and a group", append([]string{"group", "import", "members.csv", "--entra-group", "pilot", "--name", "X"}, graph...), "either a CSV file or --entra-group"},
	} {
		code, _, errOut := run(tc.args...)
		require.NotZero(t, code, tc.name)
		require.Contains(t, errOut, tc.want, tc.name)
	}
}
