package sim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The simulated Graph's authority: discovery and tokens.

func (g *Graph) serveAuthority(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	tenantErr := func(tenant string) { writeTokenError(w, time.Now(), errTenant(tenant)) }
	switch {
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "common" && segs[1] == "discovery" && segs[2] == "instance":
		host := r.Host
		writeJSONStatus(w, http.StatusOK, map[string]any{
			"tenant_discovery_endpoint": "https://" + host + "/common/v2.0/.well-known/openid-configuration",
			"api-version":               "1.1",
			"metadata":                  []any{map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
		})
	case r.Method == http.MethodGet && len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration":
		if !g.knownTenant(segs[0]) {
			tenantErr(segs[0])
			return
		}
		base := "https://" + r.Host + "/" + g.cfg.TenantID
		writeJSONStatus(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
			"jwks_uri":                              "https://" + r.Host + "/" + g.cfg.TenantID + "/discovery/v2.0/keys",
			"issuer":                                base + "/v2.0",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"tenant_region_scope":                   "NA",
			"cloud_instance_name":                   "microsoftonline.com",
		})
	case r.Method == http.MethodPost && len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token":
		if !g.knownTenant(segs[0]) {
			tenantErr(segs[0])
			return
		}
		g.tokenEndpoint(w, r)
	default:
		writeJSONStatus(w, http.StatusNotFound, map[string]any{"error": "not_found", "error_description": "The simulated authority has no " + r.URL.Path + "."})
	}
}

func (g *Graph) knownTenant(t string) bool {
	if strings.EqualFold(t, g.cfg.TenantID) || t == "organizations" {
		return true
	}
	for _, d := range g.cfg.Domains {
		if strings.EqualFold(t, d.Name) {
			return true
		}
	}
	return false
}

func (g *Graph) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	// The same errors, in Microsoft's words, as the simulated Entra ID's
	// token endpoint (signin_token.go, signin_errors.go).
	fail := func(e signInError) { writeTokenError(w, time.Now(), e) }
	if err := r.ParseForm(); err != nil {
		fail(errMissing("grant_type")) // a body that does not read has none
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	switch {
	case f.Get("grant_type") == "":
		fail(errMissing("grant_type"))
		return
	case f.Get("grant_type") != "client_credentials":
		fail(errUnsupportedGrant) // the simulated Graph's app has the client credentials grant only
		return
	case clientID == "":
		fail(errMissing("client_id"))
		return
	case g.cfg.ClientID != "" && clientID != g.cfg.ClientID:
		fail(errUnknownClient(clientID, g.cfg.TenantID))
		return
	case f.Get("scope") == "":
		fail(errMissing("scope"))
		return
	}
	if a := f.Get("client_assertion"); a != "" {
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || !assertionFor(a, clientID) {
			fail(errBadAssertion)
			return
		}
	} else if s := f.Get("client_secret"); s == "" || g.cfg.ClientSecret != "" && s != g.cfg.ClientSecret {
		fail(errBadSecret)
		return
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": g.token,
	})
}

// assertionFor reports whether a looks like a JWT issued by the client.
func assertionFor(a, clientID string) bool {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
	}
	return json.Unmarshal(raw, &claims) == nil && claims.Iss == clientID && claims.Sub == clientID
}
