package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The simulated Entra ID sign-in: an OpenID Connect provider at the paths of
// the Microsoft identity platform's v2.0 endpoints, for the authorization
// code flow with PKCE of a web app (a confidential client with a secret).
//
// Every path, parameter, claim and error string below is the one Microsoft
// publishes; the comment beside each names where. Where Microsoft publishes
// no AADSTS code for a case the simulator refuses, the answer carries the
// OAuth error with a plain description and no code, rather than a code
// nobody can look up. The sources, by the short names the comments use:
//
//   - auth-code-flow: MicrosoftDocs/entra-docs
//     docs/identity-platform/v2-oauth2-auth-code-flow.md
//   - oidc: MicrosoftDocs/entra-docs docs/identity-platform/v2-protocols-oidc.md
//   - id-token-claims: MicrosoftDocs/entra-docs
//     docs/identity-platform/id-token-claims-reference.md
//   - id-tokens: MicrosoftDocs/entra-docs docs/identity-platform/id-tokens.md
//   - access-tokens: MicrosoftDocs/entra-docs docs/identity-platform/access-tokens.md
//   - optional-claims: MicrosoftDocs/entra-docs
//     docs/identity-platform/optional-claims-reference.md and optional-claims.md
//   - reply-url: MicrosoftDocs/entra-docs docs/identity-platform/reply-url.md
//   - error-codes: MicrosoftDocs/entra-docs
//     docs/identity-platform/reference-error-codes.md
//   - ropc: MicrosoftDocs/entra-docs
//     docs/identity-platform/scenario-desktop-acquire-token-username-password.md
//   - device-code: MicrosoftDocs/entra-docs
//     docs/identity-platform/scenario-desktop-acquire-token-device-code-flow.md
//   - v1-code: MicrosoftDocs/azure-docs
//     articles/active-directory/develop/v1-protocols-oauth-code.md
//   - msal-mock: AzureAD/microsoft-authentication-library-for-go
//     apps/internal/mock/mock.go (the tenant discovery document MSAL tests
//     against)
//   - msal-tokens: AzureAD/microsoft-authentication-library-for-go
//     apps/internal/oauth/ops/accesstokens/tokens.go
//   - azidentity: Azure/azure-sdk-for-go sdk/azidentity/TROUBLESHOOTING.md
//   - aadsts50011: MicrosoftDocs/SupportArticles-docs
//     support/entra/entra-id/app-integration/error-code-AADSTS50011-redirect-uri-mismatch.md
//   - aadsts7000218: MicrosoftDocs/SupportArticles-docs
//     support/entra/entra-id/app-integration/confidential-client-application-authentication-error-aadsts7000218.md

// The simulated app registration and its app roles.
const (
	// SignInClientID is the Application (client) ID of the simulated app
	// registration unless SignInConfig says otherwise.
	SignInClientID = "3f0c6a1e-8b2d-4c57-9e14-6d2a7b9c0e51"
	// SignInClientSecret is its client secret unless SignInConfig says
	// otherwise. It has the shape of a secret's value as the Microsoft Entra
	// admin center shows it once, not of its secret ID (a GUID): a client
	// that sends the ID is refused with AADSTS7000215, as Entra ID refuses it.
	SignInClientSecret = "sim8Q~Cutover.Simulated.SignIn.Secret.0001"

	// The app roles' values, as the "roles" claim carries them: the Value
	// of an app role is "the value of the roles claim that the application
	// should expect in the token" and "can't contain spaces"
	// (MicrosoftDocs/entra-docs docs/identity-platform/howto-add-app-roles-in-apps.md).
	SignInRoleHelpdesk = "Cutover.Helpdesk"
	SignInRoleLead     = "Cutover.Lead"
	SignInRoleAdmin    = "Cutover.Admin"
)

// Account is a user of the simulated tenant who can sign in.
type Account struct {
	// UPN is the user principal name people type to sign in; the ID token
	// carries it as preferred_username.
	UPN string
	// Name is the display name, the "name" claim.
	Name string
	// OID is the user's object ID (a GUID), the "oid" claim.
	OID string
	// Roles are the values of the app roles assigned to the user, the
	// "roles" claim.
	Roles []string
	// Groups are the object IDs of the user's groups, the "groups" claim,
	// as an app registration with groupMembershipClaims set receives them.
	Groups []string
}

