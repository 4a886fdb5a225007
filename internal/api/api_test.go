package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

type testBundle struct {
	srv   *httptest.Server
	shell *sim.Shell
	pool  *pgxpool.Pool
	// token is the lead's token every request carries unless it sets its
	// own Authorization header.
	token string
}

// setup serves the API over HTTP against a database of the test's own, with
// workers moving users on a simulated shell where every move is clean (no
// latency) unless the test sets behaviours.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
}

// setupWith is setup with a shell of the test's own and changes to the
// workers' configuration. A 507 is a missing licence at once (no licence
// settle time): these tests are about what the lead and helpdesk see of a
// failed user, not about the wait (jobs.TestLicence507Settles is).
func setupWith(t *testing.T, shell *sim.Shell, options ...func(*jobs.Config)) *testBundle {
	t.Helper()
	pool := dbtest.Pool(t)
	options = append([]func(*jobs.Config){func(c *jobs.Config) { c.LicenceSettle = time.Nanosecond }}, options...)
	client := jobstest.Start(t, pool, shell, options...)
	srv := httptest.NewServer(api.NewServer(pool, app.New(pool, jobs.NewQueue(client)), slog.New(slog.DiscardHandler), nil).Handler())
	t.Cleanup(srv.Close)
	return &testBundle{srv: srv, shell: shell, pool: pool, token: newToken(t, pool, auth.RoleLead)}
}

// newToken makes a token with a role and returns its secret.
func newToken(t *testing.T, pool *pgxpool.Pool, role auth.Role) string {
	t.Helper()
	_, secret, err := store.New(pool).TokenCreate(context.Background(), "test "+string(role)+" "+t.Name(), role, "test")
	require.NoError(t, err)
	return secret
}

// response is an API answer, read in full.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("HTTP %d: %s", r.Status, r.Body)
}

// do sends a request to the API and reads the whole answer.
func (b *testBundle) do(t *testing.T, method, path, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	res, err := b.srv.Client().Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
}

func (b *testBundle) get(t *testing.T, path string) response {
	t.Helper()
	return b.do(t, http.MethodGet, path, "", nil)
}

// postJSON posts v as JSON; a string or []byte is sent as it is.
func (b *testBundle) postJSON(t *testing.T, path string, v any) response {
	t.Helper()
	var data []byte
	switch v := v.(type) {
	case string:
		data = []byte(v)
	case []byte:
		data = v
	default:
		var err error
		data, err = json.Marshal(v)
		require.NoError(t, err)
	}
	return b.do(t, http.MethodPost, path, "application/json", bytes.NewReader(data))
}

// decode checks that r is JSON with the given status and reads it.
func decode[T any](t *testing.T, r response, status int) T {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"), "Content-Type %q", r.Header.Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(r.Body, &v), "%s", r)
	return v
}

// apiErr checks that r is a JSON error with the given status and code and
// returns it.
func apiErr(t *testing.T, r response, status int, code string) apiError {
	t.Helper()
	body := decode[struct {
		Error *apiError `json:"error"`
	}](t, r, status)
	require.NotNil(t, body.Error, "no error object: %s", r)
	require.Equal(t, code, body.Error.Code, "%s", r)
	require.NotEmpty(t, body.Error.Message, "%s", r)
	return *body.Error
}

// The API's JSON, as a lead's script reads it.

type apiError struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field"`
	Line    int       `json:"line"`
	Details []problem `json:"details"`
}

type problem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

type progress struct {
	Total       int            `json:"total"`
	Counts      map[string]int `json:"counts"`
	Done        int            `json:"done"`
	InFlight    int            `json:"in_flight"`
	Retried     int            `json:"retried"`
	Percent     float64        `json:"percent_done"`
	FailureRate float64        `json:"failure_rate"`
	// EstimatedFinish is the ETA from the throughput so far.
	EstimatedFinish *time.Time `json:"estimated_finish"`
}

type wave struct {
	ID               int64      `json:"id"`
	StateReason      string     `json:"state_reason"`
	ConcurrencyLimit int        `json:"concurrency_limit"`
	RetryOf          *int64     `json:"retry_of"`
	NextWindowOpen   *time.Time `json:"next_window_open"`
	GroupID          int64      `json:"group_id"`
	Number           int        `json:"number"`
	Name             string     `json:"name"`
	State            string     `json:"state"`
	Size             int        `json:"size"`
	StartAt          time.Time  `json:"start_at"`
	MaxAttempts      int        `json:"max_attempts"`
	Concurrency      int        `json:"concurrency"`
	StartedAt        *time.Time `json:"started_at"`
	FinishedAt       *time.Time `json:"finished_at"`
	Progress         progress   `json:"progress"`
}

type failure struct {
	Code        string `json:"code"`
	Transient   bool   `json:"transient"`
	Explanation string `json:"explanation"`
	Fix         string `json:"fix"`
	Count       int    `json:"count"`
}

