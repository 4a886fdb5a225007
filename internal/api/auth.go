package api

import (
	"cmp"
	"context"
	"crypto/subtle"
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
	"github.com/cutover/cutover/internal/store"
)

type principalKey struct{}

// auditKey holds the auditInfo of a write, for error to fill in.
type auditKey struct{}

// auditInfo is what a write's handler tells the audit log beyond its status.
type auditInfo struct {
	code string // the error code, if the write was refused
	// recorded: the write went to a use case, which records it in the
	// audit log in its own transaction when it succeeds.
	recorded bool
}

// actorOf is who a request acts for as a use case takes it, naming the
// route and its path for the audit log. The use case records its success;
// the guard records a refusal.
func actorOf(r *http.Request) app.Actor {
	if info, ok := r.Context().Value(auditKey{}).(*auditInfo); ok {
		info.recorded = true
	}
	return app.Actor{Name: actor(r), Action: r.Pattern, Target: r.URL.Path}
}

// changesNothing tells the guard that a write route's request changed
// nothing (a plan's preview): its success is not an entry of the audit log,
// which a lead reads as what was done. A refusal still is.
func changesNothing(r *http.Request) {
	actorOf(r)
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
	action := rt.Method + " " + rt.Pattern
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
				s.audit(r.Context(), who, action, r.URL.Path, statusOf[migration.ErrorKind(err)], codeOf(err))
			}
			fail(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		if !p.Role.Allows(rt.Role) {
			if write {
				s.audit(ctx, p.Actor(), action, r.URL.Path, http.StatusForbidden, "forbidden")
			}
			fail(w, r.WithContext(ctx), migration.Errorf(migration.EForbidden, "forbidden", "%s may not %s: it needs the %s role", p.Name, action, rt.Role))
			return
		}
		if !write {
			rt.handler(w, r.WithContext(ctx))
			return
		}
		info := &auditInfo{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rt.handler(rec, r.WithContext(context.WithValue(ctx, auditKey{}, info)))
		if !info.recorded || rec.status >= 400 {
			s.audit(ctx, p.Actor(), action, r.URL.Path, rec.status, info.code)
		}
	})
}

// codeOf is the stable code of an error a person may see ("" for another).
func codeOf(err error) string {
	if e, ok := errors.AsType[*migration.Error](err); ok {
		return e.Code
	}
	return ""
}

// audit records a write and its outcome. A failure to record is logged: the
// answer has gone already.
func (s *Server) audit(ctx context.Context, who, action, target string, status int, code string) {
	// A success is "ok", as a use case and the command line write it; a
	// refusal names the HTTP status and the error code.
	outcome := "ok"
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 400 {
		outcome = "refused"
		if status >= 500 {
			outcome = "failed"
		}
		outcome += " " + strconv.Itoa(status)
		if code != "" {
			outcome += " " + code
		}
	}
	if err := s.app.Refused(context.WithoutCancel(ctx), app.Actor{Name: who, Action: action, Target: target}, outcome); err != nil {
		s.log.Error("audit log: recording failed", "action", action, "target", target, "error", err)
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
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.error(w, r, migration.Invalid("invalid_limit", "limit", "%q is not a number from 1 to 1000", v))
			return
		}
		limit = n
	}
	before, err := auditBefore(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	entries, err := s.app.AuditLog(r.Context(), limit, before)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, auditAnswer{Entries: entries})
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
		tokens = []store.Token{}
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
		sessions = []store.Session{}
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
