package dns_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

// TestDNSReadiness serves a SIP domain's records from a DNS server on
// loopback, turns each check from pass to fail, and finds the fix named.
func TestDNSReadiness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		record  string
		answers []string // none: the name is removed
		status  migration.CheckStatus
		fix     string
	}{
		{"no federation SRV", "_sipfederationtls._tcp.contoso.com", nil, migration.CheckFail, "Publish _sipfederationtls._tcp.contoso.com SRV 100 1 5061"},
		{"federation SRV to Microsoft", "_sipfederationtls._tcp.contoso.com", []string{"SRV 100 1 5061 sipfed.online.lync.com."}, migration.CheckFail, "Point _sipfederationtls._tcp.contoso.com back to the on-premises deployment"},
		{"_sip._tls to Microsoft", "_sip._tls.contoso.com", []string{"SRV 100 1 443 sipdir.online.lync.com."}, migration.CheckFail, "back to the on-premises deployment"},
		{"lyncdiscover to Microsoft", "lyncdiscover.contoso.com", []string{"CNAME webdir.online.lync.com."}, migration.CheckFail, "back to the on-premises deployment"},
		{"sip to a government cloud", "sip.contoso.com", []string{"CNAME sipdir.online.gov.skypeforbusiness.us."}, migration.CheckFail, "back to the on-premises deployment"},
		{"no lyncdiscover", "lyncdiscover.contoso.com", nil, migration.CheckWarn, "Publish lyncdiscover.contoso.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := sim.StartDNS(0, []string{"contoso.com"})
			require.NoError(t, err)
			t.Cleanup(func() { _ = srv.Close() })
			r, err := dns.New(srv.Addr())
			require.NoError(t, err)
			ctx := context.Background()
			for _, c := range migration.DNSReadiness("contoso.com", r.SIPDomain(ctx, "contoso.com")) {
				require.Equal(t, migration.CheckPass, c.Status, "%s before the change: %s", c.Name, c.Evidence)
			}
			require.NoError(t, srv.Set(tt.record, tt.answers...))
			checks := migration.DNSReadiness("contoso.com", r.SIPDomain(ctx, "contoso.com"))
			i := slices.IndexFunc(checks, func(c migration.Check) bool { return c.Name == "dns "+tt.record })
			require.GreaterOrEqual(t, i, 0)
			require.Equal(t, tt.status, checks[i].Status, checks[i].Evidence)
			require.Contains(t, checks[i].Fix, tt.fix)
		})
	}
}

func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	r, err := dns.New("127.0.0.1:1") // nothing answers there
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3e9)
	defer cancel()
	checks := migration.DNSReadiness("contoso.com", r.SIPDomain(ctx, "contoso.com"))
	for _, c := range checks {
		require.Equal(t, migration.CheckWarn, c.Status, c.Name)
		require.Contains(t, c.Fix, "--dns-server")
	}
}
