package api

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
)

// Signing in to the pages: with Entra ID (OpenID Connect, authorization
// code with PKCE), or with an API token for whoever has one. Either way the
// browser gets a session kept in Postgres, named in its cookie by a secret
// of which only the hash is kept.

// signinCookie keeps a sign-in under way (state, nonce, PKCE verifier, the
// page to go on to) in the browser until Entra ID sends it back. It is only
// sent to the callback, and lives ten minutes.
const signinCookie = "cutover_signin"

const callbackPath = "/ui/signin/callback"

func (s *Server) pageSignin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Next: r.URL.Query().Get("next")})
}

// safeNext is where to go after signing in: a page of cutover's, never
// another site (an open redirect) nor the sign-in itself.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/ui/signin") {
		return "/ui/"
	}
	return next
}

// startSession begins a session for who signed in, sets its cookie and goes
// on to the page asked for.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, n auth.NewSession, next string) {
	n.ExpiresAt = s.now().Add(s.sessionLifetime)
	sess, secret, err := s.app.SessionStart(r.Context(), app.Actor{Name: n.Name}, n)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.sessionLifetime.Seconds())})
	s.log.Info("signed in to the pages", "who", sess.Name, "role", sess.Role, "via", sess.Via, "session_id", sess.ID)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// secure says whether cookies must be sent over HTTPS only: when the
// request came over TLS, or the public address is https.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.publicURL, "https://")
}

// refuseSignin shows the sign-in page again with why, and records the
// refusal in the audit log under the name that tried.
func (s *Server) refuseSignin(w http.ResponseWriter, r *http.Request, status int, who, code, message, next string) {
	s.auditAs(r, cmp.Or(who, "anonymous"), app.AuditSignIn, "session", status, &migration.Error{Code: code, Message: message})
	s.render(w, r, status, "signin", page{Title: "Sign in", Message: message, Next: next})
}

// pageSigninPost signs in with an API token. A sign-in posted from another
// site is refused: it would sign the browser in as whoever's token that
// site sent, and what its user then did would be done under that name.
func (s *Server) pageSigninPost(w http.ResponseWriter, r *http.Request) {
	if err := s.crossOrigin.Check(r); err != nil {
		s.refuseSignin(w, r, http.StatusForbidden, "anonymous from "+cmp.Or(r.Header.Get("Origin"), "another site"), "cross_origin",
			"A sign-in must come from this page; that one came from another site.", "")
		return
	}
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
		s.refuseSignin(w, r, http.StatusUnauthorized, "", "invalid_token",
			"That token is unknown or has been revoked. Tokens start with "+auth.TokenPrefix+".", next)
		return
	}
	s.startSession(w, r, auth.NewSession{Name: p.Name, Role: p.Role, Via: "token", TokenID: p.TokenID}, next)
}

// pageSigninEntra sends the browser to Entra ID's sign-in, keeping what the
// answer must match in a short-lived cookie.
func (s *Server) pageSigninEntra(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if s.signin == nil {
		// Not configured here (cutover serve --oidc-issuer): the token form.
		http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	to, pending, err := s.signin.Begin(r.Context(), next)
	if err != nil {
		s.log.Error("sign-in: the provider cannot be reached", "issuer", s.signin.Issuer(), "error", err)
		s.render(w, r, http.StatusBadGateway, "signin", page{Title: "Sign in", Next: next,
			Message: "Entra ID's sign-in cannot be reached just now (" + s.signin.Issuer() + "); try again in a minute, or sign in with an API token."})
		return
	}
	raw, _ := json.Marshal(pending)
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: base64.RawURLEncoding.EncodeToString(raw), Path: callbackPath,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int((10 * time.Minute).Seconds())})
	http.Redirect(w, r, to, http.StatusFound)
}

// pageSigninCallback is where Entra ID sends the browser back: with a code
// to exchange for the ID token, or with an error.
func (s *Server) pageSigninCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var pending auth.Pending
	c, err := r.Cookie(signinCookie)
	if err == nil {
		raw, derr := base64.RawURLEncoding.DecodeString(c.Value)
		err = errors.Join(derr, json.Unmarshal(raw, &pending))
	}
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: "", Path: callbackPath, HttpOnly: true, MaxAge: -1})
	switch {
	case s.signin == nil:
		http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
		return
	case q.Get("error") != "":
		// The provider's own words (its error and description) say what
		// is wrong; they are shown as text.
		s.refuseSignin(w, r, http.StatusUnauthorized, "", "provider_refused",
			"Entra ID did not sign you in: "+q.Get("error")+": "+q.Get("error_description"), pending.Next)
		return
	case err != nil:
		s.refuseSignin(w, r, http.StatusBadRequest, "", "no_signin_under_way",
			"This browser has no sign-in under way (it took over ten minutes, or cookies are blocked); start again.", "")
		return
	}
	id, err := s.signin.Finish(r.Context(), pending, q.Get("state"), q.Get("code"))
	if errors.Is(err, auth.ErrSignIn) {
		s.refuseSignin(w, r, http.StatusUnauthorized, "", "signin_refused", err.Error(), pending.Next)
		return
	}
	if err != nil {
		s.log.Error("sign-in: the provider failed", "issuer", s.signin.Issuer(), "error", err)
		s.render(w, r, http.StatusBadGateway, "signin", page{Title: "Sign in", Next: pending.Next,
			Message: "Entra ID's sign-in did not answer as it should; try again in a minute."})
		return
	}
	if !id.Role.Valid() {
		msg := "You signed in as " + id.Name + ", but your account has no role in cutover. Ask an administrator to assign you one of the app's roles (" +
			s.signin.Roles() + ") in Entra ID, then sign in again."
		if id.GroupsOverage {
			msg += " Your account is in more groups than Entra ID puts in a sign-in token, so cutover cannot see them: a role given by a group will not reach it; an app role assigned to you (or to a group you are in) will."
		}
		s.refuseSignin(w, r, http.StatusForbidden, id.Name, "no_role", msg, "")
		return
	}
	s.startSession(w, r, auth.NewSession{Name: id.Name, DisplayName: id.DisplayName, Role: id.Role, Via: "entra", Subject: id.Subject}, pending.Next)
}

// pageSignout ends the browser's session here and everywhere. It must come
// from cutover's own page with the session's anti-forgery token; a forged
// one does nothing.
func (s *Server) pageSignout(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err == nil && c.Value != "" {
		p, aerr := s.authenticate(r, true)
		switch {
		case aerr == nil:
			s.sessions.forget(c.Value)
			if err := s.app.SessionEnd(r.Context(), app.Actor{Name: p.Actor()}, c.Value); err != nil && migration.ErrorKind(err) != migration.ENotFound {
				s.pageError(w, r, err)
				return
			}
		case migration.ErrorKind(aerr) == migration.EForbidden:
			s.auditAs(r, p.Actor(), "POST /ui/signout", r.URL.Path, http.StatusForbidden, aerr)
			s.pageError(w, r, aerr)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}
