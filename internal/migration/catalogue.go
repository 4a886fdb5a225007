package migration

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// ErrorCode is the stable name of something that went wrong with a move. It
// is what reports group by and what helpdesk reads.
type ErrorCode string

// The error codes of a move.
const (
	CodeLicenceMissing      ErrorCode = "licence_missing"
	CodeLicenceProvisioning ErrorCode = "licence_provisioning"
	CodeTenantNotEnabled    ErrorCode = "tenant_not_enabled"
	CodeNotSynchronised     ErrorCode = "attributes_not_synchronised"
	CodeUserNotFound        ErrorCode = "user_not_found"
	CodeTimeout             ErrorCode = "timeout"
	CodeThrottled           ErrorCode = "throttled"
	CodeNotHomedOnline      ErrorCode = "not_homed_online"
	CodeMultipleEdgePools   ErrorCode = "multiple_federated_edge_pools"
	CodeSessionExpired      ErrorCode = "session_expired"
	CodeAccessDenied        ErrorCode = "access_denied"
	CodeNoRollbackRecord    ErrorCode = "no_rollback_record"
	CodeUnknown             ErrorCode = "unknown"

	// Found by the pre-flight checks in Microsoft Graph.
	CodeAccountNotFound        ErrorCode = "account_not_found"
	CodeAccountDisabled        ErrorCode = "account_disabled"
	CodeAccountNotSynchronised ErrorCode = "account_not_synchronised"
	CodeUsageLocationMissing   ErrorCode = "usage_location_missing"
	CodeDomainNotVerified      ErrorCode = "domain_not_verified"
	CodeNotProvisionedOnline   ErrorCode = "not_provisioned_online"
	CodeGraphThrottled         ErrorCode = "graph_throttled"
	CodeGraphUnavailable       ErrorCode = "graph_unavailable"
	CodeGraphAccessDenied      ErrorCode = "graph_access_denied"

	// Why a move was cancelled before it started.
	CodeWaveHalted    ErrorCode = "wave_halted"
	CodeWaveCancelled ErrorCode = "wave_cancelled"
	CodeRemoved       ErrorCode = "removed_from_wave"
)

// Failure is one entry of the error catalogue: what an error means to a person
// and whether trying again can help.
type Failure struct {
	Code        ErrorCode `json:"code"`
	Transient   bool      `json:"transient"`
	Explanation string    `json:"explanation"`
	Fix         string    `json:"fix"`
	// match lists the messages the entry applies to: each is a list of
	// lower-case fragments of the shell's or the service's message, all of
	// which must appear.
	match [][]string
}

