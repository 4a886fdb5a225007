package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The simulated Graph's authority: discovery and tokens.

func (g *Graph) serveAuthority(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	tenantErr := func(tenant string) {
		writeJSONStatus(w, http.StatusBadRequest, map[string]any{
			"error":             "invalid_tenant",
			"error_description": fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant),
			"error_codes":       []int{90002},
		})
	}
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
	oauthErr := func(status int, code, desc string) {
		writeJSONStatus(w, status, map[string]any{"error": code, "error_description": desc, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z")})
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must be application/x-www-form-urlencoded.")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	switch {
	case f.Get("grant_type") != "client_credentials":
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The simulator supports the client_credentials grant only.")
		return
	case clientID == "":
		oauthErr(http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return
	case g.cfg.ClientID != "" && clientID != g.cfg.ClientID:
		oauthErr(http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", clientID))
		return
	case f.Get("scope") == "":
		oauthErr(http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'.")
		return
	}
	if a := f.Get("client_assertion"); a != "" {
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || !assertionFor(a, clientID) {
			oauthErr(http.StatusUnauthorized, "invalid_client", "AADSTS700027: The client assertion is not a valid JWT for this client.")
			return
		}
	} else if s := f.Get("client_secret"); s == "" || g.cfg.ClientSecret != "" && s != g.cfg.ClientSecret {
		oauthErr(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
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
