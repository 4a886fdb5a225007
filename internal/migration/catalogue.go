package migration

import (
	"context"
	"errors"
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
	CodeUnknown             ErrorCode = "unknown"
)

// Failure is one entry of the error catalogue: what an error means to a person
// and whether trying again can help.
type Failure struct {
	Code        ErrorCode `json:"code"`
	Transient   bool      `json:"transient"`
	Explanation string    `json:"explanation"`
	Fix         string    `json:"fix"`
	// match lists lower-case fragments of the shell's or the service's message,
	// all of which must appear for the entry to apply.
	match []string
}

// Catalogue is every known failure, most specific first: Classify returns the
// first entry whose fragments all appear in the message.
var Catalogue = []Failure{
	{
		Code: CodeLicenceProvisioning, Transient: true,
		Explanation: "The user's Teams / Skype for Business Online licence is still being provisioned (this takes up to 30 minutes after it is assigned).",
		Fix:         "Nothing: cutover tries again later. If it keeps failing, check the licence in the admin centre.",
		match:       []string{"(507)", "provision"},
	},
	{
		Code: CodeLicenceMissing, Transient: false,
		Explanation: "The user has no Skype for Business Online licence (error 507).",
		Fix:         "Assign a Teams and Skype for Business Online (Plan 2) licence, wait 30 minutes, then retry the user.",
		match:       []string{"(507)"},
	},
	{
		Code: CodeTenantNotEnabled, Transient: false,
		Explanation: "The tenant is not enabled for shared SIP address space (error 510).",
		Fix:         "Run Set-CsTenantFederationConfiguration -SharedSipAddressSpace $true online, then retry.",
		match:       []string{"(510)"},
	},
	{
		Code: CodeNotSynchronised, Transient: false,
		Explanation: "The user's attributes are not synchronised between Active Directory and the tenant (error 506).",
		Fix:         "Check directory synchronisation for this user, run a delta sync, then retry.",
		match:       []string{"(506)"},
	},
	{
		Code: CodeUserNotFound, Transient: false,
		Explanation: "The on-premises server has no user with this SIP address in Active Directory.",
		Fix:         "Check the UPN and SIP address in the pilot group against Get-CsUser; fix the group and retry.",
		match:       []string{"cannot find user in active directory"},
	},
	{
		Code: CodeUserNotFound, Transient: false,
		Explanation: "The on-premises server has no user with this identity (Get-CsUser found no object).",
		Fix:         "Check the UPN and SIP address in the pilot group against Get-CsUser; fix the group and retry.",
		match:       []string{"management object not found"},
	},
	{
		Code: CodeThrottled, Transient: true,
		Explanation: "The hosted migration service is busy and asked cutover to slow down.",
		Fix:         "Nothing: cutover tries again after a pause. Lower the wave's concurrency if it persists.",
		match:       []string{"(503)"},
	},
	{
		Code: CodeTimeout, Transient: true,
		Explanation: "The call to the management shell or the hosted migration service timed out.",
		Fix:         "Nothing: cutover tries again. If many users time out, check the front-end pool and the network to the service.",
		match:       []string{"timed out"},
	},
	{
		Code: CodeNotHomedOnline, Transient: true,
		Explanation: "The move was accepted but the user does not show as homed online yet.",
		Fix:         "Nothing: cutover checks again. If it persists, run Get-CsUser for the user.",
		match:       []string{"not homed online"},
	},
}

var unknownFailure = Failure{
	Code:        CodeUnknown,
	Transient:   false,
	Explanation: "An error cutover does not recognise.",
	Fix:         "Read the message in the timeline; fix the cause and retry the user.",
}

// FailureFor returns the catalogue entry of a code (the entry for unknown
// errors if the code is not in the catalogue).
func FailureFor(code ErrorCode) Failure {
	for _, f := range Catalogue {
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
	msg := strings.ToLower(err.Error())
	for _, f := range Catalogue {
		if containsAll(msg, f.match) {
			return f
		}
	}
	return unknownFailure
}

func containsAll(s string, fragments []string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return len(fragments) > 0
}
