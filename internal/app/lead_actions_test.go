package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// A lead's action records itself in the audit log with its change, and a
// refused one changes nothing and records its refusal, under the same name
// whichever front end asked: a front end's Record after it adds nothing.
func TestLeadActionsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Pool(t)
	q := store.New(pool)
	ms := make([]migration.Member, 3)
	for i := range ms {
		ms[i] = migration.Member{UPN: fmt.Sprintf("audit%d@contoso.com", i), SIP: fmt.Sprintf("audit%d@contoso.com", i)}
	}
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "audited", Source: "json", Members: ms})
	require.NoError(t, err)
	client, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	svc := app.New(pool, jobs.NewQueue(client))
	waves, err := svc.Plan(ctx, app.As("lea"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
	})
	require.NoError(t, err)
	w := waves[0]

	wave := fmt.Sprintf("wave %d", w.ID)
	tests := []struct {
		name   string
		action func(app.Actor) error
		state  migration.WaveState
		entry  store.AuditEntry // the entry the action adds
	}{
		{"pause, asked by a front end", func(a app.Actor) error { _, err := svc.WavePause(ctx, a, w.ID); return err },
			migration.WaveStatePaused, store.AuditEntry{Actor: "lea", Action: "wave pause", Target: wave, Outcome: "ok"}},
		{"pause again: refused", func(a app.Actor) error { _, err := svc.WavePause(ctx, a, w.ID); return err },
			migration.WaveStatePaused, store.AuditEntry{Actor: "lea", Action: "wave pause", Target: wave, Outcome: "refused wave_paused"}},
		{"resume", func(a app.Actor) error { _, err := svc.WaveResume(ctx, a, w.ID); return err },
			migration.WaveStateScheduled, store.AuditEntry{Actor: "lea", Action: "wave resume", Target: wave, Outcome: "ok"}},
		{"reschedule", func(a app.Actor) error {
			_, err := svc.WaveReschedule(ctx, a, app.WaveScheduleRequest{WaveID: w.ID, StartAt: time.Now().Add(48 * time.Hour)})
			return err
		}, migration.WaveStateScheduled, store.AuditEntry{Actor: "lea", Action: "wave reschedule", Target: wave, Outcome: "ok"}},
		{"retry a user who has not failed: refused", func(a app.Actor) error { _, err := svc.UserRetry(ctx, a, "audit0@contoso.com"); return err },
			migration.WaveStateScheduled, store.AuditEntry{Actor: "lea", Action: "user retry", Target: "audit0@contoso.com", Outcome: "refused not_failed"}},
	}
	for _, tt := range tests { // in order: each acts on what the one before left
		// As a front end asks: naming the action, keeping track of the entry.
		a := app.Actor{Name: "lea", Action: app.AuditAction(tt.entry.Action), Target: "as a front end says", Written: new(bool)}
		before, err := q.AuditList(ctx, store.AuditFilter{Limit: 1000})
		require.NoError(t, err)
		err = tt.action(a)
		if err != nil {
			// The front end records what failed: nothing, as the use case did.
			require.NoError(t, svc.Record(ctx, a, err))
		}
		after, lerr := q.AuditList(ctx, store.AuditFilter{Limit: 1000})
		require.NoError(t, lerr)
		now, gerr := q.WaveGet(ctx, w.ID)
		require.NoError(t, gerr)
		assert.Equal(t, tt.state, now.State, tt.name)
		assert.Equal(t, tt.entry.Outcome == "ok", err == nil, "%s: %v", tt.name, err)
		require.Len(t, after, len(before)+1, tt.name)
		got := after[0]
		assert.Equal(t, tt.entry, store.AuditEntry{Actor: got.Actor, Action: got.Action, Target: got.Target, Outcome: got.Outcome}, tt.name)
		if err != nil {
			assert.NotEmpty(t, got.Detail, "%s: a refusal says why", tt.name)
		}
	}
}
