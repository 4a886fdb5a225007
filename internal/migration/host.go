package migration

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// HostFacts are what a worker host's shell reports of itself: the
// PowerShell that runs Move-CsUser, its modules, the Skype for Business
// Server build, TLS 1.2, and whether signing in to Teams works.
type HostFacts struct {
	// PSEdition and PSVersion are $PSVersionTable.PSEdition (Desktop for
	// Windows PowerShell, Core for PowerShell 7) and .PSVersion.
	PSEdition string `json:"ps_edition"`
	PSVersion string `json:"ps_version"`
	// SkypeModule is "" when the SkypeForBusiness module (or the remote
	// session to the front-end pool) loads, else the error it gave.
	SkypeModule string `json:"skype_module,omitempty"`
	// TeamsModule is the highest MicrosoftTeams module version installed
	// ("" if none is).
	TeamsModule string `json:"teams_module"`
	// ServerProduct and ServerBuild are the Skype for Business Server
	// product (Get-CsServerVersion) and build (the highest component
	// version of Get-CsServerPatchVersion).
	ServerProduct string `json:"server_product"`
	ServerBuild   string `json:"server_build"`
	// TLS12 reports whether .NET on the host uses strong cryptography
	// (TLS 1.2).
	TLS12 bool `json:"tls12"`
	// SignInMode is how Move-CsUser signs in to Teams: SignInCredential
	// (a dedicated account given by credential) or SignInSession (the
	// process's own signed-in session).
	SignInMode string `json:"sign_in_mode"`
	// Pool is the front-end pool whose remote session Move-CsUser runs in
	// (--pwsh-pool), "" when it runs on this host. In pool mode the
	// MicrosoftTeams module and TLS 1.2 that count are the pool's, read
	// through its session; PoolChecks is why they could not be ("" if they
	// were).
	Pool       string `json:"pool,omitempty"`
	PoolChecks string `json:"pool_checks,omitempty"`
	// Account is the account Move-CsUser signs in with by credential ("" in
	// session mode: the session's own, unknown to cutover).
	Account string `json:"account,omitempty"`
	// SignIn is "" when signing in to Teams worked, else the error.
	SignIn string `json:"sign_in,omitempty"`
}

// Sign-in modes of a worker host.
const (
	SignInCredential = "credential"
	SignInSession    = "session"
)

// Minimum versions for moves between on premises and Teams.
var (
	// "Install or update the Microsoft Teams PowerShell module to version
	// 6.2.1 or later" (MicrosoftDocs/office-docs-powershell
	// skype/skype-ps/SkypeForBusiness/Move-CsUser.md).
	MinTeamsModule = "6.2.1"
	// The same page: "Due to a regression issue in MicrosoftTeams module
	// versions greater than 7.1, customers are advised to use module
	// versions 7.1 or earlier until a fix is available."
	MaxTeamsModule = "7.1"
	// The same page's MINIMUM REQUIRED SERVER VERSIONS, also in
	// MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Skype/SfbHybrid/hybrid/move-users-between-on-premises-and-cloud.md.
	MinServerBuilds = []struct{ Product, Version, Build string }{
		{"Skype for Business Server 2019", "CU6", "7.0.2046.385"},
		{"Skype for Business Server 2015", "CU12", "6.0.9319.619"},
		{"Lync Server 2013", "CU10 with Hotfix 7", "5.0.8308.1182"},
	}

	// EndOfSupport are the on-premises servers past their end of support:
	// "Microsoft Lync Server 2013 will reach end of support on April 11,
	// 2023." and, of Skype for Business Server 2015 and 2019, "both of these
	// products will reach end of support on October 14, 2025."
	// (MicrosoftDocs/microsoft-365-docs
	// microsoft-365/enterprise/upgrade-from-lync-2013.md; the lifecycle
	// data's extendedEnd says the same).
	EndOfSupport = []struct{ Product, Ended string }{
		{"Skype for Business Server 2019", "14 October 2025"},
		{"Skype for Business Server 2015", "14 October 2025"},
		{"Lync Server 2013", "11 April 2023"},
	}
)

