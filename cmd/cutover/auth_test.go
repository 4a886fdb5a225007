package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// request is one call of a route, made ready to succeed for a role strong
// enough.
type request struct {
	path        string
	body        string
	contentType string
}

// fixtures prepares what each route needs to answer 2xx. Every call makes
// fresh state, so that a route is tried once per role without one try
// spoiling the next.
type fixtures struct {
	t   *testing.T
	env *apiEnv
	q   *store.Queries
	n   atomic.Int64
}

func (f *fixtures) name(prefix string) string { return fmt.Sprintf("%s%d", prefix, f.n.Add(1)) }

// group makes a pilot group of n users and returns its ID and their UPNs.
func (f *fixtures) group(n int) (int64, []string) {
	f.t.Helper()
	prefix := f.name("g")
	ms := make([]migration.Member, n)
	upns := make([]string, n)
	for i := range ms {
		upns[i] = fmt.Sprintf("%s.user%d@contoso.com", prefix, i)
		ms[i] = migration.Member{UPN: upns[i], SIP: upns[i]}
	}
	g, err := f.q.GroupCreate(context.Background(), store.NewGroup{Name: prefix, Source: "json", Members: ms})
	require.NoError(f.t, err)
	return g.ID, upns
}

// wave plans the first size users of a new group of n into a wave starting
// at start, and returns it with the UPNs.
func (f *fixtures) wave(n, size int, start time.Time) (migration.Wave, []string) {
	f.t.Helper()
	id, upns := f.group(n)
	waves, err := f.env.scheduler.Plan(context.Background(), app.As("test"), id, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: size, StartAt: start, MaxAttempts: 1}}, unplanned, next)
	})
	require.NoError(f.t, err)
	return waves[0], upns
}

// ended is a wave that ran to its end, with the users given failing for good.
func (f *fixtures) ended(n int, failing ...int) (migration.Wave, []string) {
	f.t.Helper()
	id, upns := f.group(n)
	for _, i := range failing {
		f.env.shell.SetBehaviour(upns[i], sim.Behaviour{Kind: sim.KindTenantNotEnabled})
	}
	waves, err := f.env.scheduler.Plan(context.Background(), app.As("test"), id, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: n, StartAt: time.Now(), MaxAttempts: 1}}, unplanned, next)
	})
	require.NoError(f.t, err)
	require.Eventually(f.t, func() bool {
		w, err := f.q.WaveGet(context.Background(), waves[0].ID)
		require.NoError(f.t, err)
		return w.State == migration.WaveStateCompleted
	}, time.Minute, 20*time.Millisecond)
	return waves[0], upns
}

func (f *fixtures) later() time.Time { return time.Now().Add(24 * time.Hour) }

