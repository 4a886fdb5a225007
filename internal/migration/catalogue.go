package migration

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
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
	CodeUserNotInDomain     ErrorCode = "user_not_in_domain"
	CodeTimeout             ErrorCode = "timeout"
	CodeNotHomedOnline      ErrorCode = "not_homed_online"
	CodeMultipleEdgePools   ErrorCode = "multiple_federated_edge_pools"
	CodeSessionBroken       ErrorCode = "session_broken"
	CodeShellUnavailable    ErrorCode = "shell_unavailable"
	CodeSignInFailed        ErrorCode = "sign_in_failed"
	CodeNoRollbackRecord    ErrorCode = "no_rollback_record"
	CodeUnknown             ErrorCode = "unknown"

	// Found by the pre-flight checks in Microsoft Graph.
	CodeAccountNotFound        ErrorCode = "account_not_found"
	CodeAccountDisabled        ErrorCode = "account_disabled"
	CodeAccountNotSynchronised ErrorCode = "account_not_synchronised"
	CodeUsageLocationMissing   ErrorCode = "usage_location_missing"
	CodeDomainNotVerified      ErrorCode = "domain_not_verified"
	CodeNotProvisionedOnline   ErrorCode = "not_provisioned_online"
	CodeTeamsPhoneMissing      ErrorCode = "teams_phone_missing"
	CodeGraphThrottled         ErrorCode = "graph_throttled"
	CodeGraphUnavailable       ErrorCode = "graph_unavailable"
	CodeGraphAccessDenied      ErrorCode = "graph_access_denied"
	CodeCloudNotSupported      ErrorCode = "cloud_not_supported"
	CodeAccountNotReady        ErrorCode = "migration_account_not_ready"

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
	// Texts are the messages Microsoft publishes for this failure,
	// verbatim, each with where it is published: Classify matches them,
	// and the simulated tenant speaks nothing else.
	Texts []Published `json:"texts,omitempty"`
	// hints match a failure Microsoft describes without publishing its
	// message: lower-case fragments taken from the description, all of
	// which must appear. The simulated tenant never speaks them.
	hints [][]string
	// settles marks a failure whose meaning depends on time (the 507):
	// see SettleLicence.
	settles bool
	// Deployment marks a failure of the whole deployment, not of the user
	// (a sign-in that cannot work): moves stop across the deployment
	// until readiness passes again, and no user spends an attempt on it.
	Deployment bool `json:"deployment,omitempty"`
}

// Published is a message as Microsoft publishes it, and where. A part
// between angle brackets (<SipAddress>) stands for a value.
type Published struct {
	Text   string `json:"text"`
	Source string `json:"source"`
}

// Fill puts values into the message's placeholders, in order.
func (p Published) Fill(values ...string) string {
	s := p.Text
	for _, v := range values {
		i := strings.IndexByte(s, '<')
		j := strings.IndexByte(s[max(i, 0):], '>')
		if i < 0 || j < 0 {
			break
		}
		s = s[:i] + v + s[i+j+1:]
	}
	return s
}

// fragments are the literal parts of the message, lower case, without the
// cmdlet's name in front (PowerShell adds "Move-CsUser : " when it shows an
// error record; the exception's own message has none).
func (p Published) fragments() []string {
	s := strings.ToLower(p.Text)
	if _, rest, ok := strings.Cut(s, ": "); ok && strings.HasPrefix(strings.TrimSpace(s), "move-csuser") {
		s = rest
	}
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '<')
		j := strings.IndexByte(s[max(i, 0):], '>')
		if i < 0 || j < 0 {
			out = append(out, s)
			break
		}
		if lit := strings.TrimSpace(s[:i]); lit != "" {
			out = append(out, lit)
		}
		s = s[i+j+1:]
	}
	return out
}

