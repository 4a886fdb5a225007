package api

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
)

type principalKey struct{}

// auditKey holds the auditInfo of a write, for error to fill in.
type auditKey struct{}

// auditInfo is what a write's handler tells the audit log beyond its status.
type auditInfo struct {
	err error // the error the write was refused with, if it was
	// subject names what the write was to when its path does not (the
	// name of a group imported).
	subject string
	// recorded: a use case recorded the write in the audit log, done or
	// refused (app.Actor.Written).
	recorded bool
	// nothing: the write changed nothing (a preview), so its success is no
	// entry; a refusal still is.
	nothing bool
}

// actorOf is who a request acts for as a use case takes it, naming its
// action as the audit log does. The use case records its outcome, success
// or refusal; the guard records a refusal before it.
func actorOf(r *http.Request) app.Actor {
	a := app.Actor{Name: actor(r), Action: routeActions[r.Pattern], Target: auditTarget(r)}
	if info, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		a.Written = &info.recorded
	}
	a.WaveID, a.GroupID, a.Subject = auditScope(r)
	return a
}

// auditTarget names what a request is to as a use case names it: "wave
// 12", "group 3", a user.
func auditTarget(r *http.Request) string {
	waveID, groupID, user := auditScope(r)
	switch {
	case waveID != nil:
		return fmt.Sprintf("wave %d", *waveID)
	case groupID != nil:
		return fmt.Sprintf("group %d", *groupID)
	}
	return user
}

// auditScope reads what a request is to from its route: the wave or group
// in its path, or the user.
func auditScope(r *http.Request) (waveID, groupID *int64, subject string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	switch {
	case err == nil && strings.Contains(r.Pattern, "/waves/{id}"):
		waveID = &id
	case err == nil && strings.Contains(r.Pattern, "/groups/{id}"):
		groupID = &id
	}
	return waveID, groupID, r.PathValue("identity")
}

// auditSubject names what a write is to when its path does not (a group
// imported), for the audit log.
func auditSubject(r *http.Request, subject string) {
	if info, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		info.subject = subject
	}
}

// changesNothing tells the guard that a write route's request changed
// nothing (a plan's preview): its success is not an entry of the audit log,
// which a lead reads as what was done. A refusal still is.
func changesNothing(r *http.Request) {
	if info, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		info.nothing = true
	}
}

// PrincipalOf returns whoever the request acts for.
func PrincipalOf(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// actor names the request's principal in timelines and the audit log.
func actor(r *http.Request) string {
	if p, ok := PrincipalOf(r.Context()); ok {
		return p.Actor()
	}
	return "api"
}

// SessionCookie is the cookie the pages keep their session's secret in
// after sign-in. It is HttpOnly and SameSite=Lax: Lax, not Strict, because
// the browser comes back from Entra ID's sign-in by a cross-site redirect and
// must carry it on the way to the first page. A change never rides on the
// cookie alone: it must also carry the session's anti-forgery token and come
// from cutover's own pages (see authenticate).
const SessionCookie = "cutover_session"

// CSRFHeader carries a page session's anti-forgery token on every change its
// pages make; a form (sign-out) carries it in the field csrf.
const CSRFHeader = "X-CSRF-Token"

// authenticate returns the request's principal, or the error to answer: a
// token in "Authorization: Bearer <token>", else the pages' session cookie.
// A change (write) on the cookie must come from cutover's own origin and
// carry the session's anti-forgery token, or it is refused (403): a page of
// another site cannot make one, even in a browser that would send the
// cookie along. The principal is returned with such a refusal, to name in
// the audit log.
func (s *Server) authenticate(r *http.Request, write bool) (auth.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return auth.Principal{}, migration.Errorf(migration.EUnauthenticated, "unauthenticated", "send the token as Authorization: Bearer <token>")
		}
		p, err := s.auth.Authenticate(r.Context(), strings.TrimSpace(token))
		if errors.Is(err, auth.ErrUnknown) {
			return p, migration.Errorf(migration.EUnauthenticated, "invalid_token", "the token is unknown or revoked")
		}
		return p, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return auth.Principal{}, migration.Errorf(migration.EUnauthenticated, "unauthenticated",
			"this needs a token (Authorization: Bearer <token>; an admin makes one with: cutover token create --role lead --name NAME) or a signed-in page session")
	}
	p, err := s.sessions.Authenticate(r.Context(), c.Value)
	if errors.Is(err, auth.ErrUnknown) {
		return p, migration.Errorf(migration.EUnauthenticated, "session_ended", "your session has ended (signed out, expired or revoked by an admin); sign in again")
	}
	if err != nil || !write {
		return p, err
	}
	if err := s.crossOrigin.Check(r); err != nil {
		return p, migration.Errorf(migration.EForbidden, "cross_origin", "a change must come from cutover's own pages; this one came from %s", cmp.Or(r.Header.Get("Origin"), "another site"))
	}
	sent := r.Header.Get(CSRFHeader)
	if sent == "" && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		sent = r.PostFormValue("csrf")
	}
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(p.CSRF)) != 1 {
		return p, migration.Errorf(migration.EForbidden, "csrf_token", "this change came without the page's anti-forgery token; reload the page and try again")
	}
	return p, nil
}

