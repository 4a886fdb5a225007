package migration_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

var checkNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func readyTenant() migration.Tenant {
	sync := checkNow.Add(-20 * time.Minute)
	return migration.Tenant{
		DisplayName: "Contoso", SyncEnabled: true, LastSync: &sync,
		Domains: []migration.Domain{
			{Name: "contoso.com", Verified: true, Services: []string{"Email", migration.ServiceSfBOnline}},
			{Name: "fabrikam.com", Verified: true, Services: []string{"Email", migration.ServiceSfBOnline}},
		},
		SKUs: []migration.SKU{{PartNumber: "ENTERPRISEPACK", Enabled: 500, Consumed: 300, Plans: []migration.SKUPlan{
			{Name: migration.PlanNameTeams1, Status: "Success"}, {Name: migration.PlanNameMCOStd, Status: "Success"},
		}}},
	}
}

func statusOf(checks []migration.Check, name string) migration.Check {
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	return migration.Check{}
}

func TestTenantReadiness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*migration.Tenant)
		toMove int
		check  string
		want   migration.CheckStatus
	}{
		{"ready", func(*migration.Tenant) {}, 100, "directory_sync", migration.CheckPass},
		{"sync off", func(t *migration.Tenant) { t.SyncEnabled = false }, 100, "directory_sync", migration.CheckFail},
		{"never synchronised", func(t *migration.Tenant) { t.LastSync = nil }, 100, "last_sync", migration.CheckFail},
		{"last sync old", func(t *migration.Tenant) { old := checkNow.Add(-5 * time.Hour); t.LastSync = &old }, 100, "last_sync", migration.CheckWarn},
		{"domain missing", func(t *migration.Tenant) { t.Domains = t.Domains[:1] }, 100, "sip_domain fabrikam.com", migration.CheckFail},
		{"domain unverified", func(t *migration.Tenant) { t.Domains[1].Verified = false }, 100, "sip_domain fabrikam.com", migration.CheckFail},
		{"domain without Skype for Business", func(t *migration.Tenant) { t.Domains[1].Services = []string{"Email"} }, 100, "sip_domain fabrikam.com", migration.CheckFail},
		{"no Teams plan", func(t *migration.Tenant) { t.SKUs[0].Plans = t.SKUs[0].Plans[1:] }, 100, "licences TEAMS1", migration.CheckFail},
		{"plan not provisioned", func(t *migration.Tenant) { t.SKUs[0].Plans[1].Status = "Disabled" }, 100, "licences MCOSTANDARD", migration.CheckFail},
		{"too few free units", func(*migration.Tenant) {}, 201, "licences MCOSTANDARD", migration.CheckWarn},
		{"just enough free units", func(*migration.Tenant) {}, 200, "licences MCOSTANDARD", migration.CheckPass},
		{"commercial cloud", func(*migration.Tenant) {}, 100, "cloud", migration.CheckPass},
		{"GCC tenant refused", func(t *migration.Tenant) {
			t.SKUs = append(t.SKUs, migration.SKU{PartNumber: "ENTERPRISEPACK_GOV", Plans: []migration.SKUPlan{{Name: "TEAMS_GOV", Status: "Success"}}})
		}, 100, "cloud", migration.CheckFail},
		{"GCC High tenant refused", func(t *migration.Tenant) { t.SKUs[0].Plans[0].Name = "TEAMS_AR_GCCHIGH" }, 100, "cloud", migration.CheckFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tenant := readyTenant()
			tt.change(&tenant)
			checks := migration.TenantReadiness(tenant, []string{"contoso.com", "fabrikam.com"}, tt.toMove, checkNow, 3*time.Hour)
			require.Len(t, checks, 7)
			c := statusOf(checks, tt.check)
			require.Equal(t, tt.want, c.Status, "%+v", c)
			require.NotEmpty(t, c.Evidence)
			if c.Status != migration.CheckPass {
				require.NotEmpty(t, c.Fix, "a check that does not pass says how to fix it")
			}
			if tt.name == "ready" {
				require.Equal(t, migration.CheckPass, migration.Worst(checks), "%+v", checks)
			}
		})
	}
}

func readyUser() *migration.DirectoryUser {
	long := checkNow.Add(-400 * 24 * time.Hour)
	return &migration.DirectoryUser{
		ID: "7f0c-1", UPN: "alice@contoso.com", Enabled: true, SyncEnabled: true, ImmutableID: "abc==",
		UsageLocation: "GB", ProxyAddresses: []string{"SMTP:alice@contoso.com", "SIP:alice@contoso.com"},
		Plans: []migration.AssignedPlan{
			{ID: migration.PlanTeams1, Service: "TeamspaceAPI", Status: "Enabled", AssignedAt: long},
			{ID: migration.PlanMCOStandard, Service: "MicrosoftCommunicationsOnline", Status: "Enabled", AssignedAt: long},
		},
	}
}

