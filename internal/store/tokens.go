package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Token is auth.Token: the store reads and writes it.
type Token = auth.Token

// tokenOf is a token as listed.
func tokenOf(r dbsqlc.TokenListRow) Token {
	return Token{ID: r.ID, Name: r.Name, Role: auth.Role(r.Role), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
}

// TokenCreate makes a token and returns it with its secret, which is not
// kept. Errors name the field at fault.
func (q *Queries) TokenCreate(ctx context.Context, name string, role auth.Role, actor string) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return Token{}, "", migration.Invalid("invalid_token", "name", "must be 1 to 100 characters")
	}
	if !role.Valid() {
		return Token{}, "", migration.Invalid("invalid_token", "role", "%q is not a role (helpdesk, lead or admin)", role)
	}
	secret := auth.NewToken()
	r, err := q.gen.TokenCreate(ctx, dbsqlc.TokenCreateParams{Name: name, Role: string(role), Hash: auth.Hash(secret), CreatedBy: actor})
	if violates(err, "api_tokens_name_key") {
		return Token{}, "", migration.Errorf(migration.EConflict, "token_exists", "a token named %q is in use already; revoke it first or pick another name", name)
	}
	if err != nil {
		return Token{}, "", translate(err)
	}
	return tokenOf(dbsqlc.TokenListRow(r)), secret, nil
}

// TokenList returns every token, newest first, revoked ones too.
func (q *Queries) TokenList(ctx context.Context) ([]Token, error) {
	rows, err := q.gen.TokenList(ctx)
	return mapRows(rows, err, tokenOf)
}

// TokenRevoke revokes a token in use, by ID or name.
func (q *Queries) TokenRevoke(ctx context.Context, idOrName string) (Token, error) {
	r, err := q.gen.TokenRevoke(ctx, strings.TrimSpace(idOrName))
	return tokenOf(dbsqlc.TokenListRow(r)), notFound(err, "no token in use is called or numbered %q", idOrName)
}

// Authenticate implements auth.Authenticator for tokens: a token in use
// names its principal, and its last use is noted (at most once a minute).
func (q *Queries) Authenticate(ctx context.Context, credential string) (auth.Principal, error) {
	if !auth.WellFormed(credential) {
		return auth.Principal{}, auth.ErrUnknown
	}
	// The last use is written only when it is a minute old: a request is
	// not a write.
	r, err := q.gen.TokenAuthenticate(ctx, auth.Hash(credential))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnknown
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{TokenID: r.ID, Role: auth.Role(r.Role), Name: fmt.Sprintf("token:%s (%s)", r.Name, r.Role)}, nil
}
