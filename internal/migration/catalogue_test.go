package migration_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// TestCatalogue classifies messages the management shell and the hosted
// migration service give, as the shell reports them.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		message   string
		code      migration.ErrorCode
		transient bool
	}{
		{`Move-CsUser : HostedMigration fault: Error=(507), Description=(User is not licensed for Skype for Business Online.)`, migration.CodeLicenceMissing, false},
		{`Move-CsUser : HostedMigration fault: Error=(507), Description=(The user's license is still being provisioned.)`, migration.CodeLicenceProvisioning, true},
		{`Move-CsUser : HostedMigration fault: Error=(510), Description=(This tenant is not enabled for shared SIP address space.)`, migration.CodeTenantNotEnabled, false},
		{`Move-CsUser : HostedMigration fault: Error=(506), Description=(Attributes are not synchronized.)`, migration.CodeNotSynchronised, false},
		{`Move-CsUser : Cannot find user in Active Directory with the following SIP URI: "sip:bob@contoso.com"`, migration.CodeUserNotFound, false},
		{`Get-CsUser : Management object not found for identity "bob@contoso.com".`, migration.CodeUserNotFound, false},
		{`Move-CsUser : There are multiple federated Edge pools in the topology; cannot determine the hosted migration route.`, migration.CodeMultipleEdgePools, false},
		{`Move-CsUser : Access is denied.`, migration.CodeAccessDenied, false},
		{`System.UnauthorizedAccessException: Attempted to perform an unauthorized operation.`, migration.CodeAccessDenied, false},
		{`Processing data from remote server failed: the session has expired.`, migration.CodeSessionExpired, true},
		{`The session state is Broken.`, migration.CodeSessionExpired, true},
		{`Move-CsUser : HostedMigration fault: Error=(503), Description=(The server is busy.)`, migration.CodeThrottled, true},
		{`Move-CsUser : Too many requests; try again later.`, migration.CodeThrottled, true},
		{`Move-CsUser : The operation has timed out.`, migration.CodeTimeout, true},
		{`Something nobody has seen before.`, migration.CodeUnknown, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			f := migration.Classify(errString(tt.message))
			require.Equal(t, tt.code, f.Code, tt.message)
			require.Equal(t, tt.transient, f.Transient)
			require.NotEmpty(t, f.Explanation)
			require.NotEmpty(t, f.Fix)
		})
	}
	// Every code in the catalogue has its explanation and fix.
	for _, f := range migration.Catalogue {
		require.Equal(t, f, migration.FailureFor(f.Code), "the first entry of a code is the one reports show")
	}
	require.True(t, migration.FailureFor(migration.CodeUnknown).Retries(1), "unknown errors are retried once")
	require.False(t, migration.FailureFor(migration.CodeUnknown).Retries(2))
}

type errString string

func (e errString) Error() string { return string(e) }
