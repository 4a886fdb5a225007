//go:build !windows

package pwsh_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pwsh"
	"github.com/cutover/cutover/internal/sim"
)

// fakePwsh is the path of the built testdata/fakepwsh.
var fakePwsh string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakepwsh-")
	if err != nil {
		panic(err)
	}
	fakePwsh = filepath.Join(dir, "pwsh")
	if out, err := exec.Command("go", "build", "-o", fakePwsh, "./testdata/fakepwsh").CombinedOutput(); err != nil {
		panic("building the fake pwsh: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type fakeUser struct {
	Kind     string `json:"kind"`
	Failures int    `json:"failures,omitempty"`
	Voice    string `json:"voice,omitempty"` // LineURI of an Enterprise Voice user
	// Meetings is what Get-CsMeetingMigrationStatus shows.
	Meetings *migration.MeetingMigration `json:"meetings,omitempty"`
}

// setup writes the fake shell's state and returns a driver on it.
func setup(t testing.TB, users map[string]fakeUser, cfg pwsh.Config) (*pwsh.Shell, string) {
	t.Helper()
	dir := t.TempDir()
	state, err := json.Marshal(map[string]any{"users": users})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "state.json"), state, 0o600))
	cfg.Env = append(cfg.Env, "FAKEPWSH_STATE="+filepath.Join(dir, "state.json"), "FAKEPWSH_LOG="+filepath.Join(dir, "calls.log"),
		"FAKEPWSH_CHILD="+filepath.Join(dir, "child.pid"))
	cfg.Executable = fakePwsh
	s, err := pwsh.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

// modes are the two ways the driver runs PowerShell.
var modes = []struct {
	name     string
	sessions int
}{{"process per call", 0}, {"sessions", 2}}

// eachMode runs test once per mode, in parallel.
func eachMode(t *testing.T, test func(t *testing.T, sessions int)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m.sessions)
		})
	}
}

func TestMoveThroughPowerShell(t *testing.T) {
	t.Parallel()
	eachMode(t, testMoveThroughPowerShell)
}

func testMoveThroughPowerShell(t *testing.T, sessions int) {
	s, dir := setup(t, nil, pwsh.Config{Sessions: sessions})
	ctx := context.Background()
	u, err := s.GetUser(ctx, "alice@contoso.com")
	require.NoError(t, err)
	require.False(t, u.HomedOnline(""))
	require.Equal(t, "pool01.contoso.com", u.RegistrarPool)
	require.Equal(t, "sip:alice@contoso.com", u.SipAddress)

	require.NoError(t, s.MoveOnline(ctx, "alice@contoso.com", migration.MoveOnlineOptions{}))
	u, err = s.GetUser(ctx, "alice@contoso.com")
	require.NoError(t, err)
	require.True(t, u.HomedOnline(""))

	require.NoError(t, s.MoveToPool(ctx, "alice@contoso.com", "pool02.contoso.com"))
	u, err = s.GetUser(ctx, "alice@contoso.com")
	require.NoError(t, err)
	require.Equal(t, "pool02.contoso.com", u.RegistrarPool)

	// Five calls: five processes, or one session.
	calls, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	require.NoError(t, err)
	starts := strings.Count(string(calls), "start\n")
	if sessions == 0 {
		require.Equal(t, 5, starts)
	} else {
		require.Equal(t, 1, starts)
	}
}

// TestSameCodesAsSimulator: the driver and the simulated shell yield the same
// error code, through the one catalogue, for the same situation.
func TestSameCodesAsSimulator(t *testing.T) {
	t.Parallel()
	eachMode(t, testSameCodesAsSimulator)
}