func TestUserPreflight(t *testing.T) {
	t.Parallel()
	member := migration.Member{UPN: "alice@contoso.com", SIP: "alice@contoso.com"}
	tests := []struct {
		name      string
		change    func(*migration.DirectoryUser) *migration.DirectoryUser
		worst     migration.CheckStatus
		code      migration.ErrorCode // of the first failure
		transient bool
	}{
		{"ready", func(u *migration.DirectoryUser) *migration.DirectoryUser { return u }, migration.CheckPass, "", false},
		{"no account", func(*migration.DirectoryUser) *migration.DirectoryUser { return nil }, migration.CheckFail, migration.CodeAccountNotFound, false},
		{"disabled", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.Enabled = false; return u }, migration.CheckFail, migration.CodeAccountDisabled, false},
		{"cloud-only", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.SyncEnabled = false; return u }, migration.CheckFail, migration.CodeAccountNotSynchronised, false},
		{"no immutable ID", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.ImmutableID = ""; return u }, migration.CheckFail, migration.CodeAccountNotSynchronised, false},
		{"no usage location", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.UsageLocation = ""; return u }, migration.CheckFail, migration.CodeUsageLocationMissing, false},
		{"no licence", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.Plans = nil; return u }, migration.CheckFail, migration.CodeLicenceMissing, false},
		{"Skype plan disabled", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.Plans[1].Status = "Suspended"; return u }, migration.CheckFail, migration.CodeLicenceMissing, false},
		{"Skype plan deleted", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.Plans[1].Status = "Deleted"; return u }, migration.CheckFail, migration.CodeLicenceMissing, false},
		{"Teams plan locked out", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.Plans[0].Status = "LockedOut"; return u }, migration.CheckFail, migration.CodeLicenceMissing, false},
		{"Teams plan in its grace period warns", func(u *migration.DirectoryUser) *migration.DirectoryUser { u.Plans[0].Status = "Warning"; return u }, migration.CheckWarn, "", false},
		{"licence assigned 10 minutes ago retries", func(u *migration.DirectoryUser) *migration.DirectoryUser {
			u.Plans[1].AssignedAt = checkNow.Add(-10 * time.Minute)
			return u
		}, migration.CheckFail, migration.CodeLicenceProvisioning, true},
		{"licence assigned 31 minutes ago", func(u *migration.DirectoryUser) *migration.DirectoryUser {
			u.Plans[1].AssignedAt = checkNow.Add(-31 * time.Minute)
			return u
		}, migration.CheckPass, "", false},
		{"UPN domain unverified", func(u *migration.DirectoryUser) *migration.DirectoryUser {
			u.UPN = "alice@contoso.onmicrosoft.com"
			return u
		}, migration.CheckFail, migration.CodeDomainNotVerified, false},
		{"SIP mismatch warns", func(u *migration.DirectoryUser) *migration.DirectoryUser {
			u.ProxyAddresses[1] = "SIP:alice.old@contoso.com"
			return u
		}, migration.CheckWarn, "", false},
		{"no SIP proxy address warns", func(u *migration.DirectoryUser) *migration.DirectoryUser {
			u.ProxyAddresses = u.ProxyAddresses[:1]
			return u
		}, migration.CheckWarn, "", false},
		{"SIP in another case passes", func(u *migration.DirectoryUser) *migration.DirectoryUser {
			u.ProxyAddresses[1] = "sip:Alice@Contoso.com"
			return u
		}, migration.CheckPass, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checks := migration.UserPreflight(tt.change(readyUser()), member, readyTenant(), checkNow, 30*time.Minute)
			require.Equal(t, tt.worst, migration.Worst(checks), "%+v", checks)
			err := migration.FirstFailure(checks)
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, migration.IsPreflight(err))
			f := migration.Classify(err)
			require.Equal(t, tt.code, f.Code)
			require.Equal(t, tt.transient, f.Transient)
			require.NotEmpty(t, f.Fix)
			if tt.worst == migration.CheckWarn {
				require.Contains(t, statusOf(checks, "sip_address").Evidence, "alice")
			}
		})
	}
	// A mismatch shows both addresses.
	u := readyUser()
	u.ProxyAddresses[1] = "SIP:alice.old@contoso.com"
	c := statusOf(migration.UserPreflight(u, member, readyTenant(), checkNow, 30*time.Minute), "sip_address")
	require.Contains(t, c.Evidence, "sip:alice@contoso.com")
	require.Contains(t, c.Evidence, "alice.old@contoso.com")
}

func TestClassifyDirectoryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err       *migration.DirectoryError
		code      migration.ErrorCode
		transient bool
	}{
		{&migration.DirectoryError{Status: 429, Code: "TooManyRequests"}, migration.CodeGraphThrottled, true},
		{&migration.DirectoryError{Status: 503}, migration.CodeGraphUnavailable, true},
		{&migration.DirectoryError{Status: 0, Message: "connection refused"}, migration.CodeGraphUnavailable, true},
		{&migration.DirectoryError{Status: 403, Code: "Authorization_RequestDenied"}, migration.CodeGraphAccessDenied, false},
		{&migration.DirectoryError{Status: 401}, migration.CodeGraphAccessDenied, false},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			t.Parallel()
			f := migration.Classify(tt.err)
			require.Equal(t, tt.code, f.Code)
			require.Equal(t, tt.transient, f.Transient)
		})
	}
	require.Equal(t, "Microsoft Graph (500): no message", (&migration.DirectoryError{Status: 500}).Error())
}
