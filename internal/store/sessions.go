package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Session is a page session as listed: never its secret nor its
// anti-forgery token.
type Session struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name,omitempty"`
	Role        auth.Role  `json:"role"`
	Via         string     `json:"via"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndedBy     string     `json:"ended_by,omitempty"`
}

func sessionOf(r dbsqlc.SessionListRow) Session {
	s := Session{ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, Role: auth.Role(r.Role), Via: r.Via,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, LastSeenAt: r.LastSeenAt, EndedAt: r.EndedAt}
	if r.EndedBy != nil {
		s.EndedBy = *r.EndedBy
	}
	return s
}

// NewSession is a session to begin: who, with which role, how, until when.
type NewSession struct {
	Name        string
	DisplayName string
	Role        auth.Role
	// Via is "entra" or "token".
	Via     string
	Subject string
	// TokenID is the token signed in with (0 for Entra ID): the session
	// ends when the token is revoked.
	TokenID   int64
	ExpiresAt time.Time
}

// SessionCreate begins a session and returns it with its secret, which is not
// kept.
func (q *Queries) SessionCreate(ctx context.Context, n NewSession) (Session, string, error) {
	if !n.Role.Valid() {
		return Session{}, "", migration.Invalid("invalid_session", "role", "%q is not a role", n.Role)
	}
	secret := auth.Random()
	p := dbsqlc.SessionCreateParams{Hash: auth.Hash(secret), CSRF: auth.Random(), Name: n.Name, DisplayName: n.DisplayName,
		Role: string(n.Role), Via: n.Via, Subject: n.Subject, ExpiresAt: n.ExpiresAt}
	if n.TokenID != 0 {
		p.TokenID = &n.TokenID
	}
	id, err := q.gen.SessionCreate(ctx, p)
	if err != nil {
		return Session{}, "", translate(err)
	}
	return Session{ID: id, Name: n.Name, DisplayName: n.DisplayName, Role: n.Role, Via: n.Via, ExpiresAt: n.ExpiresAt}, secret, nil
}

// SessionAuthenticate returns the principal of the open session with this
// secret (its last use noted at most once a minute), or auth.ErrUnknown.
func (q *Queries) SessionAuthenticate(ctx context.Context, secret string) (auth.Principal, error) {
	if secret == "" {
		return auth.Principal{}, auth.ErrUnknown
	}
	r, err := q.gen.SessionAuthenticate(ctx, auth.Hash(secret))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnknown
	}
	if err != nil {
		return auth.Principal{}, err
	}
	p := auth.Principal{Name: r.Name, DisplayName: r.DisplayName, Role: auth.Role(r.Role), SessionID: r.ID, CSRF: r.CSRF}
	if r.TokenID != nil {
		p.TokenID = *r.TokenID
	}
	return p, nil
}

// SessionEnd ends an open session, by ID or by its secret.
func (q *Queries) SessionEnd(ctx context.Context, id int64, secret, by string) (Session, error) {
	var hash []byte
	if secret != "" {
		hash = auth.Hash(secret)
	}
	r, err := q.gen.SessionEnd(ctx, dbsqlc.SessionEndParams{ID: id, Hash: hash, EndedBy: &by})
	return sessionOf(dbsqlc.SessionListRow(r)), notFound(err, "no open session %d", id)
}

// SessionList returns the open sessions, newest first.
func (q *Queries) SessionList(ctx context.Context) ([]Session, error) {
	rows, err := q.gen.SessionList(ctx)
	return mapRows(rows, err, sessionOf)
}
