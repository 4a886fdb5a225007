package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/sim"
)

// signinFlags configure sign-in to the pages with Entra ID.
type signinFlags struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Roles        string
	Lifetime     time.Duration
}

// register adds the flags; def is the default of --oidc-issuer.
func (s *signinFlags) register(f *flags, def string) {
	f.str(&s.Issuer, "oidc-issuer", "CUTOVER_OIDC_ISSUER", def, `sign-in to the pages: "" (API tokens only), "sim" (the simulated tenant's Entra ID) or the issuer, https://login.microsoftonline.com/{tenant ID}/v2.0`)
	f.str(&s.ClientID, "oidc-client-id", "CUTOVER_OIDC_CLIENT_ID", "", "application (client) ID of the app registration the pages sign in with")
	f.secret(&s.ClientSecret, "oidc-client-secret", "CUTOVER_OIDC_CLIENT_SECRET", "client secret (its value) of that app registration")
	f.str(&s.Roles, "oidc-roles", "CUTOVER_OIDC_ROLES", auth.DefaultRoleMap, "the ID token's app role values or group object IDs, each mapped to a role: VALUE=ROLE,…")
	f.dur(&s.Lifetime, "session-lifetime", "CUTOVER_SESSION_LIFETIME", app.SessionLifetime, "how long a page session lasts; the role is the one signed in with until then")
}

// check reads the flags before anything starts.
func (s *signinFlags) check() error {
	if _, err := auth.ParseRoleMap(s.Roles); err != nil {
		return fmt.Errorf("--oidc-roles: %w", err)
	}
	switch {
	case s.Issuer == "" || s.Issuer == "sim":
		return nil
	case !strings.HasPrefix(s.Issuer, "https://"):
		return fmt.Errorf(`--oidc-issuer %q: want "sim" or an https:// issuer like https://login.microsoftonline.com/{tenant ID}/v2.0`, s.Issuer)
	case s.ClientID == "" || s.ClientSecret == "":
		return fmt.Errorf("--oidc-issuer %s needs --oidc-client-id and --oidc-client-secret (the app registration's)", s.Issuer)
	}
	return nil
}

// signin is sign-in as opened: nil OIDC when off; Sim is the simulated
// tenant's provider when it runs in this process.
type signin struct {
	OIDC *auth.OIDC
	Sim  *sim.SignIn
}

func (s signin) close() {
	if s.Sim != nil {
		s.Sim.Close()
	}
}

// open sets sign-in up for pages served at publicURL. With "sim" it starts
// the simulated tenant's Entra ID, which takes this server's callback as
// its app registration's one redirect URI.
func (s *signinFlags) open(publicURL string) (signin, error) {
	if s.Issuer == "" {
		return signin{}, nil
	}
	roles, err := auth.ParseRoleMap(s.Roles)
	if err != nil {
		return signin{}, fmt.Errorf("--oidc-roles: %w", err)
	}
	u, err := url.Parse(publicURL)
	if err != nil {
		return signin{}, fmt.Errorf("the pages' address %q: %w", publicURL, err)
	}
	redirect := u.JoinPath("/ui/signin/callback").String()
	cfg := auth.OIDCConfig{Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURL: redirect, Roles: roles}
	var out signin
	if s.Issuer == "sim" {
		out.Sim, err = sim.StartSignIn(sim.SignInConfig{RedirectURIs: []string{redirect}})
		if err != nil {
			return signin{}, fmt.Errorf("simulated Entra ID: %w", err)
		}
		cfg.Issuer, cfg.ClientID, cfg.ClientSecret = out.Sim.Issuer(), out.Sim.ClientID(), out.Sim.ClientSecret()
	}
	out.OIDC, err = auth.NewOIDC(cfg)
	if err != nil {
		out.close()
		return signin{}, err
	}
	return out, nil
}