// cases returns how to call each route so that it succeeds, by "METHOD
// pattern".
func (f *fixtures) cases() map[string]func() request {
	wavePath := func(w migration.Wave, rest string) string { return fmt.Sprintf("/api/v1/waves/%d%s", w.ID, rest) }
	scheduled := func(rest string) func() request {
		return func() request { w, _ := f.wave(3, 3, f.later()); return request{path: wavePath(w, rest)} }
	}
	endedWave := func(rest string) func() request {
		return func() request { w, _ := f.ended(2, 0); return request{path: wavePath(w, rest)} }
	}
	groupPage := func() func() request {
		return func() request { id, _ := f.group(2); return request{path: fmt.Sprintf("/ui/groups/%d", id)} }
	}
	groupPath := func(rest string) func() request {
		return func() request {
			id, _ := f.group(2)
			return request{path: fmt.Sprintf("/api/v1/groups/%d%s", id, rest)}
		}
	}
	return map[string]func() request{
		"GET /healthz":   func() request { return request{path: "/healthz"} },
		"GET /readyz":    func() request { return request{path: "/readyz"} },
		"GET /api/v1/me": func() request { return request{path: "/api/v1/me"} },
		"GET /metrics":   func() request { return request{path: "/metrics"} },
		"GET /ui/signin": func() request { return request{path: "/ui/signin"} },
		"POST /ui/signin": func() request {
			_, secret, err := f.q.TokenCreate(context.Background(), f.name("page"), auth.RoleHelpdesk, "test")
			require.NoError(f.t, err)
			return request{path: "/ui/signin", contentType: "application/x-www-form-urlencoded", body: "token=" + url.QueryEscape(secret)}
		},
		"POST /ui/signout":        func() request { return request{path: "/ui/signout"} },
		"GET /ui/static/{file}":   func() request { return request{path: "/ui/static/cutover.css"} },
		"GET /ui/signin/entra":    func() request { return request{path: "/ui/signin/entra"} },
		"GET /ui/signin/callback": func() request { return request{path: "/ui/signin/callback?code=x&state=y"} },
		"GET /ui/settings":        func() request { return request{path: "/ui/settings"} },
		"GET /ui/audit":           func() request { return request{path: "/ui/audit"} },
		"GET /ui/{$}":             func() request { return request{path: "/ui/"} },
		"GET /ui/lookup": func() request {
			_, upns := f.group(1)
			return request{path: "/ui/lookup?q=" + url.QueryEscape(upns[0])}
		},
		"GET /ui/groups":   func() request { return request{path: "/ui/groups"} },
		"GET /ui/overview": func() request { return request{path: "/ui/overview"} },
		"GET /ui/groups/{id}/users": func() request {
			id, _ := f.group(2)
			return request{path: fmt.Sprintf("/ui/groups/%d/users?q=g", id)}
		},
		"GET /ui/waves/{id}/users": func() request {
			w, _ := f.ended(2, 1)
			return request{path: fmt.Sprintf("/ui/waves/%d/users?outcome=failed", w.ID)}
		},
		"GET /api/v1/users": func() request {
			_, upns := f.group(1)
			return request{path: "/api/v1/users?q=" + url.QueryEscape(upns[0][:4])}
		},
		"GET /api/v1/groups/{id}/users": groupPath("/users?outcome=unplanned"),
		"POST /api/v1/groups/{id}/pause": func() request {
			w, _ := f.wave(2, 2, f.later())
			return request{path: fmt.Sprintf("/api/v1/groups/%d/pause", w.GroupID)}
		},
		"POST /api/v1/groups/{id}/resume": func() request {
			w, _ := f.wave(2, 2, f.later())
			_, err := f.env.scheduler.GroupPause(context.Background(), app.As("test"), w.GroupID)
			require.NoError(f.t, err)
			return request{path: fmt.Sprintf("/api/v1/groups/%d/resume", w.GroupID)}
		},
		"GET /api/v1/groups/{id}/users.csv": groupPath("/users.csv"),
		"POST /api/v1/groups/{id}/users/leave-out": func() request {
			id, upns := f.group(2)
			return request{path: fmt.Sprintf("/api/v1/groups/%d/users/leave-out", id), contentType: "application/json", body: fmt.Sprintf(`{"users": [%q]}`, upns[0])}
		},
		"POST /api/v1/groups/{id}/users/put-back": func() request {
			id, upns := f.group(2)
			return request{path: fmt.Sprintf("/api/v1/groups/%d/users/put-back", id), contentType: "application/json", body: fmt.Sprintf(`{"users": [%q]}`, upns[0])}
		},
		"GET /api/v1/waves/{id}/users":     scheduled("/users?q=g"),
		"GET /api/v1/waves/{id}/users.csv": scheduled("/users.csv"),
		"POST /api/v1/waves/{id}/users/retry": func() request {
			w, upns := f.ended(2, 1)
			return request{path: wavePath(w, "/users/retry"), contentType: "application/json", body: fmt.Sprintf(`{"users": [%q]}`, upns[1])}
		},
		"POST /api/v1/waves/{id}/users/rollback": func() request {
			w, upns := f.ended(2, 1)
			return request{path: wavePath(w, "/users/rollback"), contentType: "application/json", body: fmt.Sprintf(`{"users": [%q]}`, upns[0])}
		},
		"GET /ui/readiness":   func() request { return request{path: "/ui/readiness"} },
		"GET /ui/groups/{id}": groupPage(),
		"GET /ui/waves/{id}": func() request {
			w, _ := f.ended(2, 1)
			return request{path: fmt.Sprintf("/ui/waves/%d", w.ID)}
		},
		"GET /api/v1/users/{identity}": func() request {
			_, upns := f.group(1)
			return request{path: "/api/v1/users/" + url.PathEscape(upns[0])}
		},
		"GET /api/v1/users/{identity}/live": func() request {
			_, upns := f.group(1)
			return request{path: "/api/v1/users/" + url.PathEscape(upns[0]) + "/live"}
		},
		"POST /api/v1/users/{identity}/retry": func() request {
			_, upns := f.ended(2, 1)
			return request{path: "/api/v1/users/" + upns[1] + "/retry"}
		},
		"POST /api/v1/users/{identity}/rollback": func() request {
			_, upns := f.ended(1)
			return request{path: "/api/v1/users/" + upns[0] + "/rollback"}
		},
		"POST /api/v1/users/{identity}/migrate-meetings": func() request {
			_, upns := f.ended(1)
			_, err := f.env.pool.Exec(context.Background(), `UPDATE completion_items c SET state = 'failed', check_at = NULL
				FROM moves m WHERE m.id = c.move_id AND m.upn = $1 AND c.kind = 'meetings'`, upns[0])
			require.NoError(f.t, err)
			return request{path: "/api/v1/users/" + upns[0] + "/migrate-meetings"}
		},
		"GET /api/v1/groups": func() request { return request{path: "/api/v1/groups"} },
		"POST /api/v1/groups": func() request {
			return request{path: "/api/v1/groups", contentType: "application/json",
				body: fmt.Sprintf(`{"name": %q, "members": [{"upn": "%s@contoso.com"}]}`, f.name("new"), f.name("u"))}
		},
		"GET /api/v1/groups/{id}": groupPath(""),
		"POST /api/v1/groups/{id}/plan": func() request {
			r := groupPath("/plan")()
			r.body, r.contentType = `{"shorthand": "canary 1, then waves of 1 every 1h, starting in 1d"}`, "application/json"
			return r
		},
		"POST /api/v1/groups/{id}/preflight":   groupPath("/preflight"),
		"GET /api/v1/groups/{id}/report.csv":   groupPath("/report.csv"),
		"GET /api/v1/groups/{id}/failures":     groupPath("/failures"),
		"GET /api/v1/groups/{id}/live":         groupPath("/live"),
		"GET /api/v1/waves/{id}":               scheduled(""),
		"GET /api/v1/waves/{id}/live":          scheduled("/live"),
		"GET /api/v1/waves/{id}/moves":         scheduled("/moves"),
		"GET /api/v1/waves/{id}/events":        scheduled("/events"),
		"GET /api/v1/waves/{id}/notifications": scheduled("/notifications"),
		"GET /api/v1/waves/{id}/report.csv":    scheduled("/report.csv"),
		"GET /api/v1/waves/{id}/failures":      scheduled("/failures"),
		"POST /api/v1/waves/{id}/preflight":    scheduled("/preflight"),
		"POST /api/v1/waves/{id}/pause":        scheduled("/pause"),
		"POST /api/v1/waves/{id}/resume": func() request {
			w, _ := f.wave(2, 2, f.later())
			_, err := f.env.scheduler.WavePause(context.Background(), app.As("test"), w.ID)
			require.NoError(f.t, err)
			return request{path: wavePath(w, "/resume")}
		},
		"POST /api/v1/waves/{id}/cancel":       scheduled("/cancel"),
		"POST /api/v1/waves/{id}/rollback":     endedWave("/rollback"),
		"POST /api/v1/waves/{id}/retry-failed": endedWave("/retry-failed"),
		"POST /api/v1/waves/{id}/reschedule": func() request {
			r := scheduled("/reschedule")()
			r.body, r.contentType = `{"start_at": "2030-01-07T22:00:00Z"}`, "application/json"
			return r
		},
		"POST /api/v1/waves/{id}/members": func() request {
			w, upns := f.wave(3, 2, f.later())
			return request{path: wavePath(w, "/members"), contentType: "application/json", body: fmt.Sprintf(`{"add": [%q]}`, upns[2])}
		},
		"POST /api/v1/waves/{id}/override-readiness": scheduled("/override-readiness"),
		"POST /api/v1/waves/{id}/confirm-routing":    scheduled("/confirm-routing"),
		"POST /api/v1/waves/{id}/approve-numbers": func() request {
			r := scheduled("/approve-numbers")()
			_, err := f.env.pool.Exec(context.Background(), `UPDATE waves SET number_plan = 'online' WHERE id = $1`, strings.Split(r.path, "/")[4])
			require.NoError(f.t, err)
			return r
		},
		"GET /api/v1/tenant/readiness": func() request { return request{path: "/api/v1/tenant/readiness"} },
		"GET /api/v1/entra/groups":     func() request { return request{path: "/api/v1/entra/groups?name=SfB"} },
		"GET /api/v1/readiness":        func() request { return request{path: "/api/v1/readiness"} },
		"POST /api/v1/readiness/check": func() request { return request{path: "/api/v1/readiness/check"} },
		"GET /api/v1/settings":         func() request { return request{path: "/api/v1/settings"} },
		"PUT /api/v1/settings": func() request {
			return request{path: "/api/v1/settings", contentType: "application/json", body: `{"max_in_flight": 25}`}
		},
		"GET /api/v1/webhooks": func() request { return request{path: "/api/v1/webhooks"} },
		"POST /api/v1/webhooks": func() request {
			return request{path: "/api/v1/webhooks", contentType: "application/json",
				body: fmt.Sprintf(`{"name": %q, "url": "https://example.com/hook", "format": "json"}`, f.name("hook"))}
		},
		"DELETE /api/v1/webhooks/{id}": func() request {
			h, err := f.q.WebhookCreate(context.Background(), f.name("hook"), "https://example.com/hook", "json", "test")
			require.NoError(f.t, err)
			return request{path: fmt.Sprintf("/api/v1/webhooks/%d", h.ID)}
		},
		"GET /api/v1/audit":     func() request { return request{path: "/api/v1/audit?what=pause+a+wave"} },
		"GET /api/v1/audit.csv": func() request { return request{path: "/api/v1/audit.csv?from=2026-01-01"} },
		"GET /api/v1/tokens":    func() request { return request{path: "/api/v1/tokens"} },
		"POST /api/v1/tokens": func() request {
			return request{path: "/api/v1/tokens", contentType: "application/json", body: fmt.Sprintf(`{"name": %q, "role": "helpdesk"}`, f.name("t"))}
		},
		"GET /api/v1/sessions": func() request { return request{path: "/api/v1/sessions"} },
		"DELETE /api/v1/sessions/{id}": func() request {
			sess, _, err := f.q.SessionCreate(context.Background(), store.NewSession{Name: f.name("someone"), Role: auth.RoleLead, Via: "entra",
				ExpiresAt: time.Now().Add(time.Hour)})
			require.NoError(f.t, err)
			return request{path: fmt.Sprintf("/api/v1/sessions/%d", sess.ID)}
		},
		"DELETE /api/v1/tokens/{id}": func() request {
			t, _, err := f.q.TokenCreate(context.Background(), f.name("t"), auth.RoleHelpdesk, "test")
			require.NoError(f.t, err)
			return request{path: fmt.Sprintf("/api/v1/tokens/%d", t.ID)}
		},
	}
}

