// Package api is cutover's HTTP API under /api/v1: pilot groups (from JSON or
// CSV), planning into waves, progress, the helpdesk lookup of one user, and a
// lead's retry. Requests and responses are JSON; every error is a JSON object
// with a stable code and a message naming the field or CSV line at fault.
package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// DefaultMaxBody is the largest request body accepted: a CSV of about
// 100,000 users.
const DefaultMaxBody = 8 << 20

// Server serves the API.
type Server struct {
	pool      *pgxpool.Pool
	q         *store.Queries
	scheduler *jobs.Scheduler
	log       *slog.Logger
	now       func() time.Time
	maxBody   int64
	dir       migration.Directory
	checks    CheckSettings
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
	// Directory is Microsoft Graph. Without it, tenant readiness, dry runs
	// and imports from Entra ID groups answer 503.
	Directory migration.Directory
	// Checks tune the checks against the directory.
	Checks CheckSettings
}

// NewServer returns an API server.
func NewServer(pool *pgxpool.Pool, scheduler *jobs.Scheduler, log *slog.Logger, opts *Options) *Server {
	s := &Server{pool: pool, q: store.New(pool), scheduler: scheduler, log: log, now: time.Now, maxBody: DefaultMaxBody}
	if opts != nil {
		if opts.MaxBody > 0 {
			s.maxBody = opts.MaxBody
		}
		if opts.Now != nil {
			s.now = opts.Now
		}
		s.dir, s.checks = opts.Directory, opts.Checks
	}
	s.checks.MaxSyncAge = cmp.Or(s.checks.MaxSyncAge, migration.DefaultMaxSyncAge)
	s.checks.LicenceSettle = cmp.Or(s.checks.LicenceSettle, migration.DefaultLicenceSettle)
	return s
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("GET /api/v1/groups", s.groupList)
	mux.HandleFunc("POST /api/v1/groups", s.groupCreate)
	mux.HandleFunc("GET /api/v1/groups/{id}", s.groupGet)
	mux.HandleFunc("POST /api/v1/groups/{id}/plan", s.groupPlan)
	mux.HandleFunc("GET /api/v1/waves/{id}", s.waveGet)
	mux.HandleFunc("GET /api/v1/waves/{id}/moves", s.waveMoves)
	mux.HandleFunc("GET /api/v1/users/{identity}", s.userGet)
	mux.HandleFunc("POST /api/v1/users/{identity}/retry", s.userRetry)
	mux.HandleFunc("POST /api/v1/users/{identity}/rollback", s.userRollback)
	mux.HandleFunc("GET /api/v1/tenant/readiness", s.tenantReadiness)
	mux.HandleFunc("POST /api/v1/groups/{id}/preflight", s.groupPreflight)
	mux.HandleFunc("POST /api/v1/waves/{id}/preflight", s.wavePreflight)
	mux.HandleFunc("GET /api/v1/waves/{id}/events", s.waveEvents)
	mux.HandleFunc("GET /api/v1/waves/{id}/notifications", s.waveNotifications)
	mux.HandleFunc("POST /api/v1/waves/{id}/pause", s.wavePause)
	mux.HandleFunc("POST /api/v1/waves/{id}/resume", s.waveResume)
	mux.HandleFunc("POST /api/v1/waves/{id}/cancel", s.waveCancel)
	mux.HandleFunc("POST /api/v1/waves/{id}/rollback", s.waveRollback)
	mux.HandleFunc("POST /api/v1/waves/{id}/retry-failed", s.waveRetryFailed)
	mux.HandleFunc("POST /api/v1/waves/{id}/reschedule", s.waveReschedule)
	mux.HandleFunc("POST /api/v1/waves/{id}/members", s.waveMembers)
	mux.HandleFunc("GET /api/v1/waves/{id}/report.csv", s.waveReport)
	mux.HandleFunc("GET /api/v1/waves/{id}/failures", s.waveFailures)
	mux.HandleFunc("GET /api/v1/groups/{id}/report.csv", s.groupReport)
	mux.HandleFunc("GET /api/v1/groups/{id}/failures", s.groupFailures)
	mux.HandleFunc("GET /api/v1/settings", s.settingsGet)
	mux.HandleFunc("PUT /api/v1/settings", s.settingsPut)
	mux.HandleFunc("GET /api/v1/webhooks", s.webhookList)
	mux.HandleFunc("POST /api/v1/webhooks", s.webhookCreate)
	mux.HandleFunc("DELETE /api/v1/webhooks/{id}", s.webhookDelete)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, migration.Errorf(migration.ENotFound, "no_route", "no route %s %s; the API is under /api/v1", r.Method, r.URL.Path))
	})
	return logRequests(s.log, mux)
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
	migration.EMalformed:   http.StatusBadRequest,
	migration.EInvalid:     http.StatusUnprocessableEntity,
	migration.ENotFound:    http.StatusNotFound,
	migration.EConflict:    http.StatusConflict,
	migration.ETooLarge:    http.StatusRequestEntityTooLarge,
	migration.EUnsupported: http.StatusUnsupportedMediaType,
	migration.EUnavailable: http.StatusServiceUnavailable,
	migration.EUpstream:    http.StatusBadGateway,
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
