package migration

import (
	"fmt"
	"slices"
	"strings"
)

// SectionAccount is the readiness section of the account Move-CsUser signs
// in with.
const SectionAccount = "account"

// DirectoryRole is an Entra ID directory role an account is a member of.
type DirectoryRole struct {
	TemplateID  string `json:"template_id"` // roleTemplateId; empty when Graph gave limited information
	DisplayName string `json:"display_name"`
}

// MoveRoles are the roles of which the account that runs Move-CsUser must
// hold one: "In Teams, the user performing the move must be a member of at
// least one of the following roles: Global Administrator role, Teams
// Administrator role, Skype for Business Administrator role."
// (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbHybrid/hybrid/move-users-between-on-premises-and-cloud.md, the
// newest version; earlier versions also asked for User Administrator). The
// template IDs are MicrosoftDocs/entra-docs
// docs/identity/role-based-access-control/permissions-reference.md's.
var MoveRoles = []DirectoryRole{
	{TemplateID: "62e90394-69f5-4237-9190-012177145e10", DisplayName: "Global Administrator"},
	{TemplateID: "69091246-20e8-4a56-aa4d-066075b2a7a8", DisplayName: "Teams Administrator"},
	{TemplateID: "75941009-915a-4869-abe7-691bff18279e", DisplayName: "Skype for Business Administrator"},
}

// moveRoleNames says MoveRoles in words.
func moveRoleNames() string {
	names := make([]string, len(MoveRoles))
	for i, r := range MoveRoles {
		names[i] = r.DisplayName
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Account is what cutover knows of the account Move-CsUser signs in with.
type Account struct {
	// UPN is the account given by credential; "" in session mode, where
	// the process's own session signs in and its account is not known.
	UPN string
	// Roles are its directory roles as Graph lists them (nil: not read).
	Roles []DirectoryRole
	// RolesError says why the roles could not be read ("" if they were, or
	// Graph is not used).
	RolesError string
	// Graph says whether cutover reads Graph at all.
	Graph bool
	// OverrideURL is the -HostedMigrationOverrideUrl the shell passes.
	OverrideURL string
}

// AccountChecks checks the account Move-CsUser signs in with: the sign-in
// mode, the roles the move needs, and -HostedMigrationOverrideUrl for an
// account that is not a .onmicrosoft.com one. A failure holds every move:
// no user's move could succeed.
func AccountChecks(a Account) []Check {
	var checks []Check
	add := func(c Check) { checks = append(checks, c) }
	fail := func(name, evidence, fix string) Check {
		return Check{Name: name, Status: CheckFail, Code: CodeAccountNotReady, Evidence: evidence, Fix: fix}
	}

	// Move-CsUser.md: "If -Credential parameter is not specified, the
	// admin will be prompted for credentials."
	if a.UPN == "" {
		add(Check{Name: "sign_in_mode", Status: CheckWarn,
			Evidence: "Move-CsUser signs in with the process's own session, without -Credential: Microsoft documents that \"the admin will be prompted for credentials\", so waves run only while a person keeps this session signed in",
			Fix:      "For unattended waves, give a dedicated account with --pwsh-user and CUTOVER_PWSH_PASSWORD (see \"Sign-in: what unattended moves need\" in docs/operations.md)."})
		add(Check{Name: "account_roles", Status: CheckWarn, Evidence: "the session's account is not known to cutover: its roles are not checked",
			Fix: "Make sure the signed-in account holds " + moveRoleNames() + "."})
		return checks
	}
	add(Check{Name: "sign_in_mode", Status: CheckPass, Evidence: "Move-CsUser signs in as " + a.UPN + " by credential (-Credential): unattended"})

	switch {
	case !a.Graph:
		add(Check{Name: "account_roles", Status: CheckWarn, Evidence: "without Microsoft Graph the roles of " + a.UPN + " are not checked",
			Fix: "Make sure " + a.UPN + " holds " + moveRoleNames() + "."})
	case a.RolesError != "":
		add(Check{Name: "account_roles", Status: CheckWarn, Evidence: "the roles of " + a.UPN + " could not be read: " + a.RolesError,
			Fix: "Grant the app registration RoleManagement.Read.Directory (application), with admin consent, so that cutover can check them."})
	default:
		held := slices.IndexFunc(a.Roles, func(r DirectoryRole) bool {
			return slices.ContainsFunc(MoveRoles, func(m DirectoryRole) bool { return strings.EqualFold(m.TemplateID, r.TemplateID) })
		})
		unnamed := len(a.Roles) > 0 && !slices.ContainsFunc(a.Roles, func(r DirectoryRole) bool { return r.TemplateID != "" })
		switch {
		case held >= 0:
			add(Check{Name: "account_roles", Status: CheckPass, Evidence: a.UPN + " holds " + a.Roles[held].DisplayName})
		case unnamed:
			// Graph's "limited information": the app may list the roles
			// but not read them (api-reference/includes/limited-info.md).
			add(Check{Name: "account_roles", Status: CheckWarn, Evidence: fmt.Sprintf("Graph lists %d directory role(s) of %s without saying which", len(a.Roles), a.UPN),
				Fix: "Grant the app registration RoleManagement.Read.Directory (application), with admin consent, so that cutover can read them."})
		default:
			var has []string
			for _, r := range a.Roles {
				has = append(has, r.DisplayName)
			}
			holds := "no directory role"
			if len(has) > 0 {
				holds = strings.Join(has, ", ")
			}
			add(fail("account_roles", a.UPN+" holds none of the roles Move-CsUser needs ("+moveRoleNames()+"); it holds "+holds,
				"Assign "+a.UPN+" the Teams Administrator role (or Skype for Business Administrator, or Global Administrator) in the Microsoft Entra admin center; moves go on by themselves at the workers' next check."))
		}
	}

	// "If you are using Move-CsUser in PowerShell, you can either use an
	// account that ends in .onmicrosoft.com, or you can use any
	// on-premises account that is synchronized into Azure AD, provided
	// that you also specify the HostedMigrationOverrideUrl parameter in
	// the cmdlet." (move-users-between-on-premises-and-cloud.md)
	switch {
	case strings.HasSuffix(strings.ToLower(a.UPN), ".onmicrosoft.com"):
		add(Check{Name: "hosted_migration_override_url", Status: CheckPass, Evidence: a.UPN + " ends in .onmicrosoft.com: no override URL needed"})
	case a.OverrideURL != "":
		add(Check{Name: "hosted_migration_override_url", Status: CheckPass, Evidence: a.UPN + " is not a .onmicrosoft.com account; the override URL is " + a.OverrideURL})
	default:
		add(fail("hosted_migration_override_url", a.UPN+" is an account synchronised from on premises (not .onmicrosoft.com), and no -HostedMigrationOverrideUrl is set: Microsoft requires one for such an account",
			"Set --hosted-migration-override-url to https://adminXX.online.lync.com/HostedMigration/hostedmigrationService.svc, XX being the code in the ServiceInstance that Get-CsTenant | ft ServiceInstance shows in Teams PowerShell (MicrosoftCommunicationsOnline/YYYY-XX-ZZ); or sign in with a .onmicrosoft.com account."))
	}
	return checks
}
