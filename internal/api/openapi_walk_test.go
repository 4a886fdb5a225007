package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/sim"
)

// TestOpenAPIResponses walks a whole wave through the API (settings, a
// webhook, import, plan, progress, the wave's moves, events and
// notifications, failures, reports, lookups, a rollback, the audit log,
// tokens) and checks every answer
// against openapi.yaml: a field renamed or added in the answers, or in the
// description alone, fails it.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	shell.SetBehaviour("walk.001@contoso.com", sim.Behaviour{Kind: sim.KindLicenceMissing})
	b := setupWith(t, shell)
	spec := apitest.NewSpecCheck(t, b.srv.Client().Transport, "../../openapi.yaml")
	b.srv.Client().Transport = spec

	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(sink.Close)
	hook := b.postJSON(t, "/api/v1/webhooks", map[string]string{"name": "ops", "url": sink.URL + "/hook", "format": "json"})
	require.Equal(t, http.StatusCreated, hook.Status, "%s", hook)
	b.get(t, "/api/v1/webhooks")
	b.get(t, "/api/v1/settings")
	b.do(t, http.MethodPut, "/api/v1/settings", "application/json", strings.NewReader(`{"max_in_flight": 30}`))

	g := b.createGroup(t, "walk", users(4, "walk."))
	csv := b.do(t, http.MethodPost, "/api/v1/groups?name=walk%20csv", "text/csv", strings.NewReader("upn\ncsv.000@contoso.com\n"))
	require.Equal(t, http.StatusCreated, csv.Status, "%s", csv)
	dup := b.postJSON(t, "/api/v1/groups", map[string]any{"name": "walk", "members": users(1, "again.")})
	require.Equal(t, http.StatusUnprocessableEntity, dup.Status, "%s", dup)
	planned := b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 4, "start_at": "now", "failure_threshold": map[string]any{"percent": 90}}}})
	require.Equal(t, http.StatusCreated, planned.Status, "%s", planned)
	done := b.waitFinished(t, g.ID)
	b.groups(t)
	b.get(t, fmt.Sprintf("/api/v1/waves/%d", done.Waves[0].ID))
	b.get(t, fmt.Sprintf("/api/v1/groups/%d/failures", g.ID))
	b.get(t, fmt.Sprintf("/api/v1/waves/%d/failures", done.Waves[0].ID))
	b.get(t, fmt.Sprintf("/api/v1/groups/%d/report.csv", g.ID))
	b.get(t, fmt.Sprintf("/api/v1/waves/%d/moves", done.Waves[0].ID))
	b.get(t, fmt.Sprintf("/api/v1/waves/%d/events", done.Waves[0].ID))
	waitFor(t, "the webhook's delivery", func() (int, bool) {
		r := b.get(t, fmt.Sprintf("/api/v1/waves/%d/notifications", done.Waves[0].ID))
		return r.Status, strings.Contains(string(r.Body), `"delivered_at"`)
	})
	b.user(t, "walk.000@contoso.com")
	b.user(t, "walk.001@contoso.com")
	b.user(t, "csv.000@contoso.com") // imported, never planned
	b.get(t, "/api/v1/users/nobody@contoso.com")
	rollback := b.postJSON(t, "/api/v1/users/walk.000@contoso.com/rollback", "")
	require.Equal(t, http.StatusAccepted, rollback.Status, "%s", rollback)
	b.get(t, "/api/v1/audit")
	b.get(t, "/api/v1/me")
	b.get(t, "/api/v1/readiness")
	b.postJSON(t, "/api/v1/readiness/check", "")
	b.get(t, "/healthz")
	b.get(t, "/readyz")
	b.token = newToken(t, b.pool, auth.RoleAdmin)
	b.get(t, "/api/v1/tokens")
	made := b.postJSON(t, "/api/v1/tokens", map[string]string{"name": "desk", "role": "helpdesk"})
	require.Equal(t, http.StatusCreated, made.Status, "%s", made)
	desk := decode[struct {
		Token struct{ ID int64 } `json:"token"`
	}](t, made, http.StatusCreated).Token.ID
	revoked := b.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", desk), "", nil)
	require.Equal(t, http.StatusOK, revoked.Status, "%s", revoked)

	for _, want := range []string{
		"POST /api/v1/groups 201", "POST /api/v1/groups 422", fmt.Sprintf("POST /api/v1/groups/%d/plan 201", g.ID),
		fmt.Sprintf("GET /api/v1/groups/%d 200", g.ID), "GET /api/v1/groups 200",
		fmt.Sprintf("GET /api/v1/waves/%d 200", done.Waves[0].ID), fmt.Sprintf("GET /api/v1/groups/%d/failures 200", g.ID),
		"GET /api/v1/users/walk.001@contoso.com 200", "GET /api/v1/users/nobody@contoso.com 404",
		"GET /api/v1/audit 200", "GET /api/v1/me 200", "POST /api/v1/webhooks 201", "GET /api/v1/webhooks 200",
		"GET /api/v1/settings 200", "PUT /api/v1/settings 200", fmt.Sprintf("GET /api/v1/waves/%d/moves 200", done.Waves[0].ID),
		fmt.Sprintf("GET /api/v1/waves/%d/events 200", done.Waves[0].ID), fmt.Sprintf("GET /api/v1/waves/%d/notifications 200", done.Waves[0].ID),
		"POST /api/v1/users/walk.000@contoso.com/rollback 202", "GET /api/v1/tokens 200", "POST /api/v1/tokens 201", fmt.Sprintf("DELETE /api/v1/tokens/%d 200", desk), "GET /api/v1/readiness 200", "POST /api/v1/readiness/check 202", "GET /healthz 200", "GET /readyz 200",
	} {
		require.True(t, spec.Seen(want), "the walk did not check %s", want)
	}
}