// HostReadiness checks a worker host's facts against what Microsoft
// documents for Move-CsUser. A host with a failed check takes no moves.
func HostReadiness(f HostFacts) []Check {
	var checks []Check
	add := func(name string, status CheckStatus, evidence, fix string) {
		checks = append(checks, Check{Name: name, Status: status, Evidence: evidence, Fix: fix})
	}

	// "Microsoft Teams PowerShell module requires Windows PowerShell 5.1
	// or PowerShell 7.2 or later" (MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Teams/teams-powershell-install.md).
	ps := fmt.Sprintf("PowerShell %s (%s)", f.PSVersion, f.PSEdition)
	switch {
	case f.PSEdition == "Desktop" && versionAtLeast(f.PSVersion, "5.1"), f.PSEdition == "Core" && versionAtLeast(f.PSVersion, "7.2"):
		add("powershell", CheckPass, ps, "")
	default:
		add("powershell", CheckFail, ps+": the MicrosoftTeams module needs Windows PowerShell 5.1 or PowerShell 7.2 or later",
			"Run the worker with Windows PowerShell 5.1 (powershell.exe, --pwsh) on the Skype for Business Server host.")
	}

	if f.SkypeModule == "" {
		add("skype_module", CheckPass, "the SkypeForBusiness module loads", "")
	} else {
		add("skype_module", CheckFail, "the SkypeForBusiness module does not load: "+f.SkypeModule,
			"Install the Skype for Business Server administrative tools on the host, or set --pwsh-pool to a front-end pool for a remote session.")
	}

	// The install and update commands, and the elevated session an update
	// needs, are MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Teams/teams-powershell-install.md's; -RequiredVersion is
	// Install-Module's own (MicrosoftDocs/PowerShell-Docs, PowerShellGet).
	// In pool mode Move-CsUser runs in the front-end pool's session: its
	// module and TLS are the ones that count, and when they could not be
	// read there, the host's own say nothing of them.
	where := ""
	if f.Pool != "" {
		where = " in the front-end pool's session (" + f.Pool + ")"
	}
	switch {
	case f.Pool != "" && f.PoolChecks != "":
		add("teams_module", CheckWarn, "Move-CsUser runs in the front-end pool's session ("+f.Pool+"), whose MicrosoftTeams module could not be read there: "+f.PoolChecks,
			"On the pool's front-end servers, check that MicrosoftTeams "+MinTeamsModule+" to 7.1 is installed (Get-Module -ListAvailable MicrosoftTeams).")
	case f.TeamsModule == "":
		add("teams_module", CheckFail, "the MicrosoftTeams PowerShell module is not installed"+where+"; Move-CsUser needs "+MinTeamsModule+" or later",
			"Install-Module -Name MicrosoftTeams -Force -AllowClobber")
	case !versionAtLeast(f.TeamsModule, MinTeamsModule):
		add("teams_module", CheckFail, "MicrosoftTeams "+f.TeamsModule+where+" is older than "+MinTeamsModule+", which Move-CsUser needs",
			"Update-Module MicrosoftTeams (in a new elevated PowerShell session)")
	case versionAtLeast(f.TeamsModule, MaxTeamsModule) && !versionEqual(f.TeamsModule, MaxTeamsModule):
		add("teams_module", CheckWarn, "MicrosoftTeams "+f.TeamsModule+": Microsoft advises 7.1 or earlier until a fix for a regression in later versions",
			"Install-Module -Name MicrosoftTeams -RequiredVersion 7.1.0 -Force -AllowClobber, until the Skype for Business Server cumulative update with the fix is installed.")
	default:
		add("teams_module", CheckPass, "MicrosoftTeams "+f.TeamsModule+where, "")
	}

	checks = append(checks, serverBuildCheck(f))
	if c := supportCheck(f); c != nil {
		checks = append(checks, *c)
	}

	// The registry value is read under PowerShell 7 too: the
	// SkypeForBusiness module runs in Windows PowerShell (.NET Framework)
	// whichever PowerShell loads it.
	switch {
	case f.Pool != "" && f.PoolChecks != "":
		add("tls12", CheckWarn, "Move-CsUser runs in the front-end pool's session ("+f.Pool+"), whose TLS 1.2 setting could not be read there: "+f.PoolChecks,
			`On the pool's front-end servers, check that HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319 SchUseStrongCrypto is 1 ("Moving users from On-Premises to Teams requires TLS 1.2": Move-CsUser.md).`)
	case f.TLS12:
		add("tls12", CheckPass, "strong cryptography (TLS 1.2) is on for .NET"+where, "")
	default:
		// The registry values of MicrosoftDocs/OfficeDocs-SkypeForBusiness
		// Skype/SfbServer/manage/topology/disable-tls-1.0-1.1.md.
		add("tls12", CheckFail, "SchUseStrongCrypto is not 1 for .NET 4"+where+": \"Moving users from On-Premises to Teams requires TLS 1.2\" (Move-CsUser.md)",
			`Set HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319 SchUseStrongCrypto = 1 (and under Wow6432Node), then restart the worker.`)
	}

	mode := "signs in with the process's own session"
	if f.SignInMode == SignInCredential {
		mode = "signs in with a dedicated account given by credential"
	}
	switch {
	case f.SignIn == "":
		add(CheckSignIn, CheckPass, "Move-CsUser "+mode, "")
	default:
		add(CheckSignIn, CheckFail, "signing in to Teams failed ("+mode+"): "+f.SignIn, FailureFor(CodeSignInFailed).Fix)
	}
	return checks
}

