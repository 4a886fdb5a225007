package migration

import (
	"context"
	"strings"
)

// DefaultOnlineTarget is the ProxyFqdn of Microsoft's hosting provider "in
// most cases"; "in specialized environments, there will be variants of this
// address", read with Get-CsHostingProvider (MicrosoftDocs/office-docs-powershell
// skype/skype-ps/SkypeForBusiness/Move-CsUser.md). A user homed online shows
// it as HostingProvider; a user on premises shows "SRV:"
// (MicrosoftDocs/SupportArticles-docs
// SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/hostedmigration-fault-error-506.md).
const DefaultOnlineTarget = "sipfed.online.lync.com"

// MoveOnlineOptions are the parameters of a move online.
type MoveOnlineOptions struct {
	// Target is the hosting provider's ProxyFqdn (Move-CsUser -Target).
	// Defaults to DefaultOnlineTarget.
	Target string
	// BypassEnterpriseVoiceCheck passes -BypassEnterpriseVoiceCheck: an
	// Enterprise Voice user is moved without being provisioned for Teams
	// Phone, so without its licence (Move-CsUser.md).
	BypassEnterpriseVoiceCheck bool
}

// TargetOrDefault is the target, or DefaultOnlineTarget if none is set.
func (o MoveOnlineOptions) TargetOrDefault() string {
	if o.Target == "" {
		return DefaultOnlineTarget
	}
	return o.Target
}

// Shell is what cutover asks of the Skype for Business Server management shell.
//
// Errors carry the shell's own message; Classify turns them into a code. A
// shell reached over a network returns context.DeadlineExceeded on time-outs.
type Shell interface {
	// GetUser reads a user's homing and settings (Get-CsUser).
	GetUser(ctx context.Context, identity string) (ShellUser, error)
	// MoveOnline moves a user to Teams (Move-CsUser -Target ProxyFqdn).
	MoveOnline(ctx context.Context, identity string, opts MoveOnlineOptions) error
	// MoveToPool moves a user back to an on-premises registrar pool
	// (Move-CsUser -Target pool).
	MoveToPool(ctx context.Context, identity, pool string) error
	// CheckHost reports the worker host's facts (HostReadiness checks
	// them). Read-only: it moves nobody.
	CheckHost(ctx context.Context) (HostFacts, error)
	// VoiceUsers returns which of members are enabled for Enterprise Voice
	// on premises, with their LineURI, keyed by UPN (Get-CsUser -Filter
	// {EnterpriseVoiceEnabled -eq $True}: MicrosoftDocs/office-docs-powershell
	// skype/skype-ps/SkypeForBusiness/Get-CsUser.md). Read-only.
	VoiceUsers(ctx context.Context, members []Member) (map[string]ShellUser, error)
	// OnPremises reads the on-premises hybrid configuration
	// (Get-CsHostingProvider, Get-CsAccessEdgeConfiguration). Read-only.
	OnPremises(ctx context.Context) (OnPremises, error)
}

// CompletionShell is what the completion of a moved user asks of the
// shells.
type CompletionShell interface {
	// MeetingMigration reads a moved user's meeting migration
	// (Get-CsMeetingMigrationStatus -Identity, of the MicrosoftTeams
	// module, signed in to Teams: MicrosoftDocs/office-docs-powershell
	// teams/teams-ps/MicrosoftTeams/Get-CsMeetingMigrationStatus.md);
	// found is false when it shows none. Read-only.
	MeetingMigration(ctx context.Context, identity string) (mm MeetingMigration, found bool, err error)
	// StartMeetingMigration asks Microsoft to migrate a moved user's
	// meetings to Teams again (Start-CsExMeetingMigration -Identity <user>
	// -TargetMeetingType Teams: MicrosoftDocs/office-docs-powershell
	// teams/teams-ps/MicrosoftTeams/Start-CsExMeetingMigration.md, example
	// 1), which sends the meeting invitations again: only on a lead's
	// request, at most once.
	StartMeetingMigration(ctx context.Context, identity string) error
	// ClearLineURI clears a moved user's number on premises
	// (Set-CsUser -Identity <user> -LineUri $null:
	// MicrosoftDocs/OfficeDocs-SkypeForBusiness Teams/direct-routing-enable-users.md).
	ClearLineURI(ctx context.Context, identity string) error
	// AssignNumber assigns a moved user their number online, signed in to
	// Teams (Set-CsPhoneNumberAssignment -Identity <user> -PhoneNumber
	// <number> -PhoneNumberType DirectRouting: the same page).
	AssignNumber(ctx context.Context, identity, number string) error
}

// ShellUser is a user as Get-CsUser shows them.
type ShellUser struct {
	Identity               string            `json:"identity"`
	SipAddress             string            `json:"sip_address"`
	RegistrarPool          string            `json:"registrar_pool"`
	HostingProvider        string            `json:"hosting_provider"`
	EnterpriseVoiceEnabled bool              `json:"enterprise_voice_enabled"`
	LineURI                string            `json:"line_uri"`
	Policies               map[string]string `json:"policies"`
}

// HomedOnline reports whether the user is homed online at the hosting
// provider whose ProxyFqdn is target ("" for DefaultOnlineTarget).
func (u ShellUser) HomedOnline(target string) bool {
	return strings.EqualFold(u.HostingProvider, MoveOnlineOptions{Target: target}.TargetOrDefault())
}
