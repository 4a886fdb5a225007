package sim_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

func kinds(s *sim.Shell, n int) map[sim.Kind]int {
	out := map[sim.Kind]int{}
	for i := range n {
		out[s.BehaviourOf(fmt.Sprintf("u%05d@contoso.com", i)).Kind]++
	}
	return out
}

func TestSeedDecidesBehaviour(t *testing.T) {
	t.Parallel()
	a := sim.NewShell(sim.ShellConfig{Seed: 42})
	b := sim.NewShell(sim.ShellConfig{Seed: 42})
	c := sim.NewShell(sim.ShellConfig{Seed: 43})
	same, differ := true, false
	for i := range 500 {
		upn := fmt.Sprintf("u%05d@contoso.com", i)
		same = same && a.BehaviourOf(upn) == b.BehaviourOf(upn)
		differ = differ || a.BehaviourOf(upn) != c.BehaviourOf(upn)
	}
	require.True(t, same, "one seed, one behaviour per user")
	require.True(t, differ, "another seed, other behaviours")

	// The mix holds in the large: each kind within a few points of its share.
	const n = 20000
	got := kinds(sim.NewShell(sim.ShellConfig{Seed: 7}), n)
	for k, share := range sim.DefaultMix {
		require.InDelta(t, share, float64(got[k])/n, 0.01, "share of %s", k)
	}
	require.Equal(t, map[sim.Kind]int{sim.KindOK: 100}, kinds(sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}), 100))
}

// TestShellErrorsClassify checks that every simulated failure reads, through
// the catalogue, as the code a real shell's message would.
func TestShellErrorsClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind      sim.Kind
		code      migration.ErrorCode
		transient bool
	}{
		{sim.KindLicenceMissing, migration.CodeLicenceMissing, false},
		{sim.KindTenantNotEnabled, migration.CodeTenantNotEnabled, false},
		{sim.KindNotFound, migration.CodeUserNotFound, false},
		// The same 507 as a missing licence: the move's attempt reads it
		// against time (migration.SettleLicence).
		{sim.KindLicenceProvisioning, migration.CodeLicenceMissing, false},
		{sim.KindOtherDomain, migration.CodeUserNotInDomain, false},
		{sim.KindTimeout, migration.CodeTimeout, true},
	}
	local := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	srv := httptest.NewServer(local.Handler())
	t.Cleanup(srv.Close)
	remote := sim.NewRemoteShell(srv.URL, srv.Client())
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			upn := string(tt.kind) + "@contoso.com"
			local.SetBehaviour(upn, sim.Behaviour{Kind: tt.kind, Failures: 1})
			err := remote.MoveOnline(context.Background(), upn, migration.MoveOnlineOptions{}) // the first call fails
			require.Error(t, err)
			f := migration.Classify(err)
			require.Equal(t, tt.code, f.Code, err.Error())
			require.Equal(t, tt.transient, f.Transient)
			if tt.kind.Transient() { // the second succeeds
				require.NoError(t, remote.MoveOnline(context.Background(), upn, migration.MoveOnlineOptions{}))
				u, err := remote.GetUser(context.Background(), upn)
				require.NoError(t, err)
				require.True(t, u.HomedOnline(""))
			}
			wantCalls := 1
			if tt.kind.Transient() {
				wantCalls = 2
			}
			require.Equal(t, wantCalls, local.CallsFor(upn).MoveOnline)
		})
	}
}

