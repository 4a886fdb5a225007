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
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
)

// The web pages: the helpdesk lookup, the pilot groups and each group's
// live wave dashboard, rendered on the server from templates in the binary.
// People sign in with Entra ID (or an API token) into a session kept in
// Postgres (signin.go); the pages' changes go to the API with the session's
// anti-forgery token.

//go:embed web
var webFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"stateWords": func(s migration.MoveState) string { return s.Words() },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"failed":     func(p migration.Progress) int { return p.Counts[migration.MoveStateFailed] },
	"unplanned":  unplanned,
	"join":       strings.Join,
	// What a rollback does to a user's contacts, as Microsoft says it.
	"expectMovedBack": func() string { return migration.ExpectMovedBack },
	"bar":             bar,
	"outcomeNames":    outcomeNames,
	"localTime":       localTime,
	"countdown":       countdown,
	"took":            took,
	"nextWave":        nextWave,
	"attentionLink":   attentionLink,
	"usersCount":      usersCount,
	"waveTime":        waveTime,
	"filterLink":      filterLink,
	"waveArgs":        func(w app.WaveView, now time.Time) waveArgs { return waveArgs{Wave: w, Now: now} },
	"failureArgs": func(f []migration.FailureCount, users, caption string) failureArgs {
		return failureArgs{Failures: f, Users: users, Caption: caption}
	},
	"outcomeOf":  migration.OutcomeOf,
	"placeWords": migration.Place.Words,
	"itemWords":  migration.ItemState.Words,
	"chart":      chart,
	"gantt":      gantt,
	"timeUTC":    timeUTC,
	"add":        func(a, b int) int { return a + b },
	"sub":        func(a, b int) int { return a - b },
}).ParseFS(webFS, "web/*.html"))

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
	Events   []app.TimelineEntry
	Failures []migration.FailureCount
	// Readiness is the deployment's readiness report.
	Readiness *readiness.Deployment
	// Simulated says what of the tenant is simulated: every page says so.
	Simulated migration.Simulated
	// The settings page's: the cap and the moves in flight, the webhooks,
	// and for an admin the tokens and the sessions.
	Settings *migration.Settings
	InFlight int
	Webhooks []migration.Webhook
	Tokens   []auth.Token
	Sessions []auth.Session
	// AuditLog is the audit log's page.
	AuditLog *auditView
	// Users is the page of a group's or a wave's users.
	Users *usersView
	// Matches are the users a lookup's search found.
	Matches []migration.UserMatch
	// Overview is the deployment as a whole.
	Overview *app.Overview
	// Spans are a group's waves on a timeline.
	Spans []app.WaveSpan
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