func testSameCodesAsSimulator(t *testing.T, sessions int) {
	kinds := []sim.Kind{sim.KindNotFound, sim.KindLicenceMissing, sim.KindTenantNotEnabled,
		sim.KindLicenceProvisioning, sim.KindOtherDomain}
	users := map[string]fakeUser{}
	simShell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	for _, k := range kinds {
		users[string(k)+"@contoso.com"] = fakeUser{Kind: string(k), Failures: 1}
		simShell.SetBehaviour(string(k)+"@contoso.com", sim.Behaviour{Kind: k, Failures: 1})
	}
	s, _ := setup(t, users, pwsh.Config{Sessions: sessions})
	ctx := context.Background()
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			upn := string(k) + "@contoso.com"
			simErr := simShell.MoveOnline(ctx, upn, migration.MoveOnlineOptions{})
			pwshErr := s.MoveOnline(ctx, upn, migration.MoveOnlineOptions{})
			require.Error(t, simErr)
			require.Error(t, pwshErr)
			var pe *pwsh.Error
			require.ErrorAs(t, pwshErr, &pe)
			require.Equal(t, "Microsoft.Rtc.Management.AD.ManagementException", pe.Type)
			want := migration.Classify(simErr)
			require.NotEqual(t, migration.CodeUnknown, want.Code)
			require.Equal(t, want.Code, migration.Classify(pwshErr).Code)
			if k.Transient() { // the second call goes through, as in the simulator
				require.NoError(t, s.MoveOnline(ctx, upn, migration.MoveOnlineOptions{}))
			}
		})
	}
	_, err := s.GetUser(ctx, "not_found@contoso.com")
	require.Equal(t, migration.CodeUserNotFound, migration.Classify(err).Code)

	// 506 comes on the way back.
	const back = "not_synced_back@contoso.com"
	simShell.SetBehaviour(back, sim.Behaviour{Kind: sim.KindNotSyncedBack})
	require.NoError(t, simShell.MoveOnline(ctx, back, migration.MoveOnlineOptions{}))
	simErr := simShell.MoveToPool(ctx, back, "pool01.contoso.com")
	s2, _ := setup(t, map[string]fakeUser{back: {Kind: string(sim.KindNotSyncedBack)}}, pwsh.Config{Sessions: sessions})
	require.NoError(t, s2.MoveOnline(ctx, back, migration.MoveOnlineOptions{}))
	pwshErr := s2.MoveToPool(ctx, back, "pool01.contoso.com")
	require.Equal(t, migration.CodeNotSynchronised, migration.Classify(simErr).Code)
	require.Equal(t, migration.CodeNotSynchronised, migration.Classify(pwshErr).Code)
}

func TestBrokenShell(t *testing.T) {
	t.Parallel()
	eachMode(t, testBrokenShell)
}

func testBrokenShell(t *testing.T, sessions int) {
	users := map[string]fakeUser{
		"garbage@contoso.com":  {Kind: "garbage"},
		"crash@contoso.com":    {Kind: "crash"},
		"huge@contoso.com":     {Kind: "huge"},
		"noanswer@contoso.com": {Kind: "noanswer"},
	}
	s, _ := setup(t, users, pwsh.Config{Sessions: sessions, Credential: func(context.Context) (string, string, error) {
		return `CONTOSO\svc-cutover`, "Pa55-Never-Shown", nil
	}})
	tests := []struct {
		upn  string
		want string
	}{
		{"garbage@contoso.com", "the answer is not JSON"},
		{"crash@contoso.com", "exit status 3"},
		{"huge@contoso.com", "larger than"},
		{"noanswer@contoso.com", "without an answer"},
	}
	for _, tt := range tests {
		t.Run(tt.upn, func(t *testing.T) {
			t.Parallel()
			_, err := s.GetUser(context.Background(), tt.upn)
			require.ErrorIs(t, err, pwsh.ErrProtocol)
			require.Contains(t, err.Error(), tt.want)
			require.NotContains(t, err.Error(), "Pa55-Never-Shown")
			require.Equal(t, migration.CodeUnknown, migration.Classify(err).Code)
		})
	}
	_, err := s.GetUser(context.Background(), "crash@contoso.com")
	require.Contains(t, err.Error(), "crashed on purpose", "standard error is kept")
}

// TestHangIsKilled: a call that hangs ends at its time-out, and the shell's
// whole process tree is killed.
func TestHangIsKilled(t *testing.T) {
	t.Parallel()
	eachMode(t, testHangIsKilled)
}

