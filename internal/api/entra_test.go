package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/graph"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// Object IDs of the groups of entraGroups.
const (
	financeID = "7e1d0c2b-0000-4000-8000-000000000001"
	salesID   = "7e1d0c2b-0000-4000-8000-000000000002"
	obrienID  = "7e1d0c2b-0000-4000-8000-000000000003"
)

// entraGroups are the simulated directory's groups for these tests.
func entraGroups() map[string]sim.GraphGroup {
	return map[string]sim.GraphGroup{
		financeID: {DisplayName: "SfB pilot: Finance", Description: "The money people",
			Members: []string{"fin.a@contoso.com", "fin.b@contoso.com", "fin.c@contoso.com"}},
		salesID:  {DisplayName: "sfb pilot: Sales", Members: []string{"sales.a@contoso.com", "sales.b@contoso.com"}},
		obrienID: {DisplayName: "O'Brien's team", Members: []string{"fatima.obrien@contoso.com"}},
	}
}

// setupGraph is setup with Microsoft Graph: the Graph client (the SDK) on a
// simulated tenant whose directory holds the groups gcfg names, as `cutover
// serve --graph` has it.
func setupGraph(t *testing.T, gcfg sim.GraphConfig) *testBundle {
	t.Helper()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	dir := simGraph(t, shell, gcfg)
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell)
	srv := httptest.NewServer(api.NewServer(pool, app.New(pool, jobs.NewQueue(client)), slog.New(slog.DiscardHandler), &api.Options{Directory: dir}).Handler())
	t.Cleanup(srv.Close)
	return &testBundle{srv: srv, shell: shell, pool: pool, token: newToken(t, pool, auth.RoleLead)}
}

// simGraph is Microsoft Graph through the SDK (internal/graph) on a
// simulated tenant over shell's users, as `cutover serve --graph` reads it.
func simGraph(t *testing.T, shell *sim.Shell, gcfg sim.GraphConfig) *graph.Directory {
	t.Helper()
	fake, err := sim.StartGraph(shell, gcfg)
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	dir, err := graph.New(graph.Config{TenantID: fake.TenantID(), ClientID: "cutover-test", ClientSecret: "test-secret",
		GraphURL: fake.GraphURL(), AuthorityHost: fake.URL() + "/", HTTPClient: fake.Client()})
	require.NoError(t, err)
	return dir
}

type entraGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}

// TestEntraGroupsByName finds Entra ID groups by the start of their name
// through the API, the SDK and the simulated Graph; every answer is checked
// against openapi.yaml.
func TestEntraGroupsByName(t *testing.T) {
	t.Parallel()
	b := setupGraph(t, sim.GraphConfig{Groups: entraGroups()})
	spec := apitest.NewSpecCheck(t, b.srv.Client().Transport, "../../openapi.yaml")
	b.srv.Client().Transport = spec
	finance := entraGroup{financeID, "SfB pilot: Finance", "The money people"}
	sales := entraGroup{salesID, "sfb pilot: Sales", ""}
	tests := []struct {
		name   string
		query  string // the raw query, after ?
		status int
		want   []entraGroup
	}{
		{"any case, by name", "name=SFB%20pilot", 200, []entraGroup{finance, sales}},
		{"spaces around trimmed", "name=%20%20sfb%20pilot%3A%20s%20", 200, []entraGroup{sales}},
		{"a quote", "name=" + url.QueryEscape("O'Brien"), 200, []entraGroup{{obrienID, "O'Brien's team", ""}}},
		{"none found: an empty list", "name=nobody", 200, []entraGroup{}},
		{"256 characters: looked for", "name=" + strings.Repeat("a", 256), 200, []entraGroup{}},
		{"257 characters: refused", "name=" + strings.Repeat("a", 257), 422, nil},
		{"257 letters beyond ASCII: refused", "name=" + url.QueryEscape(strings.Repeat("é", 257)), 422, nil},
		{"empty", "name=", 422, nil},
		{"blank", "name=%20%20", 422, nil},
		{"no name at all", "", 422, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.get(t, "/api/v1/entra/groups?"+tt.query)
			if tt.status != http.StatusOK {
				e := apiErr(t, r, tt.status, "invalid_name")
				require.Equal(t, "name", e.Field)
				return
			}
			got := decode[struct {
				Groups []entraGroup `json:"groups"`
			}](t, r, http.StatusOK)
			require.Equal(t, tt.want, got.Groups)
			require.Contains(t, string(r.Body), `"groups": [`, "an empty list is [], not null")
		})
	}
	t.Cleanup(func() {
		for _, want := range []string{"GET /api/v1/entra/groups 200", "GET /api/v1/entra/groups 422"} {
			require.True(t, spec.Seen(want), "the answer to %s was not checked against openapi.yaml", want)
		}
	})
}

