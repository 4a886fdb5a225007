package sim_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/cutover/cutover/internal/sim"
)

// startSignIn starts a simulated sign-in for the test.
func startSignIn(t *testing.T, cfg sim.SignInConfig) *sim.SignIn {
	t.Helper()
	s, err := sim.StartSignIn(cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// browser is an HTTP client that, like a test watching a browser, stops at
// every redirect to look at it.
func browser() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// readAll reads and closes a response's body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)

// submitSignIn does what a person does at the sign-in page the request
// shows: it posts the page's form with a username and a password, and
// returns the answer, unfollowed.
func submitSignIn(t *testing.T, c *http.Client, authURL, username string) *http.Response {
	t.Helper()
	resp, err := c.Get(authURL)
	require.NoError(t, err)
	page := readAll(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	m := formAction.FindStringSubmatch(page)
	require.NotNil(t, m, page)
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	require.NoError(t, err)
	form := url.Values{"username": {username}, "password": {"any password at all"}}
	for _, h := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	resp, err = c.PostForm(action.String(), form)
	require.NoError(t, err)
	return resp
}

// codeFrom reads the code of a redirect back to the app, after checking the
// state came back with it.
func codeFrom(t *testing.T, resp *http.Response, redirectURI, state string) string {
	t.Helper()
	body := readAll(t, resp)
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc.String(), redirectURI+"?"), loc.String())
	require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
	require.Equal(t, state, loc.Query().Get("state"))
	require.NotEmpty(t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

// TestSignInFlow signs each default account in through the authorization
// code flow with PKCE, as go-oidc and x/oauth2 run it, and checks the ID
// token's claims.
func TestSignInFlow(t *testing.T) {
	t.Parallel()
	const registered = "http://127.0.0.1:8080/auth/callback"
	open := startSignIn(t, sim.SignInConfig{})
	strict := startSignIn(t, sim.SignInConfig{RedirectURIs: []string{registered}})
	for _, tc := range []struct {
		account  sim.Account
		s        *sim.SignIn
		redirect string
		style    oauth2.AuthStyle
		scopes   []string
	}{
		{sim.DefaultAccounts[0], strict, registered, oauth2.AuthStyleInHeader, []string{oidc.ScopeOpenID, "profile"}},
		{sim.DefaultAccounts[1], open, "http://localhost:49152/callback", oauth2.AuthStyleInParams, []string{oidc.ScopeOpenID, "profile", "email"}},
		{sim.DefaultAccounts[2], open, "http://127.0.0.1:1/x?keep=1", oauth2.AuthStyleAutoDetect, []string{oidc.ScopeOpenID, "profile"}},
		{sim.DefaultAccounts[3], strict, registered, oauth2.AuthStyleInParams, []string{oidc.ScopeOpenID, "profile", "email"}},
	} {
		t.Run(tc.account.UPN, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			provider, err := oidc.NewProvider(ctx, tc.s.Issuer())
			require.NoError(t, err)
			ep := provider.Endpoint()
			ep.AuthStyle = tc.style
			conf := oauth2.Config{
				ClientID: tc.s.ClientID(), ClientSecret: tc.s.ClientSecret(),
				Endpoint: ep, RedirectURL: tc.redirect, Scopes: tc.scopes,
			}
			verifier, state, nonce := oauth2.GenerateVerifier(), "state-"+tc.account.OID, "nonce-"+tc.account.OID
			authURL := conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

			resp := submitSignIn(t, browser(), authURL, strings.ToUpper(tc.account.UPN))
			loc := resp.Header.Get("Location")
			code := codeFrom(t, resp, strings.SplitN(tc.redirect, "?", 2)[0], state)
			if strings.Contains(tc.redirect, "?") {
				require.Contains(t, loc, "keep=1", "the redirect URI's own query stays")
			}

			tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			require.Equal(t, "Bearer", tok.TokenType)
			require.NotEmpty(t, tok.AccessToken)
			require.Equal(t, strings.Join(tc.scopes, " "), tok.Extra("scope"))
			require.NotZero(t, tok.Extra("ext_expires_in"))
			require.Empty(t, tok.RefreshToken)
			raw, ok := tok.Extra("id_token").(string)
			require.True(t, ok, "the token response has an id_token")

			idt, err := provider.Verifier(&oidc.Config{ClientID: tc.s.ClientID()}).Verify(ctx, raw)
			require.NoError(t, err)
			require.Equal(t, nonce, idt.Nonce)
			require.Equal(t, tc.s.Issuer(), idt.Issuer)
			require.Equal(t, []string{tc.s.ClientID()}, idt.Audience)
			require.WithinDuration(t, idt.IssuedAt.Add(time.Hour), idt.Expiry, time.Second)
			var claims struct {
				Name              string   `json:"name"`
				PreferredUsername string   `json:"preferred_username"`
				OID               string   `json:"oid"`
				TID               string   `json:"tid"`
				Ver               string   `json:"ver"`
				Sub               string   `json:"sub"`
				Email             string   `json:"email"`
				Roles             []string `json:"roles"`
			}
			require.NoError(t, idt.Claims(&claims))
			require.Equal(t, tc.account.Name, claims.Name)
			require.Equal(t, tc.account.UPN, claims.PreferredUsername)
			require.Equal(t, tc.account.OID, claims.OID)
			require.Equal(t, tc.s.TenantID(), claims.TID)
			require.Equal(t, sim.DefaultGraphTenantID, claims.TID)
			require.Equal(t, "2.0", claims.Ver)
			require.Len(t, claims.Sub, 43)
			require.NotEqual(t, claims.OID, claims.Sub, "sub is pairwise, not the object ID")
			require.Equal(t, tc.account.Roles, claims.Roles)
			if strings.Contains(strings.Join(tc.scopes, " "), "email") {
				require.Equal(t, tc.account.UPN, claims.Email)
			} else {
				require.Empty(t, claims.Email)
			}
			require.Contains(t, tc.s.SignedIn(), tc.account.UPN)
		})
	}
}

// TestSignInDiscovery checks the configuration and keys documents against
// the shape Entra ID publishes them in.
func TestSignInDiscovery(t *testing.T) {
	t.Parallel()
	s := startSignIn(t, sim.SignInConfig{})
	require.Equal(t, s.URL()+"/"+sim.DefaultGraphTenantID+"/v2.0", s.Issuer())
	require.Equal(t, sim.SignInClientID, s.ClientID())
	require.Equal(t, sim.SignInClientSecret, s.ClientSecret())
	authority := s.URL() + "/" + s.TenantID()

	var conf map[string]any
	getJSON(t, s.Issuer()+"/.well-known/openid-configuration", http.StatusOK, &conf)
	for k, v := range map[string]any{
		"issuer":                 s.Issuer(),
		"authorization_endpoint": authority + "/oauth2/v2.0/authorize",
		"token_endpoint":         authority + "/oauth2/v2.0/token",
		"jwks_uri":               authority + "/discovery/v2.0/keys",
		"end_session_endpoint":   authority + "/oauth2/v2.0/logout",
	} {
		require.Equal(t, v, conf[k], k)
	}
	require.Equal(t, []any{"RS256"}, conf["id_token_signing_alg_values_supported"])
	require.Contains(t, conf["response_types_supported"], "code")
	require.Contains(t, conf["scopes_supported"], "openid")
	require.Contains(t, conf["claims_supported"], "preferred_username")
	require.Contains(t, conf["token_endpoint_auth_methods_supported"], "client_secret_basic")
	require.NotContains(t, conf, "code_challenge_methods_supported", "Entra ID does not publish it")

	var keys struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, conf["jwks_uri"].(string), http.StatusOK, &keys)
	require.Len(t, keys.Keys, 1)
	k := keys.Keys[0]
	require.Equal(t, "RSA", k["kty"])
	require.Equal(t, "sig", k["use"])
	require.Equal(t, k["kid"], k["x5t"])
	require.Equal(t, s.Issuer(), k["issuer"])
	require.NotEmpty(t, k["x5c"])
	n, err := base64.RawURLEncoding.DecodeString(k["n"].(string))
	require.NoError(t, err)
	require.Len(t, n, 256, "a 2048-bit key")

	// The ID token's header names that key, and only by kid.
	raw := signInAs(t, s, "lead@contoso.com", "openid profile")
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(hdr, &h))
	require.Equal(t, map[string]any{"typ": "JWT", "alg": "RS256", "kid": k["kid"]}, h)
}