func testHangIsKilled(t *testing.T, sessions int) {
	s, dir := setup(t, map[string]fakeUser{"hang@contoso.com": {Kind: "hang"}}, pwsh.Config{CallTimeout: time.Second, Sessions: sessions})
	start := time.Now()
	err := s.MoveOnline(context.Background(), "hang@contoso.com", migration.MoveOnlineOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, migration.CodeTimeout, migration.Classify(err).Code)
	require.Less(t, time.Since(start), 10*time.Second)

	raw, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(string(raw))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		err := syscall.Kill(pid, 0)
		return errors.Is(err, syscall.ESRCH)
	}, 5*time.Second, 50*time.Millisecond, "the shell's child process outlived the call")
}

// BenchmarkGetUser compares a process per call with sessions, against a fake
// shell whose start costs 100 ms (the module load of the real one is
// seconds). Run: go test -bench GetUser ./internal/pwsh
func BenchmarkGetUser(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := setup(b, nil, pwsh.Config{Sessions: m.sessions, Env: []string{"FAKEPWSH_STARTUP=100ms"}})
			ctx := context.Background()
			if _, err := s.GetUser(ctx, "warm@contoso.com"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.GetUser(ctx, "alice@contoso.com"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMoveParameters: what Move-CsUser receives: the target, and
// -BypassEnterpriseVoiceCheck and -DomainController when asked; a user of
// another domain is found only with -DomainController; the user is homed at
// the target it was moved to (a government cloud's ProxyFqdn, say).
func TestMoveParameters(t *testing.T) {
	t.Parallel()
	const gov = "sipfed.online.gov.skypeforbusiness.us" // MicrosoftDocs/microsoft-365-docs microsoft-365/enterprise/dns-records-for-office-365-gcc-high.md
	tests := []struct {
		name string
		user fakeUser
		dc   string
		opts migration.MoveOnlineOptions
		want []string
		code migration.ErrorCode
	}{
		{"default target", fakeUser{Kind: "ok"}, "", migration.MoveOnlineOptions{}, []string{"-Target", migration.DefaultOnlineTarget}, ""},
		{"bypass the voice check", fakeUser{Kind: "ok"}, "", migration.MoveOnlineOptions{BypassEnterpriseVoiceCheck: true}, []string{"-BypassEnterpriseVoiceCheck"}, ""},
		{"a government cloud", fakeUser{Kind: "ok"}, "", migration.MoveOnlineOptions{Target: gov}, []string{"-Target", gov}, ""},
		{"another domain without a domain controller", fakeUser{Kind: string(sim.KindOtherDomain)}, "", migration.MoveOnlineOptions{}, nil, migration.CodeUserNotInDomain},
		{"another domain with one", fakeUser{Kind: string(sim.KindOtherDomain)}, "dc01.emea.contoso.com", migration.MoveOnlineOptions{}, []string{"-DomainController", "dc01.emea.contoso.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const upn = "ev@contoso.com"
			s, dir := setup(t, map[string]fakeUser{upn: tt.user}, pwsh.Config{DomainController: tt.dc})
			ctx := context.Background()
			err := s.MoveOnline(ctx, upn, tt.opts)
			if tt.code != "" {
				require.Equal(t, tt.code, migration.Classify(err).Code, "%v", err)
				return
			}
			require.NoError(t, err)
			raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
			require.NoError(t, err)
			var st struct {
				Users map[string]struct{ Params []string }
			}
			require.NoError(t, json.Unmarshal(raw, &st))
			params := strings.Join(st.Users[upn].Params, " ")
			require.Contains(t, params, strings.Join(tt.want, " "))
			require.Equal(t, tt.opts.BypassEnterpriseVoiceCheck, strings.Contains(params, "-BypassEnterpriseVoiceCheck"))
			u, err := s.GetUser(ctx, upn)
			require.NoError(t, err)
			require.True(t, u.HomedOnline(tt.opts.Target), "homed at %s", u.HostingProvider)
			require.Equal(t, tt.opts.Target != "" && tt.opts.Target != migration.DefaultOnlineTarget, !u.HomedOnline(""), "homed at the target, not a fixed name")
		})
	}
}

// TestBrokenSession: a remote session that broke (PowerShell's
// PSRemotingTransportException) is a transient failure of its own, and the
// session is not used again.
func TestBrokenSession(t *testing.T) {
	t.Parallel()
	s, dir := setup(t, map[string]fakeUser{"broken@contoso.com": {Kind: "broken"}}, pwsh.Config{Sessions: 1})
	ctx := context.Background()
	_, err := s.GetUser(ctx, "broken@contoso.com")
	require.ErrorIs(t, err, migration.ErrSessionBroken)
	f := migration.Classify(err)
	require.Equal(t, migration.CodeSessionBroken, f.Code)
	require.True(t, f.Transient)
	_, err = s.GetUser(ctx, "alice@contoso.com")
	require.NoError(t, err)
	calls, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(calls), "start\n"), "a new session after the broken one")
}

// TestHostReadiness turns each readiness check of a worker host from pass to
// fail through the fake PowerShell's check-host, and the report names the
// fix.
func TestHostReadiness(t *testing.T) {
	t.Parallel()
	mfa := migration.TextMFARequired.Fill("cutover")
	tests := []struct {
		check  string
		change func(*migration.HostFacts)
		status migration.CheckStatus
		fix    string
	}{
		{"powershell", func(h *migration.HostFacts) { h.PSEdition, h.PSVersion = "Core", "7.1.3" }, migration.CheckFail, "Windows PowerShell 5.1"},
		{"skype_module", func(h *migration.HostFacts) { h.SkypeModule = "The specified module 'SkypeForBusiness' was not loaded" }, migration.CheckFail, "administrative tools"},
		{"teams_module", func(h *migration.HostFacts) { h.TeamsModule = "" }, migration.CheckFail, "Install-Module -Name MicrosoftTeams -Force -AllowClobber"},
		{"teams_module", func(h *migration.HostFacts) { h.TeamsModule = "6.1.0" }, migration.CheckFail, "Update-Module MicrosoftTeams"},
		{"teams_module", func(h *migration.HostFacts) { h.TeamsModule = "7.3.1" }, migration.CheckWarn, "-RequiredVersion 7.1.0"},
		{"server_build", func(h *migration.HostFacts) { h.ServerBuild = "7.0.2046.367" }, migration.CheckFail, "Skype for Business Server 2019 CU6"},
		{"server_build", func(h *migration.HostFacts) {
			h.ServerProduct, h.ServerBuild = "Skype for Business Server 2015", "6.0.9319.598"
		}, migration.CheckFail, "Skype for Business Server 2015 CU12"},
		{"tls12", func(h *migration.HostFacts) { h.TLS12 = false }, migration.CheckFail, "SchUseStrongCrypto = 1"},
		{"sign_in", func(h *migration.HostFacts) { h.SignIn = mfa }, migration.CheckFail, "exempt from interactive MFA"},
		{"sign_in", func(h *migration.HostFacts) { h.SignIn = migration.TextNonInteractive.Text }, migration.CheckFail, "--pwsh-user"},
		// A remote session that would not run the look at the pool: the
		// host's own module and TLS say nothing of the pool's.
		{"teams_module", func(h *migration.HostFacts) {
			h.Pool, h.PoolChecks = "pool01.contoso.com", "The syntax is not supported by this runspace."
		}, migration.CheckWarn, "On the pool's front-end servers"},
		{"tls12", func(h *migration.HostFacts) {
			h.Pool, h.PoolChecks = "pool01.contoso.com", "The syntax is not supported by this runspace."
		}, migration.CheckWarn, "SchUseStrongCrypto is 1"},
		{"server_support", func(h *migration.HostFacts) {
			h.ServerProduct, h.ServerBuild = "Lync Server 2013", "5.0.8308.1182"
		}, migration.CheckWarn, "keep the waves going"},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+tt.fix, func(t *testing.T) {
			t.Parallel()
			s, dir := setup(t, nil, pwsh.Config{Credential: func(context.Context) (string, string, error) { return "svc@contoso.com", "x", nil }})
			ctx := context.Background()
			facts, err := s.CheckHost(ctx)
			require.NoError(t, err)
			require.Equal(t, migration.SignInCredential, facts.SignInMode)
			require.Equal(t, "svc@contoso.com", facts.Account, "the account Move-CsUser signs in as")
			for _, c := range migration.HostReadiness(facts) {
				if c.Name == "server_support" { // 2019: past its end of support, a warning
					require.Equal(t, migration.CheckWarn, c.Status, c.Evidence)
					require.Contains(t, c.Evidence, "14 October 2025")
					continue
				}
				require.Equal(t, migration.CheckPass, c.Status, "%s before the change: %s", c.Name, c.Evidence)
			}
			setHost(t, dir, tt.change)
			facts, err = s.CheckHost(ctx)
			require.NoError(t, err)
			checks := migration.HostReadiness(facts)
			i := slices.IndexFunc(checks, func(c migration.Check) bool { return c.Name == tt.check })
			require.GreaterOrEqual(t, i, 0)
			require.Equal(t, tt.status, checks[i].Status, checks[i].Evidence)
			require.Contains(t, checks[i].Fix, tt.fix)
			require.Equal(t, tt.status != migration.CheckFail || tt.check == migration.CheckSignIn, migration.HostReady(checks),
				"a failed check other than the sign-in (the deployment's) takes the host out of service")
		})
	}
}

