package api

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/store"
)

// The web pages: the helpdesk lookup, the pilot groups and each group's
// live wave dashboard, rendered on the server from templates in the binary.
// People sign in with Entra ID (or an API token) into a session kept in
// Postgres (signin.go); the pages' changes go to the API with the session's
// anti-forgery token.

//go:embed web
var webFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"stateWords": func(s migration.MoveState) string { return strings.ReplaceAll(string(s), "_", " ") },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"counts":     progressWords,
	"waveDetail": waveDetail,
	"failed":     func(p migration.Progress) int { return p.Counts[migration.MoveStateFailed] },
	"unplanned":  unplanned,
	"join":       strings.Join,
	// What a rollback does to a user's contacts, as Microsoft says it.
	"expectMovedBack": func() string { return migration.ExpectMovedBack },
}).ParseFS(webFS, "web/*.html"))

// progressWords says a progress in a line (the dashboard's script writes the
// same line as it updates).
func progressWords(p migration.Progress) string {
	parts := []string{fmt.Sprintf("%d of %d done (%g%%)", p.Done, p.Total, p.Percent)}
	for _, s := range []migration.MoveState{migration.MoveStateMoved, migration.MoveStateSkipped, migration.MoveStateFailed,
		migration.MoveStateCancelled, migration.MoveStateRolledBack} {
		if n := p.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	if p.InFlight > 0 {
		parts = append(parts, fmt.Sprintf("%d in flight", p.InFlight))
	}
	if n := p.Counts[migration.MoveStateRetrying]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting to retry", n))
	}
	return strings.Join(parts, ", ")
}

// unplanned counts a group's users in no wave yet (a retry wave's users are
// its original wave's).
func unplanned(g app.GroupView) int {
	n := g.Members
	for _, w := range g.Waves {
		if w.RetryOf == nil {
			n -= w.Size
		}
	}
	return max(n, 0)
}

func waveDetail(w app.WaveView) string {
	s := fmt.Sprintf("at most %d of %d in flight", w.ConcurrencyLimit, w.Concurrency)
	if w.NextWindowOpen != nil {
		s += "; its window opens " + w.NextWindowOpen.UTC().Format("Mon 2 Jan 15:04 UTC")
	}
	return s
}

// page is what every page's template gets.
type page struct {
	Title string
	Who   string
	Lead  bool
	Admin bool
	// CSRF is the session's anti-forgery token, which the pages' script
	// sends with every change (empty: the page makes none).
	CSRF string
	// SignIn says whether the sign-in page offers Entra ID.
	SignIn   bool
	Message  string
	Next     string
	Now      time.Time
	Query    string
	Status   *app.UserStatus
	Groups   []app.GroupView
	Group    *app.GroupView
	Wave     *app.WaveView
	Events   []store.WaveEvent
	Failures []migration.FailureCount
	// Readiness is the deployment's readiness report.
	Readiness *preflight.Deployment
	// Simulated says what of the tenant is simulated: every page says so.
	Simulated store.Simulated
	// The settings page's: the cap and the moves in flight, the webhooks,
	// and for an admin the tokens and the sessions.
	Settings *store.Settings
	InFlight int
	Webhooks []store.Webhook
	Tokens   []store.Token
	Sessions []store.Session
	// Audit is a page of the audit log; Next the ID to page on from.
	Audit []store.AuditEntry
}

// render writes a page; the template is rendered to a buffer first, so that
// an error is a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if who, ok := PrincipalOf(r.Context()); ok {
		p.Who, p.Lead, p.Admin, p.CSRF = cmp.Or(who.DisplayName, who.Name), who.Role.Allows(auth.RoleLead), who.Role.Allows(auth.RoleAdmin), who.CSRF
	}
	p.SignIn = s.signin != nil
	p.Now = s.now()
	if sim, err := s.app.Simulated(r.Context()); err == nil {
		p.Simulated = sim
	} else {
		s.log.Warn("page: reading whether the tenant is simulated failed", "page", name, "error", err)
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("page failed", "page", name, "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pageError answers a page's request with an error as a page: without a
// valid token, the sign-in form (status 401), which comes back here.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errors.AsType[*migration.Error](err)
	status := statusOf[migration.ErrorKind(err)]
	if !ok || status == 0 {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		s.render(w, r, http.StatusInternalServerError, "problem", page{Title: "Something went wrong", Message: "Internal error."})
		return
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cutover"`)
		msg := "Sign in to go on."
		if e.Code == "session_ended" {
			msg = "Your session has ended (signed out, expired or ended by an administrator); sign in again."
		}
		s.render(w, r, status, "signin", page{Title: "Sign in", Message: msg, Next: r.URL.RequestURI()})
		return
	}
	title := map[int]string{http.StatusForbidden: "Not for your role", http.StatusNotFound: "Not found"}[status]
	if title == "" {
		title = "That did not work"
	}
	s.render(w, r, status, "problem", page{Title: title, Message: e.Message})
}

var staticFS, _ = fs.Sub(webFS, "web/static")

func (s *Server) pageStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, staticFS, r.PathValue("file"))
}

