package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs"
)

// TestNumbersMovedOnline: a wave whose number plan is online moves each of
// its Enterprise Voice users' numbers to online management, and only as a
// lead allows. Not approved, no number is cleared (the items wait on the
// approval, visibly); approved but outside the wave's window, none is
// cleared either (they wait for the window); in the window, each number is
// cleared on premises exactly once, assigned online after the simulated
// directory synchronisation, and the user's calling completes once the
// SBC's routing is confirmed. A wave whose numbers stay on premises never
// clears one. The simulator freezes (Microsoft stops answering) while the
// numbers move: nothing is lost, and nothing repeated.
func TestNumbersMovedOnline(t *testing.T) {
	t.Parallel()
	b := setupGraphShell(t, sim.ShellConfig{Mix: sim.Mix{}, DirectorySync: 2 * time.Second}, sim.GraphConfig{}, func(c *jobs.Config) {
		c.CompletionEvery = 200 * time.Millisecond
		c.VoiceTiming = migration.VoiceTiming{Wait: time.Hour, Poll: 100 * time.Millisecond}
		c.NumberTiming = migration.NumberTiming{Poll: 200 * time.Millisecond, SyncWait: time.Hour}
		c.ShellTimeout, c.GraphTimeout = 2*time.Second, 2*time.Second
	})
	ctx := context.Background()
	lead := app.As("lea")
	// voiceUsers finds n users the seed makes Enterprise Voice users.
	voiceUsers := func(prefix string, n int) []string {
		var out []string
		for i := 0; len(out) < n; i++ {
			upn := fmt.Sprintf("%s%03d@contoso.com", prefix, i)
			u, err := b.shell.GetUser(ctx, upn)
			require.NoError(t, err)
			if u.EnterpriseVoiceEnabled {
				out = append(out, upn)
			}
		}
		return out
	}
	online, onPrem := voiceUsers("online", 6), voiceUsers("onprem", 3)
	var waveOnline, waveOnPrem int64
	t.Run("online", func(t *testing.T) {
		waves, err := b.q.WaveList(ctx, b.planWith(t, online, migration.Controls{NumberPlan: migration.NumbersOnline}))
		require.NoError(t, err)
		waveOnline = waves[0].ID
	})
	t.Run("on premises", func(t *testing.T) {
		waves, err := b.q.WaveList(ctx, b.planWith(t, onPrem, migration.Controls{}))
		require.NoError(t, err)
		waveOnPrem = waves[0].ID
	})

	items := func(upn string) map[migration.ItemKind]migration.CompletionItem {
		moves, err := b.q.MovesByUser(ctx, upn)
		require.NoError(t, err)
		got, err := b.q.CompletionOf(ctx, []int64{moves[0].ID})
		require.NoError(t, err)
		out := map[migration.ItemKind]migration.CompletionItem{}
		for _, it := range got[moves[0].ID] {
			out[it.Kind] = it
		}
		return out
	}
	clears := func(upns []string) (n int) {
		for _, upn := range upns {
			c, _ := b.shell.LineCleared(upn)
			n += c
		}
		return n
	}
	waitAll := func(upns []string, kind migration.ItemKind, ok func(migration.CompletionItem) bool, what string) {
		t.Helper()
		var last map[migration.ItemKind]migration.CompletionItem
		require.Eventually(t, func() bool {
			for _, upn := range upns {
				it, found := items(upn)[kind]
				if !found || !ok(it) {
					last = items(upn)
					return false
				}
			}
			return true
		}, 30*time.Second, 50*time.Millisecond, "%s", what)
		if t.Failed() {
			t.Logf("last seen: %+v", last)
		}
	}

	// Not approved: the number items wait on the lead, and nothing is cleared.
	waitAll(online, migration.ItemNumber, func(it migration.CompletionItem) bool {
		return it.State == migration.ItemPerson && it.WaitsFor == migration.WaitsForApproval
	}, "number items wait for the approval")
	for _, upn := range onPrem {
		require.NotContains(t, items(upn), migration.ItemNumber, "%s: numbers stay on premises in its wave", upn)
	}
	time.Sleep(time.Second) // several looks of the completion job
	require.Zero(t, clears(online), "a number was cleared before the lead approved")

	// Approved, but the wave's window has closed since its moves: nothing
	// is cleared until it opens.
	closed := time.Now().UTC().Add(3 * time.Hour)
	window := fmt.Sprintf("%s %s-%s", closed.Weekday().String()[:3], closed.Format("15:04"), closed.Add(time.Hour).Format("15:04"))
	_, err := b.pool.Exec(ctx, `UPDATE waves SET windows = ARRAY[$2], time_zone = 'UTC' WHERE id = $1`, waveOnline, window)
	require.NoError(t, err)
	_, err = b.scheduler.WaveApproveNumbers(ctx, lead, waveOnline)
	require.NoError(t, err)
	waitAll(online, migration.ItemNumber, func(it migration.CompletionItem) bool {
		return it.State == migration.ItemPending && it.CheckAt != nil && it.CheckAt.After(time.Now().Add(2*time.Hour))
	}, "approved number items wait for the wave's next window")
	require.Zero(t, clears(online), "a number was cleared outside the wave's window")
	_, err = b.scheduler.WaveApproveNumbers(ctx, lead, waveOnline)
	require.Error(t, err, "a second approval")
	require.Equal(t, migration.EConflict, migration.ErrorKind(err))
	_, err = b.scheduler.WaveApproveNumbers(ctx, lead, waveOnPrem)
	require.Equal(t, migration.EConflict, migration.ErrorKind(err), "a wave whose numbers stay on premises has no number moves")

	// The window opens (the wave has none any more), and Microsoft stops
	// answering while the numbers move.
	_, err = b.pool.Exec(ctx, `UPDATE waves SET windows = '{}' WHERE id = $1`, waveOnline)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE completion_items c SET check_at = now() FROM moves m
		WHERE m.id = c.move_id AND m.wave_id = $1 AND c.state = 'pending' AND c.kind = 'number'`, waveOnline)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return clears(online) > 0 }, 30*time.Second, 10*time.Millisecond, "the first number cleared")
	b.shell.Freeze()
	b.fake.Freeze()
	time.Sleep(3 * time.Second)
	b.shell.Thaw()
	b.fake.Thaw()

	waitAll(online, migration.ItemNumber, func(it migration.CompletionItem) bool { return it.State == migration.ItemDone }, "every number moved online")
	for _, upn := range online {
		c, assigned := b.shell.LineCleared(upn)
		require.Equal(t, 1, c, "%s: the LineURI cleared once", upn)
		require.True(t, assigned, upn)
		require.Contains(t, items(upn)[migration.ItemNumber].Says, "managed online", upn)
	}
	require.Zero(t, clears(onPrem), "a number of the wave that keeps them on premises was cleared")

	// The users' calling waits on the SBC's routing (Enterprise Voice on,
	// which the assignment turns on where the move had not); confirmed, it
	// completes.
	waitAll(online, migration.ItemVoice, func(it migration.CompletionItem) bool { return it.WaitsFor == migration.WaitsForRouting }, "calling waits on the routing")
	offers := func(id int64) bool {
		w, err := b.q.WaveGet(ctx, id)
		require.NoError(t, err)
		views, err := b.scheduler.WaveViews(ctx, []migration.Wave{w}, time.Now())
		require.NoError(t, err)
		return views[0].Offers(app.ActionConfirmRouting)
	}
	require.True(t, offers(waveOnline), "a wave with Enterprise Voice users moved offers the routing's confirmation")
	_, err = b.scheduler.WaveConfirmRouting(ctx, lead, waveOnline)
	require.NoError(t, err)
	require.False(t, offers(waveOnline), "confirmed: not offered again")
	require.True(t, offers(waveOnPrem), "the other wave's routing is its own")
	waitAll(online, migration.ItemVoice, func(it migration.CompletionItem) bool { return it.State == migration.ItemDone }, "calling complete")
	events, err := b.q.WaveEvents(ctx, waveOnline)
	require.NoError(t, err)
	var said []string
	for _, e := range events {
		said = append(said, e.Message)
	}
	require.Contains(t, fmt.Sprint(said), "moving the wave's numbers to online management approved")
	require.Contains(t, fmt.Sprint(said), "the SBC's routing of the wave's numbers to Direct Routing confirmed")
}

// TestNumbersGraphRefuses: the app registration lacks the permission to
// read number assignments (Graph answers 403). No number is cleared, and the
// number item says so, with the permission to grant, instead of waiting in
// silence; the move and the other items go on.
func TestNumbersGraphRefuses(t *testing.T) {
	t.Parallel()
	b := setupGraphShell(t, sim.ShellConfig{Mix: sim.Mix{}}, sim.GraphConfig{Faults: []sim.GraphFault{
		{Path: "/admin/teams/telephoneNumberManagement", Status: 403, NoBody: true}}}, func(c *jobs.Config) {
		c.CompletionEvery = 200 * time.Millisecond
		c.NumberTiming = migration.NumberTiming{Poll: 200 * time.Millisecond, SyncWait: time.Hour}
	})
	ctx := context.Background()
	var upn string
	for i := 0; upn == ""; i++ {
		u, err := b.shell.GetUser(ctx, fmt.Sprintf("refused%03d@contoso.com", i))
		require.NoError(t, err)
		if u.EnterpriseVoiceEnabled {
			upn = u.Identity
		}
	}
	waves, err := b.q.WaveList(ctx, b.planWith(t, []string{upn}, migration.Controls{NumberPlan: migration.NumbersOnline}))
	require.NoError(t, err)
	_, err = b.scheduler.WaveApproveNumbers(ctx, app.As("lea"), waves[0].ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		moves, err := b.q.MovesByUser(ctx, upn)
		require.NoError(t, err)
		items, err := b.q.CompletionOf(ctx, []int64{moves[0].ID})
		require.NoError(t, err)
		for _, it := range items[moves[0].ID] {
			if it.Kind == migration.ItemNumber {
				return it.State == migration.ItemPending && strings.Contains(it.Says, "TeamsTelephoneNumber.Read.All")
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the number item names the permission Graph wants")
	c, _ := b.shell.LineCleared(upn)
	require.Zero(t, c, "nothing is cleared while the number's assignment cannot be read")
}
