package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
)

// Token is an API token as listed: never its secret.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       auth.Role  `json:"role"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

const tokenColumns = `id, name, role, created_by, created_at, last_used_at, revoked_at`

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
	rows, _ := q.db.Query(ctx, `
		INSERT INTO api_tokens (name, role, hash, created_by) VALUES ($1, $2, $3, $4) RETURNING `+tokenColumns,
		name, role, auth.Hash(secret), actor)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Token])
	if violates(err, "api_tokens_name_key") {
		return t, "", migration.Errorf(migration.EConflict, "token_exists", "a token named %q is in use already; revoke it first or pick another name", name)
	}
	return t, secret, translate(err)
}

// TokenList returns every token, newest first, revoked ones too.
func (q *Queries) TokenList(ctx context.Context) ([]Token, error) {
	rows, _ := q.db.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id DESC`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Token])
}

// TokenRevoke revokes a token in use, by ID or name.
func (q *Queries) TokenRevoke(ctx context.Context, idOrName string) (Token, error) {
	rows, _ := q.db.Query(ctx, `
		UPDATE api_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL AND (id::text = $1 OR name = $1) RETURNING `+tokenColumns, strings.TrimSpace(idOrName))
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Token])
	return t, notFound(err, "no token in use is called or numbered %q", idOrName)
}

// Authenticate implements auth.Authenticator for tokens: a token in use
// names its principal, and its last use is noted (at most once a minute).
func (q *Queries) Authenticate(ctx context.Context, credential string) (auth.Principal, error) {
	if !auth.WellFormed(credential) {
		return auth.Principal{}, auth.ErrUnknown
	}
	var p auth.Principal
	var name string
	// The last use is written only when it is a minute old: a request is
	// not a write.
	err := q.db.QueryRow(ctx, `
		WITH t AS (SELECT id, name, role, last_used_at FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL),
		used AS (
			UPDATE api_tokens SET last_used_at = now()
			WHERE id = (SELECT id FROM t) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		)
		SELECT id, name, role FROM t`, auth.Hash(credential)).Scan(&p.TokenID, &name, &p.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, auth.ErrUnknown
	}
	p.Name = fmt.Sprintf("token:%s (%s)", name, p.Role)
	return p, err
}

// AuditEntry is one change someone made.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// AuditAdd records a change.
func (q *Queries) AuditAdd(ctx context.Context, e AuditEntry) error {
	_, err := q.db.Exec(ctx, `INSERT INTO audit_log (actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5)`,
		e.Actor, e.Action, e.Target, e.Outcome, e.Detail)
	return err
}

// AuditList returns the newest entries, at most limit, before the entry
// with ID before (0: from the newest).
func (q *Queries) AuditList(ctx context.Context, limit int, before int64) ([]AuditEntry, error) {
	rows, _ := q.db.Query(ctx, `
		SELECT id, at, actor, action, target, outcome, detail FROM audit_log
		WHERE $2 = 0 OR id < $2 ORDER BY id DESC LIMIT $1`, limit, before)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[AuditEntry])
}
