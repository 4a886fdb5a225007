// Package api is cutover's HTTP API under /api/v1: pilot groups (from JSON or
// CSV), planning into waves, progress, the helpdesk lookup of one user, and a
// lead's retry. Requests and responses are JSON; every error is a JSON object
// with a stable code and a message naming the field or CSV line at fault.
package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
)

// DefaultMaxBody is the largest request body accepted: a CSV of about
// 100,000 users.
const DefaultMaxBody = 8 << 20

// Server serves the API.
type Server struct {
	pool    *pgxpool.Pool
	app     *app.Service
	log     *slog.Logger
	now     func() time.Time
	maxBody int64
	dir     migration.Directory
	checks  CheckSettings
	auth    auth.Authenticator
	metrics http.Handler
	// sessions are the pages' sessions (cached like tokens); signin is
	// sign-in with Entra ID (nil: the pages take an API token).
	sessions        *cachedAuth
	signin          *auth.OIDC
	sessionLifetime time.Duration
	crossOrigin     *http.CrossOriginProtection
	publicURL       string
	// live are the feeds the live routes stream from (ServeLive); nil
	// answers each live request once.
	live atomic.Pointer[live.Feeds]
}

// CheckSettings tune the checks against Microsoft Graph.
type CheckSettings struct {
	// MaxSyncAge is how old the last directory synchronisation may be.
	// Defaults to migration.DefaultMaxSyncAge.
	MaxSyncAge time.Duration
	// LicenceSettle is how long a fresh licence takes to provision.
	// Defaults to migration.DefaultLicenceSettle.
	LicenceSettle time.Duration
}

// Options configure a Server; zero values take the documented defaults.
type Options struct {
	// MaxBody is the largest request body accepted. Defaults to DefaultMaxBody.
	MaxBody int64
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Directory is Microsoft Graph. Without it, tenant readiness, dry runs,
	// imports from Entra ID groups and finding those groups by name answer
	// 503.
	Directory migration.Directory
	// Checks tune the checks against the directory.
	Checks CheckSettings
	// Authenticator establishes who a token (or, later, a sign-in) is.
	// Defaults to the API tokens in the database.
	Authenticator auth.Authenticator
	// Metrics serves /metrics (Prometheus); nil serves 404 there.
	Metrics http.Handler
	// SignIn signs people in to the pages with Entra ID; nil leaves the
	// API token form alone.
	SignIn *auth.OIDC
	// SessionLifetime is how long a page session lasts. Defaults to
	// app.SessionLifetime.
	SessionLifetime time.Duration
	// PublicURL is the pages' address as browsers see it (behind a proxy,
	// say): changes from that origin are cutover's own.
	PublicURL string
}