// Messages Microsoft publishes for Move-CsUser and Get-CsUser, verbatim.
var (
	// SupportArticles-docs: SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/move-csuser-hostedmigration-fault-507.md.
	// "After you assign a license, you may receive the error ... until the
	// user is fully provisioned": the same text for a licence missing and
	// one still provisioning.
	Text507 = Published{
		Text:   "Move-CsUser: HostedMigration fault: Error=(507), Description=(User must has an assigned license to use Skype for Business Online.)",
		Source: "MicrosoftDocs/SupportArticles-docs SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/move-csuser-hostedmigration-fault-507.md",
	}
	Text510 = Published{
		Text:   "Move-CsUser : HostedMigration fault: Error=(510), Description=(This user's tenant is not enabled for shared sip address space.)",
		Source: "MicrosoftDocs/SupportArticles-docs SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/move-csuser--hostedmigration-fault.md",
	}
	// Moving back on premises ("could move be moved" as published).
	Text506 = Published{
		Text:   "Exception: Microsoft.Rtc.Management.AD.MoveUserException: HostedMigration fault: Error=(506), Description=(The user could move be moved because there appears to be a problem with this user account. Please verify the attribute settings on the account and then try again.)",
		Source: "MicrosoftDocs/SupportArticles-docs SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/hostedmigration-fault-error-506.md",
	}
	// A user of another Active Directory domain, looked up without
	// -DomainController.
	TextNoSIPURI = Published{
		Text:   "Cannot find user in Active Directory with the following SIP URI: <SipAddress>.",
		Source: "MicrosoftDocs/SupportArticles-docs SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/cannot-move-users-from-different-ad-domain.md",
	}
	// The management cmdlets' answer for an identity they cannot find,
	// quoted for Remove-CsUserAcp (the identity between double quotes).
	TextNoObject = Published{
		Text:   `Management object not found for identity "<Identity>".`,
		Source: "MicrosoftDocs/office-docs-powershell skype/skype-ps/SkypeForBusiness/Remove-CsUserAcp.md",
	}
)

// Sign-in messages: Entra ID's, and PowerShell's when a sign-in would prompt.
var (
	// A sample of Entra ID's answer when MFA is required
	// (MicrosoftDocs/entra-docs docs/identity-platform/v2-conditional-access-dev-guide.md).
	TextMFARequired = Published{
		Text:   "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '<Web API 2 App/Client ID>'.",
		Source: "MicrosoftDocs/entra-docs docs/identity-platform/v2-conditional-access-dev-guide.md",
	}
	// What a prompt (Get-Credential, an interactive sign-in) gives under
	// -NonInteractive.
	TextNonInteractive = Published{
		Text:   "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
		Source: "PowerShell/PowerShell src/Microsoft.PowerShell.ConsoleHost/resources/ConsoleHostUserInterfaceStrings.resx",
	}
)

// Catalogue is every known failure of the shell, most specific first:
// Classify returns the first entry one of whose texts (or hints) the
// message holds.
//
// Microsoft publishes no text for throttling of the hosted migration
// service, a session that expired or access denied to Move-CsUser, so none
// is matched here: such messages are unknown, retried once, and shown as
// they came.
var Catalogue = []Failure{
	{
		// Any Entra ID sign-in error: "AADSTS" and its number
		// (MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md,
		// which warns against depending on the text that follows).
		Code: CodeSignInFailed, Transient: false, Deployment: true,
		Explanation: "Move-CsUser could not sign in to Teams: the deployment's sign-in fails (MFA required, a wrong or expired password, a locked account, or a prompt the unattended worker cannot show). No user is at fault.",
		Fix:         "Give the worker a dedicated account exempt from interactive MFA (--pwsh-user, --pwsh-password) or run it in a session already signed in; fix the account in Entra ID. Moves resume by themselves once the worker host's sign-in check passes.",
		Texts:       []Published{TextMFARequired, TextNonInteractive},
		hints:       [][]string{{"aadsts"}, {"is in noninteractive mode. read and prompt functionality is not available."}},
	},
	{
		Code: CodeLicenceMissing, Transient: false, settles: true,
		Explanation: "The user has no Teams / Skype for Business Online (Plan 2) licence (error 507), or it was assigned too long ago to be still provisioning.",
		Fix:         "Assign a licence with Microsoft Teams and Skype for Business Online (Plan 2), wait 30 minutes, then retry the user.",
		Texts:       []Published{Text507},
	},
	{
		Code: CodeTenantNotEnabled, Transient: false,
		Explanation: "The tenant is not enabled for shared SIP address space (error 510).",
		Fix:         "Run Set-CsTenantFederationConfiguration -SharedSipAddressSpace $true in Teams PowerShell (it must stay true until no user remains on premises), then retry.",
		Texts:       []Published{Text510},
	},
	{
		Code: CodeNotSynchronised, Transient: false,
		Explanation: "The user's Skype for Business attributes (msRTCSIP-*) are not synchronised to the tenant, so the user cannot be moved back (error 506).",
		Fix:         "Rerun the Microsoft Entra Connect configuration wizard so that it synchronises the msRTCSIP-* attributes, let it synchronise, then retry.",
		Texts:       []Published{Text506},
	},
	{
		Code: CodeUserNotInDomain, Transient: false,
		Explanation: "Move-CsUser found no Active Directory user with this SIP address in the domain it searched: the user is in another domain of the forest, or the SIP address is wrong.",
		Fix:         "Set --domain-controller to a domain controller of the user's domain (it is passed as Move-CsUser -DomainController), or correct the SIP address in the pilot group; then retry.",
		Texts:       []Published{TextNoSIPURI},
	},
	{
		Code: CodeUserNotFound, Transient: false,
		Explanation: "The on-premises server has no Skype for Business user with this identity.",
		Fix:         "Check the UPN and SIP address in the pilot group against Get-CsUser; fix the group and retry.",
		Texts:       []Published{TextNoObject},
	},
	{
		// Move-CsUser.md: "If you receive an error while running this
		// cmdlet about multiple federated Edge pools, Skype for Business
		// Federation can only be enabled for a single Edge pool." The
		// error's own text is not published.
		Code: CodeMultipleEdgePools, Transient: false,
		Explanation: "Federation is enabled for more than one Edge pool; Skype for Business federation can be enabled for a single Edge pool only.",
		Fix:         "Choose one Edge pool as the federating Edge pool (Topology Builder), publish the topology, then retry.",
		hints:       [][]string{{"multiple federated edge pools"}},
	},
}

