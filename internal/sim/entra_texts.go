package sim

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/migration"
)

// The sources of the Entra ID messages, by the short names the simulated
// sign-in's comments use (listed at the top of signin.go).
const (
	srcErrorCodes    = "MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md"
	srcROPC          = "MicrosoftDocs/entra-docs docs/identity-platform/scenario-desktop-acquire-token-username-password.md"
	srcDeviceCode    = "MicrosoftDocs/entra-docs docs/identity-platform/scenario-desktop-acquire-token-device-code-flow.md"
	srcV1Code        = "MicrosoftDocs/azure-docs articles/active-directory/develop/v1-protocols-oauth-code.md"
	srcAADSTS50011   = "MicrosoftDocs/SupportArticles-docs support/entra/entra-id/app-integration/error-code-AADSTS50011-redirect-uri-mismatch.md"
	srcAADSTS7000218 = "MicrosoftDocs/SupportArticles-docs support/entra/entra-id/app-integration/confidential-client-application-authentication-error-aadsts7000218.md"
)

// entraTexts are the only AADSTS messages the simulated Entra ID (the
// pages' sign-in, and the simulated Graph's authority) speaks: each as
// Microsoft publishes it, with where. A <placeholder> stands for what the
// answer fills in. From reference-error-codes.md, the text is the code's
// description up to its "Developer error" note. A refusal for which
// Microsoft publishes no code carries none of these (signInError).
var entraTexts = map[int]migration.Published{
	50011:   {Source: srcAADSTS50011, Text: "The redirect URI <uri> specified in the request does not match the redirect URIs configured for the application <AppGUID>. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."},
	50034:   {Source: srcROPC, Text: "The user account does not exist in the <domainName> directory. To sign into this application, the account must be added to the directory."},
	50058:   {Source: srcErrorCodes, Text: "Session information isn't sufficient for single-sign-on."},
	54005:   {Source: srcErrorCodes, Text: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."},
	70003:   {Source: srcErrorCodes, Text: "The app returned an unsupported grant type."},
	70007:   {Source: srcErrorCodes, Text: "The app returned an unsupported value of response_mode when requesting a token."},
	70008:   {Source: srcV1Code, Text: "The provided authorization code or refresh token is expired. Send a new interactive authorization request for this user and resource."},
	90002:   {Source: srcDeviceCode, Text: "Tenant <tenantId or domain you used in the authority> not found. This may happen if there are no active subscriptions for the tenant. Check with your subscription administrator."},
	501481:  {Source: srcErrorCodes, Text: "The Code_Verifier doesn't match the code_challenge supplied in the authorization request."},
	501491:  {Source: srcErrorCodes, Text: "Invalid size of Code_Challenge parameter."},
	700016:  {Source: srcROPC, Text: "Application with identifier '<clientId>' was not found in the directory '<domain>'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."},
	700027:  {Source: srcErrorCodes, Text: "Client assertion failed signature validation."},
	700054:  {Source: srcErrorCodes, Text: "Response_type 'id_token' isn't enabled for the application."},
	900144:  {Source: srcErrorCodes, Text: "The request body must contain the following parameter: '<name>'."},
	900561:  {Source: srcErrorCodes, Text: "The endpoint only accepts <valid_verbs> requests. Received a <invalid_verb> request."},
	900971:  {Source: srcErrorCodes, Text: "No reply address provided."},
	7000215: {Source: srcErrorCodes, Text: "Invalid client secret is provided."},
	7000218: {Source: srcAADSTS7000218, Text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
	9002313: {Source: srcErrorCodes, Text: "Request is malformed or invalid."},
}

// entra is the refusal with AADSTS code aadsts, its published text's
// placeholders filled with args in order.
func entra(status int, oauth string, aadsts int, args ...string) signInError {
	return signInError{status: status, code: oauth, aadsts: aadsts, text: entraTexts[aadsts].Fill(args...)}
}

// EntraTexts returns the AADSTS messages the simulated Entra ID speaks, by
// code.
func EntraTexts() map[int]migration.Published {
	out := make(map[int]migration.Published, len(entraTexts))
	for k, v := range entraTexts {
		out[k] = v
	}
	return out
}

// aadstsRE reads "AADSTSnnnn: text" off the front of a description (which
// the token endpoint follows with its trace and correlation IDs).
var aadstsRE = regexp.MustCompile(`^AADSTS(\d+): ([^\r\n]*)`)

// PublishedEntraText finds the published text a description of the
// simulated Entra ID speaks: false if it carries an AADSTS code whose text
// is not the one published for it. A description with no code is the
// simulator's own words for a case Microsoft publishes no code for.
func PublishedEntraText(description string) (migration.Published, bool) {
	m := aadstsRE.FindStringSubmatch(description)
	if m == nil {
		return migration.Published{}, !strings.Contains(description, "AADSTS")
	}
	code, _ := strconv.Atoi(m[1])
	p, ok := entraTexts[code]
	return p, ok && p.Is(m[2])
}
