package app

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/store"
)

// Sessions of the web pages: begun by signing in with Entra ID (or with an
// API token), ended by signing out, by expiry, or by an admin.

// SessionStart begins a page session for who signed in, and records the
// sign-in in the audit log. It returns the session's secret, for the cookie;
// only its hash is kept.
func (s *Service) SessionStart(ctx context.Context, a Actor, n store.NewSession) (store.Session, string, error) {
	var sess store.Session
	var secret string
	err := s.change(ctx, a, AuditSignIn, "session via "+n.Via, func(_ pgx.Tx, q *store.Queries) (err error) {
		sess, secret, err = q.SessionCreate(ctx, n)
		return err
	})
	return sess, secret, err
}

// SessionAuthenticate returns the principal of an open session's secret, or
// auth.ErrUnknown.
func (s *Service) SessionAuthenticate(ctx context.Context, secret string) (auth.Principal, error) {
	return s.q().SessionAuthenticate(ctx, secret)
}

// SessionEnd signs the session with this secret out.
func (s *Service) SessionEnd(ctx context.Context, a Actor, secret string) error {
	return s.change(ctx, a, AuditSignOut, "session", func(_ pgx.Tx, q *store.Queries) error {
		_, err := q.SessionEnd(ctx, 0, secret, a.Name)
		return err
	})
}

// SessionRevoke ends another's session (an admin's action): their next
// request signs them out.
func (s *Service) SessionRevoke(ctx context.Context, a Actor, id int64) (store.Session, error) {
	var sess store.Session
	err := s.change(ctx, a, AuditSessionRevoke, "session "+strconv.FormatInt(id, 10), func(_ pgx.Tx, q *store.Queries) (err error) {
		sess, err = q.SessionEnd(ctx, id, "", a.Name)
		return err
	})
	return sess, err
}

// Sessions lists the open sessions, newest first.
func (s *Service) Sessions(ctx context.Context) ([]store.Session, error) {
	return s.q().SessionList(ctx)
}

// SessionLifetime is how long a page session lasts unless configured: a
// working day. The role is the one signed in with until then.
const SessionLifetime = 10 * time.Hour