// TestSpeaksOnlyPublishedMessages: every message the simulated shell (and
// so the fake PowerShell, which speaks from the same table) can answer is one
// Microsoft publishes, found in the catalogue with where it is published.
func TestSpeaksOnlyPublishedMessages(t *testing.T) {
	t.Parallel()
	spoken := 0
	for _, k := range sim.Kinds() {
		for _, getUser := range []bool{true, false} {
			msg := sim.FailureMessage(k, "alice@contoso.com", getUser)
			if msg == "" {
				continue
			}
			spoken++
			p, ok := migration.PublishedText(msg)
			require.True(t, ok, "%s (get-user %t) speaks %q, which is not a published text in the catalogue", k, getUser, msg)
			require.NotEmpty(t, p.Source, "%q names no source", p.Text)
			require.NotEqual(t, migration.CodeUnknown, migration.Classify(errors.New(msg)).Code)
		}
	}
	require.GreaterOrEqual(t, spoken, 6, "the kinds that fail speak")

	// The simulated Entra ID: every AADSTS text it can speak is published,
	// with where; and every refusal of the simulated Graph's authority
	// speaks one of them (the pages' sign-in is driven through each of its
	// refusals by TestSignInRefusals, which checks the same).
	for code, p := range sim.EntraTexts() {
		require.NotEmpty(t, p.Text, "AADSTS%d", code)
		require.Regexp(t, `^MicrosoftDocs/(entra-docs|azure-docs|SupportArticles-docs) \S+\.md$`, p.Source, "AADSTS%d", code)
	}
	g, err := sim.StartGraph(sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}), sim.GraphConfig{ClientID: "app", ClientSecret: "secret"})
	require.NoError(t, err)
	t.Cleanup(g.Close)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"secret"}, "scope": {"https://graph.microsoft.com/.default"}}
	for _, tc := range []struct {
		name   string
		tenant string
		edit   func(url.Values)
		aadsts int
	}{
		{"no grant_type", "", func(v url.Values) { v.Del("grant_type") }, 900144},
		{"another grant", "", func(v url.Values) { v.Set("grant_type", "password") }, 70003},
		{"no client_id", "", func(v url.Values) { v.Del("client_id") }, 900144},
		{"unknown client", "", func(v url.Values) { v.Set("client_id", "other") }, 700016},
		{"no scope", "", func(v url.Values) { v.Del("scope") }, 900144},
		{"wrong secret", "", func(v url.Values) { v.Set("client_secret", "wrong") }, 7000215},
		{"bad assertion", "", func(v url.Values) {
			v.Del("client_secret")
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			v.Set("client_assertion", "a.b.c")
		}, 700027},
		{"unknown tenant", "fabrikam.onmicrosoft.com", func(url.Values) {}, 90002},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = slices.Clone(v)
		}
		tc.edit(form)
		tenant := cmp.Or(tc.tenant, g.TenantID())
		resp, err := g.Client().PostForm(g.URL()+"/"+tenant+"/oauth2/v2.0/token", form)
		require.NoError(t, err, tc.name)
		var e struct {
			Description string `json:"error_description"`
			Codes       []int  `json:"error_codes"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e), tc.name)
		resp.Body.Close()
		require.GreaterOrEqual(t, resp.StatusCode, 400, tc.name)
		require.Equal(t, []int{tc.aadsts}, e.Codes, "%s: %s", tc.name, e.Description)
		_, ok := sim.PublishedEntraText(e.Description)
		require.True(t, ok, "%s: %q is not the text published for its code", tc.name, e.Description)
	}
}

func TestHomingAndCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	s.SetBehaviour("online@contoso.com", sim.Behaviour{Kind: sim.KindAlreadyOnline})

	u, err := s.GetUser(ctx, "SIP:Alice@Contoso.com")
	require.NoError(t, err)
	require.False(t, u.HomedOnline(""))
	require.Equal(t, "pool01.contoso.com", u.RegistrarPool)
	require.Equal(t, "sip:alice@contoso.com", u.SipAddress)

	require.NoError(t, s.MoveOnline(ctx, "alice@contoso.com", migration.MoveOnlineOptions{}))
	require.NoError(t, s.MoveOnline(ctx, "alice@contoso.com", migration.MoveOnlineOptions{})) // a second call is a no-op, as Move-CsUser to where the user is
	u, err = s.GetUser(ctx, "alice@contoso.com")
	require.NoError(t, err)
	require.True(t, u.HomedOnline(""))
	require.Empty(t, u.RegistrarPool)
	require.Equal(t, sim.Calls{GetUser: 2, MoveOnline: 2}, s.CallsFor("alice@contoso.com"))
	require.Equal(t, 1, s.MovesFor("alice@contoso.com"))

	require.NoError(t, s.MoveToPool(ctx, "alice@contoso.com", "pool02.contoso.com"))
	u, err = s.GetUser(ctx, "alice@contoso.com")
	require.NoError(t, err)
	require.Equal(t, "pool02.contoso.com", u.RegistrarPool)

	u, err = s.GetUser(ctx, "online@contoso.com")
	require.NoError(t, err)
	require.True(t, u.HomedOnline(""))
	require.Equal(t, 0, s.Stats().InFlight)
}

func TestLatencyAndCancel(t *testing.T) {
	t.Parallel()
	s := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := s.MoveOnline(ctx, "slow@contoso.com", migration.MoveOnlineOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, migration.CodeTimeout, migration.Classify(err).Code)
	require.Equal(t, 0, s.MovesFor("slow@contoso.com"), "a call cut off does not land")
	require.Equal(t, 0, s.Stats().InFlight)
}