func TestSubscriptionEditionPasses(t *testing.T) {
	t.Parallel()
	f := sim.DefaultHost
	f.ServerProduct, f.ServerBuild = "Skype for Business Server Subscription Edition", "7.0.2046.820"
	for _, c := range migration.HostReadiness(f) {
		require.Equal(t, migration.CheckPass, c.Status, c.Name)
	}
}

// TestOnPremisesReadiness turns each on-premises check from pass to fail
// through the fake PowerShell's answers to Get-CsHostingProvider and
// Get-CsAccessEdgeConfiguration, and the report names the fix.
func TestOnPremisesReadiness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*migration.OnPremises)
		check  string
		status migration.CheckStatus
		fix    string
	}{
		{"no hosting provider", func(o *migration.OnPremises) { o.HostingProviders = nil }, migration.CheckHostingProvider, migration.CheckFail,
			`New-CsHostingProvider -Identity Office365 -ProxyFqdn "sipfed.online.lync.com" -Enabled $true -EnabledSharedAddressSpace $true -HostsOCSUsers $true -VerificationLevel UseSourceVerification -IsLocal $false -AutodiscoverUrl https://webdir.online.lync.com/Autodiscover/AutodiscoverService.svc/root`},
		{"provider for another cloud", func(o *migration.OnPremises) {
			o.HostingProviders[0].ProxyFqdn = "sipfed.online.gov.skypeforbusiness.us"
		}, migration.CheckHostingProvider, migration.CheckFail, "New-CsHostingProvider"},
		{"disabled", func(o *migration.OnPremises) { o.HostingProviders[0].Enabled = false }, migration.CheckHostingProvider, migration.CheckFail, "Set-CsHostingProvider -Identity Office365 -Enabled $true"},
		{"no shared address space", func(o *migration.OnPremises) { o.HostingProviders[0].EnabledSharedAddressSpace = false }, migration.CheckHostingProvider, migration.CheckFail, "-EnabledSharedAddressSpace $true -HostsOCSUsers $true"},
		{"hosts no users", func(o *migration.OnPremises) { o.HostingProviders[0].HostsOCSUsers = false }, migration.CheckHostingProvider, migration.CheckFail, "-EnabledSharedAddressSpace $true -HostsOCSUsers $true"},
		{"no autodiscover URL", func(o *migration.OnPremises) { o.HostingProviders[0].AutodiscoverURL = "" }, "autodiscover_url", migration.CheckWarn, "Set-CsHostingProvider -Identity Office365 -AutodiscoverUrl https://webdir.online.lync.com/Autodiscover/AutodiscoverService.svc/root"},
		{"federation off", func(o *migration.OnPremises) { o.AccessEdge.AllowFederatedUsers = false }, migration.CheckEdgeFederation, migration.CheckFail, "Set-CSAccessEdgeConfiguration -AllowOutsideUsers $True -AllowFederatedUsers $True -EnablePartnerDiscovery $True -UseDnsSrvRouting"},
		{"outside users off", func(o *migration.OnPremises) { o.AccessEdge.AllowOutsideUsers = false }, migration.CheckEdgeFederation, migration.CheckFail, "-AllowOutsideUsers $True"},
		{"default routing", func(o *migration.OnPremises) { o.AccessEdge.RoutingMethod = "UseDefaultRouting" }, migration.CheckEdgeFederation, migration.CheckFail, "-UseDnsSrvRouting"},
		{"no partner discovery", func(o *migration.OnPremises) { o.AccessEdge.EnablePartnerDiscovery = false }, migration.CheckEdgeFederation, migration.CheckWarn, "-EnablePartnerDiscovery $True"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, dir := setup(t, nil, pwsh.Config{})
			ctx := context.Background()
			o, err := s.OnPremises(ctx)
			require.NoError(t, err)
			for _, c := range migration.OnPremReadiness(o, "", "") {
				require.Equal(t, migration.CheckPass, c.Status, "%s before the change: %s", c.Name, c.Evidence)
			}
			setOnPremises(t, dir, tt.change)
			o, err = s.OnPremises(ctx)
			require.NoError(t, err)
			checks := migration.OnPremReadiness(o, "", "")
			i := slices.IndexFunc(checks, func(c migration.Check) bool { return c.Name == tt.check })
			require.GreaterOrEqual(t, i, 0, "%+v", checks)
			require.Equal(t, tt.status, checks[i].Status, checks[i].Evidence)
			require.Contains(t, checks[i].Fix, tt.fix)
		})
	}
}