// supportCheck warns of a server past its end of support (EndOfSupport):
// moves still work, but nothing on premises is fixed any more.
func supportCheck(f HostFacts) *Check {
	for _, e := range EndOfSupport {
		if strings.Contains(f.ServerProduct, e.Product) {
			return &Check{Name: "server_support", Status: CheckWarn,
				Evidence: e.Product + " reached the end of its support on " + e.Ended + ": Microsoft no longer fixes it",
				Fix:      "Nothing for the moves. Every user left on premises is on an unsupported server: keep the waves going."}
		}
	}
	return nil
}

func serverBuildCheck(f HostFacts) Check {
	c := Check{Name: "server_build"}
	what := strings.TrimSpace(f.ServerProduct + " " + f.ServerBuild)
	if strings.Contains(f.ServerProduct, "Subscription Edition") {
		c.Status, c.Evidence = CheckPass, what+": Subscription Edition"
		return c
	}
	for _, m := range MinServerBuilds {
		if !strings.Contains(f.ServerProduct, m.Product) && !strings.HasPrefix(f.ServerBuild, strings.Join(strings.Split(m.Build, ".")[:2], ".")+".") {
			continue
		}
		if versionAtLeast(f.ServerBuild, m.Build) {
			c.Status, c.Evidence = CheckPass, fmt.Sprintf("%s, at or above %s %s (%s)", what, m.Product, m.Version, m.Build)
		} else {
			c.Status = CheckFail
			c.Evidence = fmt.Sprintf("%s is older than %s %s (%s), the minimum for moves between on premises and Teams", what, m.Product, m.Version, m.Build)
			c.Fix = fmt.Sprintf("Install %s %s or a later cumulative update on the pool and on this host.", m.Product, m.Version)
		}
		return c
	}
	c.Status = CheckFail
	c.Evidence = "unknown Skype for Business Server build: " + cmp.Or(what, "none reported")
	c.Fix = "Run the worker on a host with the Skype for Business Server 2015 CU12, 2019 CU6 or Subscription Edition administrative tools."
	return c
}

// versionAtLeast reports whether the dotted version v is at least min
// (missing parts count as 0; a part that is not a number ends the
// comparison there, as "7.1.0-preview" compares as 7.1.0).
func versionAtLeast(v, min string) bool { return compareVersions(v, min) >= 0 }

func versionEqual(v, w string) bool { return compareVersions(v, w) == 0 }

func compareVersions(v, w string) int {
	a, b := versionParts(v), versionParts(w)
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(strings.TrimSpace(v), ".") {
		digits := p
		if i := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			digits = p[:i]
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			break
		}
		out = append(out, n)
		if digits != p {
			break
		}
	}
	return out
}

// HostReady reports whether a host with these checks may take moves. A
// failed sign-in does not count here: it is the deployment's condition, and
// holds every host's moves on its own (jobs.Readiness).
func HostReady(checks []Check) bool {
	for _, c := range checks {
		if c.Status == CheckFail && c.Name != CheckSignIn {
			return false
		}
	}
	return true
}

// CheckSignIn is the name of the sign-in check.
const CheckSignIn = "sign_in"