// DefaultAccounts are the accounts of the simulated tenant unless
// SignInConfig says otherwise: one per app role, and one with none.
var DefaultAccounts = []Account{
	{UPN: "lead@contoso.com", Name: "Morgan Lead", OID: "6b1f0c2d-3e4a-4b5c-8d6e-7f8091a2b3c4", Roles: []string{SignInRoleLead}},
	{UPN: "helpdesk@contoso.com", Name: "Harper Helpdesk", OID: "7c2a1d3e-4f5b-4c6d-9e7f-8091a2b3c4d5", Roles: []string{SignInRoleHelpdesk}},
	{UPN: "admin@contoso.com", Name: "Avery Admin", OID: "8d3b2e4f-5a6c-4d7e-8f90-91a2b3c4d5e6", Roles: []string{SignInRoleAdmin}},
	{UPN: "nobody@contoso.com", Name: "Noel Norole", OID: "9e4c3f5a-6b7d-4e8f-9a01-a2b3c4d5e6f7"},
}

// SignInConfig configures a simulated Entra ID sign-in.
type SignInConfig struct {
	// TenantID is the directory (tenant) ID; DefaultGraphTenantID by default,
	// so that the sign-in and the simulated Graph are one tenant.
	TenantID string
	// ClientID and ClientSecret are the app registration's; SignInClientID
	// and SignInClientSecret by default.
	ClientID, ClientSecret string
	// RedirectURIs are the app registration's redirect URIs, of platform
	// type Web; a request's redirect_uri must equal one of them exactly.
	// Empty, any http:// or https:// URI on 127.0.0.1 or localhost will do,
	// so that tests and the demo can listen on any free port.
	RedirectURIs []string
	// Accounts are the users who can sign in; DefaultAccounts by default.
	Accounts []Account
	// Now is the clock for the tokens' times and the codes' expiry;
	// time.Now by default.
	Now func() time.Time
}

// Lifetimes of what the simulated sign-in issues.
const (
	// signInCodeLifetime: "Authorization codes are short lived. Typically,
	// they expire after about 10 minutes." (auth-code-flow)
	signInCodeLifetime = 10 * time.Minute
	// signInIDTokenLifetime: "By default, an ID token is valid for one
	// hour" (id-tokens).
	signInIDTokenLifetime = time.Hour
	// signInAccessTokenSeconds is the expires_in of the example successful
	// token response (auth-code-flow).
	signInAccessTokenSeconds = 3599
	// signInGroupsLimit: "If a user is a member of more groups than the
	// overage limit (150 for SAML tokens, 200 for JWT tokens), the groups
	// claim isn't included in the token" (id-token-claims).
	signInGroupsLimit = 200
)

// SignIn is a simulated Entra ID OpenID Connect provider for one tenant and
// one app registration. It is served over plain HTTP, so that browsers in
// tests and the demo reach it without a certificate warning; Entra ID itself
// is only ever HTTPS. It is safe for concurrent use.
type SignIn struct {
	cfg    SignInConfig
	key    *rsa.PrivateKey
	jwk    jose.JSONWebKey // the public key as the keys document shows it
	signer jose.Signer
	mux    *http.ServeMux
	srv    *http.Server
	base   string // http://host:port, once started

	mu        sync.Mutex
	codes     map[string]*signInCode
	signedIn  []string
	signedOut int
}

// signInCode is an authorization code and what it is bound to.
type signInCode struct {
	clientID, redirectURI string
	nonce, challenge      string
	scopes                []string
	account               Account
	issued                time.Time
	redeemed              bool
}