// pageHome sends helpdesk to the lookup and leads to the overview.
func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) {
	target := "/ui/lookup"
	if p, _ := PrincipalOf(r.Context()); p.Role.Allows(auth.RoleLead) {
		target = "/ui/overview"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// pageOverview is a lead's landing: every user once, what needs a person
// now, the next waves, the moves over time, and every group.
func (s *Server) pageOverview(w http.ResponseWriter, r *http.Request) {
	o, err := s.app.Overview(r.Context(), s.now())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Overview: &o})
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
		// Not an address of anyone: the users whose name or address
		// starts so, one of whom is looked up at once.
		if p.Matches, err = s.app.UserSearch(r.Context(), q, searchLimit); err != nil {
			s.pageError(w, r, err)
			return
		}
		switch len(p.Matches) {
		case 0:
			p.Message = fmt.Sprintf("No user in any pilot group whose name, UPN or SIP address starts with %q. Check the spelling, or ask the migration lead whether the user is planned.", q)
			s.render(w, r, http.StatusNotFound, "lookup", p)
			return
		case 1:
			p.Matches, p.Query = nil, p.Matches[0].UPN
			st, err = s.app.LookUp(r.Context(), p.Query, s.now())
		default:
			s.render(w, r, http.StatusOK, "lookup", p)
			return
		}
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
	spans, err := s.app.WaveSpans(r.Context(), v, s.now())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "group", page{Title: g.Name, Group: &v, Spans: spans})
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
	s.render(w, r, http.StatusOK, "wave", page{Title: wave.Name, Wave: &views[0], Events: app.Timeline(events), Failures: app.Summarise(counts).Failures})
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
	f, err := auditFilter(r, auditPageSize)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	entries, err := s.app.AuditLog(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := &auditView{Entries: entries, Query: r.URL.Query()}
	if len(entries) == auditPageSize {
		v.Next = filterLink("/ui/audit", v.Query, "before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
	}
	v.CSV = filterLink("/api/v1/audit.csv", v.Query, "before", "")
	actors, err := s.app.AuditActors(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, a := range actors {
		v.Who = append(v.Who, choice{Value: a, Words: a, Chosen: a == f.Actor})
	}
	for _, a := range app.AuditActions {
		v.What = append(v.What, choice{Value: a.Words, Words: a.Words, Chosen: a.Words == r.URL.Query().Get("what")})
	}
	groups, err := s.app.Groups(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, g := range groups {
		v.Groups = append(v.Groups, choice{Value: strconv.FormatInt(g.ID, 10), Words: g.Name, Chosen: g.ID == f.GroupID})
	}
	v.From, v.Until = r.URL.Query().Get("from"), r.URL.Query().Get("until")
	v.Filtered = f.Actor != "" || f.Actions != nil || f.GroupID != 0 || f.Since != nil || f.Until != nil
	s.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", AuditLog: v})
}

// auditView is the audit log's page: a page of entries, the filters, and
// the links to the next page and to the CSV of the filtered log.
type auditView struct {
	Entries           []app.AuditView
	Query             url.Values
	Next, CSV         string
	Who, What, Groups []choice
	From, Until       string
	Filtered          bool
}

// usersView is the page of a group's or a wave's users.
type usersView struct {
	// Of names the group or wave; Back is its page; Base this page.
	Of, Back, Base string
	// CSV is the address of exactly the users the filters choose, as CSV.
	CSV string
	// Wave says that the list is a wave's (its actions are offered);
	// Unstarted that the wave has not started (users can be removed).
	Wave, Unstarted                   bool
	RetryURL, RollbackURL, MembersURL string
	// LeaveOutURL and PutBackURL are a group's actions on its members.
	LeaveOutURL, PutBackURL                              string
	Filter                                               app.UserListRequest
	Filtered                                             bool
	Outcomes, Codes, WaveChoices, DryChoices, Completion []choice
	Page                                                 app.UserPage
	// Says what the page shows, in a sentence.
	Says     string
	NextLink string
	PageSize int
}

// choice is an option of a filter.
type choice struct {
	Value, Words string
	Chosen       bool
}

func (s *Server) pageGroupUsers(w http.ResponseWriter, r *http.Request) { s.pageUsers(w, r, true) }
func (s *Server) pageWaveUsers(w http.ResponseWriter, r *http.Request)  { s.pageUsers(w, r, false) }

// pageUsers shows a page of a group's or a wave's users, filtered, with
// the wave's actions on the users a lead chooses.
func (s *Server) pageUsers(w http.ResponseWriter, r *http.Request, group bool) {
	req, err := userListRequest(r, group)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	list, err := s.app.UserList(r.Context(), req)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := usersView{Filter: req, Page: list, PageSize: cmp.Or(req.Limit, app.UserPageSize), Wave: !group}
	v.Filtered = len(req.Outcomes) > 0 || req.ErrorCode != "" || req.Search != "" || req.InWave != 0 || req.DryRun != "" || req.Completion != ""
	for _, c := range migration.Completions {
		v.Completion = append(v.Completion, choice{Value: string(c), Words: c.Words(), Chosen: c == req.Completion})
	}
	var failures []migration.CodeCount
	if group {
		g, err := s.app.GroupStatus(r.Context(), req.GroupID, s.now())
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		v.Of, v.Back, v.Base = g.Name, fmt.Sprintf("/ui/groups/%d", g.ID), fmt.Sprintf("/ui/groups/%d/users", g.ID)
		v.CSV = fmt.Sprintf("/api/v1/groups/%d/users.csv", g.ID)
		v.LeaveOutURL, v.PutBackURL = fmt.Sprintf("/api/v1/groups/%d/users/leave-out", g.ID), fmt.Sprintf("/api/v1/groups/%d/users/put-back", g.ID)
		for _, d := range []struct {
			status migration.CheckStatus
			words  string
		}{{migration.CheckFail, "would fail"}, {migration.CheckWarn, "passed with a warning"}, {migration.CheckPass, "passed"}} {
			v.DryChoices = append(v.DryChoices, choice{Value: string(d.status), Words: d.words, Chosen: d.status == req.DryRun})
		}
		for _, wv := range g.Waves {
			v.WaveChoices = append(v.WaveChoices, choice{Value: strconv.FormatInt(wv.ID, 10), Words: wv.Name, Chosen: wv.ID == req.InWave})
		}
		failures, err = s.app.Failures(r.Context(), g.ID, 0)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
	} else {
		wave, err := s.app.Wave(r.Context(), req.WaveID)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		g, err := s.app.Group(r.Context(), wave.GroupID)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		v.Of, v.Back, v.Base = wave.Name+" of "+g.Name, fmt.Sprintf("/ui/waves/%d", wave.ID), fmt.Sprintf("/ui/waves/%d/users", wave.ID)
		v.CSV = fmt.Sprintf("/api/v1/waves/%d/users.csv", wave.ID)
		v.Unstarted = wave.Unstarted()
		v.RetryURL, v.RollbackURL = fmt.Sprintf("/api/v1/waves/%d/users/retry", wave.ID), fmt.Sprintf("/api/v1/waves/%d/users/rollback", wave.ID)
		v.MembersURL = fmt.Sprintf("/api/v1/waves/%d/members", wave.ID)
		failures, err = s.app.Failures(r.Context(), 0, wave.ID)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	for _, o := range migration.Outcomes {
		v.Outcomes = append(v.Outcomes, choice{Value: string(o), Words: o.Words(), Chosen: slices.Contains(req.Outcomes, o)})
	}
	for _, f := range failures {
		v.Codes = append(v.Codes, choice{Value: string(f.Code), Words: fmt.Sprintf("%s (%s)", f.Code, usersCount(f.Count)), Chosen: f.Code == req.ErrorCode})
	}
	if req.ErrorCode != "" && !slices.ContainsFunc(v.Codes, func(c choice) bool { return c.Chosen }) {
		v.Codes = append(v.Codes, choice{Value: string(req.ErrorCode), Words: string(req.ErrorCode), Chosen: true})
	}
	query := r.URL.Query()
	if q := filterLink("", query); q != "" {
		v.CSV += q
	}
	if list.Next != 0 {
		v.NextLink = filterLink(v.Base, query, "after", strconv.Itoa(list.Next))
	}
	v.Says = usersShown(len(list.Users), req, list.Next != 0)
	s.render(w, r, http.StatusOK, "users", page{Title: "Users of " + v.Of, Users: &v})
}

// usersShown says what a page of users shows: "12 users shown: failed,
// error code licence_missing, name or address starting "mei"".
func usersShown(n int, req app.UserListRequest, more bool) string {
	var filters []string
	for _, o := range req.Outcomes {
		filters = append(filters, o.Words())
	}
	if req.ErrorCode != "" {
		filters = append(filters, "error code "+string(req.ErrorCode))
	}
	if req.InWave != 0 {
		filters = append(filters, "in the chosen wave")
	}
	if req.Search != "" {
		filters = append(filters, fmt.Sprintf("name or address starting %q", req.Search))
	}
	if req.DryRun != "" {
		filters = append(filters, "last dry run "+string(req.DryRun))
	}
	if req.Completion != "" {
		filters = append(filters, "moved and "+req.Completion.Words())
	}
	s := usersCount(n) + " shown"
	if req.After > 0 {
		s += ", after the first page"
	}
	if len(filters) > 0 {
		s += ": " + strings.Join(filters, ", ")
	}
	if more {
		s += "; more follow on the next page"
	}
	return s + "."
}
