package jobs

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

// statements counts the statements a pool sends.
type statements struct{ n atomic.Int64 }

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	s.n.Add(1)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestCompletionStatementsPerPoll counts what one look at 10,000 moved
// users' meetings costs the database: a constant few statements per batch
// of users, far below one per user per poll (issue 28's bound). It counts
// statements, not time.
func TestCompletionStatementsPerPoll(t *testing.T) {
	t.Parallel()
	const users = 10_000
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dbtest.URL(t))
	require.NoError(t, err)
	counted := &statements{}
	cfg.ConnConfig.Tracer = counted
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, `
		WITH g AS (INSERT INTO pilot_groups (name, source) VALUES ('polled', 'json') RETURNING id),
		     w AS (INSERT INTO waves (group_id, number, name, state, size, start_at, max_attempts, concurrency, started_at, finished_at)
		           SELECT id, 1, 'wave 1', 'completed', $1, now() - interval '3 hours', 1, 10, now() - interval '3 hours', now() - interval '2 hours' FROM g RETURNING id),
		     gm AS (INSERT INTO group_members (group_id, position, upn, sip)
		            SELECT g.id, i, 'u' || i || '@contoso.com', 'u' || i || '@contoso.com' FROM g, generate_series(1, $1) i RETURNING id, upn, sip),
		     m AS (INSERT INTO moves (wave_id, member_id, upn, sip, state, run, attempts, started_at, finished_at)
		           SELECT w.id, gm.id, gm.upn, gm.sip, 'moved', 1, 1, now() - interval '2 hours', now() - interval '2 hours' FROM w, gm RETURNING id)
		INSERT INTO completion_items (move_id, kind, check_at) SELECT id, 'meetings', now() FROM m`, users)
	require.NoError(t, err)

	sh := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	w := &CompletionWorker{pool: pool, shell: sh, completion: sh,
		cfg: Config{CompletionEvery: time.Minute, MeetingsTiming: migration.DefaultMeetingsTiming}.withDefaults(),
		log: slog.New(slog.DiscardHandler), actor: "worker test"}
	before := counted.n.Load()
	require.NoError(t, w.Work(ctx, &river.Job[CompletionArgs]{}))
	sent := counted.n.Load() - before

	var looked int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM completion_items WHERE checks = 1`).Scan(&looked))
	require.Equal(t, users, looked, "one poll looked at every due user")
	perUser := float64(sent) / users
	t.Logf("one poll of %d users sent %d statements (%.4f per user)", users, sent, perUser)
	require.LessOrEqual(t, sent, int64(2*(users/completionBatch+1)), "two statements per batch of %d: a claim and a write", completionBatch)
}
