package migration

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CheckStatus is the outcome of one check.
type CheckStatus string

// Check outcomes, from best to worst.
const (
	CheckPass CheckStatus = "pass"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

func (s CheckStatus) rank() int {
	return slices.Index([]CheckStatus{CheckPass, CheckWarn, CheckFail}, s)
}

// Check is one pre-flight check: what was checked, the outcome, the
// evidence it rests on and, if it did not pass, the fix in one line.
type Check struct {
	Name     string      `json:"name"`
	Status   CheckStatus `json:"status"`
	Evidence string      `json:"evidence"`
	Fix      string      `json:"fix,omitempty"`
	// Code is the error code a move fails with when this check fails.
	Code ErrorCode `json:"code,omitempty"`
}

// Worst returns the worst status among checks (pass if there are none).
func Worst(checks []Check) CheckStatus {
	worst := CheckPass
	for _, c := range checks {
		if c.Status.rank() > worst.rank() {
			worst = c.Status
		}
	}
	return worst
}

// PreflightError is a move stopped by a failed pre-flight check.
type PreflightError struct {
	Check Check
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("pre-flight check %s failed: %s", e.Check.Name, e.Check.Evidence)
}

// FirstFailure returns a *PreflightError for the first failed check, or nil.
func FirstFailure(checks []Check) error {
	for _, c := range checks {
		if c.Status == CheckFail {
			return &PreflightError{Check: c}
		}
	}
	return nil
}

// Defaults of the checks.
const (
	// DefaultMaxSyncAge is how old the last directory synchronisation may be
	// before tenant readiness warns.
	DefaultMaxSyncAge = 3 * time.Hour
	// DefaultLicenceSettle is how long a fresh licence takes to provision
	// in Skype for Business Online; a move before that retries later.
	DefaultLicenceSettle = 30 * time.Minute
)

// TenantReadiness checks the tenant against the vendor's checklist: directory
// synchronisation on and recent, every SIP domain the pilot groups use added,
// verified and enabled for Skype for Business Online, and the Teams (TEAMS1)
// and Skype for Business Online (MCOSTANDARD) plans subscribed with free
// units for the users still to move.
func TenantReadiness(t Tenant, sipDomains []string, usersToMove int, now time.Time, maxSyncAge time.Duration) []Check {
	checks := []Check{CloudCheck(t)}
	if t.SyncEnabled {
		checks = append(checks, Check{Name: "directory_sync", Status: CheckPass, Evidence: "onPremisesSyncEnabled is true"})
	} else {
		checks = append(checks, Check{Name: "directory_sync", Status: CheckFail, Code: CodeNotSynchronised,
			Evidence: "onPremisesSyncEnabled is false: the tenant is not synchronised with Active Directory",
			Fix:      "Install and run Entra Connect (Azure AD Connect) and synchronise all Skype for Business users."})
	}
	switch {
	case t.LastSync == nil:
		checks = append(checks, Check{Name: "last_sync", Status: CheckFail, Code: CodeNotSynchronised,
			Evidence: "the tenant has never been synchronised (onPremisesLastSyncDateTime is empty)",
			Fix:      "Run a full synchronisation with Entra Connect: Start-ADSyncSyncCycle -PolicyType Initial."})
	case now.Sub(*t.LastSync) > maxSyncAge:
		checks = append(checks, Check{Name: "last_sync", Status: CheckWarn,
			Evidence: fmt.Sprintf("last synchronisation %s ago (%s), more than %s", now.Sub(*t.LastSync).Round(time.Minute), t.LastSync.UTC().Format(time.RFC3339), maxSyncAge),
			Fix:      "Check Entra Connect Health and run Start-ADSyncSyncCycle -PolicyType Delta."})
	default:
		checks = append(checks, Check{Name: "last_sync", Status: CheckPass,
			Evidence: fmt.Sprintf("last synchronisation %s ago", now.Sub(*t.LastSync).Round(time.Minute))})
	}
	for _, name := range sipDomains {
		checks = append(checks, domainCheck(t, name))
	}
	for _, plan := range []struct{ name, label string }{{PlanNameTeams1, "Microsoft Teams"}, {PlanNameMCOStd, "Skype for Business Online (Plan 2)"}} {
		checks = append(checks, licenceUnitsCheck(t, plan.name, plan.label, usersToMove))
	}
	return checks
}

func domainCheck(t Tenant, name string) Check {
	c := Check{Name: "sip_domain " + name}
	i := slices.IndexFunc(t.Domains, func(d Domain) bool { return strings.EqualFold(d.Name, name) })
	switch {
	case i < 0:
		c.Status, c.Code = CheckFail, CodeDomainNotVerified
		c.Evidence = name + " is not added to the tenant"
		c.Fix = "Add " + name + " in the Microsoft 365 admin centre (Settings > Domains) and verify it."
	case !t.Domains[i].Verified:
		c.Status, c.Code = CheckFail, CodeDomainNotVerified
		c.Evidence = name + " is added but not verified"
		c.Fix = "Add the TXT record the admin centre shows for " + name + " to DNS, then verify the domain."
	case !slices.Contains(t.Domains[i].Services, ServiceSfBOnline):
		c.Status, c.Code = CheckFail, CodeDomainNotVerified
		c.Evidence = fmt.Sprintf("%s is verified but does not support %s (supportedServices: %s)", name, ServiceSfBOnline, strings.Join(t.Domains[i].Services, ", "))
		// Adding the service must not move the Skype for Business records:
		// "When creating DNS records for hybrid deployments, all Skype for
		// Business external DNS records should point to the on-premises
		// infrastructure." (MicrosoftDocs/OfficeDocs-SkypeForBusiness
		// Skype/SfbHybrid/hybrid/plan-hybrid-connectivity.md). The admin
		// centre's set-up attaches a chosen service without them: "Choose
		// **I'll add the DNS records myself** if you want to attach only
		// specific Microsoft 365 services to your domain"
		// (MicrosoftDocs/microsoft-365-docs microsoft-365/admin/setup/add-domain.md).
		c.Fix = "In the admin centre (Settings > Domains > " + name + "), run the DNS set-up, choose \"I'll add the DNS records myself\" and attach Skype for Business / Teams, " +
			"but do not change the domain's Skype for Business records in DNS: in a hybrid deployment they stay pointed at the on-premises servers while any user is on premises."
	default:
		c.Status = CheckPass
		c.Evidence = name + " is verified and supports " + ServiceSfBOnline
	}
	return c
}

func licenceUnitsCheck(t Tenant, plan, label string, usersToMove int) Check {
	c := Check{Name: "licences " + plan}
	var skus []string
	free := 0
	for _, s := range t.SKUs {
		if slices.ContainsFunc(s.Plans, func(p SKUPlan) bool { return p.Name == plan && p.Status == "Success" }) {
			skus = append(skus, s.PartNumber)
			free += max(0, s.Enabled-s.Consumed)
		}
	}
	switch {
	case len(skus) == 0:
		c.Status, c.Code = CheckFail, CodeLicenceMissing
		c.Evidence = fmt.Sprintf("no subscribed SKU includes %s (%s)", label, plan)
		c.Fix = "Buy a plan that includes " + label + " (e.g. Office 365 E3) for the tenant."
	case free < usersToMove:
		c.Status = CheckWarn
		c.Evidence = fmt.Sprintf("%d free units in %s for %d users still to move", free, strings.Join(skus, ", "), usersToMove)
		c.Fix = fmt.Sprintf("Make sure the users to move hold %s already, or free or buy %d more units.", label, usersToMove-free)
	default:
		c.Status = CheckPass
		c.Evidence = fmt.Sprintf("%d free units in %s for %d users still to move", free, strings.Join(skus, ", "), usersToMove)
	}
	return c
}

// UserPreflight checks one user in the directory before a move: the account
// exists and is enabled, is synchronised from on premises, has a usage
// location and the Teams and Skype for Business Online plans (assigned long
// enough ago to be provisioned), its UPN domain is verified, and its SIP
// address in proxyAddresses matches the on-premises one (a mismatch is a
// warning). u is nil when the directory has no such user.
func UserPreflight(u *DirectoryUser, m Member, t Tenant, now time.Time, licenceSettle time.Duration) []Check {
	if u == nil {
		return []Check{{Name: "account", Status: CheckFail, Code: CodeAccountNotFound,
			Evidence: m.UPN + " has no account in Entra ID",
			Fix:      "Check that Entra Connect synchronises the user and that the UPN in the pilot group is right."}}
	}
	checks := make([]Check, 0, 7)
	add := func(name string, ok bool, pass, failEvidence, fix string, code ErrorCode) {
		if ok {
			checks = append(checks, Check{Name: name, Status: CheckPass, Evidence: pass})
		} else {
			checks = append(checks, Check{Name: name, Status: CheckFail, Evidence: failEvidence, Fix: fix, Code: code})
		}
	}
	add("account", true, "account "+u.ID+" exists", "", "", "")
	add("account_enabled", u.Enabled, "accountEnabled is true", "the account is disabled (accountEnabled is false)",
		"Enable the account in Active Directory (it synchronises to Entra ID), or remove the user from the group.", CodeAccountDisabled)
	add("synchronised", u.SyncEnabled && u.ImmutableID != "", "synchronised from on premises (onPremisesImmutableId "+u.ImmutableID+")",
		"the account is not synchronised from on premises (cloud-only, or onPremisesImmutableId is empty)",
		"Synchronise the user's on-premises account with Entra Connect; a cloud-only account cannot be moved.", CodeAccountNotSynchronised)
	add("usage_location", u.UsageLocation != "", "usage location "+u.UsageLocation, "the account has no usage location",
		"Set the user's usage location (Update-MgUser -UsageLocation GB), then retry.", CodeUsageLocationMissing)
	checks = append(checks, planCheck(u, now, licenceSettle))
	_, domain, _ := strings.Cut(u.UPN, "@")
	verified := slices.ContainsFunc(t.Domains, func(d Domain) bool { return strings.EqualFold(d.Name, domain) && d.Verified })
	add("upn_domain", verified, "UPN domain "+domain+" is verified", "UPN domain "+domain+" is not verified in the tenant",
		"Verify "+domain+" in the admin centre, or change the user's UPN suffix to a verified domain.", CodeDomainNotVerified)
	checks = append(checks, sipCheck(u, m))
	return checks
}

// movePlans are the service plans a move needs: Move-CsUser answers 507
// without them.
var movePlans = []struct{ id, name string }{{PlanTeams1, PlanNameTeams1}, {PlanMCOStandard, PlanNameMCOStd}}

// The capabilityStatus of an assigned plan the user may use: "Enabled |
// Available for normal use." and "Warning | Available for normal use but is
// in a grace period." (microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/resources/assignedplan.md). Suspended, Deleted and
// LockedOut are unavailable.
const (
	capabilityEnabled = "Enabled"
	capabilityWarning = "Warning"
)

// usable reports whether an assigned plan is the one asked for and may be
// used (enabled, or in its grace period).
func usable(p AssignedPlan, id string) bool {
	return strings.EqualFold(p.ID, id) && (p.Status == capabilityEnabled || p.Status == capabilityWarning)
}

// licences returns which of the plans a move needs the user lacks, which of
// those held are in a grace period, and when the last of those held was
// assigned.
func licences(u *DirectoryUser) (missing, grace []string, latest time.Time) {
	for _, need := range movePlans {
		i := slices.IndexFunc(u.Plans, func(p AssignedPlan) bool { return usable(p, need.id) })
		if i < 0 {
			missing = append(missing, need.name)
			continue
		}
		if u.Plans[i].Status == capabilityWarning {
			grace = append(grace, need.name)
		}
		if at := u.Plans[i].AssignedAt; at.After(latest) {
			latest = at
		}
	}
	return missing, grace, latest
}

// LicenceAssignedAt returns when the last of the plans a move needs was
// assigned to the user (zero if none is).
func LicenceAssignedAt(u *DirectoryUser) time.Time {
	_, _, latest := licences(u)
	return latest
}

func planCheck(u *DirectoryUser, now time.Time, settle time.Duration) Check {
	c := Check{Name: "licence"}
	missing, grace, latest := licences(u)
	switch {
	case len(missing) > 0:
		c.Status, c.Code = CheckFail, CodeLicenceMissing
		c.Evidence = "no enabled " + strings.Join(missing, " or ") + " plan is assigned (none, or Suspended, Deleted or LockedOut)"
		c.Fix = "Assign a licence with Microsoft Teams and Skype for Business Online (Plan 2), wait 30 minutes, then retry."
	case now.Sub(latest) < settle:
		c.Status, c.Code = CheckFail, CodeLicenceProvisioning
		c.Evidence = fmt.Sprintf("the plans were assigned %s ago, less than the %s they take to provision", now.Sub(latest).Round(time.Second), settle)
		c.Fix = "Nothing: cutover tries again once the licence has had time to provision."
	case len(grace) > 0:
		// Usable, so the move goes ahead; but the licence lapses with
		// the grace period, and the user with it.
		c.Status = CheckWarn
		c.Evidence = strings.Join(grace, " and ") + " in a grace period (capabilityStatus Warning): usable now, lost when the grace period ends"
		c.Fix = "Renew the subscription, or assign the user a licence that is not in a grace period, before the grace period ends."
	default:
		c.Status = CheckPass
		c.Evidence = "TEAMS1 and MCOSTANDARD assigned and enabled"
	}
	return c
}

// VoiceCheck checks an on-premises Enterprise Voice user for Teams Phone: "If
// the user is enabled for Enterprise Voice in on premises, the user must have
// a Teams Phone license assigned in Teams before you move the user online"
// (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbHybrid/hybrid/move-users-between-on-premises-and-cloud.md),
// unless the move passes -BypassEnterpriseVoiceCheck, which moves the user
// without configuring them for Phone System (Move-CsUser.md): a warning, as
// their number then needs work of its own. It is nil for a user without
// Enterprise Voice.
func VoiceCheck(u *DirectoryUser, on ShellUser, bypass bool) *Check {
	if !on.EnterpriseVoiceEnabled {
		return nil
	}
	who := "Enterprise Voice user"
	if on.LineURI != "" {
		who += " (LineURI " + on.LineURI + ")"
	}
	c := &Check{Name: "teams_phone"}
	has := u != nil && slices.ContainsFunc(u.Plans, func(p AssignedPlan) bool { return usable(p, PlanMCOEV) })
	switch {
	case has:
		c.Status, c.Evidence = CheckPass, who+" holds Teams Phone (MCOEV): provisioned for Teams Phone on the move"
	case bypass:
		c.Status = CheckWarn
		c.Evidence = who + " without Teams Phone (MCOEV): moved with -BypassEnterpriseVoiceCheck, not provisioned for Teams Phone"
		c.Fix = "Plan the user's phone number separately (Teams Phone licence and number assignment) after the move."
	default:
		c.Status, c.Code = CheckFail, CodeTeamsPhoneMissing
		c.Evidence = who + " holds no Teams Phone (MCOEV) plan"
		c.Fix = "Assign a Teams Phone licence (MCOEV), then retry; or move the user in a wave with bypass_enterprise_voice_check, leaving the number to its own workstream."
	}
	return c
}

func sipCheck(u *DirectoryUser, m Member) Check {
	c := Check{Name: "sip_address"}
	var sips []string
	for _, p := range u.ProxyAddresses {
		if strings.HasPrefix(strings.ToLower(p), "sip:") {
			sips = append(sips, NormalizeAddress(p))
		}
	}
	switch {
	case slices.Contains(sips, m.SIP):
		c.Status, c.Evidence = CheckPass, "proxyAddresses hold SIP:"+m.SIP
	case len(sips) == 0:
		c.Status, c.Evidence = CheckWarn, "proxyAddresses hold no SIP address; on premises it is sip:"+m.SIP
		c.Fix = "Check msRTCSIP-PrimaryUserAddress is synchronised (Entra Connect) for this user."
	default:
		c.Status = CheckWarn
		c.Evidence = fmt.Sprintf("SIP address differs: on premises sip:%s, in Entra ID %s", m.SIP, strings.Join(sips, ", "))
		c.Fix = "Make the SIP addresses agree (on premises and in Entra ID) before the move, or users will not find each other."
	}
	return c
}

// IsPreflight reports whether err stopped a move in pre-flight.
func IsPreflight(err error) bool {
	var pe *PreflightError
	return errors.As(err, &pe)
}