type group struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	Source         string     `json:"source"`
	Members        int        `json:"members"`
	Unplanned      int        `json:"unplanned"`
	StartedAt      *time.Time `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at"`
	Progress       progress   `json:"progress"`
	Waves          []wave     `json:"waves"`
	Failures       []failure  `json:"failures"`
	IgnoredColumns []string   `json:"ignored_columns"`
}

type move struct {
	ID           int64  `json:"id"`
	WaveID       int64  `json:"wave_id"`
	WaveName     string `json:"wave_name"`
	GroupID      int64  `json:"group_id"`
	GroupName    string `json:"group_name"`
	UPN          string `json:"upn"`
	SIP          string `json:"sip"`
	DisplayName  string `json:"display_name"`
	State        string `json:"state"`
	Run          int    `json:"run"`
	Attempts     int    `json:"attempts"`
	MaxAttempts  int    `json:"max_attempts"`
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

type event struct {
	At        time.Time `json:"at"`
	State     string    `json:"state"`
	Attempt   int       `json:"attempt"`
	ErrorCode string    `json:"error_code"`
	Message   string    `json:"message"`
	Actor     string    `json:"actor"`
}

type rollbackRecord struct {
	MoveID          int64  `json:"move_id"`
	SipAddress      string `json:"sip_address"`
	RegistrarPool   string `json:"registrar_pool"`
	HostingProvider string `json:"hosting_provider"`
}

type membership struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	Planned   bool   `json:"planned"`
}

type userStatus struct {
	Identity    string `json:"identity"`
	UPN         string `json:"upn"`
	SIP         string `json:"sip"`
	DisplayName string `json:"display_name"`
	State       string `json:"state"`
	Explanation struct {
		Summary string `json:"summary"`
		Expect  string `json:"expect"`
		Next    string `json:"next"`
	} `json:"explanation"`
	Move           *move           `json:"move"`
	Error          *failure        `json:"error"`
	Timeline       []event         `json:"timeline"`
	RollbackRecord *rollbackRecord `json:"rollback_record"`
	Outcome        string          `json:"outcome"`
	Place          string          `json:"place"`
	Moves          []userMove      `json:"moves"`
	Groups         []membership    `json:"groups"`
}

// userMove is one of a user's moves, as the lookup lists them.
type userMove struct {
	move
	Timeline       []event         `json:"timeline"`
	RollbackRecord *rollbackRecord `json:"rollback_record"`
	Current        bool            `json:"current"`
}

