package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"time"
)

// The simulated sign-in's discovery documents: the OpenID configuration
// and the keys that verify its tokens.

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
