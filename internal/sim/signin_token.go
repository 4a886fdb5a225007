package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The simulated sign-in's token endpoint: it redeems an authorization code
// for an ID token, once.

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