// getJSON gets a URL and decodes its answer, which must have the status.
func getJSON(t *testing.T, u string, status int, into any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, status, resp.StatusCode, body)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	require.NoError(t, json.Unmarshal([]byte(body), into))
}

// signInAs runs the flow by hand for an account and returns the raw ID
// token.
func signInAs(t *testing.T, s *sim.SignIn, upn, scope string) string {
	t.Helper()
	f := newHandFlow(s)
	f.params.Set("scope", scope)
	code := codeFrom(t, submitSignIn(t, browser(), f.authURL(), upn), f.redirect, f.state)
	var tok map[string]any
	status := f.redeem(t, code, nil, &tok)
	require.Equal(t, http.StatusOK, status, tok)
	return tok["id_token"].(string)
}

// handFlow is an authorization request made by hand, for the refusals a
// library would never provoke.
type handFlow struct {
	s                         *sim.SignIn
	tenant                    string
	redirect, state, verifier string
	params                    url.Values
}

func newHandFlow(s *sim.SignIn) *handFlow {
	f := &handFlow{
		s: s, tenant: s.TenantID(), redirect: "http://127.0.0.1:9/callback", state: "st",
		verifier: oauth2.GenerateVerifier(),
	}
	sum := sha256.Sum256([]byte(f.verifier))
	f.params = url.Values{
		"client_id": {s.ClientID()}, "response_type": {"code"}, "redirect_uri": {f.redirect},
		"scope": {"openid profile"}, "state": {f.state}, "nonce": {"n-0S6_WzA2Mj"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	return f
}

func (f *handFlow) authURL() string {
	return f.s.URL() + "/" + f.tenant + "/oauth2/v2.0/authorize?" + f.params.Encode()
}

// redeem posts the code to the token endpoint, with the secret in the body
// unless edit changes the request, and decodes the answer.
func (f *handFlow) redeem(t *testing.T, code string, edit func(url.Values, *http.Request), into any) int {
	t.Helper()
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect},
		"code_verifier": {f.verifier}, "client_id": {f.s.ClientID()}, "client_secret": {f.s.ClientSecret()},
	}
	req, err := http.NewRequest(http.MethodPost, f.s.URL()+"/"+f.tenant+"/oauth2/v2.0/token", nil)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(form, req)
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body := readAll(t, resp)
	require.NoError(t, json.Unmarshal([]byte(body), into), body)
	return resp.StatusCode
}