// setOnPremises changes what the fake PowerShell's hybrid-config answers.
func setOnPremises(t *testing.T, dir string, change func(*migration.OnPremises)) {
	t.Helper()
	editState(t, dir, "on_premises", sim.DefaultOnPremises(""), change)
}

// TestVoiceUsers reads the Enterprise Voice users through the script's
// voice-users (Get-CsUser -Filter {EnterpriseVoiceEnabled -eq $True}),
// matched to members by UPN or SIP address.
func TestVoiceUsers(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, map[string]fakeUser{
		"ev@contoso.com":    {Kind: "ok", Voice: "tel:+14255550100"},
		"plain@contoso.com": {Kind: "ok"},
	}, pwsh.Config{})
	got, err := s.VoiceUsers(context.Background(), []migration.Member{
		{UPN: "ev@contoso.com", SIP: "ev@contoso.com"}, {UPN: "plain@contoso.com", SIP: "plain@contoso.com"},
		{UPN: "other@contoso.com", SIP: "ev@contoso.com"}, // found by its SIP address
	})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "tel:+14255550100", got["ev@contoso.com"].LineURI)
	require.True(t, got["other@contoso.com"].EnterpriseVoiceEnabled)
	u, err := s.GetUser(context.Background(), "ev@contoso.com")
	require.NoError(t, err)
	require.True(t, u.EnterpriseVoiceEnabled)
}