// guard puts a route behind its role: no credential or a bad one is a 401, a
// role too weak or a forged change a 403. Writes are recorded in the audit
// log with their outcome, refusals included (a refused stranger as
// "anonymous").
func (s *Server) guard(rt Route) http.Handler {
	if rt.Role == "" {
		return rt.handler
	}
	write := rt.Method != http.MethodGet && rt.Method != http.MethodHead
	fail := s.error
	if rt.Page {
		fail = s.pageError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r, write)
		if err != nil {
			if write {
				who := p.Actor()
				if who == "" {
					who = "anonymous"
					if o := r.Header.Get("Origin"); o != "" {
						who += " from " + o
					}
				}
				s.audit(r, who, statusOf[migration.ErrorKind(err)], err)
			}
			fail(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		if !p.Role.Allows(rt.Role) {
			forbidden := migration.Errorf(migration.EForbidden, "forbidden", "%s may not %s: it needs the %s role, and %s has the %s role",
				p.Name, rt.words(), rt.Role, p.Name, p.Role)
			if write {
				s.audit(r.WithContext(ctx), p.Actor(), http.StatusForbidden, forbidden)
			}
			fail(w, r.WithContext(ctx), forbidden)
			return
		}
		if !write {
			rt.handler(w, r.WithContext(ctx))
			return
		}
		info := &auditInfo{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(ctx, auditKey{}, info))
		rt.handler(rec, r)
		if !info.recorded && (rec.status >= 400 || !info.nothing) {
			s.audit(r, p.Actor(), rec.status, info.err)
		}
	})
}

// audit records a write of r that no use case recorded, and its outcome
// (the error that refused it, whose words say why). A failure to record is
// logged: the answer has gone already.
func (s *Server) audit(r *http.Request, who string, status int, refusal error) {
	s.auditAs(r, who, routeActions[r.Pattern], auditTarget(r), status, refusal)
}

// auditAs is audit with the action and target named.
func (s *Server) auditAs(r *http.Request, who string, action app.AuditAction, target string, status int, refusal error) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 400 && refusal == nil {
		refusal = fmt.Errorf("answered %d", status)
	}
	if status < 400 {
		refusal = nil
	}
	a := app.Actor{Name: who, Action: action, Target: target}
	a.WaveID, a.GroupID, a.Subject = auditScope(r)
	if info, ok := r.Context().Value(auditKey{}).(*auditInfo); ok && a.Subject == "" {
		a.Subject = info.subject
	}
	if err := s.app.Record(context.WithoutCancel(r.Context()), a, refusal); err != nil {
		s.log.Error("audit log: recording failed", "action", a.Action, "target", a.Target, "error", err)
	}
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	sim, err := s.app.Simulated(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meAnswer{Name: p.Name, Role: p.Role, Simulated: sim})
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r, 100)
	if err != nil {
		s.error(w, r, err)
		return
	}
	entries, err := s.app.AuditLog(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, auditAnswer{Entries: entries})
}

// auditCSV answers every entry the filters choose, newest first, as CSV.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r, 1000)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"at", "who", "what", "outcome", "group", "wave", "user", "action", "target"})
	for {
		entries, err := s.app.AuditLog(r.Context(), f)
		if err != nil {
			s.log.Error("audit log CSV cut short", "error", err)
			break
		}
		for _, e := range entries {
			_ = cw.Write(app.CSVCells(e.At.UTC().Format(time.RFC3339), e.Actor, e.Says, e.Outcome, e.GroupName, e.WaveName, e.Subject, e.Action, e.Target))
		}
		if len(entries) < f.Limit {
			break
		}
		f.Before = entries[len(entries)-1].ID
	}
	cw.Flush()
}

