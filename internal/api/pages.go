package api

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
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
// Sign-in takes an API token and keeps it in an HttpOnly, SameSite=Strict
// cookie, which is accepted for reading only: every change still needs the
// Authorization header, so a page of another site cannot make one.

//go:embed web
var webFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"stateWords": func(s migration.MoveState) string { return strings.ReplaceAll(string(s), "_", " ") },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"counts":     progressWords,
	"waveDetail": waveDetail,
	"failed":     func(p migration.Progress) int { return p.Counts[migration.MoveStateFailed] },
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

func waveDetail(w app.WaveView) string {
	s := fmt.Sprintf("at most %d of %d in flight", w.ConcurrencyLimit, w.Concurrency)
	if w.NextWindowOpen != nil {
		s += "; its window opens " + w.NextWindowOpen.UTC().Format("Mon 2 Jan 15:04 UTC")
	}
	return s
}

// page is what every page's template gets.
type page struct {
	Title    string
	Who      string
	Lead     bool
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
}

// render writes a page; the template is rendered to a buffer first, so that
// an error is a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if who, ok := PrincipalOf(r.Context()); ok {
		p.Who, p.Lead = who.Name, who.Role.Allows(auth.RoleLead)
	}
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
		if e.Code == "invalid_token" {
			msg = "Your token is unknown or has been revoked; sign in with another."
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

func (s *Server) pageSignin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Next: r.URL.Query().Get("next")})
}

// pageSigninPost checks the token given and keeps it in the cookie.
func (s *Server) pageSigninPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "signin", page{Title: "Sign in", Message: "The form could not be read; try again."})
		return
	}
	token, next := strings.TrimSpace(r.PostForm.Get("token")), r.PostForm.Get("next")
	p, err := s.auth.Authenticate(r.Context(), token)
	if err != nil {
		if !errors.Is(err, auth.ErrUnknown) {
			s.pageError(w, r, err)
			return
		}
		s.render(w, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Next: next,
			Message: "That token is unknown or has been revoked. Tokens start with " + auth.TokenPrefix + "."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
	s.log.Info("signed in to the pages", "who", p.Name)
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "/ui/signin") {
		next = "/ui/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) pageSignout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
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
