package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The simulated sign-in's refusals, as the Microsoft identity platform
// answers them: in the token endpoint's JSON, on the error page
// (signin_pages.go) or in a redirect back to the app.

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

// errTenant is the answer for a {tenant} the simulator does not know.
func errTenant(t string) signInError {
	// device-code: "AADSTS90002: Tenant <tenantId or domain you used in the
	// authority> not found. This may happen if there are no active
	// subscriptions for the tenant. Check with your subscription
	// administrator." The OAuth error is invalid_request, "Protocol error"
	// (auth-code-flow).
	return entra(http.StatusBadRequest, "invalid_request", 90002, t)
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
