package auth_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/sim"
)

func TestParseRoleMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{in: auth.DefaultRoleMap, want: "Cutover.Admin=admin,Cutover.Helpdesk=helpdesk,Cutover.Lead=lead"},
		{in: " Cutover.Lead = lead , 0b6a1c2d-0000-4000-8000-00000000000a=admin,", want: "0b6a1c2d-0000-4000-8000-00000000000a=admin,Cutover.Lead=lead"},
		{in: "Cutover.Lead", err: `role mapping 1 ("Cutover.Lead"): want CLAIM_VALUE=ROLE`},
		{in: "Cutover.Lead=lead,=admin", err: `role mapping 2 ("=admin"): want CLAIM_VALUE=ROLE`},
		{in: "Cutover.Lead=leader", err: `role mapping 1 ("Cutover.Lead=leader"): "leader" is not a role (helpdesk, lead or admin)`},
		{in: " , ", err: "the role mapping is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			m, err := auth.ParseRoleMap(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, m.String())
		})
	}
}

// Object IDs of groups in the simulated tenant.
const (
	leadsGroup    = "4a1b2c3d-0000-4000-8000-000000000001"
	helpdeskGroup = "4a1b2c3d-0000-4000-8000-000000000002"
)

// TestOIDCRoles signs accounts in through the whole authorization code flow
// with PKCE against the simulated Entra ID, and reads their role from the ID
// token's app roles and groups as a mapping configured by group and by app
// role says: the strongest wins, a value mapped to nothing counts for
// nothing, and an account in more groups than a token carries gets no role
// from a group and is told why.
func TestOIDCRoles(t *testing.T) {
	t.Parallel()
	many := make([]string, 201) // one over a JWT's limit of 200 groups
	for i := range many {
		many[i] = fmt.Sprintf("5b000000-0000-4000-8000-%012d", i)
	}
	many[0] = leadsGroup
	s, err := sim.StartSignIn(sim.SignInConfig{Accounts: []sim.Account{
		{UPN: "app.role@contoso.com", Name: "By App Role", OID: "00000000-0000-4000-8000-000000000001", Roles: []string{sim.SignInRoleLead}},
		{UPN: "by.group@contoso.com", Name: "By Group", OID: "00000000-0000-4000-8000-000000000002", Groups: []string{helpdeskGroup, "5b000000-0000-4000-8000-ffffffffffff"}},
		{UPN: "strongest@contoso.com", Name: "Strongest", OID: "00000000-0000-4000-8000-000000000003", Roles: []string{sim.SignInRoleHelpdesk}, Groups: []string{leadsGroup}},
		{UPN: "unmapped@contoso.com", Name: "Unmapped", OID: "00000000-0000-4000-8000-000000000004", Roles: []string{"Other.App.Role"}, Groups: []string{"5b000000-0000-4000-8000-eeeeeeeeeeee"}},
		{UPN: "overage@contoso.com", Name: "Overage", OID: "00000000-0000-4000-8000-000000000005", Groups: many},
		{UPN: "overage.role@contoso.com", Name: "Overage With Role", OID: "00000000-0000-4000-8000-000000000006", Roles: []string{sim.SignInRoleAdmin}, Groups: many},
	}})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	roles, err := auth.ParseRoleMap(auth.DefaultRoleMap + "," + leadsGroup + "=lead," + helpdeskGroup + "=helpdesk")
	require.NoError(t, err)
	const redirect = "http://127.0.0.1:9/ui/signin/callback"
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: s.Issuer(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), RedirectURL: redirect, Roles: roles})
	require.NoError(t, err)

	tests := []struct {
		upn      string
		role     auth.Role
		overage  bool
		nGroups  int
		nAppRole int
	}{
		{upn: "app.role@contoso.com", role: auth.RoleLead, nAppRole: 1},
		{upn: "by.group@contoso.com", role: auth.RoleHelpdesk, nGroups: 2},
		{upn: "strongest@contoso.com", role: auth.RoleLead, nGroups: 1, nAppRole: 1},
		{upn: "unmapped@contoso.com", role: "", nGroups: 1, nAppRole: 1},
		{upn: "overage@contoso.com", role: "", overage: true},
		{upn: "overage.role@contoso.com", role: auth.RoleAdmin, overage: true, nAppRole: 1},
	}
	for _, tt := range tests {
		t.Run(tt.upn, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			authURL, pending, err := o.Begin(ctx, "/ui/")
			require.NoError(t, err)
			state, code := signInAt(t, authURL, tt.upn, redirect)
			id, err := o.Finish(ctx, pending, state, code)
			require.NoError(t, err)
			require.Equal(t, tt.upn, id.Name)
			require.Equal(t, tt.role, id.Role)
			require.Equal(t, tt.overage, id.GroupsOverage)
			require.Len(t, id.Groups, tt.nGroups)
			require.Len(t, id.Roles, tt.nAppRole)
		})
	}
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// signInAt does what a person's browser does at the provider's sign-in
// page: it posts the page's form with a username and a password, and
// returns the state and the code the provider sends back to redirect.
func signInAt(t *testing.T, authURL, upn, redirect string) (state, code string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authURL)
	require.NoError(t, err)
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(page))
	m := formAction.FindStringSubmatch(string(page))
	require.NotNil(t, m, string(page))
	action, err := res.Request.URL.Parse(html.UnescapeString(m[1]))
	require.NoError(t, err)
	form := url.Values{"username": {upn}, "password": {"any password"}}
	for _, h := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	res, err = c.PostForm(action.String(), form)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, redirect, loc.Scheme+"://"+loc.Host+loc.Path)
	require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
	return loc.Query().Get("state"), loc.Query().Get("code")
}