// NewServer returns an API server.
func NewServer(pool *pgxpool.Pool, svc *app.Service, log *slog.Logger, opts *Options) *Server {
	s := &Server{pool: pool, app: svc, log: log, now: time.Now, maxBody: DefaultMaxBody}
	if opts != nil {
		if opts.MaxBody > 0 {
			s.maxBody = opts.MaxBody
		}
		if opts.Now != nil {
			s.now = opts.Now
		}
		s.dir, s.checks, s.auth, s.metrics = opts.Directory, opts.Checks, opts.Authenticator, opts.Metrics
		s.signin, s.sessionLifetime, s.publicURL = opts.SignIn, opts.SessionLifetime, opts.PublicURL
	}
	if s.dir != nil {
		svc.WithDirectory(s.dir) // an import from Entra ID reads the same Graph
	}
	if s.auth == nil {
		s.auth = svc
	}
	s.auth = &cachedAuth{next: s.auth, now: time.Now, seen: map[string]cachedPrincipal{}}
	s.sessions = &cachedAuth{next: authFunc(svc.SessionAuthenticate), now: time.Now, seen: map[string]cachedPrincipal{}}
	s.sessionLifetime = cmp.Or(s.sessionLifetime, app.SessionLifetime)
	// Changes from the pages must come from cutover's own origin: the
	// request's host, or the public address behind a proxy.
	s.crossOrigin = http.NewCrossOriginProtection()
	if opts != nil && opts.PublicURL != "" {
		if u, err := url.Parse(opts.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
			_ = s.crossOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
	}
	s.checks.MaxSyncAge = cmp.Or(s.checks.MaxSyncAge, migration.DefaultMaxSyncAge)
	s.checks.LicenceSettle = cmp.Or(s.checks.LicenceSettle, migration.DefaultLicenceSettle)
	return s
}

// authFunc is a function that authenticates, as an auth.Authenticator.
type authFunc func(ctx context.Context, credential string) (auth.Principal, error)

func (f authFunc) Authenticate(ctx context.Context, credential string) (auth.Principal, error) {
	return f(ctx, credential)
}

// Route is one route and the least role it needs ("" for none: the health
// checks, and the sign-in page and what it needs). Page routes answer
// errors as pages (the sign-in form for a 401).
type Route struct {
	Method  string
	Pattern string
	Role    auth.Role
	handler http.HandlerFunc
	Page    bool
}

// Routes lists every route. The router is built from it, and tests walk it.
func (s *Server) Routes() []Route {
	const (
		public   = auth.Role("")
		helpdesk = auth.RoleHelpdesk
		lead     = auth.RoleLead
		admin    = auth.RoleAdmin
	)
	pageRoutes := []Route{
		{"GET", "/ui/signin", public, s.pageSignin, true},
		{"POST", "/ui/signin", public, s.pageSigninPost, true},
		{"GET", "/ui/signin/entra", public, s.pageSigninEntra, true},
		{"GET", "/ui/signin/callback", public, s.pageSigninCallback, true},
		{"POST", "/ui/signout", public, s.pageSignout, true},
		{"GET", "/ui/static/{file}", public, s.pageStatic, true},
		{"GET", "/ui/{$}", helpdesk, s.pageHome, true},
		{"GET", "/ui/lookup", helpdesk, s.pageLookup, true},
		{"GET", "/ui/overview", lead, s.pageOverview, true},
		{"GET", "/ui/groups", lead, s.pageGroups, true},
		{"GET", "/ui/readiness", lead, s.pageReadiness, true},
		{"GET", "/ui/groups/{id}", lead, s.pageGroup, true},
		{"GET", "/ui/waves/{id}", lead, s.pageWave, true},
		{"GET", "/ui/groups/{id}/users", lead, s.pageGroupUsers, true},
		{"GET", "/ui/waves/{id}/users", lead, s.pageWaveUsers, true},
		{"GET", "/ui/settings", lead, s.pageSettings, true},
		{"GET", "/ui/audit", lead, s.pageAudit, true},
	}
	return append([]Route{
		{"GET", "/healthz", public, s.health, false},
		{"GET", "/readyz", public, s.ready, false},
		{"GET", "/metrics", helpdesk, s.serveMetrics, false},
		{"GET", "/api/v1/me", helpdesk, s.me, false},
		{"GET", "/api/v1/users", helpdesk, s.userSearch, false},
		{"GET", "/api/v1/users/{identity}", helpdesk, s.userGet, false},
		{"GET", "/api/v1/users/{identity}/live", helpdesk, s.userLive, false},
		{"POST", "/api/v1/users/{identity}/retry", lead, s.userRetry, false},
		{"POST", "/api/v1/users/{identity}/rollback", lead, s.userRollback, false},
		{"POST", "/api/v1/users/{identity}/migrate-meetings", lead, s.userMigrateMeetings, false},
		{"GET", "/api/v1/groups", lead, s.groupList, false},
		{"POST", "/api/v1/groups", lead, s.groupCreate, false},
		{"GET", "/api/v1/groups/{id}", lead, s.groupGet, false},
		{"GET", "/api/v1/groups/{id}/live", lead, s.groupLive, false},
		{"POST", "/api/v1/groups/{id}/plan", lead, s.groupPlan, false},
		{"POST", "/api/v1/groups/{id}/preflight", lead, s.groupPreflight, false},
		{"POST", "/api/v1/groups/{id}/pause", lead, s.groupPause, false},
		{"POST", "/api/v1/groups/{id}/resume", lead, s.groupResume, false},
		{"GET", "/api/v1/groups/{id}/report.csv", lead, s.groupReport, false},
		{"GET", "/api/v1/groups/{id}/failures", lead, s.groupFailures, false},
		{"GET", "/api/v1/groups/{id}/users", lead, s.groupUsers, false},
		{"GET", "/api/v1/groups/{id}/users.csv", lead, s.groupUsersCSV, false},
		{"POST", "/api/v1/groups/{id}/users/leave-out", lead, s.groupUsersLeaveOut, false},
		{"POST", "/api/v1/groups/{id}/users/put-back", lead, s.groupUsersPutBack, false},
		{"GET", "/api/v1/waves/{id}", lead, s.waveGet, false},
		{"GET", "/api/v1/waves/{id}/live", lead, s.waveLive, false},
		{"GET", "/api/v1/waves/{id}/moves", lead, s.waveMoves, false},
		{"GET", "/api/v1/waves/{id}/events", lead, s.waveEvents, false},
		{"GET", "/api/v1/waves/{id}/notifications", lead, s.waveNotifications, false},
		{"GET", "/api/v1/waves/{id}/report.csv", lead, s.waveReport, false},
		{"GET", "/api/v1/waves/{id}/failures", lead, s.waveFailures, false},
		{"GET", "/api/v1/waves/{id}/users", lead, s.waveUsers, false},
		{"GET", "/api/v1/waves/{id}/users.csv", lead, s.waveUsersCSV, false},
		{"POST", "/api/v1/waves/{id}/users/retry", lead, s.waveUsersRetry, false},
		{"POST", "/api/v1/waves/{id}/users/rollback", lead, s.waveUsersRollback, false},
		{"POST", "/api/v1/waves/{id}/preflight", lead, s.wavePreflight, false},
		{"POST", "/api/v1/waves/{id}/pause", lead, s.wavePause, false},
		{"POST", "/api/v1/waves/{id}/resume", lead, s.waveResume, false},
		{"POST", "/api/v1/waves/{id}/cancel", lead, s.waveCancel, false},
		{"POST", "/api/v1/waves/{id}/rollback", lead, s.waveRollback, false},
		{"POST", "/api/v1/waves/{id}/retry-failed", lead, s.waveRetryFailed, false},
		{"POST", "/api/v1/waves/{id}/reschedule", lead, s.waveReschedule, false},
		{"POST", "/api/v1/waves/{id}/members", lead, s.waveMembers, false},
		{"POST", "/api/v1/waves/{id}/override-readiness", lead, s.waveOverrideReadiness, false},
		{"POST", "/api/v1/waves/{id}/confirm-routing", lead, s.waveConfirmRouting, false},
		{"POST", "/api/v1/waves/{id}/approve-numbers", lead, s.waveApproveNumbers, false},
		{"GET", "/api/v1/tenant/readiness", lead, s.tenantReadiness, false},
		{"GET", "/api/v1/entra/groups", lead, s.entraGroups, false},
		{"GET", "/api/v1/readiness", lead, s.readiness, false},
		{"POST", "/api/v1/readiness/check", lead, s.readinessCheck, false},
		{"GET", "/api/v1/settings", lead, s.settingsGet, false},
		{"PUT", "/api/v1/settings", lead, s.settingsPut, false},
		{"GET", "/api/v1/webhooks", lead, s.webhookList, false},
		{"POST", "/api/v1/webhooks", lead, s.webhookCreate, false},
		{"DELETE", "/api/v1/webhooks/{id}", lead, s.webhookDelete, false},
		{"GET", "/api/v1/audit", lead, s.auditList, false},
		{"GET", "/api/v1/audit.csv", lead, s.auditCSV, false},
		{"GET", "/api/v1/tokens", admin, s.tokenList, false},
		{"POST", "/api/v1/tokens", admin, s.tokenCreate, false},
		{"DELETE", "/api/v1/tokens/{id}", admin, s.tokenRevoke, false},
		{"GET", "/api/v1/sessions", admin, s.sessionList, false},
		{"DELETE", "/api/v1/sessions/{id}", admin, s.sessionRevoke, false},
	}, pageRoutes...)
}

// routeActions names the action of each write route as the audit log
// does, the same name a use case and the command line give it.
var routeActions = map[string]app.AuditAction{
	"POST /api/v1/users/{identity}/retry":            app.AuditUserRetry,
	"POST /api/v1/users/{identity}/rollback":         app.AuditUserRollBack,
	"POST /api/v1/users/{identity}/migrate-meetings": app.AuditUserMigrateMeetings,
	"POST /api/v1/groups":                            app.AuditGroupImport,
	"POST /api/v1/groups/{id}/plan":                  app.AuditGroupPlan,
	"POST /api/v1/groups/{id}/preflight":             app.AuditGroupDryRun,
	"POST /api/v1/groups/{id}/pause":                 app.AuditGroupPause,
	"POST /api/v1/groups/{id}/resume":                app.AuditGroupResume,
	"POST /api/v1/groups/{id}/users/leave-out":       app.AuditGroupUsersLeaveOut,
	"POST /api/v1/groups/{id}/users/put-back":        app.AuditGroupUsersPutBack,
	"POST /api/v1/waves/{id}/users/retry":            app.AuditWaveUsersRetry,
	"POST /api/v1/waves/{id}/users/rollback":         app.AuditWaveUsersRollBack,
	"POST /api/v1/waves/{id}/preflight":              app.AuditWaveDryRun,
	"POST /api/v1/waves/{id}/pause":                  app.AuditWavePause,
	"POST /api/v1/waves/{id}/resume":                 app.AuditWaveResume,
	"POST /api/v1/waves/{id}/cancel":                 app.AuditWaveCancel,
	"POST /api/v1/waves/{id}/rollback":               app.AuditWaveRollBack,
	"POST /api/v1/waves/{id}/retry-failed":           app.AuditWaveRetryFailed,
	"POST /api/v1/waves/{id}/reschedule":             app.AuditWaveReschedule,
	"POST /api/v1/waves/{id}/members":                app.AuditWaveMembers,
	"POST /api/v1/waves/{id}/override-readiness":     app.AuditWaveOverrideReadiness,
	"POST /api/v1/waves/{id}/confirm-routing":        app.AuditWaveConfirmRouting,
	"POST /api/v1/waves/{id}/approve-numbers":        app.AuditWaveApproveNumbers,
	"POST /api/v1/readiness/check":                   app.AuditReadinessCheck,
	"PUT /api/v1/settings":                           app.AuditMaxInFlight,
	"POST /api/v1/webhooks":                          app.AuditWebhookAdd,
	"DELETE /api/v1/webhooks/{id}":                   app.AuditWebhookRemove,
	"POST /api/v1/tokens":                            app.AuditTokenCreate,
	"DELETE /api/v1/tokens/{id}":                     app.AuditTokenRevoke,
	"DELETE /api/v1/sessions/{id}":                   app.AuditSessionRevoke,
	"POST /ui/signin":                                app.AuditSignIn,
	"POST /ui/signout":                               app.AuditSignOut,
}

// Handler returns the API's routes, each behind the check of its role.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.guard(rt))
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusSeeOther) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, migration.Errorf(migration.ENotFound, "no_route", "no route %s %s; the API is under /api/v1, the pages under /ui/", r.Method, r.URL.Path))
	})
	return logRequests(s.log, mux)
}

