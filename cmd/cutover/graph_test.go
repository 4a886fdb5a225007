package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/pwsh"
	"github.com/cutover/cutover/internal/readiness"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// graphBundle is workers moving users with the simulated shell and Microsoft
// Graph reached through the SDK on the simulated tenant's Graph.
type graphBundle struct {
	pool      *pgxpool.Pool
	dir       migration.Directory
	q         *store.Queries
	shell     *sim.Shell
	fake      *sim.Graph
	scheduler *app.Service
	client    *river.Client[pgx.Tx]
}

func setupGraph(t *testing.T, gcfg sim.GraphConfig, options ...func(*jobs.Config)) *graphBundle {
	t.Helper()
	return setupGraphShell(t, sim.ShellConfig{Mix: sim.Mix{}}, gcfg, options...)
}

// firstKey is a key of m whose value is true.
func firstKey(m map[string]bool) string {
	for k, v := range m {
		if v {
			return k
		}
	}
	return ""
}

// setupGraphShell is setupGraph with the simulated shell's configuration.
func setupGraphShell(t *testing.T, scfg sim.ShellConfig, gcfg sim.GraphConfig, options ...func(*jobs.Config)) *graphBundle {
	t.Helper()
	pool := dbtest.Pool(t)
	shell := sim.NewShell(scfg)
	fake, err := sim.StartGraph(shell, gcfg)
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	dir, err := openDirectory(context.Background(), cliSettings(fake))
	require.NoError(t, err)
	options = append([]func(*jobs.Config){func(c *jobs.Config) {
		c.Directory, c.ProvisioningWait = dir, 30*time.Second
	}}, options...)
	client := jobstest.Start(t, pool, shell, options...)
	return &graphBundle{pool: pool, dir: dir, q: store.New(pool), shell: shell, fake: fake, scheduler: app.New(pool, jobs.NewQueue(client)), client: client}
}

// plan imports users as a group and plans it as one wave starting now.
func (b *graphBundle) plan(t *testing.T, upns []string) int64 {
	t.Helper()
	return b.planWith(t, upns, migration.Controls{})
}

// planWith is plan with the wave's controls.
func (b *graphBundle) planWith(t *testing.T, upns []string, controls migration.Controls) int64 {
	t.Helper()
	ctx := context.Background()
	ms := make([]migration.Member, len(upns))
	for i, u := range upns {
		ms[i] = migration.Member{UPN: u}
	}
	ms, err := migration.NormalizeMembers(ms)
	require.NoError(t, err)
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: t.Name(), Source: "json", Members: ms})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 4, Concurrency: 10, Controls: controls}}, unplanned, next)
	})
	require.NoError(t, err)
	deadline := time.Now().Add(90 * time.Second)
	for {
		waves, err := b.q.WaveList(ctx, g.ID)
		require.NoError(t, err)
		if waves[0].State == migration.WaveStateCompleted {
			return g.ID
		}
		require.True(t, time.Now().Before(deadline), "the wave did not complete")
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *graphBundle) lookUp(t *testing.T, upn string) (migration.Move, []migration.MoveEvent, *store.Preflight) {
	t.Helper()
	ctx := context.Background()
	moves, err := b.q.MovesByUser(ctx, upn)
	require.NoError(t, err)
	require.Len(t, moves, 1)
	events, err := b.q.MoveEvents(ctx, moves[0].ID)
	require.NoError(t, err)
	pf, err := b.q.PreflightGet(ctx, moves[0].MemberID)
	require.NoError(t, err)
	return moves[0], events, pf
}

func messages(events []migration.MoveEvent) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "%s %s | %s\n", e.State, e.ErrorCode, e.Message)
	}
	return b.String()
}

