package migration_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// TestCatalogue classifies the messages Microsoft publishes for Move-CsUser
// and Get-CsUser, as PowerShell shows them (with the cmdlet's name in front)
// and as the exception carries them (without), and the conditions cutover
// sees itself.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		code      migration.ErrorCode
		transient bool
	}{
		{"507 as published", errors.New(migration.Text507.Text), migration.CodeLicenceMissing, false},
		{"507 with a space before the colon", errors.New("Move-CsUser : HostedMigration fault: Error=(507), Description=(User must has an assigned license to use Skype for Business Online.)"), migration.CodeLicenceMissing, false},
		{"507 as the exception's message", errors.New("HostedMigration fault: Error=(507), Description=(User must has an assigned license to use Skype for Business Online.)"), migration.CodeLicenceMissing, false},
		{"510", errors.New(migration.Text510.Text), migration.CodeTenantNotEnabled, false},
		{"506", errors.New(migration.Text506.Text), migration.CodeNotSynchronised, false},
		{"no such SIP URI in the domain", errors.New(migration.TextNoSIPURI.Fill("sip:alice@contoso.com")), migration.CodeUserNotInDomain, false},
		{"no management object", errors.New(migration.TextNoObject.Fill("alice@contoso.com")), migration.CodeUserNotFound, false},
		{"no management object, upper case", errors.New(strings.ToUpper(migration.TextNoObject.Fill("alice@contoso.com"))), migration.CodeUserNotFound, false},
		{"multiple federated Edge pools", errors.New("Move-CsUser : an error about multiple federated Edge pools"), migration.CodeMultipleEdgePools, false},
		{"deadline wrapped", fmt.Errorf("move alice@contoso.com: %w", context.DeadlineExceeded), migration.CodeTimeout, true},
		{"deadline wrapped twice", fmt.Errorf("attempt 2: %w", fmt.Errorf("shell: %w", context.DeadlineExceeded)), migration.CodeTimeout, true},
		{"a broken remote session", fmt.Errorf("call: %w", migration.ErrSessionBroken), migration.CodeSessionBroken, true},
		{"cancelled is not a time-out", fmt.Errorf("shell: %w", context.Canceled), migration.CodeUnknown, false},
		{"a 507 without its text", errors.New("HostedMigration fault: Error=(507), Description=(something else)"), migration.CodeUnknown, false},
		{"texts Microsoft never published are unknown", errors.New("Move-CsUser : HostedMigration fault: Error=(503), Description=(The server is busy.)"), migration.CodeUnknown, false},
		{"access denied is unknown", errors.New("Move-CsUser : Access is denied."), migration.CodeUnknown, false},
		{"empty message", errors.New(""), migration.CodeUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := migration.Classify(tt.err)
			require.Equal(t, tt.code, f.Code, "%v", tt.err)
			require.Equal(t, tt.transient, f.Transient)
			require.NotEmpty(t, f.Explanation)
			require.NotEmpty(t, f.Fix)
		})
	}
	for _, f := range migration.Catalogue {
		require.Equal(t, f.Code, migration.FailureFor(f.Code).Code, "the first entry of a code is the one reports show")
		for _, p := range f.Texts {
			require.NotEmpty(t, p.Source, "%s: every text names where Microsoft publishes it", f.Code)
			require.Equal(t, f.Code, migration.Classify(errors.New(p.Fill("sip:x@contoso.com"))).Code, "%s classifies as its own entry", p.Text)
		}
	}
	require.True(t, migration.FailureFor(migration.CodeUnknown).Retries(1), "unknown errors are retried once")
	require.False(t, migration.FailureFor(migration.CodeUnknown).Retries(2))
}

// TestSettleLicence: Microsoft answers 507 alike for a licence missing and
// one provisioning; within the settle time of the licence's assignment (or
// of the first 507) it is provisioning and retried, after it missing.
func TestSettleLicence(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f507 := migration.Classify(errors.New(migration.Text507.Text))
	tests := []struct {
		name      string
		f         migration.Failure
		since     time.Time
		code      migration.ErrorCode
		transient bool
	}{
		{"just assigned", f507, now.Add(-time.Minute), migration.CodeLicenceProvisioning, true},
		{"assigned 29 minutes ago", f507, now.Add(-29 * time.Minute), migration.CodeLicenceProvisioning, true},
		{"assigned 30 minutes ago", f507, now.Add(-30 * time.Minute), migration.CodeLicenceMissing, false},
		{"no time known", f507, time.Time{}, migration.CodeLicenceMissing, false},
		{"other failures pass unchanged", migration.FailureFor(migration.CodeTenantNotEnabled), now, migration.CodeTenantNotEnabled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := migration.SettleLicence(tt.f, tt.since, now, 30*time.Minute)
			require.Equal(t, tt.code, got.Code)
			require.Equal(t, tt.transient, got.Transient)
		})
	}
}

func TestPublishedFill(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Cannot find user in Active Directory with the following SIP URI: sip:a@b.com.", migration.TextNoSIPURI.Fill("sip:a@b.com"))
	require.Equal(t, `Management object not found for identity "a@b.com".`, migration.TextNoObject.Fill("a@b.com"))
	require.Equal(t, migration.Text507.Text, migration.Text507.Fill("ignored"))
}