// serveMetrics serves Prometheus' scrape (with a token: Prometheus sends
// it with authorization: credentials).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.error(w, r, migration.Errorf(migration.ENotFound, "no_metrics", "this server has no metrics"))
		return
	}
	s.metrics.ServeHTTP(w, r)
}

// ready answers 200 when the database answers and its schema is current: a
// process whose schema is behind (another version migrated it, or none
// did) should get no traffic.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	pending, err := s.app.MigrationsPending(r.Context())
	switch {
	case err != nil:
		s.log.Warn("readiness: database unreachable", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, readyAnswer{Status: "database unreachable"})
	case len(pending) > 0:
		writeJSON(w, http.StatusServiceUnavailable, readyAnswer{Status: "schema not current: run cutover migrate", PendingMigrations: pending})
	default:
		writeJSON(w, http.StatusOK, readyAnswer{Status: "ready"})
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if err := s.pool.Ping(r.Context()); err != nil {
		s.log.Warn("health check: database unreachable", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// statusOf maps an error kind to its HTTP status: the one place that does.
var statusOf = map[string]int{
	migration.EMalformed:       http.StatusBadRequest,
	migration.EInvalid:         http.StatusUnprocessableEntity,
	migration.ENotFound:        http.StatusNotFound,
	migration.EConflict:        http.StatusConflict,
	migration.ETooLarge:        http.StatusRequestEntityTooLarge,
	migration.EUnsupported:     http.StatusUnsupportedMediaType,
	migration.EUnavailable:     http.StatusServiceUnavailable,
	migration.EUpstream:        http.StatusBadGateway,
	migration.EUnauthenticated: http.StatusUnauthorized,
	migration.EForbidden:       http.StatusForbidden,
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error *migration.Error `json:"error"`
}

// error writes err as JSON. Errors that are not a *migration.Error are
// cutover's own fault: logged in full, shown as "Internal error."
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	if de, ok := errors.AsType[*migration.DirectoryError](err); ok {
		// Graph's own words are safe to show, and say what is wrong.
		f := migration.Classify(de)
		err = &migration.Error{Kind: migration.EUpstream, Code: string(f.Code), Message: de.Error() + ". " + f.Fix}
	}
	e, ok := errors.AsType[*migration.Error](err)
	status := statusOf[migration.ErrorKind(err)]
	if !ok || status == 0 {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		e, status = &migration.Error{Code: "internal", Message: "Internal error."}, http.StatusInternalServerError
	}
	if info, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		info.err = e
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cutover"`)
	}
	writeJSON(w, status, errorBody{Error: e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, migration.Errorf(migration.ENotFound, "not_found", "%s %q is not a valid id", name, r.PathValue(name))
	}
	return id, nil
}