// TestSignInRefusals provokes each refusal of the flow and checks it is
// answered where and as Entra ID answers it.
func TestSignInRefusals(t *testing.T) {
	t.Parallel()
	const registered = "http://127.0.0.1:9/callback"
	type where int
	const (
		errorPage   where = iota // an error page; nothing goes back to the app
		redirect                 // an error sent back to the redirect URI
		signInAgain              // the sign-in page again, with an alert
		token                    // a JSON error from the token endpoint
	)
	for _, tc := range []struct {
		name        string
		cfg         sim.SignInConfig
		tenant      string                          // of the paths; the tenant's own by default
		authorize   func(url.Values)                // changes the authorization request
		username    string                          // lead@contoso.com by default
		redeemTwice bool                            // redeem the code once before the checked redemption
		wait        time.Duration                   // between sign-in and redemption
		edit        func(url.Values, *http.Request) // changes the token request
		where       where
		status      int
		error       string // the OAuth error
		aadsts      int    // 0 where Microsoft publishes no code for the case
		says        string // part of the description
	}{
		{name: "unknown tenant", tenant: "contoso.onmicrosoft.com", where: errorPage, status: 400, aadsts: 90002, says: "Tenant contoso.onmicrosoft.com not found"},
		{name: "no client_id", authorize: func(v url.Values) { v.Del("client_id") }, where: errorPage, status: 400, aadsts: 900144, says: "'client_id'"},
		{name: "unknown client_id", authorize: func(v url.Values) { v.Set("client_id", "00000000-0000-0000-0000-000000000001") }, where: errorPage, status: 400, aadsts: 700016, says: "Application with identifier '00000000-0000-0000-0000-000000000001' was not found in the directory"},
		{name: "no redirect_uri", authorize: func(v url.Values) { v.Del("redirect_uri") }, where: errorPage, status: 400, aadsts: 900971, says: "No reply address provided."},
		{name: "unregistered redirect_uri", cfg: sim.SignInConfig{RedirectURIs: []string{registered}}, authorize: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:9/other") }, where: errorPage, status: 400, aadsts: 50011, says: "The redirect URI http://127.0.0.1:9/other specified in the request does not match"},
		{name: "redirect_uri off loopback", authorize: func(v url.Values) { v.Set("redirect_uri", "https://evil.example/callback") }, where: errorPage, status: 400, aadsts: 50011},
		{name: "redirect_uri on IPv6 loopback", authorize: func(v url.Values) { v.Set("redirect_uri", "http://[::1]:9/callback") }, where: errorPage, status: 400, aadsts: 50011},
		{name: "no code_challenge", authorize: func(v url.Values) { v.Del("code_challenge") }, where: redirect, error: "invalid_request", says: "PKCE"},
		{name: "plain code_challenge_method", authorize: func(v url.Values) { v.Set("code_challenge_method", "plain") }, where: redirect, error: "invalid_request", says: "S256"},
		{name: "code_challenge of the wrong size", authorize: func(v url.Values) { v.Set("code_challenge", "short") }, where: redirect, error: "invalid_request", aadsts: 501491, says: "Invalid size of Code_Challenge parameter."},
		{name: "no openid scope", authorize: func(v url.Values) { v.Set("scope", "profile") }, where: redirect, error: "invalid_scope", says: "openid"},
		{name: "no scope", authorize: func(v url.Values) { v.Del("scope") }, where: redirect, error: "invalid_request", aadsts: 900144, says: "'scope'"},
		{name: "implicit id_token", authorize: func(v url.Values) { v.Set("response_type", "code id_token") }, where: redirect, error: "unsupported_response_type", aadsts: 700054},
		{name: "implicit token", authorize: func(v url.Values) { v.Set("response_type", "token") }, where: redirect, error: "unsupported_response_type"},
		{name: "form_post", authorize: func(v url.Values) { v.Set("response_mode", "form_post") }, where: redirect, error: "invalid_request", aadsts: 70007},
		{name: "prompt=none", authorize: func(v url.Values) { v.Set("prompt", "none") }, where: redirect, error: "login_required", aadsts: 50058},
		{name: "unknown account", username: "someone@contoso.com", where: signInAgain, aadsts: 50034, says: "The user account does not exist in the " + sim.DefaultGraphTenantID + " directory."},
		{name: "no username", username: " ", where: signInAgain, says: "Enter the username"},
		{name: "no code_verifier", edit: func(v url.Values, _ *http.Request) { v.Del("code_verifier") }, where: token, status: 400, error: "invalid_grant", aadsts: 501481, says: "The Code_Verifier doesn't match the code_challenge"},
		{name: "wrong code_verifier", edit: func(v url.Values, _ *http.Request) { v.Set("code_verifier", oauth2.GenerateVerifier()) }, where: token, status: 400, error: "invalid_grant", aadsts: 501481},
		{name: "reused code", redeemTwice: true, where: token, status: 400, error: "invalid_grant", aadsts: 54005, says: "already redeemed"},
		{name: "expired code", wait: 10 * time.Minute, where: token, status: 400, error: "invalid_grant", aadsts: 70008, says: "expired"},
		{name: "unknown code", edit: func(v url.Values, _ *http.Request) { v.Set("code", "not-a-code") }, where: token, status: 400, error: "invalid_grant", aadsts: 9002313},
		{name: "other redirect_uri", edit: func(v url.Values, _ *http.Request) { v.Set("redirect_uri", "http://127.0.0.1:9/other") }, where: token, status: 400, error: "invalid_grant", says: "redirect_uri"},
		{name: "wrong client secret", edit: func(v url.Values, _ *http.Request) { v.Set("client_secret", "wrong") }, where: token, status: 401, error: "invalid_client", aadsts: 7000215, says: "Invalid client secret is provided."},
		{name: "wrong client secret, basic", edit: func(v url.Values, r *http.Request) {
			v.Del("client_id")
			v.Del("client_secret")
			r.SetBasicAuth(url.QueryEscape(sim.SignInClientID), url.QueryEscape("wrong"))
		}, where: token, status: 401, error: "invalid_client", aadsts: 7000215},
		{name: "client secret ID for its value", edit: func(v url.Values, _ *http.Request) { v.Set("client_secret", "5f0e0c4d-2b1a-4c3d-8e9f-0a1b2c3d4e5f") }, where: token, status: 401, error: "invalid_client", aadsts: 7000215, says: "Invalid client secret is provided."},
		{name: "no client secret", edit: func(v url.Values, _ *http.Request) { v.Del("client_secret") }, where: token, status: 401, error: "invalid_client", aadsts: 7000218},
		{name: "unknown client at the token endpoint", edit: func(v url.Values, _ *http.Request) { v.Set("client_id", "00000000-0000-0000-0000-000000000001") }, where: token, status: 400, error: "unauthorized_client", aadsts: 700016},
		{name: "refresh grant", edit: func(v url.Values, _ *http.Request) { v.Set("grant_type", "refresh_token") }, where: token, status: 400, error: "unsupported_grant_type", aadsts: 70003},
		{name: "no grant_type", edit: func(v url.Values, _ *http.Request) { v.Del("grant_type") }, where: token, status: 400, error: "invalid_request", aadsts: 900144, says: "'grant_type'"},
		{name: "token endpoint by GET", edit: func(_ url.Values, r *http.Request) { r.Method = http.MethodGet }, where: token, status: 400, error: "invalid_request", aadsts: 900561},
		{name: "token endpoint of an unknown tenant", edit: func(_ url.Values, r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, sim.DefaultGraphTenantID, "contoso.com", 1)
		}, where: token, status: 400, error: "invalid_request", aadsts: 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			var offset atomic.Int64
			tc.cfg.Now = func() time.Time { return start.Add(time.Duration(offset.Load())) }
			s := startSignIn(t, tc.cfg)
			f := newHandFlow(s)
			if tc.tenant != "" {
				f.tenant = tc.tenant
			}
			if tc.authorize != nil {
				tc.authorize(f.params)
			}
			c := browser()
			description := func(d string) {
				t.Helper()
				if tc.aadsts != 0 {
					require.True(t, strings.HasPrefix(d, fmt.Sprintf("AADSTS%d: ", tc.aadsts)), d)
					_, ok := sim.PublishedEntraText(d)
					require.True(t, ok, "%q is not the text published for its code", d)
				} else {
					require.NotContains(t, d, "AADSTS", "no code where Microsoft publishes none")
				}
				require.Contains(t, d, tc.says)
			}

			switch tc.where {
			case errorPage, redirect:
				resp, err := c.Get(f.authURL())
				require.NoError(t, err)
				body := readAll(t, resp)
				if tc.where == errorPage {
					require.Equal(t, tc.status, resp.StatusCode, body)
					require.Empty(t, resp.Header.Get("Location"))
					require.Contains(t, body, `<h1>`)
					m := regexp.MustCompile(`<p class="error">([^<]*)</p>`).FindStringSubmatch(body)
					require.NotNil(t, m, body)
					description(html.UnescapeString(m[1]))
					return
				}
				require.Equal(t, http.StatusFound, resp.StatusCode, body)
				loc, err := url.Parse(resp.Header.Get("Location"))
				require.NoError(t, err)
				require.Equal(t, f.redirect, loc.Scheme+"://"+loc.Host+loc.Path)
				require.Equal(t, tc.error, loc.Query().Get("error"))
				require.Equal(t, f.state, loc.Query().Get("state"))
				require.Empty(t, loc.Query().Get("code"))
				description(loc.Query().Get("error_description"))
				return
			}

			username := tc.username
			if username == "" {
				username = "lead@contoso.com"
			}
			resp := submitSignIn(t, c, f.authURL(), username)
			if tc.where == signInAgain {
				body := readAll(t, resp)
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				require.Empty(t, resp.Header.Get("Location"))
				m := regexp.MustCompile(`<p id="signin-error" class="error" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
				require.NotNil(t, m, body)
				description(html.UnescapeString(m[1]))
				require.Contains(t, body, `aria-describedby="signin-error"`)
				require.Empty(t, s.SignedIn())
				return
			}
			code := codeFrom(t, resp, f.redirect, f.state)
			if tc.redeemTwice {
				var ok map[string]any
				require.Equal(t, http.StatusOK, f.redeem(t, code, nil, &ok), ok)
			}
			offset.Store(int64(tc.wait))
			var e struct {
				Error         string `json:"error"`
				Description   string `json:"error_description"`
				Codes         []int  `json:"error_codes"`
				Timestamp     string `json:"timestamp"`
				TraceID       string `json:"trace_id"`
				CorrelationID string `json:"correlation_id"`
				URI           string `json:"error_uri"`
			}
			require.Equal(t, tc.status, f.redeem(t, code, tc.edit, &e))
			require.Equal(t, tc.error, e.Error)
			description(e.Description)
			if tc.aadsts != 0 {
				require.Equal(t, []int{tc.aadsts}, e.Codes)
				require.Equal(t, fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", tc.aadsts), e.URI)
			} else {
				require.Empty(t, e.Codes)
			}
			ts := start.Add(tc.wait).Format("2006-01-02 15:04:05Z")
			require.Equal(t, ts, e.Timestamp)
			require.Len(t, e.TraceID, 36)
			require.Len(t, e.CorrelationID, 36)
			require.True(t, strings.HasSuffix(e.Description,
				"\r\nTrace ID: "+e.TraceID+"\r\nCorrelation ID: "+e.CorrelationID+"\r\nTimestamp: "+ts), e.Description)
		})
	}
}

// TestSignInCodeSurvivesRefusal checks that a redemption refused for a bad
// verifier leaves the code for the corrected one, and that the corrected
// one spends it.
func TestSignInCodeSurvivesRefusal(t *testing.T) {
	t.Parallel()
	s := startSignIn(t, sim.SignInConfig{})
	f := newHandFlow(s)
	code := codeFrom(t, submitSignIn(t, browser(), f.authURL(), "admin@contoso.com"), f.redirect, f.state)
	var out map[string]any
	require.Equal(t, http.StatusBadRequest, f.redeem(t, code, func(v url.Values, _ *http.Request) { v.Set("code_verifier", oauth2.GenerateVerifier()) }, &out))
	require.Equal(t, http.StatusOK, f.redeem(t, code, nil, &out), out)
	require.Equal(t, http.StatusBadRequest, f.redeem(t, code, nil, &out))
	require.Equal(t, "invalid_grant", out["error"])
}

// TestSignInClaims checks which claims the ID token carries, by scope and
// by what the account holds.
func TestSignInClaims(t *testing.T) {
	t.Parallel()
	many := make([]string, 201)
	for i := range many {
		many[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	s := startSignIn(t, sim.SignInConfig{Accounts: []sim.Account{
		{UPN: "grouped@contoso.com", Name: "Gale Grouped", OID: "1a2b3c4d-0000-4000-8000-000000000001", Groups: many[:2]},
		{UPN: "crowded@contoso.com", Name: "Cass Crowded", OID: "1a2b3c4d-0000-4000-8000-000000000002", Groups: many},
		{UPN: "lead@contoso.com", Name: "Morgan Lead", OID: sim.DefaultAccounts[0].OID, Roles: []string{sim.SignInRoleLead}},
	}})
	for _, tc := range []struct {
		upn, scope string
		want       []string // claims present
		not        []string // claims absent
		check      func(t *testing.T, c map[string]any)
	}{
		{upn: "lead@contoso.com", scope: "openid", want: []string{"aud", "iss", "iat", "nbf", "exp", "sub", "tid", "ver", "nonce", "roles"},
			not: []string{"name", "preferred_username", "oid", "email", "groups"}},
		{upn: "lead@contoso.com", scope: "openid profile email", want: []string{"name", "preferred_username", "oid", "email", "roles"},
			not: []string{"groups", "aio", "rh", "uti", "sid", "upn", "_claim_names"}},
		{upn: "grouped@contoso.com", scope: "openid profile", want: []string{"groups"}, not: []string{"roles", "_claim_names"},
			check: func(t *testing.T, c map[string]any) { require.Equal(t, []any{many[0], many[1]}, c["groups"]) }},
		{upn: "crowded@contoso.com", scope: "openid profile", want: []string{"_claim_names", "_claim_sources"}, not: []string{"groups"},
			check: func(t *testing.T, c map[string]any) {
				require.Equal(t, map[string]any{"groups": "src1"}, c["_claim_names"])
				require.Equal(t, map[string]any{"src1": map[string]any{
					"endpoint": "https://graph.microsoft.com/v1.0/users/1a2b3c4d-0000-4000-8000-000000000002/getMemberObjects",
				}}, c["_claim_sources"])
			}},
	} {
		t.Run(tc.upn+" "+tc.scope, func(t *testing.T) {
			t.Parallel()
			raw := signInAs(t, s, tc.upn, tc.scope)
			payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
			require.NoError(t, err)
			var c map[string]any
			require.NoError(t, json.Unmarshal(payload, &c))
			for _, k := range tc.want {
				require.Contains(t, c, k)
			}
			for _, k := range tc.not {
				require.NotContains(t, c, k)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestSignInPage checks the sign-in page has what people and their
// assistive technology need, and nothing that runs.
func TestSignInPage(t *testing.T) {
	t.Parallel()
	s := startSignIn(t, sim.SignInConfig{})
	f := newHandFlow(s)
	f.params.Set("login_hint", "helpdesk@contoso.com")
	f.params.Set("state", `"><script>alert(1)</script>`)
	resp, err := browser().Get(f.authURL())
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.NotContains(t, resp.Header.Get("Content-Security-Policy"), "script-src")
	for _, want := range []string{
		`<html lang="en">`, `<meta name="viewport" content="width=device-width, initial-scale=1">`, "<title>", "<main>", "<h1>",
		`<label for="username">`, `id="username"`, `autocomplete="username"`, `value="helpdesk@contoso.com"`,
		`<label for="password">`, `id="password"`, `type="password"`, `autocomplete="current-password"`,
		`<button id="signin" type="submit">Sign in</button>`, "simulated", "any password is accepted",
	} {
		require.Contains(t, body, want)
	}
	for _, a := range sim.DefaultAccounts {
		require.Contains(t, body, a.UPN)
		require.Contains(t, body, a.Name)
		for _, r := range a.Roles {
			require.Contains(t, body, r)
		}
	}
	require.Contains(t, body, "no app role")
	require.NotContains(t, strings.ToLower(body), "<script")
	require.NotContains(t, body, "role=\"alert\"", "no alert before an attempt")
	require.NotContains(t, body, " style=", "no inline style attributes")
}

// TestSignInLogout checks the end session endpoint sends people back only
// to a registered address.
func TestSignInLogout(t *testing.T) {
	t.Parallel()
	const registered = "http://127.0.0.1:9/signed-out"
	s := startSignIn(t, sim.SignInConfig{RedirectURIs: []string{registered, "http://127.0.0.1:9/callback"}})
	t.Run("requests", func(t *testing.T) {
		for _, tc := range []struct {
			name, tenant, query string
			status              int
			location            string
		}{
			{name: "back to the app", query: "?post_logout_redirect_uri=" + url.QueryEscape(registered), status: http.StatusFound, location: registered},
			{name: "no address", status: http.StatusOK},
			{name: "unregistered address", query: "?post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"), status: http.StatusOK},
			{name: "unknown tenant", tenant: "common", status: http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tenant := tc.tenant
				if tenant == "" {
					tenant = s.TenantID()
				}
				resp, err := browser().Get(s.URL() + "/" + tenant + "/oauth2/v2.0/logout" + tc.query)
				require.NoError(t, err)
				body := readAll(t, resp)
				require.Equal(t, tc.status, resp.StatusCode, body)
				require.Equal(t, tc.location, resp.Header.Get("Location"))
				if tc.status == http.StatusOK {
					require.Contains(t, body, "<h1>You signed out</h1>")
				}
			})
		}
	})
	require.Equal(t, 3, s.SignedOut(), "every request to the tenant's endpoint counts")
}

// TestNewSignInRefusesConfig checks a configuration Entra ID would not
// accept in an app registration is refused at start.
func TestNewSignInRefusesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  sim.SignInConfig
	}{
		{"http off localhost", sim.SignInConfig{RedirectURIs: []string{"http://cutover.contoso.com/auth/callback"}}},
		{"relative redirect URI", sim.SignInConfig{RedirectURIs: []string{"/auth/callback"}}},
		{"fragment", sim.SignInConfig{RedirectURIs: []string{"https://cutover.contoso.com/auth/callback#x"}}},
		{"account without object ID", sim.SignInConfig{Accounts: []sim.Account{{UPN: "a@contoso.com"}}}},
		{"account twice", sim.SignInConfig{Accounts: []sim.Account{{UPN: "a@contoso.com", OID: "1"}, {UPN: "A@contoso.com", OID: "2"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := sim.NewSignIn(tc.cfg)
			require.Error(t, err)
		})
	}
	_, err := sim.NewSignIn(sim.SignInConfig{RedirectURIs: []string{"https://cutover.contoso.com/auth/callback", "http://localhost/cb"}})
	require.NoError(t, err)
}
