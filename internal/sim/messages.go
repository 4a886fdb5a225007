package sim

import (
	"fmt"

	"github.com/cutover/cutover/internal/migration"
)

// FailureMessage is what the management shell says when a call for a user
// of this kind fails, as Get-CsUser (getUser) or Move-CsUser reports it
// (KindNotSyncedBack fails only moves back to a pool). The
// simulated shell and the fake PowerShell of the driver's tests both speak
// from this table, so that one error catalogue classifies them alike. It is
// "" for kinds whose calls succeed.
func FailureMessage(kind Kind, identity string, getUser bool) string {
	const fault = "Move-CsUser : HostedMigration fault: Error=(%d), Description=(%s)"
	id := migration.NormalizeAddress(identity)
	if getUser {
		if kind == KindNotFound {
			return fmt.Sprintf("Get-CsUser : Management object not found for identity %q.", identity)
		}
		return ""
	}
	switch kind {
	case KindNotFound:
		return fmt.Sprintf("Move-CsUser : Cannot find user in Active Directory with the following SIP URI: \"sip:%s\"", id)
	case KindLicenceMissing:
		return fmt.Sprintf(fault, 507, "User is not licensed for Skype for Business Online. Assign a license and try again.")
	case KindTenantNotEnabled:
		return fmt.Sprintf(fault, 510, "This tenant is not enabled for shared SIP address space.")
	case KindLicenceProvisioning:
		return fmt.Sprintf(fault, 507, "The user's license is still being provisioned in Skype for Business Online. Try again later.")
	case KindThrottled:
		return fmt.Sprintf(fault, 503, "The server is busy: too many requests. Try again later.")
	case KindTimeout:
		return "Move-CsUser : The operation has timed out."
	case KindMultipleEdgePools:
		return "Move-CsUser : There are multiple federated Edge pools in the topology; cannot determine the hosted migration route."
	case KindAccessDenied:
		return "Move-CsUser : Access is denied."
	case KindNotSyncedBack:
		return fmt.Sprintf(fault, 506, "The user's attributes are not synchronized between the on-premises directory and the tenant.")
	case KindSessionExpired:
		return "Move-CsUser : Processing data from remote server failed: the session has expired."
	}
	return ""
}

// Transient reports whether the kind's failures pass after Behaviour.Failures
// calls.
func (k Kind) Transient() bool {
	return k == KindLicenceProvisioning || k == KindThrottled || k == KindTimeout || k == KindSessionExpired
}
