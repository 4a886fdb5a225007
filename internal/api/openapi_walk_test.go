package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/sim"
)

// specValidator checks every answer the API gives against openapi.yaml
// (libopenapi-validator: OpenAPI 3.1, JSON Schema 2020-12), as a client
// generated from the description would read it.
type specValidator struct {
	t    *testing.T
	next http.RoundTripper
	v    validator.Validator

	mu   sync.Mutex
	seen map[string]bool // "GET /api/v1/users/{identity} 200"
}

func newSpecValidator(t *testing.T, next http.RoundTripper) *specValidator {
	t.Helper()
	data, err := os.ReadFile("../../openapi.yaml")
	require.NoError(t, err)
	doc, err := libopenapi.NewDocument(data)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	ok, docErrs := v.ValidateDocument()
	require.True(t, ok, "openapi.yaml is not a valid OpenAPI document: %v", docErrs)
	return &specValidator{t: t, next: next, v: v, seen: map[string]bool{}}
}

// RoundTrip implements http.RoundTripper.
func (s *specValidator) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := s.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	check := *res
	check.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := s.v.ValidateHttpResponse(req, &check); !ok {
		var why []string
		for _, e := range errs {
			why = append(why, e.Error())
		}
		s.t.Errorf("%s %s → %d does not match openapi.yaml:\n%s\nbody: %s", req.Method, req.URL.Path, res.StatusCode, strings.Join(why, "\n"), body)
	}
	s.mu.Lock()
	s.seen[fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, res.StatusCode)] = true
	s.mu.Unlock()
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

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
	spec := newSpecValidator(t, b.srv.Client().Transport)
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
		require.True(t, spec.seen[want], "the walk did not check %s", want)
	}
}
