package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// TestDeploymentPrerequisitesHold: when the deployment itself cannot move
// anyone (the migration account holds no role Move-CsUser needs; a
// synchronised account comes without an override URL; the tenant is in a
// government cloud), every move waits under a hold that names the fix, and
// nobody spends an attempt or reaches Move-CsUser; once it is put right,
// the wave moves everyone.
func TestDeploymentPrerequisitesHold(t *testing.T) {
	t.Parallel()
	userAdmin := migration.DirectoryRole{TemplateID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DisplayName: "User Administrator"}
	gov := []migration.SKU{{ID: "535a3a29-c5f0-42fe-8215-d3b9e1f38c4a", PartNumber: "ENTERPRISEPACK_GOV", Enabled: 250, Consumed: 200,
		// TEAMS_GOV's ID: MicrosoftDocs/azure-docs articles/communication-services/quickstarts/eligible-teams-licenses.md.
		Plans: []migration.SKUPlan{{ID: "304767db-7d23-49e8-a945-4a7eb65f9f28", Name: "TEAMS_GOV", Status: "Success"}}}}
	synced := sim.DefaultHost
	synced.Account = "mover@contoso.com"
	tests := []struct {
		name    string
		gcfg    sim.GraphConfig
		breaks  func(*sim.Shell, *sim.Graph)
		code    migration.ErrorCode
		says    string // in the hold's evidence: what is wrong and the fix
		reason  string // in the wave's reason
		fix     func(*sim.Shell, *sim.Graph)
		section string // the readiness section's failing check, if any
	}{
		{
			name: "the migration account holds no role a move needs",
			gcfg: sim.GraphConfig{AccountRoles: map[string][]migration.DirectoryRole{sim.MigrationAccount: {userAdmin}}},
			code: migration.CodeAccountNotReady, says: "holds none of the roles Move-CsUser needs (Global Administrator, Teams Administrator or Skype for Business Administrator); it holds User Administrator. Fix: Assign",
			reason: "account_roles fails: " + sim.MigrationAccount + " holds none of the roles",
			fix: func(_ *sim.Shell, g *sim.Graph) {
				g.SetAccountRoles(sim.MigrationAccount, []migration.DirectoryRole{migration.MoveRoles[1]})
			},
			section: "account_roles",
		},
		{
			name:   "a synchronised account without override URL",
			gcfg:   sim.GraphConfig{AccountRoles: map[string][]migration.DirectoryRole{"mover@contoso.com": {migration.MoveRoles[1]}, sim.MigrationAccount: {migration.MoveRoles[1]}}},
			breaks: func(s *sim.Shell, _ *sim.Graph) { s.SetHost(synced) },
			reason: "hosted_migration_override_url fails: mover@contoso.com is an account synchronised from on premises",
			code:   migration.CodeAccountNotReady, says: "mover@contoso.com is an account synchronised from on premises (not .onmicrosoft.com), and no -HostedMigrationOverrideUrl is set",
			fix:     func(s *sim.Shell, _ *sim.Graph) { s.SetHost(sim.DefaultHost) },
			section: "hosted_migration_override_url",
		},
		{
			name: "a government cloud's tenant",
			gcfg: sim.GraphConfig{SKUs: gov},
			code: migration.CodeCloudNotSupported, says: "ENTERPRISEPACK_GOV, whose plan TEAMS_GOV is a US government cloud's Teams plan",
			reason: "moves wait: the tenant is in a US government cloud, which cutover does not serve",
			fix:    func(_ *sim.Shell, g *sim.Graph) { g.SetSKUs(sim.DefaultGraphSKUs) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := dbtest.Pool(t)
			shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
			fake, err := sim.StartGraph(shell, tt.gcfg)
			require.NoError(t, err)
			t.Cleanup(fake.Close)
			if tt.breaks != nil {
				tt.breaks(shell, fake)
			}
			dir, err := openDirectory(ctx, cliSettings(fake))
			require.NoError(t, err)
			client, _ := jobstest.StartChecked(t, pool, shell, func(c *jobs.Config) { c.Directory = dir })
			q := store.New(pool)

			hold := func() *store.Hold {
				holds, err := q.Holds(ctx)
				require.NoError(t, err)
				for _, h := range holds {
					if h.Code == tt.code {
						return &h
					}
				}
				return nil
			}
			h := hold()
			require.NotNil(t, h, "held at the first check")
			require.Contains(t, h.Evidence, tt.says)
			if tt.section != "" {
				sections, err := q.ReadinessList(ctx)
				require.NoError(t, err)
				var found bool
				for _, s := range sections {
					for _, c := range s.Checks {
						if s.Section == migration.SectionAccount && c.Name == tt.section {
							found = true
							require.Equal(t, migration.CheckFail, c.Status, "%+v", c)
							require.NotEmpty(t, c.Fix)
						}
					}
				}
				require.True(t, found, "the readiness report shows %s", tt.section)
			}

			// A wave planned now waits, spending nothing.
			upns := make([]string, 5)
			ms := make([]migration.Member, len(upns))
			for i := range upns {
				upns[i] = fmt.Sprintf("prereq%d@contoso.com", i)
				ms[i] = migration.Member{UPN: upns[i]}
			}
			ms, err = migration.NormalizeMembers(ms)
			require.NoError(t, err)
			g, err := q.GroupCreate(ctx, store.NewGroup{Name: t.Name(), Source: "json", Members: ms})
			require.NoError(t, err)
			waves, err := app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
				return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 3}}, unplanned, next)
			})
			require.NoError(t, err)
			time.Sleep(2 * time.Second)
			w, err := q.WaveGet(ctx, waves[0].ID)
			require.NoError(t, err)
			require.Contains(t, w.StateReason, tt.reason, "the wave says why it waits")
			moves, err := q.MoveList(ctx, waves[0].ID, "")
			require.NoError(t, err)
			for _, m := range moves {
				require.Zero(t, m.Attempts, "%s spent an attempt", m.UPN)
				require.Zero(t, shell.CallsFor(m.UPN).MoveOnline, "%s reached Move-CsUser", m.UPN)
			}

			// Put right: the next check releases the hold, and everyone moves.
			tt.fix(shell, fake)
			require.Eventually(t, func() bool { return hold() == nil }, 30*time.Second, 100*time.Millisecond, "the hold clears")
			require.Equal(t, migration.WaveStateCompleted, waitWaveEnd(t, pool, waves[0].ID, time.Minute))
			moves, err = q.MoveList(ctx, waves[0].ID, "")
			require.NoError(t, err)
			for _, m := range moves {
				require.Equal(t, migration.MoveStateMoved, m.State, m.UPN)
			}
		})
	}
}