// Catalogue is every known failure, most specific first: Classify returns the
// first entry whose fragments all appear in the message.
var Catalogue = []Failure{
	{
		Code: CodeLicenceProvisioning, Transient: true,
		Explanation: "The user's Teams / Skype for Business Online licence is still being provisioned (this takes up to 30 minutes after it is assigned).",
		Fix:         "Nothing: cutover tries again later. If it keeps failing, check the licence in the admin centre.",
		match:       [][]string{{"(507)", "provision"}},
	},
	{
		Code: CodeLicenceMissing, Transient: false,
		Explanation: "The user has no Skype for Business Online licence (error 507).",
		Fix:         "Assign a Teams and Skype for Business Online (Plan 2) licence, wait 30 minutes, then retry the user.",
		match:       [][]string{{"(507)"}},
	},
	{
		Code: CodeTenantNotEnabled, Transient: false,
		Explanation: "The tenant is not enabled for shared SIP address space (error 510).",
		Fix:         "Run Set-CsTenantFederationConfiguration -SharedSipAddressSpace $true online, then retry.",
		match:       [][]string{{"(510)"}},
	},
	{
		Code: CodeNotSynchronised, Transient: false,
		Explanation: "The user's attributes are not synchronised between Active Directory and the tenant (error 506).",
		Fix:         "Check directory synchronisation for this user, run a delta sync, then retry.",
		match:       [][]string{{"(506)"}},
	},
	{
		Code: CodeUserNotFound, Transient: false,
		Explanation: "The on-premises server has no such user (no Active Directory user with this SIP address, or no Skype for Business object for this identity).",
		Fix:         "Check the UPN and SIP address in the pilot group against Get-CsUser; fix the group and retry.",
		match:       [][]string{{"cannot find user in active directory"}, {"management object not found"}},
	},
	{
		Code: CodeMultipleEdgePools, Transient: false,
		Explanation: "The topology has more than one federated Edge pool, so the hosted migration service cannot tell which route to use.",
		Fix:         "Federate a single Edge pool for hybrid (Topology Builder), or pass -HostedMigrationOverrideUrl; then retry.",
		match:       [][]string{{"multiple", "edge"}},
	},
	{
		Code: CodeAccessDenied, Transient: false,
		Explanation: "The account cutover runs the shell as may not move users.",
		Fix:         "Give the account CsServerAdministrator (or CsUserAdministrator) on premises and the Teams administrator role online, then retry.",
		match:       [][]string{{"access is denied"}, {"unauthorizedaccessexception"}},
	},
	{
		Code: CodeSessionExpired, Transient: true,
		Explanation: "The PowerShell session to the server or to the hosted migration service expired or broke.",
		Fix:         "Nothing: cutover opens a new session and tries again.",
		match:       [][]string{{"session", "expired"}, {"session state is broken"}},
	},
	{
		Code: CodeThrottled, Transient: true,
		Explanation: "The hosted migration service is busy and asked cutover to slow down.",
		Fix:         "Nothing: cutover tries again after a pause. Lower the wave's concurrency if it persists.",
		match:       [][]string{{"too many requests"}, {"(503)"}},
	},
	{
		Code: CodeTimeout, Transient: true,
		Explanation: "The call to the management shell or the hosted migration service timed out.",
		Fix:         "Nothing: cutover tries again. If many users time out, check the front-end pool and the network to the service.",
		match:       [][]string{{"timed out"}},
	},
	{
		Code: CodeNotHomedOnline, Transient: true,
		Explanation: "The move was accepted but the user does not show as homed online yet.",
		Fix:         "Nothing: cutover checks again. If it persists, run Get-CsUser for the user.",
		match:       [][]string{{"not homed online"}},
	},
}

// directoryFailures are the failures found in Microsoft Graph: by pre-flight
// checks (the check says the evidence) or by Graph's own answers.
var directoryFailures = []Failure{
	{Code: CodeAccountNotFound, Explanation: "The user has no account in Entra ID.",
		Fix: "Check that Entra Connect synchronises the user and that the UPN in the pilot group is right; then retry."},
	{Code: CodeAccountDisabled, Explanation: "The user's account is disabled in Entra ID.",
		Fix: "Enable the account in Active Directory, or remove the user from the pilot group."},
	{Code: CodeAccountNotSynchronised, Explanation: "The user's account is not synchronised from on premises (a cloud-only account cannot be moved).",
		Fix: "Synchronise the on-premises account with Entra Connect, then retry."},
	{Code: CodeUsageLocationMissing, Explanation: "The user has no usage location, which licences need.",
		Fix: "Set the user's usage location (Update-MgUser -UsageLocation), then retry."},
	{Code: CodeDomainNotVerified, Explanation: "The user's domain is not verified (or not enabled for Skype for Business Online) in the tenant.",
		Fix: "Verify the domain in the admin centre and enable it for Skype for Business / Teams, then retry."},
	{Code: CodeNotProvisionedOnline, Explanation: "The move finished on premises, but Teams still shows the user as homed on premises after the provisioning wait.",
		Fix: "Check the user with Get-CsOnlineUser; open a support case if the homing does not update."},
	{Code: CodeNoRollbackRecord, Explanation: "cutover holds no record of the user's on-premises state from before the move, so it cannot tell where to move them back.",
		Fix: "Move the user back by hand (Move-CsUser -Target <pool>) after checking Get-CsUser."},
	{Code: CodeGraphThrottled, Transient: true, Explanation: "Microsoft Graph throttled cutover's requests.",
		Fix: "Nothing: cutover waits as Graph asks and tries again."},
	{Code: CodeGraphUnavailable, Transient: true, Explanation: "Microsoft Graph did not answer or answered with a server error.",
		Fix: "Nothing: cutover tries again. Check the service health dashboard if it persists."},
	{Code: CodeGraphAccessDenied, Explanation: "Microsoft Graph refused cutover's credentials.",
		Fix: "Check the app registration's client secret or certificate and its application permissions (User.Read.All, Directory.Read.All, Organization.Read.All, TeamsUserConfiguration.Read.All), with admin consent."},
	{Code: CodeWaveHalted, Explanation: "Not started: the wave was halted because too many of its moves failed.",
		Fix: "A migration lead looks into the failures, then resumes the wave (the user is moved then) or cancels it."},
	{Code: CodeWaveCancelled, Explanation: "Not started: a migration lead cancelled the wave.",
		Fix: "Ask the migration lead whether the user will be planned into another wave."},
	{Code: CodeRemoved, Explanation: "Not started: a migration lead removed the user from the wave.",
		Fix: "Nothing, unless the user should be moved: then plan or add them to another wave."},
}