// noRedirects is a client that shows redirects rather than following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// expectedRole is who may call a route, written down apart from the
// router: the health checks are open; helpdesk may look users up and
// nothing else; tokens are an admin's; everything else is a lead's.
func expectedRole(route string) auth.Role {
	switch route {
	case "GET /healthz", "GET /readyz", "GET /ui/signin", "POST /ui/signin", "POST /ui/signout", "GET /ui/static/{file}",
		"GET /ui/signin/entra", "GET /ui/signin/callback":
		return ""
	case "GET /api/v1/me", "GET /api/v1/users", "GET /api/v1/users/{identity}", "GET /api/v1/users/{identity}/live", "GET /metrics", "GET /ui/{$}", "GET /ui/lookup":
		return auth.RoleHelpdesk
	case "GET /api/v1/tokens", "POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}", "GET /api/v1/sessions", "DELETE /api/v1/sessions/{id}":
		return auth.RoleAdmin
	case "GET /api/v1/entra/groups": // reads the directory for an import, which is a lead's
		return auth.RoleLead
	}
	return auth.RoleLead
}

// TestRouteAuthMatrix walks every route of the router × {no token, a
// malformed one, an unknown one, a revoked one, helpdesk, lead, admin}: a
// route needs a token unless it is a health check (401 without a valid
// one), a role too weak gets 403, and a role strong enough gets 2xx.
func TestRouteAuthMatrix(t *testing.T) {
	t.Parallel()
	env := newAPIEnv(t, sim.GraphConfig{})
	q := store.New(env.pool)
	ctx := context.Background()
	tokens := map[string]string{"none": "", "malformed": "not-a-token", "unknown": auth.NewToken()}
	for _, role := range auth.Roles {
		_, secret, err := q.TokenCreate(ctx, "matrix "+string(role), role, "test")
		require.NoError(t, err)
		tokens[string(role)] = secret
	}
	revoked, secret, err := q.TokenCreate(ctx, "matrix revoked", auth.RoleAdmin, "test")
	require.NoError(t, err)
	_, err = q.TokenRevoke(ctx, fmt.Sprint(revoked.ID))
	require.NoError(t, err)
	tokens["revoked"] = secret

	f := &fixtures{t: t, env: env, q: q}
	cases := f.cases()
	routes := api.NewServer(env.pool, env.scheduler, slog.New(slog.DiscardHandler), nil).Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		prepare, ok := cases[key]
		require.True(t, ok, "route %s has no case in the matrix", key)
		need := expectedRole(key)
		for _, who := range []string{"none", "malformed", "unknown", "revoked", "helpdesk", "lead", "admin"} {
			role := auth.Role(who)
			var want string
			switch {
			case need == "":
				want = "2xx"
			case !role.Valid():
				want = "401"
			case !role.Allows(need):
				want = "403"
			default:
				want = "2xx"
			}
			req := prepare()
			r, err := http.NewRequest(rt.Method, env.raw.URL+req.path, strings.NewReader(req.body))
			require.NoError(t, err)
			if req.contentType != "" {
				r.Header.Set("Content-Type", req.contentType)
			}
			if tokens[who] != "" {
				r.Header.Set("Authorization", "Bearer "+tokens[who])
			}
			res, err := noRedirects.Do(r)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			got := fmt.Sprint(res.StatusCode)
			if res.StatusCode/100 == 2 || res.StatusCode == http.StatusSeeOther { // a page that sends you on
				got = "2xx"
			}
			require.Equal(t, want, got, "%s as %s: %s", key, who, body)
			if got == "401" {
				require.Equal(t, `Bearer realm="cutover"`, res.Header.Get("WWW-Authenticate"))
			}
		}
	}
	for key := range cases {
		require.True(t, seen[key], "the matrix has a case for %s, which the router does not serve", key)
	}

	// Writes are in the audit log with who did them and how it went,
	// refusals included.
	entries, err := q.AuditList(ctx, store.AuditFilter{Limit: 1000})
	require.NoError(t, err)
	var pauses, refused, strangers int
	for _, e := range entries {
		if e.Action != "wave pause" || e.Actor == "test" { // "test" sets up the matrix's waves
			continue
		}
		pauses++
		switch {
		case e.Outcome == "refused forbidden":
			refused++
			require.Equal(t, "token:matrix helpdesk (helpdesk)", e.Actor)
		case e.Actor == "anonymous":
			strangers++
			require.Contains(t, []string{"refused unauthenticated", "refused invalid_token"}, e.Outcome)
		default:
			require.Equal(t, "ok", e.Outcome, "%+v", e)
		}
	}
	require.Equal(t, 7, pauses, "no valid token (4) and helpdesk refused, lead and admin done")
	require.Equal(t, 1, refused)
	require.Equal(t, 4, strangers)
}