// TestMovesWithGraph moves users of every kind with the pre-flight checks in
// Graph before the move and the Teams check after it.
func TestMovesWithGraph(t *testing.T) {
	t.Parallel()
	b := setupGraph(t, sim.GraphConfig{ProvisioningDelay: 300 * time.Millisecond})
	tests := []struct {
		kind      sim.Kind
		state     migration.MoveState
		code      migration.ErrorCode
		moveCalls int
		preflight migration.CheckStatus // "" when no Graph check ran
		timeline  []string              // fragments the timeline holds
	}{
		{sim.KindOK, migration.MoveStateMoved, "", 1, migration.CheckPass, []string{"pre-flight in Entra ID: 8 checks passed", "waiting up to", "Teams accountType user"}}, // an Enterprise Voice user holding Teams Phone: the eighth check
		{sim.KindDisabled, migration.MoveStateFailed, migration.CodeAccountDisabled, 0, migration.CheckFail, []string{"accountEnabled is false"}},
		{sim.KindNotSynced, migration.MoveStateFailed, migration.CodeAccountNotSynchronised, 0, migration.CheckFail, nil},
		{sim.KindNoUsageLocation, migration.MoveStateFailed, migration.CodeUsageLocationMissing, 0, migration.CheckFail, nil},
		{sim.KindLicenceMissing, migration.MoveStateFailed, migration.CodeLicenceMissing, 0, migration.CheckFail, []string{"no enabled TEAMS1 or MCOSTANDARD plan"}},
		{sim.KindSIPMismatch, migration.MoveStateMoved, "", 1, migration.CheckWarn, []string{"1 warning(s): sip_address: SIP address differs"}},
		{sim.KindNotFound, migration.MoveStateFailed, migration.CodeUserNotFound, 0, "", nil},
		{sim.KindAlreadyOnline, migration.MoveStateSkipped, "", 0, "", nil},
	}
	var upns []string
	for _, tt := range tests {
		upn := strings.ReplaceAll(string(tt.kind), "_", ".") + "@contoso.com"
		b.shell.SetBehaviour(upn, sim.Behaviour{Kind: tt.kind})
		upns = append(upns, upn)
	}
	b.plan(t, upns)
	for i, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			m, events, pf := b.lookUp(t, upns[i])
			require.Equal(t, tt.state, m.State, messages(events))
			require.Equal(t, tt.code, m.ErrorCode, messages(events))
			require.Equal(t, tt.moveCalls, b.shell.CallsFor(upns[i]).MoveOnline, "Move-CsUser calls")
			if tt.preflight == "" {
				require.Nil(t, pf)
			} else {
				require.NotNil(t, pf)
				require.Equal(t, tt.preflight, pf.Status)
			}
			for _, want := range tt.timeline {
				require.Contains(t, messages(events), want)
			}
		})
	}
}

// TestEnterpriseVoice: an Enterprise Voice user without Teams Phone fails the
// pre-flight with its own code and fix, and is not moved; the same user in a
// wave with bypass_enterprise_voice_check is moved with
// -BypassEnterpriseVoiceCheck, the pre-flight warning that their number
// needs work of its own. A voice user with Teams Phone is moved without it.
func TestEnterpriseVoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		kind      sim.Kind
		bypass    bool
		state     migration.MoveState
		code      migration.ErrorCode
		preflight migration.CheckStatus
		passed    bool // -BypassEnterpriseVoiceCheck
		timeline  string
	}{
		{"no Teams Phone", sim.KindVoiceNoPhone, false, migration.MoveStateFailed, migration.CodeTeamsPhoneMissing, migration.CheckFail, false, "holds no Teams Phone (MCOEV) plan"},
		{"no Teams Phone, bypassed", sim.KindVoiceNoPhone, true, migration.MoveStateMoved, "", migration.CheckWarn, true, "Move-CsUser -Target sipfed.online.lync.com -BypassEnterpriseVoiceCheck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupGraph(t, sim.GraphConfig{})
			const upn = "voice@contoso.com"
			b.shell.SetBehaviour(upn, sim.Behaviour{Kind: tt.kind})
			b.planWith(t, []string{upn}, migration.Controls{BypassEnterpriseVoiceCheck: tt.bypass})
			m, events, pf := b.lookUp(t, upn)
			require.Equal(t, tt.state, m.State, messages(events))
			require.Equal(t, tt.code, m.ErrorCode)
			require.Equal(t, tt.preflight, pf.Status)
			require.Contains(t, messages(events), tt.timeline)
			require.Equal(t, tt.passed, b.shell.MoveOptionsFor(upn).BypassEnterpriseVoiceCheck)
			if tt.code != "" {
				require.Zero(t, b.shell.CallsFor(upn).MoveOnline, "stopped before Move-CsUser")
				require.NotEmpty(t, migration.FailureFor(tt.code).Fix)
			}
		})
	}
}