// TestMeetingMigration reads a moved user's meeting migration through the
// script's meeting-migration (Get-CsMeetingMigrationStatus), and a user
// with none.
func TestMeetingMigration(t *testing.T) {
	t.Parallel()
	failed := migration.MeetingMigration{State: "Failed", TotalMeeting: 3, FailedMeeting: 3, RetryCount: 2, MigrationType: "SfbToTeams",
		ModifiedDate: time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)}
	s, _ := setup(t, map[string]fakeUser{"failed@contoso.com": {Kind: "ok", Meetings: &failed}, "none@contoso.com": {Kind: "ok"}}, pwsh.Config{})
	tests := []struct {
		user  string
		found bool
		want  migration.MeetingMigration
	}{
		{"failed@contoso.com", true, failed},
		{"none@contoso.com", false, migration.MeetingMigration{}},
	}
	for _, tt := range tests {
		got, found, err := s.MeetingMigration(context.Background(), tt.user)
		require.NoError(t, err, tt.user)
		require.Equal(t, tt.found, found, tt.user)
		require.Equal(t, tt.want, got, tt.user)
	}
}

// TestNumberMove moves a moved user's number to online management through
// the script's clear-line-uri (Set-CsUser -LineUri $null) and
// assign-number (Set-CsPhoneNumberAssignment), and asks that their meetings
// be migrated again (start-meeting-migration), as the fake shell records
// them.
func TestNumberMove(t *testing.T) {
	t.Parallel()
	s, dir := setup(t, map[string]fakeUser{"ev@contoso.com": {Kind: "ok", Voice: "tel:+14255550100"}}, pwsh.Config{})
	ctx := context.Background()
	require.NoError(t, s.ClearLineURI(ctx, "ev@contoso.com"))
	u, err := s.GetUser(ctx, "ev@contoso.com")
	require.NoError(t, err)
	require.Empty(t, u.LineURI, "Get-CsUser after the clearing")
	require.NoError(t, s.AssignNumber(ctx, "ev@contoso.com", "+14255550100"))
	require.NoError(t, s.StartMeetingMigration(ctx, "ev@contoso.com"))
	var st struct {
		Users map[string]struct {
			Cleared   int    `json:"cleared"`
			Assigned  string `json:"assigned"`
			Triggered int    `json:"triggered"`
		} `json:"users"`
	}
	body, err := os.ReadFile(filepath.Join(dir, "state.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &st))
	require.Equal(t, 1, st.Users["ev@contoso.com"].Cleared)
	require.Equal(t, "+14255550100", st.Users["ev@contoso.com"].Assigned)
	require.Equal(t, 1, st.Users["ev@contoso.com"].Triggered, "Start-CsExMeetingMigration")
}

// TestFakeSpeaksOnlyPublishedMessages drives the fake PowerShell through every
// kind of user and every call, and finds each message it answers with in the
// catalogue, with the source Microsoft publishes it in (or none: a broken
// session is known by its exception's type alone).
func TestFakeSpeaksOnlyPublishedMessages(t *testing.T) {
	t.Parallel()
	users := map[string]fakeUser{"broken@contoso.com": {Kind: "broken"}}
	for _, k := range sim.Kinds() {
		users[string(k)+"@contoso.com"] = fakeUser{Kind: string(k), Failures: 1}
	}
	s, dir := setup(t, users, pwsh.Config{CallTimeout: time.Second})
	ctx := context.Background()
	spoken := 0
	check := func(err error) {
		var pe *pwsh.Error
		if !errors.As(err, &pe) || pe.Message == "" {
			return
		}
		spoken++
		p, ok := migration.PublishedText(pe.Message)
		require.True(t, ok, "the fake answered %q, which is not a published text in the catalogue", pe.Message)
		require.NotEmpty(t, p.Source)
	}
	for upn := range users {
		_, err := s.GetUser(ctx, upn)
		check(err)
		check(s.MoveOnline(ctx, upn, migration.MoveOnlineOptions{}))
		check(s.MoveToPool(ctx, upn, "pool01.contoso.com"))
	}
	for _, signIn := range []string{migration.TextMFARequired.Fill("cutover"), migration.TextNonInteractive.Text} {
		setHost(t, dir, func(h *migration.HostFacts) { h.SignIn = signIn })
		check(s.MoveOnline(ctx, string(sim.KindOK)+"@contoso.com", migration.MoveOnlineOptions{}))
	}
	require.GreaterOrEqual(t, spoken, 8, "the failing kinds spoke")
}
