package app_test

import (
	"context"
	"fmt"
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

// The actions a wave offers (the pages' buttons, the API's "actions") are
// the ones its use cases take: for each wave as a lead finds it, every
// action is tried on a wave of its own, and an action offered must be
// taken, one not offered refused for the wave's state or users. The one
// use cases wider than their buttons are the readiness override, which
// takes any scheduled wave but is offered only to one held by readiness,
// and the SBC's routing, which a lead may confirm ahead but is offered once
// the wave has moved Enterprise Voice users.
func TestWaveOffersAreWhatTheUseCasesTake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Pool(t)
	q := store.New(pool)
	client, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	svc := app.New(pool, jobs.NewQueue(client))
	lead := app.As("lea")

	n := 0
	// newWave plans one of a group's two users into a wave an hour away,
	// and brings it to the situation.
	newWave := func(t *testing.T, situation func(w migration.Wave)) migration.Wave {
		n++
		ms := []migration.Member{{UPN: fmt.Sprintf("a%d@contoso.com", n), SIP: fmt.Sprintf("a%d@contoso.com", n)},
			{UPN: fmt.Sprintf("b%d@contoso.com", n), SIP: fmt.Sprintf("b%d@contoso.com", n)}}
		// The second stays unplanned, for the action that adds a user.
		g, err := q.GroupCreate(ctx, store.NewGroup{Name: fmt.Sprintf("offers %d", n), Source: "json", Members: ms})
		require.NoError(t, err)
		waves, err := svc.Plan(ctx, lead, g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
			return migration.CheckWaves([]migration.WaveSpec{{Size: 1, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
		})
		require.NoError(t, err)
		if situation != nil {
			situation(waves[0])
		}
		return waves[0]
	}
	act := map[string]func(w migration.Wave) error{
		app.ActionPause:             func(w migration.Wave) error { _, err := svc.WavePause(ctx, lead, w.ID); return err },
		app.ActionResume:            func(w migration.Wave) error { _, err := svc.WaveResume(ctx, lead, w.ID); return err },
		app.ActionCancel:            func(w migration.Wave) error { _, err := svc.WaveCancel(ctx, lead, w.ID); return err },
		app.ActionRollBack:          func(w migration.Wave) error { _, err := svc.WaveRollBack(ctx, lead, w.ID); return err },
		app.ActionOverrideReadiness: func(w migration.Wave) error { _, err := svc.WaveOverrideReadiness(ctx, lead, w.ID); return err },
		app.ActionConfirmRouting:    func(w migration.Wave) error { _, err := svc.WaveConfirmRouting(ctx, lead, w.ID); return err },
		app.ActionApproveNumbers:    func(w migration.Wave) error { _, err := svc.WaveApproveNumbers(ctx, lead, w.ID); return err },
		app.ActionRetryFailed: func(w migration.Wave) error {
			_, err := svc.WaveRetryFailed(ctx, lead, app.WaveScheduleRequest{WaveID: w.ID})
			return err
		},
		app.ActionReschedule: func(w migration.Wave) error {
			_, err := svc.WaveReschedule(ctx, lead, app.WaveScheduleRequest{WaveID: w.ID, StartAt: time.Now().Add(2 * time.Hour)})
			return err
		},
		app.ActionMembers: func(w migration.Wave) error {
			_, err := svc.WaveMembers(ctx, lead, app.WaveMembersRequest{WaveID: w.ID, Add: []string{fmt.Sprintf("b%d@contoso.com", n)}})
			return err
		},
	}
	require.Len(t, act, len(app.WaveActions))

	tests := []struct {
		name      string
		situation func(w migration.Wave)
		offers    []string
	}{
		{"scheduled", nil, []string{app.ActionPause, app.ActionCancel, app.ActionReschedule, app.ActionMembers}},
		{"paused before its start", func(w migration.Wave) {
			_, err := svc.WavePause(ctx, lead, w.ID)
			require.NoError(t, err)
		}, []string{app.ActionResume, app.ActionCancel, app.ActionReschedule, app.ActionMembers}},
		{"held by hybrid readiness", func(w migration.Wave) {
			require.NoError(t, q.WaveReason(ctx, w.ID, migration.WaveStateScheduled, "not started: hybrid readiness check dns fails: no record. Fix: add it.", migration.ReasonReadiness))
		}, []string{app.ActionPause, app.ActionCancel, app.ActionOverrideReadiness, app.ActionReschedule, app.ActionMembers}},
		{"numbers to be moved online", func(w migration.Wave) {
			_, err := pool.Exec(ctx, `UPDATE waves SET number_plan = 'online' WHERE id = $1`, w.ID)
			require.NoError(t, err)
		}, []string{app.ActionPause, app.ActionCancel, app.ActionReschedule, app.ActionMembers, app.ActionApproveNumbers}},
		{"numbers approved, routing confirmed", func(w migration.Wave) {
			_, err := pool.Exec(ctx, `UPDATE waves SET number_plan = 'online' WHERE id = $1`, w.ID)
			require.NoError(t, err)
			_, err = svc.WaveApproveNumbers(ctx, lead, w.ID)
			require.NoError(t, err)
			_, err = svc.WaveConfirmRouting(ctx, lead, w.ID)
			require.NoError(t, err)
		}, []string{app.ActionPause, app.ActionCancel, app.ActionReschedule, app.ActionMembers}},
		{"cancelled", func(w migration.Wave) {
			_, err := svc.WaveCancel(ctx, lead, w.ID)
			require.NoError(t, err)
		}, []string{}},
		{"cancelled, its numbers to be moved online", func(w migration.Wave) {
			// A cancelled wave's moved users stay in Teams: their number
			// moves still wait on the lead.
			_, err := pool.Exec(ctx, `UPDATE waves SET number_plan = 'online' WHERE id = $1`, w.ID)
			require.NoError(t, err)
			_, err = svc.WaveCancel(ctx, lead, w.ID)
			require.NoError(t, err)
		}, []string{app.ActionApproveNumbers}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			views, err := svc.WaveViews(ctx, []migration.Wave{wave(t, q, newWave(t, tt.situation))}, time.Now())
			require.NoError(t, err)
			require.Equal(t, tt.offers, views[0].Actions)
			for _, a := range app.WaveActions {
				w := wave(t, q, newWave(t, tt.situation))
				views, err := svc.WaveViews(ctx, []migration.Wave{w}, time.Now())
				require.NoError(t, err)
				err = act[a](w)
				switch {
				case views[0].Offers(a):
					require.NoError(t, err, "%s is offered: it must be taken", a)
				case a == app.ActionOverrideReadiness && w.State == migration.WaveStateScheduled:
					require.NoError(t, err, "a scheduled wave takes an override before any hold")
				case a == app.ActionConfirmRouting && w.RoutingConfirmedAt == nil:
					require.NoError(t, err, "a wave takes the routing's confirmation ahead of its voice users")
				default:
					require.Error(t, err, "%s is not offered: it must be refused", a)
					require.Equal(t, migration.EConflict, migration.ErrorKind(err), "%s: refused for the wave's state or users: %v", a, err)
				}
			}
		})
	}
}

// wave reads a wave as it is now.
func wave(t *testing.T, q *store.Queries, w migration.Wave) migration.Wave {
	t.Helper()
	w, err := q.WaveGet(context.Background(), w.ID)
	require.NoError(t, err)
	return w
}