// auditFilter reads the audit log's filters from the query: before (the
// entry to page on from), limit, who, what (an action's words, as
// app.AuditActions name them), group, from and until (dates, in UTC).
func auditFilter(r *http.Request, limit int) (migration.AuditFilter, error) {
	v := r.URL.Query()
	f := migration.AuditFilter{Limit: limit, Actor: strings.TrimSpace(v.Get("who"))}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return f, migration.Invalid("invalid_limit", "limit", "%q is not a number from 1 to 1000", s)
		}
		f.Limit = n
	}
	var err error
	if f.Before, err = auditBefore(r); err != nil {
		return f, err
	}
	if what := v.Get("what"); what != "" {
		for _, a := range app.AuditActions {
			if a.Words == what {
				f.Actions = a.Actions
			}
		}
		if f.Actions == nil {
			return f, migration.Invalid("invalid_what", "what", "%q is not an action of the audit log", what)
		}
	}
	if g := v.Get("group"); g != "" {
		if f.GroupID, err = strconv.ParseInt(g, 10, 64); err != nil || f.GroupID < 1 {
			return f, migration.Invalid("invalid_group", "group", "%q is not a group's ID", g)
		}
	}
	day := func(name string) (*time.Time, error) {
		s := v.Get(name)
		if s == "" {
			return nil, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, migration.Invalid("invalid_"+name, name, "%q is not a date like 2026-12-07", s)
		}
		return &t, nil
	}
	if f.Since, err = day("from"); err != nil {
		return f, err
	}
	if f.Until, err = day("until"); err != nil {
		return f, err
	}
	if f.Until != nil {
		end := f.Until.AddDate(0, 0, 1) // until the end of that day
		f.Until = &end
	}
	return f, nil
}

type tokenRequest struct {
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
}

func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	t, secret, err := s.app.TokenCreate(r.Context(), actorOf(r), req.Name, req.Role)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("token created", "token_id", t.ID, "name", t.Name, "role", t.Role)
	writeJSON(w, http.StatusCreated, tokenCreatedAnswer{Token: t, Secret: secret,
		Note: "The secret is shown this once; cutover keeps only its hash."})
}

func (s *Server) tokenList(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.app.Tokens(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if tokens == nil {
		tokens = []auth.Token{}
	}
	writeJSON(w, http.StatusOK, tokensAnswer{Tokens: tokens})
}

func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.app.TokenRevoke(r.Context(), actorOf(r), fmt.Sprint(id))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("token revoked", "token_id", t.ID, "name", t.Name)
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) sessionList(w http.ResponseWriter, r *http.Request) {
	sessions, err := s.app.Sessions(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if sessions == nil {
		sessions = []auth.Session{}
	}
	writeJSON(w, http.StatusOK, sessionsAnswer{Sessions: sessions})
}

// sessionRevoke ends another's page session: their next request (within
// the few seconds a session is remembered) signs them out.
func (s *Server) sessionRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	sess, err := s.app.SessionRevoke(r.Context(), actorOf(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("session revoked", "session_id", sess.ID, "name", sess.Name)
	writeJSON(w, http.StatusOK, sess)
}

// authCacheTTL is how long a token found valid is taken as valid without
// asking the database again: a revoked token is refused within this.
const authCacheTTL = 5 * time.Second

// cachedAuth remembers, for authCacheTTL, the principals of tokens found
// valid, keyed by the token's hash (the token itself is not kept). Unknown
// tokens are always asked about.
type cachedAuth struct {
	next auth.Authenticator
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]cachedPrincipal
	// fill makes the requests of one token that miss the cache at once
	// (fifty clients starting together, or all of them when the entry
	// expires) share one look-up: each would otherwise queue on the
	// token row's once-a-minute update of its last use.
	fill singleflight.Group
}

type cachedPrincipal struct {
	p       auth.Principal
	expires time.Time
}

// forget drops a credential from the cache: its session was signed out here.
func (c *cachedAuth) forget(credential string) {
	c.mu.Lock()
	delete(c.seen, string(auth.Hash(credential)))
	c.mu.Unlock()
}

func (c *cachedAuth) Authenticate(ctx context.Context, credential string) (auth.Principal, error) {
	key := string(auth.Hash(credential))
	now := c.now()
	c.mu.Lock()
	hit, ok := c.seen[key]
	c.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.p, nil
	}
	v, err, _ := c.fill.Do(key, func() (any, error) {
		// Shared by every request waiting: not cut short by the first
		// one's going away.
		return c.next.Authenticate(context.WithoutCancel(ctx), credential)
	})
	if err != nil {
		return auth.Principal{}, err
	}
	p := v.(auth.Principal)
	c.mu.Lock()
	if len(c.seen) >= 10000 {
		clear(c.seen)
	}
	c.seen[key] = cachedPrincipal{p: p, expires: now.Add(authCacheTTL)}
	c.mu.Unlock()
	return p, nil
}

// auditBefore reads ?before=, the entry the audit log pages on from (0: the
// newest).
func auditBefore(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, migration.Invalid("invalid_before", "before", "%q is not an entry ID", v)
	}
	return n, nil
}

// words says in words what a request of the route does, for a refusal.
func (rt Route) words() string {
	switch {
	case rt.Page:
		return "open this page"
	case rt.Method == http.MethodGet:
		return "read this"
	}
	object := "it"
	switch {
	case strings.Contains(rt.Pattern, "/waves/{id}"):
		object = "this wave"
	case strings.Contains(rt.Pattern, "/groups/{id}"):
		object = "this group"
	case strings.Contains(rt.Pattern, "/users/{identity}"):
		object = "this user"
	}
	return app.TryWords(routeActions[rt.Method+" "+rt.Pattern], object)
}