// NewSignIn returns a simulated sign-in; StartSignIn serves one, and Handler
// serves it elsewhere.
func NewSignIn(cfg SignInConfig) (*SignIn, error) {
	if cfg.TenantID == "" {
		cfg.TenantID = DefaultGraphTenantID
	}
	if cfg.ClientID == "" {
		cfg.ClientID = SignInClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = SignInClientSecret
	}
	if cfg.Accounts == nil {
		cfg.Accounts = DefaultAccounts
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.RedirectURIs = slices.Clone(cfg.RedirectURIs)
	cfg.Accounts = slices.Clone(cfg.Accounts)
	for _, u := range cfg.RedirectURIs {
		if err := registrableRedirectURI(u); err != nil {
			return nil, fmt.Errorf("sim: redirect URI %q: %w", u, err)
		}
	}
	seen := map[string]bool{}
	for _, a := range cfg.Accounts {
		if a.UPN == "" || a.OID == "" {
			return nil, fmt.Errorf("sim: account %q needs both a UPN and an object ID", a.UPN)
		}
		if seen[strings.ToLower(a.UPN)] {
			return nil, fmt.Errorf("sim: account %q is listed twice", a.UPN)
		}
		seen[strings.ToLower(a.UPN)] = true
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	cert, err := signingCertificate(key)
	if err != nil {
		return nil, err
	}
	// The kid is the certificate's thumbprint, and x5t the same value: "kid
	// ... Specifies the thumbprint for the public key", "x5t ... Functions
	// the same (in use and value) as kid" (id-token-claims), as the keys
	// document of access-tokens shows them.
	thumb := sha1.Sum(cert.Raw)
	kid := base64.RawURLEncoding.EncodeToString(thumb[:])
	s := &SignIn{
		cfg: cfg,
		key: key,
		jwk: jose.JSONWebKey{
			Key: &key.PublicKey, KeyID: kid, Use: "sig",
			Certificates: []*x509.Certificate{cert}, CertificateThumbprintSHA1: thumb[:],
		},
		codes: map[string]*signInCode{},
	}
	// A v2.0 token's header carries typ, alg and kid; "v2.0 tokens contain
	// only the kid claim", not x5t (access-tokens).
	s.signer, err = jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}

	// The paths are those of the tenant-specific authority
	// https://login.microsoftonline.com/{tenant}/v2.0 (oidc) and of the
	// endpoints its configuration document names (msal-mock).
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.configuration)
	s.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.keys)
	s.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.authorize)
	s.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", s.authorize)
	s.mux.HandleFunc("/{tenant}/oauth2/v2.0/token", s.token)
	// "The end_session_endpoint supports both HTTP GET and POST requests."
	// (oidc)
	s.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/logout", s.logout)
	s.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/logout", s.logout)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeSignInJSON(w, http.StatusNotFound, map[string]any{
			"error": "not_found", "error_description": "The simulated sign-in has no " + r.URL.Path + ".",
		})
	})
	return s, nil
}

// StartSignIn returns a simulated sign-in serving on a free port of
// 127.0.0.1.
func StartSignIn(cfg SignInConfig) (*SignIn, error) {
	return StartSignInOn("127.0.0.1:0", cfg)
}

// StartSignInOn returns a simulated sign-in serving on addr (host:port), in
// the background: a fixed port lets a demo's browser bookmark survive a
// restart.
func StartSignInOn(addr string, cfg SignInConfig) (*SignIn, error) {
	s, err := NewSignIn(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	host := ln.Addr().String()
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	s.base = "http://" + host
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops serving at once.
func (s *SignIn) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// URL is where the simulated sign-in serves, http://127.0.0.1:port: the
// stand-in for https://login.microsoftonline.com. It is empty unless the
// sign-in was started by StartSignIn or StartSignInOn.
func (s *SignIn) URL() string { return s.base }

// Issuer is the v2.0 issuer of the tenant, URL()/{tenant}/v2.0, as Entra
// ID's is https://login.microsoftonline.com/{tenant}/v2.0 (oidc): the
// address to discover the provider at, and the "iss" of its ID tokens.
func (s *SignIn) Issuer() string { return s.issuer(s.base) }

// TenantID is the simulated tenant's ID, the "tid" claim.
func (s *SignIn) TenantID() string { return s.cfg.TenantID }

// ClientID is the app registration's Application (client) ID.
func (s *SignIn) ClientID() string { return s.cfg.ClientID }

// ClientSecret is the app registration's client secret.
func (s *SignIn) ClientSecret() string { return s.cfg.ClientSecret }

// Accounts are the accounts that can sign in.
func (s *SignIn) Accounts() []Account { return slices.Clone(s.cfg.Accounts) }

// Handler serves the simulated sign-in. Served elsewhere than by
// StartSignIn, it names itself after the Host of each request.
func (s *SignIn) Handler() http.Handler { return s.mux }

// SignedIn returns the UPNs of the accounts signed in at the sign-in page so
// far, one per completed sign-in, in order.
func (s *SignIn) SignedIn() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.signedIn)
}

// SignedOut counts the requests to the logout endpoint.
func (s *SignIn) SignedOut() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signedOut
}