// TestDryRunListsVoiceUsers: a worker's host check reads the members' voice
// settings on premises (Get-CsUser -Filter {EnterpriseVoiceEnabled -eq
// $True}); the dry run then lists every voice user with their number and
// whether they hold Teams Phone, and one without it would fail with
// teams_phone_missing.
func TestDryRunListsVoiceUsers(t *testing.T) {
	t.Parallel()
	b := setupGraph(t, sim.GraphConfig{})
	ctx := context.Background()
	var ms []migration.Member
	for i := range 40 {
		upn := fmt.Sprintf("voice%02d@contoso.com", i)
		ms = append(ms, migration.Member{UPN: upn, SIP: upn})
	}
	b.shell.SetBehaviour("voice00@contoso.com", sim.Behaviour{Kind: sim.KindVoiceNoPhone})
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "voice", Source: "json", Members: ms})
	require.NoError(t, err)
	members, err := b.q.MemberList(ctx, g.ID, 0)
	require.NoError(t, err)
	before, err := readiness.Members(ctx, b.q, b.dir, members, time.Now(), time.Minute)
	require.NoError(t, err)
	require.Equal(t, 40, before.VoiceUnread, "nobody's voice settings read yet")

	client, ready, err := jobs.NewClientWithReadiness(b.pool, b.shell, jobstest.Config, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	_, err = ready.Check(ctx, client)
	require.NoError(t, err)
	members, err = b.q.MemberList(ctx, g.ID, 0)
	require.NoError(t, err)
	r, err := readiness.Members(ctx, b.q, b.dir, members, time.Now(), time.Minute)
	require.NoError(t, err)
	require.Zero(t, r.VoiceUnread)
	want := 0
	for _, m := range ms {
		u, err := b.shell.GetUser(ctx, m.UPN)
		require.NoError(t, err)
		if u.EnterpriseVoiceEnabled {
			want++
			i := slices.IndexFunc(r.Voice, func(v readiness.VoiceUser) bool { return v.UPN == m.UPN })
			require.GreaterOrEqual(t, i, 0, "%s is a voice user", m.UPN)
			require.Equal(t, u.LineURI, r.Voice[i].LineURI, "the number Get-CsUser shows")
			require.Equal(t, m.UPN != "voice00@contoso.com", r.Voice[i].TeamsPhone)
		}
	}
	require.Len(t, r.Voice, want)
	require.Greater(t, want, 5)
	i := slices.IndexFunc(r.ByCode, func(f migration.FailureCount) bool { return f.Code == migration.CodeTeamsPhoneMissing })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, 1, r.ByCode[i].Count)
}

// TestTeamsAccountTypeNotUser: a move is done only when Teams shows
// accountType user; unknown (or ineligibleUser) after the move is not, and
// the timeline says what the value means.
func TestTeamsAccountTypeNotUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		accountType string
		meaning     string
	}{
		{"unknown", "a user type that is not known"},
		{"ineligibleUser", "does not have a valid Teams license"},
	}
	for _, tt := range tests {
		t.Run(tt.accountType, func(t *testing.T) {
			t.Parallel()
			upn := strings.ToLower(tt.accountType) + "@contoso.com"
			b := setupGraph(t, sim.GraphConfig{AccountTypes: map[string]string{upn: tt.accountType}}, func(c *jobs.Config) {
				c.ProvisioningWait = time.Second
			})
			b.plan(t, []string{upn})
			m, events, _ := b.lookUp(t, upn)
			require.Equal(t, migration.MoveStateFailed, m.State, messages(events))
			require.Equal(t, migration.CodeNotProvisionedOnline, m.ErrorCode)
			require.Contains(t, m.ErrorMessage, "accountType "+tt.accountType)
			require.Contains(t, messages(events), tt.meaning)
			require.Equal(t, 1, b.shell.MovesFor(upn), "moved on premises once, never counted as done")
		})
	}
}

