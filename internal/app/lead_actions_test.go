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
// refused one changes nothing and records nothing (the front end that was
// refused records that).
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

	via := app.Actor{Name: "lea", Action: "POST /api/v1/waves/{id}/pause", Target: fmt.Sprintf("/api/v1/waves/%d/pause", w.ID)}
	tests := []struct {
		name   string
		action func() error
		state  migration.WaveState
		entry  *store.AuditEntry // the entry the action adds, if any
	}{
		{"pause, named by the caller", func() error { _, err := svc.WavePause(ctx, via, w.ID); return err },
			migration.WaveStatePaused, &store.AuditEntry{Actor: "lea", Action: via.Action, Target: via.Target, Outcome: "ok"}},
		{"pause again: refused", func() error { _, err := svc.WavePause(ctx, via, w.ID); return err },
			migration.WaveStatePaused, nil},
		{"resume, named by itself", func() error { _, err := svc.WaveResume(ctx, app.As("lea"), w.ID); return err },
			migration.WaveStateScheduled, &store.AuditEntry{Actor: "lea", Action: "wave resume", Target: fmt.Sprintf("wave %d", w.ID), Outcome: "ok"}},
		{"reschedule", func() error {
			_, err := svc.WaveReschedule(ctx, app.As("lea"), app.WaveScheduleRequest{WaveID: w.ID, StartAt: time.Now().Add(48 * time.Hour)})
			return err
		}, migration.WaveStateScheduled, &store.AuditEntry{Actor: "lea", Action: "wave reschedule", Target: fmt.Sprintf("wave %d", w.ID), Outcome: "ok"}},
		{"retry a user who has not failed: refused", func() error { _, err := svc.UserRetry(ctx, app.As("lea"), "audit0@contoso.com"); return err },
			migration.WaveStateScheduled, nil},
	}
	for _, tt := range tests { // in order: each acts on what the one before left
		before, err := q.AuditList(ctx, store.AuditFilter{Limit: 1000})
		require.NoError(t, err)
		err = tt.action()
		after, lerr := q.AuditList(ctx, store.AuditFilter{Limit: 1000})
		require.NoError(t, lerr)
		now, gerr := q.WaveGet(ctx, w.ID)
		require.NoError(t, gerr)
		assert.Equal(t, tt.state, now.State, tt.name)
		if tt.entry == nil {
			assert.Error(t, err, tt.name)
			assert.Len(t, after, len(before), "%s: a refused action records nothing itself", tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		require.Len(t, after, len(before)+1, tt.name)
		got := after[0]
		assert.Equal(t, *tt.entry, store.AuditEntry{Actor: got.Actor, Action: got.Action, Target: got.Target, Outcome: got.Outcome}, tt.name)
	}
}
