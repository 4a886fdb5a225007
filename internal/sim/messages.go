package sim

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/migration"
)

// FailureMessage is what the management shell says when a call for a user
// of this kind fails, as Get-CsUser (getUser) or Move-CsUser reports it
// (KindNotSyncedBack fails only moves back to a pool). It speaks only the
// messages Microsoft publishes, from the error catalogue (migration.Text507
// and the rest, each with its source), so that the simulated shell and the
// fake PowerShell of the driver's tests say nothing a real server would not.
// It is "" for kinds whose calls succeed, and for time-outs, which are not
// a message (see FailureError).
func FailureMessage(kind Kind, identity string, getUser bool) string {
	id := migration.NormalizeAddress(identity)
	if getUser {
		if kind == KindNotFound {
			return migration.TextNoObject.Fill(identity)
		}
		return ""
	}
	switch kind {
	case KindNotFound:
		return migration.TextNoObject.Fill(identity)
	case KindOtherDomain:
		return migration.TextNoSIPURI.Fill("sip:" + id)
	case KindLicenceMissing, KindLicenceProvisioning:
		// The same text whether the licence is missing or provisioning.
		return migration.Text507.Text
	case KindTenantNotEnabled:
		return migration.Text510.Text
	case KindNotSyncedBack:
		return migration.Text506.Text
	}
	return ""
}

// FailureError is the error a failing call of this kind returns: the
// published message, or for a time-out the deadline the caller's shell
// time-out would have hit. Nil for kinds whose calls succeed.
func FailureError(kind Kind, identity string, getUser bool) error {
	if kind == KindTimeout && !getUser {
		return fmt.Errorf("management shell call for %s: %w", migration.NormalizeAddress(identity), context.DeadlineExceeded)
	}
	if msg := FailureMessage(kind, identity, getUser); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// Transient reports whether the kind's failures pass after Behaviour.Failures
// calls.
func (k Kind) Transient() bool {
	return k == KindLicenceProvisioning || k == KindTimeout
}
