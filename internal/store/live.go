package store

import "context"

// LiveChannel is the Postgres channel that changes to waves are notified on
// (sql/queries/live.sql names it too).
const LiveChannel = "cutover_waves"

// LiveNotify sends each payload on LiveChannel in one statement. It is
// meant for a statement of its own once the changes it tells of have
// committed: in their transaction, the notification would take the lock at
// commit that serialises every notifying transaction.
func (q *Queries) LiveNotify(ctx context.Context, payloads []string) error {
	return q.gen.LiveNotify(ctx, payloads)
}

// LiveListen has the session (a connection of its own, not the pool's)
// hear LiveChannel.
func (q *Queries) LiveListen(ctx context.Context) error {
	return q.gen.LiveListen(ctx)
}