// baseFor is the address the simulated sign-in answers as: where it was
// started, or else where the request reached it.
func (s *SignIn) baseFor(r *http.Request) string {
	if s.base != "" {
		return s.base
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *SignIn) issuer(base string) string { return base + "/" + s.cfg.TenantID + "/v2.0" }

// knownTenant reports whether the {tenant} of a path is this tenant. Only
// the tenant ID is known: the simulator has no domain names to look tenants
// up by, and "common" or "organizations" would make the issuer a template
// a client must fill in itself (access-tokens).
func (s *SignIn) knownTenant(t string) bool { return strings.EqualFold(t, s.cfg.TenantID) }

// errTenant is the answer for a {tenant} the simulator does not know.
func errTenant(t string) signInError {
	// device-code: "AADSTS90002: Tenant <tenantId or domain you used in the
	// authority> not found. This may happen if there are no active
	// subscriptions for the tenant. Check with your subscription
	// administrator." The OAuth error is invalid_request, "Protocol error"
	// (auth-code-flow).
	return entra(http.StatusBadRequest, "invalid_request", 90002, t)
}

// configuration serves the OpenID configuration document.
func (s *SignIn) configuration(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.knownTenant(t) {
		s.writeTokenError(w, errTenant(t))
		return
	}
	base := s.baseFor(r)
	authority := base + "/" + s.cfg.TenantID
	// The fields and values are those of the v2.0 tenant discovery document
	// (msal-mock), less the endpoints the simulator does not serve: the
	// device code and Kerberos endpoints, and the UserInfo endpoint, which
	// is Microsoft Graph's. Entra ID publishes no
	// code_challenge_methods_supported, though it supports PKCE
	// (auth-code-flow), so neither does the simulator: a client must ask
	// for S256 itself.
	writeSignInJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        authority + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              authority + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                s.issuer(base),
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                authority + "/oauth2/v2.0/authorize",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  authority + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"tenant_region_scope":   "NA",
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          "graph.microsoft.com",
	})
}

// keys serves the keys document.
func (s *SignIn) keys(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.knownTenant(t) {
		s.writeTokenError(w, errTenant(t))
		return
	}
	raw, err := json.Marshal(s.jwk)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var key map[string]any
	if err := json.Unmarshal(raw, &key); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Each key carries the issuer that uses it: kty, use, kid, x5t, n, e,
	// x5c and issuer (access-tokens).
	key["issuer"] = s.issuer(s.baseFor(r))
	writeSignInJSON(w, http.StatusOK, map[string]any{"keys": []any{key}})
}

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

// errUnknownClient is the answer for a client ID that is not the app
// registration's.
func (s *SignIn) errUnknownClient(id string) signInError { return errUnknownClient(id, s.cfg.TenantID) }

// The token endpoint's errors that the simulated Entra ID (the pages'
// sign-in) and the simulated Graph's authority (the app's client
// credentials) both answer, in Microsoft's words. "error-codes" is
// MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md;
// the text after "AADSTSnnnnn: " is its description of the code, up to
// its "Developer error" note.
var (
	// error-codes: "AADSTS70003 | UnsupportedGrantType - The app returned
	// an unsupported grant type."
	errUnsupportedGrant = entra(http.StatusBadRequest, "unsupported_grant_type", 70003)
	// error-codes: "AADSTS7000215 | Invalid client secret is provided.
	// Developer error - ..."; a failed client authentication is 401
	// (v1-code: "401 | Authentication failed. For example, the request is
	// missing the client_secret parameter.").
	errBadSecret = entra(http.StatusUnauthorized, "invalid_client", 7000215)
	// error-codes: "AADSTS700027 | Client assertion failed signature
	// validation. Developer error - ..."
	errBadAssertion = entra(http.StatusUnauthorized, "invalid_client", 700027)
)

// errMissing is the answer to a request without a parameter it needs.
func errMissing(name string) signInError {
	// error-codes: "AADSTS900144 | The request body must contain the
	// following parameter: '{name}'. Developer error - ..."
	return entra(http.StatusBadRequest, "invalid_request", 900144, name)
}

// errUnknownClient is the answer for a client ID the tenant has no app of.
func errUnknownClient(id, tenant string) signInError {
	// ropc: "AADSTS700016: Application with identifier '{clientId}' was not
	// found in the directory '{domain}'. This can happen if the application
	// has not been installed by the administrator of the tenant or
	// consented to by any user in the tenant. You may have sent your
	// authentication request to the wrong tenant", caught there as
	// unauthorized_client.
	return entra(http.StatusBadRequest, "unauthorized_client", 700016, id, tenant)
}