// member is one user of a group created from JSON.
type member struct {
	UPN         string `json:"upn"`
	SIP         string `json:"sip,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
}

func users(n int, prefix string) []member {
	out := make([]member, n)
	for i := range out {
		out[i] = member{UPN: fmt.Sprintf("%s%03d@contoso.com", prefix, i), DisplayName: fmt.Sprintf("User %d", i)}
	}
	return out
}

// createGroup creates a group from JSON and returns it.
func (b *testBundle) createGroup(t *testing.T, name string, members []member) group {
	t.Helper()
	return decode[group](t, b.postJSON(t, "/api/v1/groups", map[string]any{"name": name, "members": members}), http.StatusCreated)
}

func (b *testBundle) group(t *testing.T, id int64) group {
	t.Helper()
	return decode[group](t, b.get(t, fmt.Sprintf("/api/v1/groups/%d", id)), http.StatusOK)
}

func (b *testBundle) groups(t *testing.T) []group {
	t.Helper()
	return decode[struct {
		Groups []group `json:"groups"`
	}](t, b.get(t, "/api/v1/groups"), http.StatusOK).Groups
}

func (b *testBundle) plan(t *testing.T, groupID int64, req any) response {
	t.Helper()
	return b.postJSON(t, fmt.Sprintf("/api/v1/groups/%d/plan", groupID), req)
}

func (b *testBundle) user(t *testing.T, identity string) userStatus {
	t.Helper()
	return decode[userStatus](t, b.get(t, "/api/v1/users/"+url.PathEscape(identity)), http.StatusOK)
}

// waitFor polls check every 50ms until it reports done, for up to 60s.
func waitFor[T any](t *testing.T, what string, check func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, done := check()
		if done {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last seen: %+v", what, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFinished polls the group until it has finished.
func (b *testBundle) waitFinished(t *testing.T, id int64) group {
	t.Helper()
	return waitFor(t, fmt.Sprintf("group %d to finish", id), func() (group, bool) {
		g := b.group(t, id)
		return g, g.FinishedAt != nil
	})
}

// multipartBody returns a multipart form with fields (in order) and a file
// field holding content, and its Content-Type.
func multipartBody(t *testing.T, fields map[string]string, filename string, content []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	if filename != "" {
		fw, err := w.CreateFormFile("file", filename)
		require.NoError(t, err)
		_, err = fw.Write(content)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return &buf, w.FormDataContentType()
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, method, path string
		status             int
		code               string // of the error; "" for a success
	}{
		{"health", http.MethodGet, "/healthz", http.StatusOK, ""},
		{"empty group list", http.MethodGet, "/api/v1/groups", http.StatusOK, ""},
		{"unknown route", http.MethodGet, "/api/v1/nope", http.StatusNotFound, "no_route"},
		{"outside the API", http.MethodGet, "/index.html", http.StatusNotFound, "no_route"},
		{"old API version", http.MethodGet, "/api/v0/groups", http.StatusNotFound, "no_route"},
		{"group id not a number", http.MethodGet, "/api/v1/groups/abc", http.StatusNotFound, "not_found"},
		{"group id zero", http.MethodGet, "/api/v1/groups/0", http.StatusNotFound, "not_found"},
		{"group id negative", http.MethodGet, "/api/v1/groups/-1", http.StatusNotFound, "not_found"},
		{"group that does not exist", http.MethodGet, "/api/v1/groups/4242", http.StatusNotFound, "not_found"},
		{"plan of a bad group id", http.MethodPost, "/api/v1/groups/abc/plan", http.StatusNotFound, "not_found"},
		{"wave id not a number", http.MethodGet, "/api/v1/waves/abc", http.StatusNotFound, "not_found"},
		{"wave that does not exist", http.MethodGet, "/api/v1/waves/4242", http.StatusNotFound, "not_found"},
		{"moves of a bad wave id", http.MethodGet, "/api/v1/waves/abc/moves", http.StatusNotFound, "not_found"},
		{"moves of a wave that does not exist", http.MethodGet, "/api/v1/waves/4242/moves", http.StatusNotFound, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, tt.method, tt.path, "", nil)
			if tt.code != "" {
				apiErr(t, r, tt.status, tt.code)
				return
			}
			body := decode[map[string]any](t, r, tt.status)
			require.NotEmpty(t, body)
		})
	}

	t.Run("health says ok", func(t *testing.T) {
		t.Parallel()
		body := decode[map[string]string](t, b.get(t, "/healthz"), http.StatusOK)
		require.Equal(t, "ok", body["status"])
	})
	t.Run("unknown route names the path", func(t *testing.T) {
		t.Parallel()
		e := apiErr(t, b.get(t, "/api/v1/nope"), http.StatusNotFound, "no_route")
		require.Contains(t, e.Message, "/api/v1/nope")
	})
}

// TestWithoutGraph: what needs Microsoft Graph says so, with a 503, when
// cutover has no connection to it.
func TestWithoutGraph(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "no graph", users(2, "nog"))
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"tenant readiness", http.MethodGet, "/api/v1/tenant/readiness", nil},
		{"group dry run", http.MethodPost, fmt.Sprintf("/api/v1/groups/%d/preflight", g.ID), nil},
		{"import from Entra ID", http.MethodPost, "/api/v1/groups", map[string]string{"name": "entra", "entra_group_id": "g1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r response
			if tt.body != nil {
				r = b.postJSON(t, tt.path, tt.body)
			} else {
				r = b.do(t, tt.method, tt.path, "", nil)
			}
			e := apiErr(t, r, http.StatusServiceUnavailable, "graph_not_configured")
			require.Contains(t, e.Message, "CUTOVER_GRAPH")
		})
	}
	// A dry run of a group that does not exist is still a 404.
	apiErr(t, b.do(t, http.MethodPost, "/api/v1/groups/4242/preflight", "", nil), http.StatusNotFound, "not_found")
}

// When the shell or Graph is the simulated tenant's, the API's /me and
// every page say so; when neither is, nothing does.
func TestSimulatedIsSaid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sim    store.Simulated
		banner string
	}{
		{"real", store.Simulated{}, ""},
		{"shell simulated", store.Simulated{Shell: true}, "The on-premises shell is simulated"},
		{"both simulated", store.Simulated{Shell: true, Graph: true}, "The on-premises shell and Microsoft Graph are simulated"},
		{"Graph simulated, users moved for real", store.Simulated{Graph: true}, "Microsoft Graph is simulated: the checks in Entra ID and Teams are not Microsoft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			require.NoError(t, store.New(b.pool).SettingsSetSimulated(context.Background(), tt.sim))
			me := decode[struct {
				Simulated store.Simulated `json:"simulated"`
			}](t, b.get(t, "/api/v1/me"), http.StatusOK)
			require.Equal(t, tt.sim, me.Simulated)
			for _, path := range []string{"/ui/signin", "/ui/lookup", "/ui/groups"} {
				page := string(b.get(t, path).Body)
				if tt.banner == "" {
					require.NotContains(t, page, "Simulated tenant", path)
					continue
				}
				require.Contains(t, page, `<p class="simulated" role="status"><strong>Simulated tenant.</strong> `+tt.banner, path)
			}
		})
	}
}