// TestMetrics scrapes /metrics after a wave, as Prometheus would with a
// token, and finds each family with the values the wave left.
func TestMetrics(t *testing.T) {
	t.Parallel()
	env := newAPIEnv(t, sim.GraphConfig{})
	f := &fixtures{t: t, env: env, q: store.New(env.pool)}
	f.ended(4, 1)
	res, err := http.Get(env.raw.URL + "/metrics")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "metrics need a token")

	req, err := http.NewRequest(http.MethodGet, env.lead.URL+"/metrics", nil)
	require.NoError(t, err)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	body := string(data)
	for _, want := range []string{
		`cutover_moves{error_code="",state="moved"} 3`,
		`cutover_moves{error_code="tenant_not_enabled",state="failed"} 1`,
		`cutover_moves_in_flight 0`,
		`cutover_moves_in_flight_max 25`,
		`cutover_move_duration_seconds_count{outcome="moved"} 3`,
		`cutover_move_duration_seconds_count{outcome="failed"} 1`,
		`cutover_shell_call_duration_seconds_count{call="Move-CsUser online",result="ok"} 3`,
		`cutover_shell_call_duration_seconds_count{call="Move-CsUser online",result="tenant_not_enabled"} 1`,
		`cutover_graph_call_duration_seconds_count{call="users",result="ok"}`,
		`cutover_graph_call_duration_seconds_count{call="teams account type",result="ok"}`,
		`cutover_river_jobs{`,
		`cutover_database_up 1`,
		`cutover_worker_host_ready{`,
		`go_goroutines`,
	} {
		require.Contains(t, body, want)
	}
}