// allowedRedirectURI reports whether a request's redirect_uri is one the
// app registration accepts.
func (s *SignIn) allowedRedirectURI(u string) bool {
	if len(s.cfg.RedirectURIs) > 0 {
		// "It must exactly match one of the redirect URIs you registered"
		// (auth-code-flow); they "are case-sensitive" (reply-url). Entra ID
		// ignores the port of a localhost redirect URI (reply-url); the
		// simulator does not, so that a port mix-up shows.
		return slices.Contains(s.cfg.RedirectURIs, u)
	}
	p, err := url.Parse(u)
	return err == nil && registrableRedirectURI(u) == nil && loopbackHost(p.Hostname())
}

// registrableRedirectURI says why an app registration could not hold a
// redirect URI: "Redirect URIs must begin with the scheme https", save
// http for localhost (reply-url), and an absolute URI without a fragment
// (RFC 6749 section 3.1.2).
func registrableRedirectURI(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return err
	case !p.IsAbs() || p.Host == "":
		return errors.New("not an absolute URI")
	case p.Fragment != "" || strings.Contains(u, "#"):
		return errors.New("a redirect URI has no fragment")
	case p.User != nil:
		return errors.New("a redirect URI has no user information")
	case p.Scheme == "https":
		return nil
	case p.Scheme == "http" && loopbackHost(p.Hostname()):
		return nil
	case p.Scheme == "http":
		return errors.New("Entra ID accepts http only for localhost")
	}
	return fmt.Errorf("the scheme %q is not one for a web app", p.Scheme)
}

// loopbackHost reports whether a host is the loopback of the localhost
// exceptions: localhost or 127.0.0.1, for "The IPv6 loopback address
// ([::1]) is not currently supported." (reply-url).
func loopbackHost(h string) bool { return strings.EqualFold(h, "localhost") || h == "127.0.0.1" }

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

// token serves the token endpoint for the authorization code grant.
func (s *SignIn) token(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.knownTenant(t) {
		s.writeTokenError(w, errTenant(t))
		return
	}
	if r.Method != http.MethodPost {
		// error-codes: "AADSTS900561 | BadResourceRequestInvalidRequest -
		// The endpoint only accepts {valid_verbs} requests. Received a
		// {invalid_verb} request."
		s.writeTokenError(w, entra(http.StatusBadRequest, "invalid_request", 900561, "POST", r.Method))
		return
	}
	_ = r.ParseForm()
	f := r.PostForm
	missing := errMissing
	switch gt := f.Get("grant_type"); gt {
	case "":
		s.writeTokenError(w, missing("grant_type"))
		return
	case "authorization_code":
	default:
		// The simulator issues no refresh tokens, so it redeems codes only.
		s.writeTokenError(w, errUnsupportedGrant)
		return
	}

	// The client authenticates with client_secret in the body, or with
	// "The Basic auth pattern of instead providing credentials in the
	// Authorization header, per RFC 6749" (auth-code-flow), whose parts are
	// form-encoded (RFC 6749 section 2.3.1).
	clientID, secret, basic := r.BasicAuth()
	if basic {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = f.Get("client_id"), f.Get("client_secret")
	}
	switch {
	case clientID == "":
		s.writeTokenError(w, missing("client_id"))
		return
	case clientID != s.cfg.ClientID:
		s.writeTokenError(w, s.errUnknownClient(clientID))
		return
	case secret == "" && f.Get("client_assertion") != "":
		s.writeTokenError(w, signInError{status: http.StatusUnauthorized, code: "invalid_client",
			text: "The simulated app registration has a client secret and no certificate: send client_secret."})
		return
	case secret == "":
		// aadsts7000218: invalid_client, "AADSTS7000218: The request body
		// must contain the following parameter: 'client_assertion' or
		// 'client_secret'." A failed client authentication is 401 (v1-code:
		// "401 | Authentication failed. For example, the request is missing
		// the client_secret parameter.").
		s.writeTokenError(w, entra(http.StatusUnauthorized, "invalid_client", 7000218))
		return
	case secret != s.cfg.ClientSecret:
		s.writeTokenError(w, errBadSecret)
		return
	}
	code, redirectURI := f.Get("code"), f.Get("redirect_uri")
	switch {
	case code == "":
		s.writeTokenError(w, missing("code"))
		return
	case redirectURI == "":
		s.writeTokenError(w, missing("redirect_uri"))
		return
	}

	now := s.cfg.Now()
	s.mu.Lock()
	c, ok := s.codes[code]
	var e signInError
	var bad bool
	switch {
	case !ok:
		// error-codes: "AADSTS9002313 | InvalidRequest - Request is
		// malformed or invalid." The code is none the simulator issued.
		e, bad = entra(0, "invalid_grant", 9002313), true
	case now.Sub(c.issued) >= signInCodeLifetime:
		// v1-code: "AADSTS70008: The provided authorization code or
		// refresh token is expired. Send a new interactive authorization
		// request for this user and resource."
		e, bad = entra(0, "invalid_grant", 70008), true
	case c.redeemed:
		// error-codes: "AADSTS54005 | OAuth2 Authorization code was already
		// redeemed, please retry with a new valid code or use an existing
		// refresh token."
		e, bad = entra(0, "invalid_grant", 54005), true
	case c.clientID != clientID:
		// Microsoft publishes no code for a code redeemed by another client.
		e, bad = signInError{code: "invalid_grant", text: "The authorization code was issued to another client."}, true
	case c.redirectURI != redirectURI:
		// redirect_uri: "The same redirect_uri value that was used to
		// acquire the authorization_code." (auth-code-flow) Microsoft
		// publishes no message for a different one.
		e, bad = signInError{code: "invalid_grant",
			text: fmt.Sprintf("The redirect_uri '%s' is not the one the authorization code was requested with.", redirectURI)}, true
	case !pkceMatches(f.Get("code_verifier"), c.challenge):
		// error-codes: "AADSTS501481 | The Code_Verifier doesn't match the
		// code_challenge supplied in the authorization request." invalid_grant:
		// "The authorization code or PKCE code verifier is invalid or has
		// expired." (auth-code-flow) A missing verifier matches nothing.
		e, bad = entra(0, "invalid_grant", 501481), true
	default:
		// The code is spent only once redeemed: a request refused above
		// leaves it for a corrected retry, until it expires.
		c.redeemed = true
	}
	s.mu.Unlock()
	if bad {
		e.status = http.StatusBadRequest
		s.writeTokenError(w, e)
		return
	}

	idToken, err := s.idToken(s.baseFor(r), c, now)
	if err != nil {
		s.writeTokenError(w, signInError{status: http.StatusInternalServerError, code: "server_error", text: err.Error()})
		return
	}
	// The successful response of auth-code-flow; ext_expires_in as MSAL
	// reads it (msal-tokens). No refresh_token: the simulator redeems no
	// refresh tokens, so it hands none out.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeSignInJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(c.scopes, " "),
		"expires_in":     signInAccessTokenSeconds,
		"ext_expires_in": signInAccessTokenSeconds,
		"access_token":   randomToken(),
		"id_token":       idToken,
	})
}

