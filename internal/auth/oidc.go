package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Sign-in with Entra ID: OpenID Connect's authorization code flow with PKCE
// (go-oidc for discovery and the ID token's checks, x/oauth2 for the code's
// exchange). The ID token's app roles ("roles") or groups ("groups") are
// mapped to cutover's roles by configuration.

// OIDCConfig configures sign-in with an OpenID provider: Entra ID, or the
// simulated tenant's.
type OIDCConfig struct {
	// Issuer is the provider's issuer: for Entra ID,
	// https://login.microsoftonline.com/{tenant ID}/v2.0.
	Issuer string
	// ClientID and ClientSecret are the app registration's.
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends the browser back:
	// <public URL>/ui/signin/callback, registered as a Web redirect URI.
	RedirectURL string
	// Roles maps the ID token's claim values to roles.
	Roles RoleMap
	// HTTPClient reaches the provider (nil: http.DefaultClient).
	HTTPClient *http.Client
}

// RoleMap maps values of the ID token's "roles" claim (an app role's value)
// or "groups" claim (a group's object ID) to a role. A person with several
// gets the strongest.
type RoleMap map[string]Role

// DefaultRoleMap is the mapping unless configured: the app roles an app
// registration for cutover defines.
const DefaultRoleMap = "Cutover.Helpdesk=helpdesk,Cutover.Lead=lead,Cutover.Admin=admin"

// ParseRoleMap reads "VALUE=ROLE,VALUE=ROLE". Values are compared exactly
// (app role values and group object IDs are case-sensitive strings).
func ParseRoleMap(s string) (RoleMap, error) {
	m := RoleMap{}
	for i, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		value, role, ok := strings.Cut(pair, "=")
		value, role = strings.TrimSpace(value), strings.TrimSpace(role)
		if !ok || value == "" {
			return nil, fmt.Errorf("role mapping %d (%q): want CLAIM_VALUE=ROLE, e.g. Cutover.Lead=lead", i+1, pair)
		}
		if !Role(role).Valid() {
			return nil, fmt.Errorf("role mapping %d (%q): %q is not a role (helpdesk, lead or admin)", i+1, pair, role)
		}
		m[value] = Role(role)
	}
	if len(m) == 0 {
		return nil, errors.New("the role mapping is empty: map at least one app role or group to a role, e.g. Cutover.Lead=lead")
	}
	return m, nil
}

// RoleOf returns the strongest role the claim values map to, or "".
func (m RoleMap) RoleOf(values ...[]string) Role {
	var best Role
	for _, vs := range values {
		for _, v := range vs {
			if r, ok := m[v]; ok && r.rank() > best.rank() {
				best = r
			}
		}
	}
	return best
}

// String writes the mapping back in its flag's form, sorted.
func (m RoleMap) String() string {
	pairs := make([]string, 0, len(m))
	for v, r := range m {
		pairs = append(pairs, v+"="+string(r))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// OIDC signs people in with an OpenID provider.
type OIDC struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider // found once; until then, each sign-in asks
}

// NewOIDC returns sign-in with the provider. The provider's discovery
// document is read at the first sign-in (and again while it fails), so a
// provider that is down when cutover starts does not stop the API.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("sign-in needs the issuer (https://login.microsoftonline.com/{tenant ID}/v2.0)")
	case cfg.ClientID == "":
		return nil, errors.New("sign-in needs the app registration's client ID")
	case cfg.ClientSecret == "":
		return nil, errors.New("sign-in needs the app registration's client secret")
	case cfg.RedirectURL == "":
		return nil, errors.New("sign-in needs the redirect URL (<public URL>/ui/signin/callback)")
	case len(cfg.Roles) == 0:
		return nil, errors.New("sign-in needs a role mapping")
	}
	return &OIDC{cfg: cfg}, nil
}

// Issuer is the provider's issuer.
func (o *OIDC) Issuer() string { return o.cfg.Issuer }

// Roles lists the claim values that give a role, for a person who has none.
func (o *OIDC) Roles() string {
	values := make([]string, 0, len(o.cfg.Roles))
	for v := range o.cfg.Roles {
		values = append(values, v)
	}
	slices.Sort(values)
	return strings.Join(values, ", ")
}

