// Package auth is who may do what: API tokens with a role each, stored only
// as a hash. A Principal is whoever a request acts for; tokens are one way to
// establish it, and sign-in with Entra ID (OIDC, groups mapped to roles) can be
// another behind the same Authenticator interface.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Role is what a principal may do. Each role may do what the roles below it
// may: helpdesk < lead < admin.
type Role string

// The roles.
const (
	// RoleHelpdesk looks users up, and nothing else.
	RoleHelpdesk Role = "helpdesk"
	// RoleLead runs migrations: imports, plans, wave actions, reports,
	// retries, rollbacks, settings, webhooks, the audit log.
	RoleLead Role = "lead"
	// RoleAdmin manages tokens, and may do what a lead may.
	RoleAdmin Role = "admin"
)

// Roles lists the roles, weakest first.
var Roles = []Role{RoleHelpdesk, RoleLead, RoleAdmin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a principal with role r may do what needs role
// need.
func (r Role) Allows(need Role) bool { return r.Valid() && r.rank() >= need.rank() }

// Principal is whoever a request acts for.
type Principal struct {
	// Name is how the audit log and timelines name them, e.g.
	// "token:alice (lead)".
	Name string
	Role Role
	// TokenID is the token they presented (0 for another way in).
	TokenID int64
	// SessionID is the page session they came with (0 for a token sent
	// in the Authorization header); CSRF is that session's anti-forgery
	// token, which every change from its pages carries.
	SessionID int64
	CSRF      string
	// DisplayName is how the pages greet them (an Entra ID account's
	// name); it may be empty.
	DisplayName string
}

// Actor is the principal's name for timelines and the audit log.
func (p Principal) Actor() string { return p.Name }

// Authenticator establishes the principal of a credential. ErrUnknown means
// the credential is not valid (unknown, revoked or malformed).
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (Principal, error)
}

// ErrUnknown is a credential that does not identify anyone.
var ErrUnknown = errors.New("unknown or revoked token")

// TokenPrefix starts every token, so that a token found in a file or a log
// can be recognised (and scanners can look for it).
const TokenPrefix = "cutover_"

// NewToken returns a fresh token: the prefix and 32 random bytes.
func NewToken() string { return TokenPrefix + Random() }

// Random returns 32 random bytes, URL-safe: a session's secret, its
// anti-forgery token, a sign-in's state, nonce and PKCE verifier.
func Random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is what is stored of a token. Tokens carry 256 random bits, so a
// plain SHA-256 is enough: there is nothing to guess.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return sum[:]
}

// WellFormed reports whether s looks like a token, before any lookup.
func WellFormed(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
