package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Service runs the use cases that change something: each in one
// transaction with the River jobs it queues and its entry in the audit log.
type Service struct {
	pool     *pgxpool.Pool
	queue    Queue
	notifier *live.Notifier
	dir      migration.Directory
}

// New returns a Service queueing jobs through queue (jobs.NewQueue: an
// insert-only River client will do).
func New(pool *pgxpool.Pool, queue Queue) *Service {
	return &Service{pool: pool, queue: queue}
}

// WithDirectory has the use cases read Microsoft Graph through dir (an
// import from an Entra ID group), and returns s. Set it before s serves.
func (s *Service) WithDirectory(dir migration.Directory) *Service {
	s.dir = dir
	return s
}

// WithNotifier has the use cases tell the pages that follow waves live of
// each change they commit, through n, and returns s. Set it before s
// serves; without it (nil) no page is told.
func (s *Service) WithNotifier(n *live.Notifier) *Service {
	s.notifier = n
	return s
}

// Actor is who asks for a use case, and, for a front end's own entry in
// the audit log (Record), what they asked.
type Actor struct {
	// Name is who acts, as timelines and the audit log name them, e.g.
	// "token:alice (lead)".
	Name string
	// Action and Target name what was asked, for an entry a front end
	// writes itself (a refusal before any use case); a use case writes its
	// own entry under its own name, which is the same.
	Action AuditAction
	Target string
	// WaveID, GroupID and Subject are what the action is to, for the
	// audit log to name in words and filter by: the wave (whose group is
	// then found), the group, the user.
	WaveID, GroupID *int64
	Subject         string
	// Written, when set, is made true once the use case has written its
	// entry (its success or its refusal): Record then writes none.
	Written *bool
}

// written marks that a's entry is written.
func (a Actor) written() {
	if a.Written != nil {
		*a.Written = true
	}
}

// As is the actor name acting, for callers that name nothing more.
func As(name string) Actor { return Actor{Name: name} }

// change runs fn in a transaction and records in it the audit entry of the
// use case action on target: the change and its record commit together. A
// refusal or failure is recorded too, after the rollback, under the same
// name: whichever front end asked, the log names an action alike.
//
// Once it has committed, every page following a wave live is told to read
// again. A use case may change waves besides the one it names (a cancel
// unblocks the group's next waves, a retry plans a new one, a user's retry
// changes their move's wave), and fn does not say which; use cases come at
// a person's pace, so a read of each page followed per use case costs
// little, and a page never misses one.
func (s *Service) change(ctx context.Context, a Actor, action AuditAction, target string, fn func(tx pgx.Tx, q *store.Queries) error) error {
	return s.changeBy(ctx, &a, action, target, fn)
}

// changeBy is change, with fn free to say more of what it changed (a group
// it created) in a before the audit entry is written.
func (s *Service) changeBy(ctx context.Context, a *Actor, action AuditAction, target string, fn func(tx pgx.Tx, q *store.Queries) error) error {
	entry := func(err error) store.AuditEntry {
		outcome, why := Outcome(err)
		return store.AuditEntry{Actor: a.Name, Action: string(action), Target: target, Outcome: outcome, Detail: why,
			WaveID: a.WaveID, GroupID: a.GroupID, Subject: a.Subject}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := fn(tx, q); err != nil {
			return err
		}
		return q.AuditAdd(ctx, entry(nil))
	})
	if err == nil {
		a.written()
		s.notifier.TouchAll()
		return nil
	}
	if !store.Unavailable(err) {
		if s.q().AuditAdd(context.WithoutCancel(ctx), entry(err)) == nil {
			a.written()
		}
	}
	return err
}

// Outcome says how a change ended, as the audit log records it: "ok";
// "refused CODE" with the words that say why, for a person's mistake or a
// change the state refuses; "failed" (with the code and words of an error
// that is not the person's, where it has them: Graph or the database did
// not answer).
func Outcome(err error) (outcome, why string) {
	if err == nil {
		return "ok", ""
	}
	e, ok := errors.AsType[*migration.Error](err)
	if !ok {
		return "failed", ""
	}
	if e.Kind == migration.EUnavailable || e.Kind == migration.EUpstream {
		return "failed " + e.Code, e.Message
	}
	return "refused " + e.Code, e.Message
}

// waveTarget names a wave in the audit log.
func waveTarget(id int64) string { return fmt.Sprintf("wave %d", id) }