// TestTeamsNeverCatchesUp fails a move that the shell made but Teams still
// shows on premises after the provisioning wait, and holds it in verifying
// until then.
func TestTeamsNeverCatchesUp(t *testing.T) {
	t.Parallel()
	b := setupGraph(t, sim.GraphConfig{ProvisioningDelay: time.Hour}, func(c *jobs.Config) {
		c.ProvisioningWait = 2 * time.Second
	})
	b.plan(t, []string{"stuck@contoso.com"})
	m, events, _ := b.lookUp(t, "stuck@contoso.com")
	require.Equal(t, migration.MoveStateFailed, m.State, messages(events))
	require.Equal(t, migration.CodeNotProvisionedOnline, m.ErrorCode)
	require.Equal(t, 1, b.shell.CallsFor("stuck@contoso.com").MoveOnline)
	waits := strings.Count(messages(events), "waiting up to")
	require.Equal(t, 1, waits, "the wait is one line in the timeline:\n%s", messages(events))
	require.Equal(t, 1, m.Attempts, "waiting spends no attempt")
}

// TestProvisioningWaitLessStranded: the wait for Teams to show a move is
// measured from the move call, less the time the move spent stranded on a
// worker process that died. The move call was 3 seconds ago and the move
// spent 4 seconds stranded; Teams shows the move 6 seconds after the call
// (the simulator counts from now), and the wait is 8 seconds: counted from
// the call alone it would run out before Teams shows the move.
func TestProvisioningWaitLessStranded(t *testing.T) {
	t.Parallel()
	b := setupGraph(t, sim.GraphConfig{ProvisioningDelay: 6 * time.Second}, func(c *jobs.Config) {
		c.ProvisioningWait = 8 * time.Second
	})
	ctx := context.Background()
	const upn = "stranded@contoso.com"
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "stranded", Source: "json", Members: []migration.Member{{UPN: upn, SIP: upn}}})
	require.NoError(t, err)
	waves, err := b.scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: 1, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
	})
	require.NoError(t, err)
	_, _, started, err := b.q.WaveStart(ctx, waves[0].ID, "test")
	require.NoError(t, err)
	require.True(t, started)
	queued, err := b.q.MoveList(ctx, waves[0].ID, migration.MoveStateQueued)
	require.NoError(t, err)
	// What the dead worker got done: pre-flight, the move call 3 seconds
	// ago; then the move was stranded 4 seconds (as the heartbeat that
	// buried the worker records it).
	for _, to := range []migration.MoveState{migration.MoveStatePreflight, migration.MoveStateMoving} {
		require.NoError(t, b.q.MoveUpdate(ctx, store.MoveChange{MoveID: queued[0].ID, To: to, Attempt: 1, MoveIssued: to == migration.MoveStateMoving, Message: "dead worker", Actor: "test"}))
	}
	require.NoError(t, b.shell.MoveOnline(ctx, upn, migration.MoveOnlineOptions{}))
	_, err = b.pool.Exec(ctx, `UPDATE moves SET move_issued_at = now() - interval '3 seconds', stranded = interval '4 seconds' WHERE id = $1`, queued[0].ID)
	require.NoError(t, err)

	_, err = b.client.Insert(ctx, jobs.MoveArgs{MoveID: queued[0].ID, Run: queued[0].Run}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		m, err := b.q.MoveGet(ctx, queued[0].ID)
		return err == nil && m.State.Done()
	}, time.Minute, 50*time.Millisecond)
	m, events, _ := b.lookUp(t, upn)
	require.Equal(t, migration.MoveStateMoved, m.State, messages(events))
	require.Equal(t, 1, b.shell.CallsFor(upn).MoveOnline, "moved once, by the dead worker")
}