// Overload reports whether a failure says the service or the server is
// overloaded (throttling, time-outs): adaptive concurrency backs off on it.
func (f Failure) Overload() bool {
	switch f.Code {
	case CodeThrottled, CodeTimeout, CodeGraphThrottled:
		return true
	}
	return false
}

// FailureCount is how many users failed (or would fail) with one error, and
// what it means.
type FailureCount struct {
	Failure
	Count int `json:"count"`
}

var unknownFailure = Failure{
	Code:        CodeUnknown,
	Transient:   false,
	Explanation: "An error cutover does not recognise.",
	Fix:         "Read the message in the timeline; fix the cause and retry the user.",
}

// Retries reports whether a failure on attempt n (1-based) is worth another
// attempt: a transient one always; an unknown one once, in case it was a
// passing fault.
func (f Failure) Retries(n int) bool {
	return f.Transient || (f.Code == CodeUnknown && n == 1)
}

// FailureFor returns the catalogue entry of a code (the entry for unknown
// errors if the code is not in the catalogue).
func FailureFor(code ErrorCode) Failure {
	for _, f := range slices.Concat(Catalogue, directoryFailures) {
		if f.Code == code {
			return f
		}
	}
	return unknownFailure
}

// Classify finds the catalogue entry for an error from the shell or the
// service. Deadlines count as time-outs; anything unrecognised is unknown.
func Classify(err error) Failure {
	if errors.Is(err, context.DeadlineExceeded) {
		return FailureFor(CodeTimeout)
	}
	if pe, ok := errors.AsType[*PreflightError](err); ok {
		return FailureFor(pe.Check.Code)
	}
	if de, ok := errors.AsType[*DirectoryError](err); ok {
		switch {
		case de.Status == 429:
			return FailureFor(CodeGraphThrottled)
		case de.Status == 401 || de.Status == 403:
			return FailureFor(CodeGraphAccessDenied)
		case de.Status == 0 || de.Status >= 500:
			return FailureFor(CodeGraphUnavailable)
		}
	}
	msg := strings.ToLower(err.Error())
	for _, f := range Catalogue {
		if matches(msg, f.match) {
			return f
		}
	}
	return unknownFailure
}

func matches(s string, alternatives [][]string) bool {
	for _, fragments := range alternatives {
		if containsAll(s, fragments) {
			return true
		}
	}
	return false
}

func containsAll(s string, fragments []string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return len(fragments) > 0
}