// TestEntraGroupsUnavailable: without Graph the route answers 503 as the
// other Graph-backed routes do, and what Graph refuses comes back as a 502
// with its code and fix.
func TestEntraGroupsUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		bundle func(t *testing.T) *testBundle
		status int
		code   string
	}{
		{"no Graph", setup, http.StatusServiceUnavailable, "graph_not_configured"},
		{"Graph refuses", func(t *testing.T) *testBundle {
			return setupGraph(t, sim.GraphConfig{Groups: entraGroups(),
				Faults: []sim.GraphFault{{Path: "/groups", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}}})
		}, http.StatusBadGateway, "graph_access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.bundle(t)
			spec := apitest.NewSpecCheck(t, b.srv.Client().Transport, "../../openapi.yaml")
			b.srv.Client().Transport = spec
			e := apiErr(t, b.get(t, "/api/v1/entra/groups?name=SfB"), tt.status, tt.code)
			require.NotEmpty(t, e.Message)
		})
	}
}

// TestBrowserEntraFind is a lead importing a pilot group found by name:
// Enter in the search box searches (and does not import), the matches are
// radio buttons announced in a live region, the one chosen fills in the
// object ID and the empty name (and only an empty name), and the import
// takes the chosen group's members.
func TestBrowserEntraFind(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	b := setupGraph(t, sim.GraphConfig{Groups: entraGroups()})
	const status = `document.getElementById('entra-find-status').textContent`
	value := func(id string) string { return `document.getElementById('` + id + `').value` }
	var label string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.srv.URL+"/ui/groups"),
		signIn(b.token),
		chromedp.WaitVisible(`#entra-find`, chromedp.ByID),
		chromedp.Text(`label[for="entra-find"]`, &label, chromedp.ByQuery),
		chromedp.SendKeys(`#entra-find`, "zzz\r", chromedp.ByID),
	))
	require.Equal(t, "Find the group by name", label)
	eventually(t, ctx, "no match said", status, "No group starts with \u201czzz\u201d.", 10*time.Second)

	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`document.getElementById('entra-find').value = ''`, nil),
		chromedp.SendKeys(`#entra-find`, "SfB", chromedp.ByID),
		chromedp.Click(`#entra-find-button`, chromedp.ByID),
	))
	eventually(t, ctx, "matches said", status, "2 groups found.", 10*time.Second)
	var path, labels string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`location.pathname`, &path),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#entra-matches label')).map(l => l.textContent).join(' | ')`, &labels),
	))
	require.Equal(t, "/ui/groups", path, "Enter searched, nothing was imported")
	require.Equal(t, "SfB pilot: FinanceThe money people | sfb pilot: Sales", labels, "each match with its description")
	browsertest.AssertAccessible(t, ctx, "/ui/groups with groups found")
	browsertest.Screenshot(t, ctx, "entra-find")

	pick := func(id string) chromedp.Action {
		return chromedp.Click(`label[for="`+id+`"]`, chromedp.ByQuery)
	}
	require.NoError(t, chromedp.Run(ctx, pick("entra-pick-0")))
	eventually(t, ctx, "object ID filled in", value("entra-group"), financeID, 5*time.Second)
	eventually(t, ctx, "the empty name filled in", value("entra-name"), "SfB pilot: Finance", 5*time.Second)
	require.NoError(t, chromedp.Run(ctx, pick("entra-pick-1")))
	eventually(t, ctx, "object ID changed", value("entra-group"), salesID, 5*time.Second)
	eventually(t, ctx, "a name already there kept", value("entra-name"), "SfB pilot: Finance", 5*time.Second)

	// The import sends the form's own fields only: the API refuses a field
	// it does not know, so a pick sent along would fail it.
	var heading string
	require.NoError(t, chromedp.Run(ctx,
		pick("entra-pick-0"),
		chromedp.Click(`#import-entra button[data-preview]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#import-entra button[data-save]`, chromedp.ByQuery),
		chromedp.Click(`#import-entra button[data-save]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#group-summary`, chromedp.ByID),
		chromedp.Text(`main h1`, &heading, chromedp.ByQuery),
	))
	require.Equal(t, "SfB pilot: Finance", heading)
	groups := b.groups(t)
	require.Len(t, groups, 1)
	require.Equal(t, 3, groups[0].Members, "the Finance group's members")
}