// shellConditions are failures cutover sees in how a shell call went, not
// in a message: the call timed out, the remote session broke, the move was
// accepted but the homing did not change.
var shellConditions = []Failure{
	{Code: CodeTimeout, Transient: true,
		Explanation: "The call for this user to the management shell, the hosted migration service or Microsoft Graph did not answer in time, while the service answered others (a probe after the call was answered).",
		Fix:         "Nothing: cutover tries again. If the same user keeps timing out, run Get-CsUser and Move-CsUser for them by hand to see where it hangs."},
	{Code: CodeShellUnavailable, Transient: true, Deployment: true,
		Explanation: "The management shell did not answer a call, nor the probe that followed it (a read that touches no user): the front-end pool, its remote session or the network to it is down. The deployment's fault, not the user's.",
		Fix:         "Nothing: moves wait, spending no attempt, and go on once the shell answers the workers' probe again. If it persists, check the front-end pool, WinRM and the network from the worker host."},
	{Code: CodeSessionBroken, Transient: true,
		Explanation: "The remote PowerShell session to the front-end pool broke (a PSRemotingTransportException).",
		Fix:         "Nothing: cutover opens a new session and tries again. If it persists, check WinRM on the front-end pool."},
	{Code: CodeNotHomedOnline, Transient: true,
		Explanation: "The move was accepted but Get-CsUser does not show the user homed online yet.",
		Fix:         "Nothing: cutover checks again. If it persists, run Get-CsUser for the user."},
}

// HoldReason says in a few words why moves wait when a failure that is the
// deployment's (Failure.Deployment) holds them.
func HoldReason(code ErrorCode) string {
	switch code {
	case CodeSignInFailed:
		return "Move-CsUser cannot sign in to Teams"
	case CodeGraphUnavailable:
		return "Microsoft Graph does not answer"
	case CodeShellUnavailable:
		return ShellUnanswered()
	case CodeAccountNotReady:
		return "the migration account cannot move users"
	case CodeCloudNotSupported:
		return "the tenant is in a US government cloud, which cutover does not serve"
	case CodeGraphAccessDenied:
		return "Microsoft Graph refuses cutover's credentials"
	}
	return string(code)
}

// ErrSessionBroken marks a shell call that failed because its remote
// session broke: PowerShell's
// System.Management.Automation.Remoting.PSRemotingTransportException
// (PowerShell/PowerShell
// src/System.Management.Automation/engine/remoting/common/remotingexceptions.cs).
var ErrSessionBroken = errors.New("the remote PowerShell session broke")

// ErrUnreachable marks a shell call that could not reach the shell at all
// (no connection): like a time-out, it says nothing of the user.
var ErrUnreachable = errors.New("the management shell could not be reached")

