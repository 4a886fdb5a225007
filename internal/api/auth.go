package api

import (
	"context"
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

// CookieName is the cookie the web pages keep the token in after sign-in.
const CookieName = "cutover_token"

// credential returns the token a request carries: "Authorization: Bearer
// <token>", or for reading only (GET, HEAD) the pages' cookie. A change never
// rides on the cookie, which a browser would send on another site's behalf.
func credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return ""
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// authenticate returns the request's principal, or the error to answer.
func (s *Server) authenticate(r *http.Request) (auth.Principal, error) {
	cred := credential(r)
	if cred == "" {
		return auth.Principal{}, migration.Errorf(migration.EUnauthenticated, "unauthenticated",
			"this needs a token: send Authorization: Bearer <token> (an admin makes one with: cutover token create --role lead --name NAME)")
	}
	p, err := s.auth.Authenticate(r.Context(), cred)
	if errors.Is(err, auth.ErrUnknown) {
		return p, migration.Errorf(migration.EUnauthenticated, "invalid_token", "the token is unknown or revoked")
	}
	return p, err
}

// guard puts a route behind its role: no token or a bad one is a 401, a
// role too weak a 403. Writes are recorded in the audit log with their
// outcome, refusals included.
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
		p, err := s.authenticate(r)
		if err != nil {
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

// audit records a write and its outcome. A failure to record is logged: the
// answer has gone already.
func (s *Server) audit(ctx context.Context, who, action, target string, status int, code string) {
	// A success is "ok", as a use case and the command line write it; a
	// refusal names the HTTP status and the error code.
	outcome := "ok"
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
	limit, before := 100, int64(0)
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.error(w, r, migration.Invalid("invalid_limit", "limit", "%q is not a number from 1 to 1000", v))
			return
		}
		limit = n
	}
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.error(w, r, migration.Invalid("invalid_before", "before", "%q is not an entry ID", v))
			return
		}
		before = n
	}
	entries, err := s.app.AuditLog(r.Context(), limit, before)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, auditAnswer{Entries: entries})
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
