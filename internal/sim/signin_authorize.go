package sim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The simulated sign-in's authorization endpoint: it checks the request,
// shows the sign-in form, signs the person in and sends the browser back to
// the app with a code or an error.

// signInRequest is an authorization request, its parameters as
// auth-code-flow names them.
type signInRequest struct {
	clientID, redirectURI, responseType, responseMode string
	scope, state, nonce, challenge, method            string
	loginHint, prompt                                 string
}

func (q signInRequest) scopes() []string { return strings.Fields(q.scope) }

// hidden are the request's parameters as the sign-in form carries them on,
// so that posting the form repeats the request.
func (q signInRequest) hidden() []hiddenField {
	var out []hiddenField
	for _, f := range []hiddenField{
		{"client_id", q.clientID}, {"redirect_uri", q.redirectURI}, {"response_type", q.responseType},
		{"response_mode", q.responseMode}, {"scope", q.scope}, {"state", q.state}, {"nonce", q.nonce},
		{"code_challenge", q.challenge}, {"code_challenge_method", q.method},
	} {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

type hiddenField struct{ Name, Value string }

// authorize serves the authorization endpoint: GET shows the sign-in page,
// and so does a POST of the request's parameters alone (OpenID Connect
// allows either); a POST with a username signs in.
func (s *SignIn) authorize(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.knownTenant(t) {
		s.errorPage(w, errTenant(t))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, signInError{status: http.StatusBadRequest, code: "invalid_request", text: "The request could not be read: " + err.Error()})
		return
	}
	f := r.Form
	q := signInRequest{
		clientID: f.Get("client_id"), redirectURI: f.Get("redirect_uri"),
		responseType: f.Get("response_type"), responseMode: f.Get("response_mode"),
		scope: f.Get("scope"), state: f.Get("state"), nonce: f.Get("nonce"),
		challenge: f.Get("code_challenge"), method: f.Get("code_challenge_method"),
		loginHint: f.Get("login_hint"), prompt: f.Get("prompt"),
	}

	// Until the client and its redirect URI are known to be registered,
	// an error cannot go back to the app: it is shown on a page.
	switch {
	case q.clientID == "":
		// error-codes: "AADSTS900144 | The request body must contain the
		// following parameter: '{name}'."
		s.errorPage(w, entra(http.StatusBadRequest, "invalid_request", 900144, "client_id"))
		return
	case q.clientID != s.cfg.ClientID:
		s.errorPage(w, s.errUnknownClient(q.clientID))
		return
	case q.redirectURI == "":
		// error-codes: "AADSTS900971 | No reply address provided."
		s.errorPage(w, entra(http.StatusBadRequest, "invalid_request", 900971))
		return
	case !s.allowedRedirectURI(q.redirectURI):
		// aadsts50011: "The redirect URI <Redirect URI> specified in the
		// request does not match the redirect URIs configured for the
		// application <AppGUID>. Make sure the redirect URI sent in the
		// request matches one added to your application in the Azure
		// portal. Navigate to https://aka.ms/redirectUriMismatchError to
		// learn more about how to fix this."
		s.errorPage(w, entra(http.StatusBadRequest, "invalid_request", 50011, q.redirectURI, s.cfg.ClientID))
		return
	}
	if e, bad := s.checkRequest(q); bad {
		// "Error responses may also be sent to the redirect_uri so the app
		// can handle them appropriately" (auth-code-flow).
		s.redirect(w, q.redirectURI, url.Values{"error": {e.code}, "error_description": {e.description()}}, q.state)
		return
	}

	if r.Method != http.MethodPost || !f.Has("username") {
		s.signInPage(w, http.StatusOK, q, q.loginHint, "")
		return
	}
	username := strings.TrimSpace(f.Get("username"))
	// Any password will do: the simulator keeps none, and says so on the
	// page.
	if username == "" {
		s.signInPage(w, http.StatusOK, q, "", "Enter the username of one of the accounts below.")
		return
	}
	i := slices.IndexFunc(s.cfg.Accounts, func(a Account) bool { return strings.EqualFold(a.UPN, username) })
	if i < 0 {
		// error-codes: "AADSTS50034 | UserAccountNotFound"; its message,
		// ropc: "The user account does not exist in the {domainName}
		// directory. To sign into this application, the account must be
		// added to the directory." The directory is named by its tenant ID,
		// as in AADSTS700016.
		e := entra(0, "", 50034, s.cfg.TenantID)
		s.signInPage(w, http.StatusOK, q, username, e.description())
		return
	}
	a := s.cfg.Accounts[i]
	code := randomToken()
	now := s.cfg.Now()
	s.mu.Lock()
	for k, c := range s.codes {
		if now.Sub(c.issued) > 2*signInCodeLifetime {
			delete(s.codes, k)
		}
	}
	s.codes[code] = &signInCode{
		clientID: q.clientID, redirectURI: q.redirectURI, nonce: q.nonce, challenge: q.challenge,
		scopes: q.scopes(), account: a, issued: now,
	}
	s.signedIn = append(s.signedIn, a.UPN)
	s.mu.Unlock()
	// "GET http://localhost?code=AwABAAAAvPM1KaPlrEqdFSBzjqfTGBCmLdgfSTLEMPGYuNHSUYBrq...&state=12345"
	// (auth-code-flow).
	s.redirect(w, q.redirectURI, url.Values{"code": {code}}, q.state)
}

// checkRequest checks an authorization request whose client and redirect URI
// are registered: a refusal goes back to the redirect URI.
func (s *SignIn) checkRequest(q signInRequest) (signInError, bool) {
	// A refusal Microsoft publishes no code for, in the simulator's words.
	invalid := func(text string) (signInError, bool) {
		return signInError{code: "invalid_request", text: text}, true
	}
	switch rt := strings.Fields(q.responseType); {
	case len(rt) == 0:
		return entra(0, "invalid_request", 900144, "response_type"), true
	case slices.Contains(rt, "id_token"):
		// error-codes: "AADSTS700054 | Response_type 'id_token' isn't
		// enabled for the application." A web app registration has no ID
		// token implicit grant by default (oidc).
		return entra(0, "unsupported_response_type", 700054), true
	case len(rt) != 1 || rt[0] != "code":
		// error-codes lists AADSTS70005 (UnsupportedResponseType) among
		// others, with no message of its own: the description is plain.
		return signInError{code: "unsupported_response_type",
			text: "The simulated tenant supports response_type 'code' only."}, true
	}
	if q.responseMode != "" && q.responseMode != "query" {
		// error-codes: "AADSTS70007 | UnsupportedResponseMode - The app
		// returned an unsupported value of response_mode when requesting a
		// token." Entra ID supports fragment and form_post as well; the
		// simulator returns the code in the query only.
		return entra(0, "invalid_request", 70007), true
	}
	switch {
	case q.scope == "":
		return entra(0, "invalid_request", 900144, "scope"), true
	case !slices.Contains(q.scopes(), "openid"):
		// Entra ID would issue a code without an ID token; the simulator is
		// for signing in, so it asks for the openid scope. Microsoft
		// publishes no code for this.
		return signInError{code: "invalid_scope",
			text: "The simulated tenant signs people in with OpenID Connect: the scope must include openid."}, true
	case q.challenge == "":
		// Entra ID requires PKCE of single-page apps only (auth-code-flow);
		// the simulator requires it of every client, and Microsoft
		// publishes no code for a web app that omits it.
		return invalid("The simulated tenant requires PKCE: code_challenge and code_challenge_method=S256.")
	case q.method != "S256":
		// Entra ID also accepts plain, and assumes it when the method is
		// left out (auth-code-flow); the simulator asks for S256.
		return invalid("The simulated tenant requires code_challenge_method=S256.")
	case len(q.challenge) != 43:
		// error-codes: "AADSTS501491 | InvalidCodeChallengeMethodInvalidSize
		// - Invalid size of Code_Challenge parameter." An S256 challenge is
		// 43 characters of base64url (RFC 7636).
		return entra(0, "invalid_request", 501491), true
	case q.prompt == "none":
		// prompt=none: "If the request can't be completed silently by using
		// single-sign on, the Microsoft identity platform returns an
		// interaction_required error" (auth-code-flow); login_required is
		// "Too many or no users found". The simulator keeps no session, so
		// no user is ever found. error-codes: "AADSTS50058 |
		// UserInformationNotProvided - Session information isn't sufficient
		// for single-sign-on."
		return entra(0, "login_required", 50058), true
	}
	return signInError{}, false
}

// redirect sends the browser back to the app with the parameters, and the
// state when there is one.
func (s *SignIn) redirect(w http.ResponseWriter, redirectURI string, v url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		s.errorPage(w, signInError{status: http.StatusBadRequest, code: "invalid_request", text: err.Error()})
		return
	}
	// "Redirect URIs not configured with a path segment are returned with
	// a trailing slash ('/') in the response." (reply-url)
	if u.Path == "" {
		u.Path = "/"
	}
	if state != "" {
		v.Set("state", state)
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}