// cliSettings are the settings the command line gives the Graph client for
// the simulated tenant's Graph.
func cliSettings(fake *sim.Graph) cli.GraphSettings {
	return cli.GraphSettings{BaseURL: fake.GraphURL(), AuthorityHost: fake.URL() + "/", TenantID: fake.TenantID(),
		ClientID: "cutover-test", ClientSecret: "test-secret", HTTPClient: fake.Client()}
}

// TestLicenceProvisioningRetries: a licence assigned moments ago fails the
// pre-flight as transient, and the move retries until it has settled.
func TestLicenceProvisioningRetries(t *testing.T) {
	t.Parallel()
	// Graph gives assignment times to the second: a licence settling in
	// 1.5 s is fresh at the first attempt (its lookup is the first), and
	// settled by the third (retries after about 1 s and 2 s more).
	b := setupGraph(t, sim.GraphConfig{}, func(c *jobs.Config) {
		c.LicenceSettle, c.RetryBase = 1500*time.Millisecond, time.Second
	})
	const upn = "fresh.licence@contoso.com"
	b.shell.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindLicenceProvisioning})
	b.plan(t, []string{upn})
	m, events, pf := b.lookUp(t, upn)
	require.Equal(t, migration.MoveStateMoved, m.State, messages(events))
	require.GreaterOrEqual(t, m.Attempts, 2)
	require.Contains(t, messages(events), "retrying licence_provisioning | attempt 1 of 4: failed: licence_provisioning")
	require.Equal(t, 1, b.shell.CallsFor(upn).MoveOnline, "no move call while the licence provisions")
	require.Equal(t, migration.CheckPass, pf.Status)
}

// TestEnterpriseVoiceThroughPowerShell: the same Enterprise Voice user
// without Teams Phone, through the PowerShell driver and the fake
// PowerShell (which records what Move-CsUser received): stopped in the
// pre-flight with teams_phone_missing and never given to Move-CsUser; in a
// wave with bypass_enterprise_voice_check, moved with
// -BypassEnterpriseVoiceCheck.
func TestEnterpriseVoiceThroughPowerShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fakeBin := filepath.Join(dir, "pwsh")
	out, err := exec.Command("go", "build", "-o", fakeBin, "../../internal/pwsh/testdata/fakepwsh").CombinedOutput()
	require.NoError(t, err, string(out))
	const upn = "ev.user@contoso.com"
	tests := []struct {
		name   string
		bypass bool
		state  migration.MoveState
		code   migration.ErrorCode
	}{
		{"without bypass", false, migration.MoveStateFailed, migration.CodeTeamsPhoneMissing},
		// The simulated Teams never sees the fake PowerShell's move, so the
		// check after it gives up: what counts here is what Move-CsUser got.
		{"with bypass", true, migration.MoveStateFailed, migration.CodeNotProvisionedOnline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			state := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(state, []byte(`{"users": {"`+upn+`": {"kind": "ok", "voice": "tel:+14255550123"}}}`), 0o600))
			shell, err := pwsh.New(pwsh.Config{Executable: fakeBin, Env: []string{"FAKEPWSH_STATE=" + state}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = shell.Close() })
			// The directory: the simulated tenant, where the user holds no
			// Teams Phone plan.
			directory := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
			directory.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindVoiceNoPhone})
			fake, err := sim.StartGraph(directory, sim.GraphConfig{})
			require.NoError(t, err)
			t.Cleanup(fake.Close)
			dir, err := openDirectory(context.Background(), cliSettings(fake))
			require.NoError(t, err)
			pool := dbtest.Pool(t)
			client := jobstest.Start(t, pool, shell, func(c *jobs.Config) { c.Directory, c.ProvisioningWait = dir, time.Second })
			b := &graphBundle{pool: pool, dir: dir, q: store.New(pool), shell: directory, fake: fake, scheduler: app.New(pool, jobs.NewQueue(client))}
			b.planWith(t, []string{upn}, migration.Controls{BypassEnterpriseVoiceCheck: tt.bypass})
			m, events, _ := b.lookUp(t, upn)
			require.Equal(t, tt.state, m.State, messages(events))
			require.Equal(t, tt.code, m.ErrorCode)

			raw, err := os.ReadFile(state)
			require.NoError(t, err)
			var st struct {
				Users map[string]struct {
					Params []string
					Moves  int
				}
			}
			require.NoError(t, json.Unmarshal(raw, &st))
			got := st.Users[upn]
			if tt.bypass {
				require.Equal(t, 1, got.Moves)
				require.Contains(t, got.Params, "-BypassEnterpriseVoiceCheck", "Move-CsUser received %v", got.Params)
			} else {
				require.Zero(t, got.Moves)
				require.Empty(t, got.Params, "never given to Move-CsUser")
			}
		})
	}
}

