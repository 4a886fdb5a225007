package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
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
// This file holds the app registration, its accounts and the server; the
// endpoints and what they answer are in
//
//   - signin_discovery.go: the OpenID configuration and keys documents;
//   - signin_authorize.go: the authorization endpoint, which shows the
//     sign-in form and sends the browser back with a code or an error;
//   - signin_token.go: the token endpoint, which redeems a code for an ID
//     token;
//   - signin_logout.go: the end session endpoint;
//   - signin_errors.go: the refusals, in Microsoft's words (entra_texts.go);
//   - signin_pages.go: the pages, rendered from the templates in web/.
//
// Every path, parameter, claim and error string of these files is the one
// Microsoft publishes; the comment beside each names where. Where Microsoft publishes
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

// randomToken is an opaque, unguessable string for codes and access tokens.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