// pageHome sends helpdesk to the lookup and leads to their groups.
func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) {
	target := "/ui/lookup"
	if p, _ := PrincipalOf(r.Context()); p.Role.Allows(auth.RoleLead) {
		target = "/ui/groups"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) pageLookup(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := page{Title: "Look a user up", Query: q}
	if q == "" {
		s.render(w, r, http.StatusOK, "lookup", p)
		return
	}
	st, err := s.app.LookUp(r.Context(), q, s.now())
	if migration.ErrorKind(err) == migration.ENotFound {
		p.Message = fmt.Sprintf("No user %q in any pilot group (looked up by UPN and SIP address). Check the spelling, or ask the migration lead whether the user is planned.", q)
		s.render(w, r, http.StatusNotFound, "lookup", p)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p.Status = &st
	s.render(w, r, http.StatusOK, "lookup", p)
}

// pageReadiness shows the deployment's whole readiness: what holds moves,
// every worker host, the tenant, on premises and DNS, with each fix.
func (s *Server) pageReadiness(w http.ResponseWriter, r *http.Request) {
	d, err := s.app.DeploymentReadiness(r.Context(), s.dir, s.now(), s.checks.MaxSyncAge)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "readiness", page{Title: "Deployment readiness", Readiness: &d})
}

func (s *Server) pageGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := s.app.Groups(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := page{Title: "Pilot groups"}
	for _, g := range groups {
		v, err := s.app.GroupViewOf(r.Context(), g, s.now())
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		p.Groups = append(p.Groups, v)
	}
	s.render(w, r, http.StatusOK, "groups", p)
}

func (s *Server) pageGroup(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	g, err := s.app.Group(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v, err := s.app.GroupViewOf(r.Context(), g, s.now())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "group", page{Title: g.Name, Group: &v})
}

func (s *Server) pageWave(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	wave, err := s.app.Wave(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	views, err := s.app.WaveViews(r.Context(), []migration.Wave{wave}, s.now())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	events, err := s.app.WaveTimeline(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	counts, err := s.app.Failures(r.Context(), 0, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "wave", page{Title: wave.Name, Wave: &views[0], Events: events, Failures: app.Summarise(counts).Failures})
}

// pageSettings shows the cap on moves in flight and the webhooks, and to an
// admin the API tokens and the open sessions, each with its actions.
func (s *Server) pageSettings(w http.ResponseWriter, r *http.Request) {
	st, held, err := s.app.Settings(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := page{Title: "Settings", Settings: &st, InFlight: held}
	if p.Webhooks, err = s.app.Webhooks(r.Context()); err != nil {
		s.pageError(w, r, err)
		return
	}
	if who, _ := PrincipalOf(r.Context()); who.Role.Allows(auth.RoleAdmin) {
		if p.Tokens, err = s.app.Tokens(r.Context()); err != nil {
			s.pageError(w, r, err)
			return
		}
		if p.Sessions, err = s.app.Sessions(r.Context()); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "settings", p)
}

// auditPageSize is how many entries the audit log's page shows at once.
const auditPageSize = 100

func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	before, err := auditBefore(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	entries, err := s.app.AuditLog(r.Context(), auditPageSize, before)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := page{Title: "Audit log", Audit: entries}
	if len(entries) == auditPageSize {
		p.Next = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	s.render(w, r, http.StatusOK, "audit", p)
}
