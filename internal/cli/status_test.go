package cli_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// TestStatusSaysCompletion: "cutover status" of a moved user whose
// meetings Microsoft could not migrate says so, with what to do, beside the
// move; a user whose completion is pending is told to wait.
func TestStatusSaysCompletion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	pool, err := store.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	q := store.New(pool)
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "Status pilot", Source: "json", Members: []migration.Member{
		{UPN: "fay@contoso.com", SIP: "fay@contoso.com", DisplayName: "Fay"}, {UPN: "pat@contoso.com", SIP: "pat@contoso.com", DisplayName: "Pat"}}})
	require.NoError(t, err)
	client, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	_, err = app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
	})
	require.NoError(t, err)
	// The workers' part, as they write it: both moved, Fay's meetings failed.
	for _, state := range []string{"queued", "preflight", "moving", "verifying", "moved"} {
		_, err = pool.Exec(ctx, `UPDATE moves SET state = $1, attempts = 1, started_at = now(),
			finished_at = CASE WHEN $1 = 'moved' THEN now() END`, state)
		require.NoError(t, err, state)
	}
	moves, err := q.MovesByUser(ctx, "fay@contoso.com")
	require.NoError(t, err)
	moved := time.Now().Add(-30 * time.Hour)
	look := migration.DecideMeetings(moved, time.Now(), migration.MeetingMigration{State: "Failed", TotalMeeting: 2, FailedMeeting: 2, RetryCount: 9}, true)
	require.NoError(t, q.CompletionSet(ctx, []store.CompletionLook{{MoveID: moves[0].ID, Kind: migration.ItemMeetings, Step: look}}, "worker"))

	env := map[string]string{"DATABASE_URL": url}
	tests := []struct {
		user string
		want []string
	}{
		{"fay@contoso.com", []string{"Needs someone after the move: meetings migrated to Teams.", "After the move:",
			"meetings migrated to Teams: failed. Microsoft could not migrate the user's meetings: 0 of 2 meetings migrated, 2 failed.",
			"What to do: A migration lead triggers the migration again", "Seen: Get-CsMeetingMigrationStatus: State Failed"}},
		{"pat@contoso.com", []string{"Still to come after the move: meetings migrated to Teams.", "meetings migrated to Teams: pending."}},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, env, "status", tt.user)
		require.Equal(t, 0, code, stderr)
		for _, w := range tt.want {
			require.Contains(t, stdout, w, tt.user)
		}
	}
}
