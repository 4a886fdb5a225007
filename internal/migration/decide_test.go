package migration

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecide states, for every failure the catalogue can produce, what an
// attempt does after it: on the first attempt, on a later one, on the last,
// and with the run's free session breaks spent. A code added to the
// catalogue without a line here fails the test.
func TestDecide(t *testing.T) {
	t.Parallel()
	type want struct{ first, second, last, breaksSpent Next }
	retry := want{NextRetry, NextRetry, NextFail, NextRetry}
	once := want{NextRetry, NextFail, NextFail, NextRetry} // unknown: retried once, in case it passes
	fail := want{NextFail, NextFail, NextFail, NextFail}
	hold := want{NextHold, NextHold, NextHold, NextHold}
	outcomes := map[ErrorCode]want{
		CodeSignInFailed:           hold,
		CodeGraphUnavailable:       hold,
		CodeShellUnavailable:       hold,
		CodeCloudNotSupported:      hold,
		CodeAccountNotReady:        hold,
		CodeGraphAccessDenied:      hold,
		CodeSessionBroken:          {NextResume, NextResume, NextResume, NextRetry},
		CodeTimeout:                retry,
		CodeNotHomedOnline:         retry,
		CodeLicenceProvisioning:    retry,
		CodeGraphThrottled:         retry,
		CodeUnknown:                once,
		CodeLicenceMissing:         fail,
		CodeTenantNotEnabled:       fail,
		CodeNotSynchronised:        fail,
		CodeUserNotInDomain:        fail,
		CodeUserNotFound:           fail,
		CodeMultipleEdgePools:      fail,
		CodeAccountNotFound:        fail,
		CodeAccountDisabled:        fail,
		CodeAccountNotSynchronised: fail,
		CodeUsageLocationMissing:   fail,
		CodeDomainNotVerified:      fail,
		CodeTeamsPhoneMissing:      fail,
		CodeNotProvisionedOnline:   fail,
		CodeNoRollbackRecord:       fail,
		CodeWaveHalted:             fail,
		CodeWaveCancelled:          fail,
		CodeRemoved:                fail,
	}
	const max = 4
	for _, f := range slices.Concat(Catalogue, shellConditions, directoryFailures, []Failure{unknownFailure}) {
		w, ok := outcomes[f.Code]
		require.True(t, ok, "%s: no expected outcome", f.Code)
		for _, tc := range []struct {
			n, breaks int
			want      Next
		}{{1, 0, w.first}, {2, 0, w.second}, {max, 0, w.last}, {1, SessionBreaksFree, w.breaksSpent}} {
			t.Run(fmt.Sprintf("%s/attempt %d/%d breaks", f.Code, tc.n, tc.breaks), func(t *testing.T) {
				d := Decide(f, tc.n, max, tc.breaks)
				require.Equal(t, tc.want, d.Next)
				require.Equal(t, f.Code, d.Failure.Code)
				require.Equal(t, tc.want == NextFail && f.Retries(tc.n), d.NoAttemptsLeft, "no attempts left")
			})
		}
	}
}