// RedirectURL is where the provider sends the browser back.
func (o *OIDC) RedirectURL() string { return o.cfg.RedirectURL }

func (o *OIDC) context(ctx context.Context) context.Context {
	if o.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, o.cfg.HTTPClient)
	}
	return ctx
}

func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, oauth2.Config, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(o.context(ctx), o.cfg.Issuer)
		if err != nil {
			return nil, oauth2.Config{}, fmt.Errorf("the sign-in provider %s: %w", o.cfg.Issuer, err)
		}
		o.provider = p
	}
	return o.provider, oauth2.Config{
		ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: o.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"},
	}, nil
}

// Pending is a sign-in under way, kept by the browser until the provider
// sends it back: the state the answer must carry, the nonce the ID token
// must carry, the PKCE verifier, and the page to go on to.
type Pending struct {
	State    string
	Nonce    string
	Verifier string
	Next     string
}

// Begin starts a sign-in: the provider's address to send the browser to, and
// what to keep until it comes back.
func (o *OIDC) Begin(ctx context.Context, next string) (string, Pending, error) {
	_, conf, err := o.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	p := Pending{State: Random(), Nonce: Random(), Verifier: oauth2.GenerateVerifier(), Next: next}
	return conf.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)), p, nil
}

// Identity is who signed in.
type Identity struct {
	// Name is the account's UPN (the ID token's preferred_username).
	Name        string
	DisplayName string
	// Subject is the tenant and object ID, tid/oid.
	Subject string
	// Role is what the claims map to; "" when none does.
	Role Role
	// Claims are the app roles and groups the token carried.
	Roles, Groups []string
	// GroupsOverage is set when the account is in more groups than an ID
	// token carries (200): the token names where to read them instead
	// ("_claim_names": {"groups": ...}) and carries none, so a mapping by
	// group finds no role (MicrosoftDocs/entra-docs,
	// docs/identity-platform/id-token-claims-reference.md, groups:src1).
	GroupsOverage bool
}

// ErrSignIn is a sign-in the provider or its answer refused; the message
// says why.
var ErrSignIn = errors.New("sign-in refused")

// Finish exchanges the code the provider sent back for an ID token, checks
// it (signature, issuer, audience, expiry, nonce), and returns the identity.
func (o *OIDC) Finish(ctx context.Context, p Pending, state, code string) (Identity, error) {
	if state == "" || state != p.State {
		return Identity{}, fmt.Errorf("%w: the answer's state does not match this browser's sign-in (it may have come from another tab or another site); start again", ErrSignIn)
	}
	provider, conf, err := o.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx = o.context(ctx)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
			return Identity{}, fmt.Errorf("%w: the provider refused the code: %s %s", ErrSignIn, re.ErrorCode, re.ErrorDescription)
		}
		return Identity{}, fmt.Errorf("the sign-in provider's token endpoint: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, fmt.Errorf("%w: the provider's answer has no ID token", ErrSignIn)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: the ID token does not hold: %v", ErrSignIn, err)
	}
	if idt.Nonce != p.Nonce {
		return Identity{}, fmt.Errorf("%w: the ID token's nonce is not this sign-in's", ErrSignIn)
	}
	// The claims of an Entra ID v2.0 ID token (MicrosoftDocs/entra-docs,
	// docs/identity-platform/id-token-claims-reference.md).
	var c struct {
		Name              string            `json:"name"`
		PreferredUsername string            `json:"preferred_username"`
		OID               string            `json:"oid"`
		TID               string            `json:"tid"`
		Roles             []string          `json:"roles"`
		Groups            []string          `json:"groups"`
		ClaimNames        map[string]string `json:"_claim_names"`
	}
	if err := idt.Claims(&c); err != nil {
		return Identity{}, fmt.Errorf("%w: the ID token's claims cannot be read: %v", ErrSignIn, err)
	}
	id := Identity{Name: c.PreferredUsername, DisplayName: c.Name, Subject: c.TID + "/" + c.OID,
		Roles: c.Roles, Groups: c.Groups, Role: o.cfg.Roles.RoleOf(c.Roles, c.Groups), GroupsOverage: c.ClaimNames["groups"] != ""}
	if id.Name == "" {
		id.Name = idt.Subject
	}
	return id, nil
}
