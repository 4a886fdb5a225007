package app

import (
	"context"
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

// Actor is who asks for a use case, and how the audit log names what they
// asked. The API names the route and its path; left empty, the use case
// names itself ("wave pause", "wave 12").
type Actor struct {
	// Name is who acts, as timelines and the audit log name them, e.g.
	// "token:alice (lead)".
	Name   string
	Action string
	Target string
	// WaveID, GroupID and Subject are what the action is to, for the
	// audit log to name in words and filter by: the wave (whose group is
	// then found), the group, the user.
	WaveID, GroupID *int64
	Subject         string
}

// As is the actor name acting, for callers that name nothing more.
func As(name string) Actor { return Actor{Name: name} }

// change runs fn in a transaction and records in it the audit entry of the
// use case action on target: the change and its record commit together.
//
// Once it has committed, every page following a wave live is told to read
// again. A use case may change waves besides the one it names (a cancel
// unblocks the group's next waves, a retry plans a new one, a user's retry
// changes their move's wave), and fn does not say which; use cases come at
// a person's pace, so a read of each page followed per use case costs
// little, and a page never misses one.
func (s *Service) change(ctx context.Context, a Actor, action, target string, fn func(tx pgx.Tx, q *store.Queries) error) error {
	return s.changeBy(ctx, &a, action, target, fn)
}

// changeBy is change, with fn free to say more of what it changed (a group
// it created) in a before the audit entry is written.
func (s *Service) changeBy(ctx context.Context, a *Actor, action, target string, fn func(tx pgx.Tx, q *store.Queries) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := fn(tx, q); err != nil {
			return err
		}
		detail := ""
		if a.Action != "" {
			// Named by the front end (the API's route); the use case's own
			// words are kept beside them.
			detail, action, target = action+": "+target, a.Action, a.Target
		}
		return q.AuditAdd(ctx, store.AuditEntry{Actor: a.Name, Action: action, Target: target, Outcome: "ok", Detail: detail,
			WaveID: a.WaveID, GroupID: a.GroupID, Subject: a.Subject})
	})
	if err == nil {
		s.notifier.TouchAll()
	}
	return err
}

// waveTarget names a wave in the audit log.
func waveTarget(id int64) string { return fmt.Sprintf("wave %d", id) }
