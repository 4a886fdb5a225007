package migration

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAccountChecks: the account Move-CsUser signs in with holds a role the
// move needs, and an account synchronised from on premises comes with an
// override URL; a session without credential is attended only.
func TestAccountChecks(t *testing.T) {
	t.Parallel()
	teams := DirectoryRole{TemplateID: "69091246-20e8-4a56-aa4d-066075b2a7a8", DisplayName: "Teams Administrator"}
	userAdmin := DirectoryRole{TemplateID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DisplayName: "User Administrator"}
	tests := []struct {
		name    string
		account Account
		want    map[string]CheckStatus
	}{
		{"Teams Administrator on a .onmicrosoft.com account", Account{UPN: "mover@contoso.onmicrosoft.com", Roles: []DirectoryRole{teams}, Graph: true},
			map[string]CheckStatus{"sign_in_mode": CheckPass, "account_roles": CheckPass, "hosted_migration_override_url": CheckPass}},
		{"Global Administrator, among others", Account{UPN: "mover@contoso.onmicrosoft.com", Graph: true,
			Roles: []DirectoryRole{userAdmin, {TemplateID: "62E90394-69F5-4237-9190-012177145E10", DisplayName: "Global Administrator"}}},
			map[string]CheckStatus{"account_roles": CheckPass}},
		{"User Administrator alone", Account{UPN: "mover@contoso.onmicrosoft.com", Roles: []DirectoryRole{userAdmin}, Graph: true},
			map[string]CheckStatus{"account_roles": CheckFail}},
		{"no role at all", Account{UPN: "mover@contoso.onmicrosoft.com", Roles: []DirectoryRole{}, Graph: true},
			map[string]CheckStatus{"account_roles": CheckFail}},
		{"roles listed without names", Account{UPN: "mover@contoso.onmicrosoft.com", Roles: []DirectoryRole{{}}, Graph: true},
			map[string]CheckStatus{"account_roles": CheckWarn}},
		{"roles unreadable", Account{UPN: "mover@contoso.onmicrosoft.com", RolesError: "Microsoft Graph (403)", Graph: true},
			map[string]CheckStatus{"account_roles": CheckWarn}},
		{"without Graph", Account{UPN: "mover@contoso.onmicrosoft.com"}, map[string]CheckStatus{"account_roles": CheckWarn}},
		{"synchronised account without override URL", Account{UPN: "mover@contoso.com", Roles: []DirectoryRole{teams}, Graph: true},
			map[string]CheckStatus{"hosted_migration_override_url": CheckFail}},
		{"synchronised account with override URL", Account{UPN: "mover@contoso.com", Roles: []DirectoryRole{teams}, Graph: true,
			OverrideURL: "https://admin4a.online.lync.com/HostedMigration/hostedmigrationService.svc"},
			map[string]CheckStatus{"hosted_migration_override_url": CheckPass}},
		{"session mode", Account{Graph: true}, map[string]CheckStatus{"sign_in_mode": CheckWarn, "account_roles": CheckWarn, "hosted_migration_override_url": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := map[string]Check{}
			for _, c := range AccountChecks(tt.account) {
				got[c.Name] = c
			}
			for name, want := range tt.want {
				c, ok := got[name]
				if want == "" {
					require.False(t, ok, "%s: not checked", name)
					continue
				}
				require.True(t, ok, "%s checked", name)
				require.Equal(t, want, c.Status, "%s: %+v", name, c)
				require.NotEmpty(t, c.Evidence)
				if want == CheckFail {
					require.Equal(t, CodeAccountNotReady, c.Code)
					require.NotEmpty(t, c.Fix)
				}
			}
		})
	}
}
