package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Session is auth.Session: the store reads and writes it.
type Session = auth.Session

func sessionOf(r dbsqlc.SessionListRow) Session {
	s := Session{ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, Role: auth.Role(r.Role), Via: r.Via,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, LastSeenAt: r.LastSeenAt, EndedAt: r.EndedAt}
	if r.EndedBy != nil {
		s.EndedBy = *r.EndedBy
	}
	return s
}

// NewSession is auth.NewSession: the store reads and writes it.
type NewSession = auth.NewSession

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