// TestGraphSignInUnreachable: with the sign-in to Entra ID unreachable, the
// worker's check at start holds the deployment and says why; a wave started
// then shows that reason and spends no attempt; when the sign-in comes back
// the wave completes.
func TestGraphSignInUnreachable(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	fake, err := sim.StartGraph(shell, sim.GraphConfig{})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.SetSignInDown(true)
	dir, err := openDirectory(context.Background(), cliSettings(fake))
	require.NoError(t, err)
	pool := dbtest.Pool(t)
	client, _ := jobstest.StartChecked(t, pool, shell, func(c *jobs.Config) { c.Directory = dir })
	q, ctx := store.New(pool), context.Background()
	holds, err := q.Holds(ctx)
	require.NoError(t, err)
	require.Len(t, holds, 1, "the check at start holds the deployment")
	require.Equal(t, migration.CodeGraphUnavailable, holds[0].Code)

	ms := make([]migration.Member, 5)
	for i := range ms {
		upn := fmt.Sprintf("signin%d@contoso.com", i)
		ms[i] = migration.Member{UPN: upn, SIP: upn}
	}
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "graph down", Source: "json", Members: ms})
	require.NoError(t, err)
	waves, err := app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, planNow(4))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		w, err := q.WaveGet(ctx, waves[0].ID)
		return err == nil && w.State == migration.WaveStateRunning && strings.Contains(w.StateReason, "Microsoft Graph does not answer")
	}, 30*time.Second, 50*time.Millisecond, "the wave says why its moves wait")
	time.Sleep(time.Second)
	for _, m := range ms {
		moves, err := q.MovesByUser(ctx, m.UPN)
		require.NoError(t, err)
		require.Zero(t, moves[0].Attempts, "%s: no attempt spent while Graph is down", m.UPN)
	}
	// The lead's report still shows, and says what is wrong.
	report, err := readiness.DeploymentReadiness(ctx, q, dir, time.Now(), time.Hour)
	require.NoError(t, err)
	require.Equal(t, migration.CheckFail, report.Status)
	require.Len(t, report.Holds, 1)
	i := slices.IndexFunc(report.Sections, func(s readiness.Section) bool { return s.Name == "tenant" })
	require.Equal(t, migration.CodeGraphUnavailable, report.Sections[i].Checks[0].Code)

	fake.SetSignInDown(false)
	require.Eventually(t, func() bool {
		w, err := q.WaveGet(ctx, waves[0].ID)
		return err == nil && w.State == migration.WaveStateCompleted
	}, 90*time.Second, 100*time.Millisecond)
	for _, m := range ms {
		moves, err := q.MovesByUser(ctx, m.UPN)
		require.NoError(t, err)
		require.Equal(t, migration.MoveStateMoved, moves[0].State)
		require.Equal(t, 1, moves[0].Attempts)
	}
}

// planNow plans the whole group as one wave starting now.
func planNow(maxAttempts int) store.PlanFunc {
	return func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: maxAttempts, Concurrency: 10}}, unplanned, next)
	}
}

