package migration

import "context"

// OnlineHostingProvider is the HostingProvider of a user homed in Skype for
// Business Online / Teams; on-premises users show "SRV:".
const OnlineHostingProvider = "sipfed.online.lync.com"

// Shell is what cutover asks of the Skype for Business Server management shell.
//
// Errors carry the shell's own message; Classify turns them into a code. A
// shell reached over a network returns context.DeadlineExceeded on time-outs.
type Shell interface {
	// GetUser reads a user's homing and settings (Get-CsUser).
	GetUser(ctx context.Context, identity string) (ShellUser, error)
	// MoveOnline moves a user to Skype for Business Online / Teams
	// (Move-CsUser -Target sipfed.online.lync.com).
	MoveOnline(ctx context.Context, identity string) error
	// MoveToPool moves a user back to an on-premises registrar pool
	// (Move-CsUser -Target pool).
	MoveToPool(ctx context.Context, identity, pool string) error
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

// HomedOnline reports whether the user is already homed online.
func (u ShellUser) HomedOnline() bool { return u.HostingProvider == OnlineHostingProvider }