// pkceMatches reports whether a code verifier is the one of an S256
// challenge (RFC 7636 section 4.6): 43 to 128 unreserved characters whose
// SHA-256, base64url-encoded without padding, is the challenge.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, r := range verifier {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// idToken signs the ID token for a redeemed code.
func (s *SignIn) idToken(base string, c *signInCode, now time.Time) (string, error) {
	a := c.account
	// The claims of a v2.0 ID token (id-token-claims), less the opaque ones
	// apps are told to ignore (aio, rh, uti) and the optional ones an app
	// registration must ask for (optional-claims: sid, login_hint, upn,
	// given_name, family_name...).
	claims := map[string]any{
		"aud": c.clientID, // "the audience is your app's Application ID"
		"iss": s.issuer(base),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(signInIDTokenLifetime).Unix(),
		// "The subject is a pairwise identifier and is unique to an
		// application ID"; it is "based on a combination of the token
		// recipient, tenant, and user" (id-token-claims).
		"sub": pairwiseSubject(s.cfg.TenantID, c.clientID, a.OID),
		"tid": s.cfg.TenantID,
		"ver": "2.0",
	}
	if c.nonce != "" {
		// "The nonce matches the parameter included in the original
		// authorize request" (id-token-claims).
		claims["nonce"] = c.nonce
	}
	// "The profile scope is required to receive this claim" of name,
	// preferred_username and oid alike (id-token-claims).
	if slices.Contains(c.scopes, "profile") {
		claims["name"] = a.Name
		claims["preferred_username"] = a.UPN
		claims["oid"] = a.OID
	}
	// "On the v2.0 endpoint, your app can also request the email OpenID
	// Connect scope" (id-token-claims). A simulated user's mail is their
	// UPN.
	if slices.Contains(c.scopes, "email") {
		claims["email"] = a.UPN
	}
	// "roles | Array of strings | The set of roles that were assigned to
	// the user who is logging in." (id-token-claims)
	if len(a.Roles) > 0 {
		claims["roles"] = slices.Clone(a.Roles)
	}
	switch {
	case len(a.Groups) > signInGroupsLimit:
		// The groups overage claim, in place of the groups, pointing at
		// the user's getMemberObjects (id-token-claims).
		claims["_claim_names"] = map[string]string{"groups": "src1"}
		claims["_claim_sources"] = map[string]any{"src1": map[string]string{
			"endpoint": "https://graph.microsoft.com/v1.0/users/" + a.OID + "/getMemberObjects",
		}}
	case len(a.Groups) > 0:
		// "By default group object IDs are emitted in the group claim
		// value" (optional-claims).
		claims["groups"] = slices.Clone(a.Groups)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// pairwiseSubject is a stable sub for a user and an app in a tenant, 43
// characters long like the sub of the v2.0 sample ID token (id-tokens).
func pairwiseSubject(tenant, client, oid string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(tenant) + "|" + strings.ToLower(client) + "|" + strings.ToLower(oid)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// logout serves the end session endpoint.
func (s *SignIn) logout(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.knownTenant(t) {
		s.errorPage(w, errTenant(t))
		return
	}
	_ = r.ParseForm()
	s.mu.Lock()
	s.signedOut++
	s.mu.Unlock()
	// post_logout_redirect_uri: "The URL that the user is redirected to
	// after successfully signing out. If the parameter isn't included, the
	// user is shown a generic message ... This URL must match one of the
	// redirect URIs registered for your application" (oidc). One that
	// matches none gets the generic message too.
	if u := r.Form.Get("post_logout_redirect_uri"); u != "" && s.allowedRedirectURI(u) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	s.page(w, http.StatusOK, signedOutPage, pageData{Title: "Signed out"})
}

// signInError is a refusal as the Microsoft identity platform answers it.
type signInError struct {
	status int    // of a token endpoint answer or an error page
	code   string // the OAuth error, e.g. invalid_grant
	aadsts int    // the AADSTS code; 0 where Microsoft publishes none
	text   string // the message after "AADSTSnnnnn: "
}

func (e signInError) description() string {
	if e.aadsts == 0 {
		return e.text
	}
	return fmt.Sprintf("AADSTS%d: %s", e.aadsts, e.text)
}

// writeTokenError answers an error as the token endpoint does: "error",
// "error_description" ending in the trace ID, correlation ID and timestamp,
// "error_codes", "timestamp", "trace_id" and "correlation_id"
// (auth-code-flow), and "error_uri" where there is a code to look up
// (error-codes, azidentity).
func (s *SignIn) writeTokenError(w http.ResponseWriter, e signInError) {
	writeTokenError(w, s.cfg.Now(), e)
}

// writeTokenError answers an error as the token endpoint does, at now.
func writeTokenError(w http.ResponseWriter, now time.Time, e signInError) {
	trace, corr := newGUID(), newGUID()
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	body := map[string]any{
		"error":             e.code,
		"error_description": fmt.Sprintf("%s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.description(), trace, corr, ts),
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
	}
	if e.aadsts != 0 {
		body["error_codes"] = []int{e.aadsts}
		body["error_uri"] = "https://login.microsoftonline.com/error?code=" + strconv.Itoa(e.aadsts)
	}
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Cache-Control", "no-store")
	writeSignInJSON(w, status, body)
}

func writeSignInJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken is an opaque, unguessable string for codes and access tokens.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signingCertificate is a self-signed certificate for the signing key, for
// the x5c and x5t of the keys document.
func signingCertificate(key *rsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "cutover simulated Entra ID token signing", Organization: []string{"cutover simulator"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// The pages. They are plain and server-rendered, with no script at all:
// labelled fields, an error announced by role="alert" and tied to the field
// it is about, text at least 4.5:1 against its background, and a layout
// that fits a phone.

// pageData is what a page shows.
type pageData struct {
	Title, Nonce string
	// The sign-in page's.
	Action, Username, Error string
	Hidden                  []hiddenField
	Accounts                []accountRow
	// The error page's.
	Message, Trace, Correlation, Timestamp string
}

type accountRow struct{ UPN, Name, Roles string }

// signInPage shows the sign-in form for a request, with an error when the
// last attempt failed.
func (s *SignIn) signInPage(w http.ResponseWriter, status int, q signInRequest, username, errText string) {
	d := pageData{
		Title: "Sign in to your account", Action: "authorize", Username: username, Error: errText, Hidden: q.hidden(),
	}
	for _, a := range s.cfg.Accounts {
		roles := "no app role"
		if len(a.Roles) > 0 {
			roles = strings.Join(a.Roles, ", ")
		}
		d.Accounts = append(d.Accounts, accountRow{UPN: a.UPN, Name: a.Name, Roles: roles})
	}
	s.page(w, status, signInFormPage, d)
}

// errorPage shows an error that cannot go back to the app.
func (s *SignIn) errorPage(w http.ResponseWriter, e signInError) {
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.page(w, status, signInErrorPage, pageData{
		Title: "Sign-in error", Message: e.description(),
		Trace: newGUID(), Correlation: newGUID(), Timestamp: s.cfg.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

func (s *SignIn) page(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	d.Nonce = randomToken()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// No script may run; the one style block is allowed by its nonce. There
	// is no form-action: browsers apply it to the redirect that follows the
	// form, which goes to the app.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = t.ExecuteTemplate(w, "page", d)
}

const pageLayout = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
*{box-sizing:border-box}
body{margin:0;background:#f3f3f3;color:#1b1b1b;font:1rem/1.5 "Segoe UI",system-ui,-apple-system,sans-serif}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;min-height:100vh}
@media (min-width:32rem){main{margin:2rem auto;min-height:0;padding:2rem 2.75rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}}
h1{font-size:1.5rem;font-weight:600;margin:0 0 .75rem}
h2{font-size:1.125rem;font-weight:600;margin:1.75rem 0 .5rem}
p{margin:0 0 1rem}
.note{color:#444;font-size:.9375rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{display:block;width:100%;min-height:2.75rem;padding:.5rem .625rem;font:inherit;color:#1b1b1b;background:#fff;border:1px solid #616161;border-radius:2px}
input[aria-invalid=true]{border:2px solid #a4262c}
button{display:block;width:100%;min-height:2.75rem;margin-top:1.5rem;padding:.5rem 1rem;font:inherit;font-weight:600;color:#fff;background:#0f6cbd;border:0;border-radius:2px;cursor:pointer}
button:hover{background:#0c5a9e}
input:focus,button:focus{outline:3px solid #1b1b1b;outline-offset:2px}
.error{color:#a4262c;font-weight:600;border-left:4px solid #a4262c;padding:.25rem 0 .25rem .75rem;margin:0 0 1rem}
ul{margin:0;padding:0;list-style:none}
li{padding:.5rem 0;border-top:1px solid #d1d1d1;overflow-wrap:anywhere}
code{font:inherit;font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;font-size:.875rem;color:#444;overflow-wrap:anywhere}
dt{font-weight:600}
dd{margin:0}
</style>
</head>
<body>
<main>
{{template "content" .}}
</main>
</body>
</html>
`

var (
	signInFormPage = template.Must(template.Must(template.New("page").Parse(pageLayout)).New("content").Parse(`<h1>Sign in</h1>
<p class="note">This is cutover's simulated Contoso tenant, not Microsoft Entra ID: any password is accepted.</p>
{{if .Error}}<p id="signin-error" class="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="username">Username</label>
<input id="username" name="username" type="text" inputmode="email" autocomplete="username" autocapitalize="none" spellcheck="false" required value="{{.Username}}"{{if .Error}} aria-invalid="true" aria-describedby="signin-error"{{end}}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="signin" type="submit">Sign in</button>
</form>
<h2 id="accounts">Accounts of the simulated tenant</h2>
<ul aria-labelledby="accounts">
{{range .Accounts}}<li><code>{{.UPN}}</code><br>{{.Name}}, {{.Roles}}</li>
{{end}}</ul>
`))
	signInErrorPage = template.Must(template.Must(template.New("page").Parse(pageLayout)).New("content").Parse(`<h1>We couldn't sign you in</h1>
<p class="note">This is cutover's simulated Contoso tenant, not Microsoft Entra ID.</p>
<p class="error">{{.Message}}</p>
<dl>
<dt>Trace ID</dt><dd>{{.Trace}}</dd>
<dt>Correlation ID</dt><dd>{{.Correlation}}</dd>
<dt>Timestamp</dt><dd>{{.Timestamp}}</dd>
</dl>
`))
	signedOutPage = template.Must(template.Must(template.New("page").Parse(pageLayout)).New("content").Parse(`<h1>You signed out</h1>
<p>You are signed out of cutover's simulated Contoso tenant. You can close this window.</p>
`))
)