// TestVoiceCompletion: a wave of users some of whom have Enterprise Voice
// on premises, with Microsoft Graph. Each voice user moved gets the voice
// item, and only they; it ends done when the simulated Teams shows
// Enterprise Voice on with their number, and with a person (the documented
// Set-CsPhoneNumberAssignment fix) when it shows it off. A voice user moved
// without Teams Phone (a bypassing wave) is a person's work at once.
func TestVoiceCompletion(t *testing.T) {
	t.Parallel()
	b := setupGraph(t, sim.GraphConfig{}, func(c *jobs.Config) {
		c.CompletionEvery = 200 * time.Millisecond
		c.VoiceTiming = migration.VoiceTiming{Wait: time.Hour, Poll: 100 * time.Millisecond}
	})
	ctx := context.Background()
	var upns []string
	voice := map[string]bool{}
	for i := range 30 {
		upn := fmt.Sprintf("caller%02d@contoso.com", i)
		upns = append(upns, upn)
		u, err := b.shell.GetUser(ctx, upn)
		require.NoError(t, err)
		voice[upn] = u.EnterpriseVoiceEnabled
	}
	const bypassed = "bypassed.voice@contoso.com"
	b.shell.SetBehaviour(bypassed, sim.Behaviour{Kind: sim.KindVoiceNoPhone})
	gid := b.plan(t, upns)
	t.Run("a bypassing wave", func(t *testing.T) { // a group of its own name
		b.planWith(t, []string{bypassed}, migration.Controls{BypassEnterpriseVoiceCheck: true})
	})

	itemOf := func(upn string) *migration.CompletionItem {
		moves, err := b.q.MovesByUser(ctx, upn)
		require.NoError(t, err)
		items, err := b.q.CompletionOf(ctx, []int64{moves[0].ID})
		require.NoError(t, err)
		for _, it := range items[moves[0].ID] {
			if it.Kind == migration.ItemVoice {
				return &it
			}
		}
		return nil
	}
	// Until a lead confirms the SBC's routing, a voice user whom Teams
	// shows calling waits on it, visibly; then the item is done.
	want := map[string]migration.ItemState{bypassed: migration.ItemPerson}
	ready := map[string]bool{}
	for _, upn := range upns {
		if !voice[upn] {
			continue
		}
		want[upn] = migration.ItemPerson
		ready[upn] = b.shell.TeamsVoice(upn).EnterpriseVoice
	}
	require.Contains(t, slices.Collect(maps.Values(ready)), true, "the seed gives voice users whom Teams shows calling")
	require.Eventually(t, func() bool {
		for upn, state := range want {
			if it := itemOf(upn); it == nil || it.State != state || (it.WaitsFor == migration.WaitsForRouting) != ready[upn] {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "voice items before the routing is confirmed: %v", want)
	require.Contains(t, itemOf(firstKey(ready)).Fix, "Confirm SBC routing")
	waves, err := b.q.WaveList(ctx, gid)
	require.NoError(t, err)
	_, err = b.scheduler.WaveConfirmRouting(ctx, app.As("lea"), waves[0].ID)
	require.NoError(t, err)
	for upn := range ready {
		if ready[upn] {
			want[upn] = migration.ItemDone
		}
	}
	require.Eventually(t, func() bool {
		for upn, state := range want {
			if it := itemOf(upn); it == nil || it.State != state {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "voice items: %v", want)
	for _, upn := range upns {
		if !voice[upn] {
			require.Nil(t, itemOf(upn), "%s has no Enterprise Voice: no voice item", upn)
			continue
		}
		it := itemOf(upn)
		require.Contains(t, it.Evidence, "isEnterpriseVoiceEnabled", upn)
		if it.State == migration.ItemDone {
			require.Contains(t, it.Says, strings.TrimPrefix(strings.SplitN(b.shell.TeamsVoice(upn).Numbers[0], ";", 2)[0], "tel:"), upn)
		} else {
			require.Contains(t, it.Fix, "Set-CsPhoneNumberAssignment", upn)
		}
	}
	require.Contains(t, itemOf(bypassed).Fix, "-BypassEnterpriseVoiceCheck")
}