// directoryFailures are the failures found in Microsoft Graph: by pre-flight
// checks (the check says the evidence) or by Graph's own answers.
var directoryFailures = []Failure{
	{Code: CodeLicenceProvisioning, Transient: true,
		Explanation: "The user's licence is still being provisioned: Move-CsUser answers 507 for up to 30 minutes after a licence is assigned.",
		Fix:         "Nothing: cutover tries again. If it still fails 30 minutes after the licence was assigned, check the licence in the admin centre."},
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
	{Code: CodeTeamsPhoneMissing, Explanation: "The user is enabled for Enterprise Voice on premises; a move online provisions them for Teams Phone, which needs a Teams Phone (MCOEV) licence.",
		Fix: "Assign a Teams Phone licence (MCOEV), then retry; or move the user in a wave with bypass_enterprise_voice_check (Move-CsUser -BypassEnterpriseVoiceCheck) and handle their number separately."},
	{Code: CodeNotProvisionedOnline, Explanation: "The move finished on premises, but Teams does not show the user as a Teams user (accountType user) after the provisioning wait.",
		Fix: "Check the user with Get-CsOnlineUser; open a support case if the homing does not update."},
	{Code: CodeNoRollbackRecord, Explanation: "cutover holds no record of the user's on-premises state from before the move, so it cannot tell where to move them back.",
		Fix: "Move the user back by hand (Move-CsUser -Target <pool>) after checking Get-CsUser."},
	{Code: CodeGraphThrottled, Transient: true, Explanation: "Microsoft Graph throttled cutover's requests.",
		Fix: "Nothing: cutover waits as Graph asks and tries again."},
	{Code: CodeGraphUnavailable, Transient: true, Deployment: true, Explanation: "Microsoft Graph (or the sign-in to Entra ID) did not answer, or answered with a server error: the deployment's fault, not the user's.",
		Fix: "Nothing: moves wait, spending no attempt, and go on once Graph answers the workers' check again. Check the network to Graph and the service health dashboard if it persists."},
	{Code: CodeGraphAccessDenied, Deployment: true, Explanation: "Microsoft Graph (or the sign-in to Entra ID) refused cutover's credentials: the deployment's fault, not the user's.",
		Fix: "Check the app registration's client secret or certificate and its application permissions (User.Read.All, Directory.Read.All, Organization.Read.All, TeamsUserConfiguration.Read.All), with admin consent."},
	{Code: CodeCloudNotSupported, Deployment: true, Explanation: "The tenant is in a US government cloud (GCC, GCC High or DoD): cutover knows the commercial cloud's service plans and move target only, so it moves nobody rather than misjudge every licence.",
		Fix: "Move the users with Microsoft's own tools for the government cloud (Move-CsUser with that cloud's -Target and -HostedMigrationOverrideUrl); cutover does not serve these tenants."},
	{Code: CodeAccountNotReady, Deployment: true, Explanation: "The account Move-CsUser signs in with cannot move anyone: it holds none of the roles a move needs, or, synchronised from on premises, it needs -HostedMigrationOverrideUrl. No user is at fault.",
		Fix: "Do what the deployment's readiness says for the migration account (a role to assign, or --hosted-migration-override-url to set); moves go on by themselves at the workers' next check."},
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
	case CodeTimeout, CodeGraphThrottled:
		return true
	}
	return false
}

// CodeCount is how many moves failed with one error code.
type CodeCount struct {
	Code  ErrorCode `json:"code"`
	Count int       `json:"count"`
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
	for _, f := range slices.Concat(Catalogue, shellConditions, directoryFailures) {
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
	if errors.Is(err, ErrSessionBroken) {
		return FailureFor(CodeSessionBroken)
	}
	if pe, ok := errors.AsType[*PreflightError](err); ok {
		f := FailureFor(pe.Check.Code)
		f.settles = false // a check in Graph says which it is: no 507 to read
		return f
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
		if f.matches(msg) {
			return f
		}
	}
	return unknownFailure
}

// matches reports whether a lower-case message is one of the entry's.
func (f Failure) matches(msg string) bool {
	for _, t := range f.Texts {
		if containsAll(msg, t.fragments()) {
			return true
		}
	}
	for _, fragments := range f.hints {
		if containsAll(msg, fragments) {
			return true
		}
	}
	return false
}

// PublishedText finds the catalogue's published text a message is, its
// placeholders filled with anything (with or without the cmdlet's name in
// front).
func PublishedText(msg string) (Published, bool) {
	for _, f := range Catalogue {
		for _, p := range f.Texts {
			if p.Is(msg) {
				return p, true
			}
		}
	}
	return Published{}, false
}

// Is reports whether msg is the text, its placeholders filled.
func (p Published) Is(msg string) bool {
	pattern := regexp.QuoteMeta(p.Text)
	pattern = placeholderRE.ReplaceAllString(pattern, ".+")
	pattern = strings.Replace(pattern, `Move-CsUser: `, `(Move-CsUser ?: )?`, 1)
	pattern = strings.Replace(pattern, `Move-CsUser : `, `(Move-CsUser ?: )?`, 1)
	return regexp.MustCompile(`^` + pattern + `$`).MatchString(msg)
}

// placeholderRE finds a placeholder in a text quoted by regexp.QuoteMeta.
var placeholderRE = regexp.MustCompile(`<[^<>]+>`)

// SettleLicence says what a 507 means, which Microsoft answers alike for a
// licence missing and one still provisioning ("This can require up to 30
// minutes in some cases": SupportArticles-docs
// SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/move-csuser-hostedmigration-fault-507.md).
// since is when the licence was assigned, as Graph says, or else when the
// user first answered 507: within settle of it the licence is taken to be
// provisioning (retried); after it, missing. Other failures pass unchanged.
func SettleLicence(f Failure, since, now time.Time, settle time.Duration) Failure {
	if !f.settles || since.IsZero() || now.Sub(since) >= settle {
		return f
	}
	return FailureFor(CodeLicenceProvisioning)
}

func containsAll(s string, fragments []string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return len(fragments) > 0
}
