package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/sim"
)

type waveEvent struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Actor   string    `json:"actor"`
}

func (b *testBundle) wave(t *testing.T, id int64) wave {
	t.Helper()
	return decode[wave](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d", id)), http.StatusOK)
}

func (b *testBundle) waveEvents(t *testing.T, id int64) []waveEvent {
	t.Helper()
	return decode[struct {
		Events []waveEvent `json:"events"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/events", id)), http.StatusOK).Events
}

func kinds(events []waveEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

// waveAction posts a lead's action on a wave.
func (b *testBundle) waveAction(t *testing.T, id int64, action string, body any) response {
	t.Helper()
	if body == nil {
		return b.do(t, http.MethodPost, fmt.Sprintf("/api/v1/waves/%d/%s", id, action), "", nil)
	}
	return b.postJSON(t, fmt.Sprintf("/api/v1/waves/%d/%s", id, action), body)
}

// waitWave polls a wave until done says so.
func (b *testBundle) waitWave(t *testing.T, id int64, what string, done func(wave) bool) wave {
	t.Helper()
	return waitFor(t, fmt.Sprintf("wave %d: %s", id, what), func() (wave, bool) {
		w := b.wave(t, id)
		return w, done(w)
	})
}

// planOne creates a group of n users and plans it as one wave starting now,
// with extra plan fields.
func (b *testBundle) planOne(t *testing.T, name string, n, concurrency int, extra map[string]any) wave {
	t.Helper()
	g := b.createGroup(t, name, users(n, name+"."))
	req := map[string]any{"waves": []map[string]any{{"size": n, "start_at": "now", "concurrency": concurrency, "max_attempts": 1}}}
	for k, v := range extra {
		req["waves"].([]map[string]any)[0][k] = v
	}
	return decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, req), http.StatusCreated).Waves[0]
}

func slowShell() *sim.Shell {
	return sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 15 * time.Millisecond})
}

func TestWavePauseResume(t *testing.T) {
	t.Parallel()
	b := setupWith(t, slowShell())
	w := b.planOne(t, "pause", 60, 3, nil)
	b.waitWave(t, w.ID, "some users moved", func(w wave) bool { return w.Progress.Counts["moved"] >= 5 })

	paused := decode[wave](t, b.waveAction(t, w.ID, "pause", nil), http.StatusOK)
	require.Equal(t, "paused", paused.State)
	require.Contains(t, paused.StateReason, "paused by token:test lead TestWavePauseResume (lead)")
	apiErr(t, b.waveAction(t, w.ID, "pause", nil), http.StatusConflict, "wave_paused")

	// Moves in flight finish; none starts while the wave is paused.
	settled := b.waitWave(t, w.ID, "moves in flight to finish", func(w wave) bool { return w.Progress.InFlight == 0 })
	calls := b.shell.Stats().Calls.MoveOnline
	time.Sleep(300 * time.Millisecond) // six looks of a paused move at its wave
	still := b.wave(t, w.ID)
	require.Equal(t, "paused", still.State)
	require.Equal(t, settled.Progress.Counts["moved"], still.Progress.Counts["moved"], "no move ended while paused")
	require.Equal(t, calls, b.shell.Stats().Calls.MoveOnline, "no move call while paused")
	require.Less(t, still.Progress.Counts["moved"], 60)
	require.Nil(t, still.Progress.EstimatedFinish, "no ETA while paused")

	resumed := decode[wave](t, b.waveAction(t, w.ID, "resume", nil), http.StatusOK)
	require.Equal(t, "running", resumed.State)
	done := b.waitWave(t, w.ID, "completed", func(w wave) bool { return w.State == "completed" })
	require.Equal(t, 60, done.Progress.Counts["moved"])
	require.Equal(t, []string{"started", "paused", "resumed", "completed"}, kinds(b.waveEvents(t, w.ID)))
	apiErr(t, b.waveAction(t, w.ID, "resume", nil), http.StatusConflict, "wave_completed")
}

func TestWaveCancel(t *testing.T) {
	t.Parallel()
	b := setupWith(t, slowShell())
	w := b.planOne(t, "cancel", 60, 2, nil)
	b.waitWave(t, w.ID, "some users moved", func(w wave) bool { return w.Progress.Counts["moved"] >= 3 })

	cancelled := decode[wave](t, b.waveAction(t, w.ID, "cancel", nil), http.StatusOK)
	require.Equal(t, "cancelled", cancelled.State)
	done := b.waitWave(t, w.ID, "moves in flight to finish", func(w wave) bool { return w.Progress.InFlight == 0 })
	time.Sleep(200 * time.Millisecond)
	done = b.wave(t, w.ID)
	require.Equal(t, "cancelled", done.State)
	require.Equal(t, 60, done.Progress.Counts["moved"]+done.Progress.Counts["cancelled"], "%+v", done.Progress)
	require.Positive(t, done.Progress.Counts["cancelled"])
	require.Equal(t, done.Progress.Counts["moved"], b.shell.Stats().MovesOnline, "no cancelled user was moved")

	// A cancelled user says why.
	moves := decode[struct {
		Moves []move `json:"moves"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/moves?state=cancelled", w.ID)), http.StatusOK).Moves
	require.Equal(t, "wave_cancelled", moves[0].ErrorCode)
	st := b.user(t, moves[0].UPN)
	require.Equal(t, "cancelled", st.State)
	require.Contains(t, st.Explanation.Summary, "cancelled")
	require.Contains(t, kinds(b.waveEvents(t, w.ID)), "cancelled")
	apiErr(t, b.waveAction(t, w.ID, "cancel", nil), http.StatusConflict, "wave_cancelled")
	apiErr(t, b.waveAction(t, w.ID, "resume", nil), http.StatusConflict, "wave_cancelled")
}

func TestWaveRollback(t *testing.T) {
	t.Parallel()
	b := setupWith(t, slowShell())
	w := b.planOne(t, "rollback", 12, 4, nil)
	running := b.wave(t, w.ID)
	if running.State == "running" {
		apiErr(t, b.waveAction(t, w.ID, "rollback", nil), http.StatusConflict, "wave_running")
	}
	b.waitWave(t, w.ID, "completed", func(w wave) bool { return w.State == "completed" })

	rolling := decode[wave](t, b.waveAction(t, w.ID, "rollback", nil), http.StatusOK)
	require.Equal(t, "rolling_back", rolling.State)
	done := b.waitWave(t, w.ID, "rolled back", func(w wave) bool { return w.State == "rolled_back" })
	require.Equal(t, 12, done.Progress.Counts["rolled_back"], "%+v", done.Progress)
	require.Equal(t, 12, b.shell.Stats().Calls.MoveToPool, "each user moved back once")
	for _, u := range users(12, "rollback.") {
		got, err := b.shell.GetUser(context.Background(), u.UPN)
		require.NoError(t, err)
		require.False(t, got.HomedOnline(""), "%s is back on premises", u.UPN)
	}
	require.Equal(t, []string{"started", "completed", "rolling_back", "rolled_back"}, kinds(b.waveEvents(t, w.ID)))
	apiErr(t, b.waveAction(t, w.ID, "rollback", nil), http.StatusConflict, "nothing_to_roll_back")

	// The report says who was rolled back.
	res := b.get(t, fmt.Sprintf("/api/v1/waves/%d/report.csv", w.ID))
	require.Equal(t, http.StatusOK, res.Status)
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 13)
	require.Equal(t, "rolled_back", rows[1][slices.Index(rows[0], "rolled_back")-7])
	require.Equal(t, "true", rows[1][slices.Index(rows[0], "rolled_back")])
	// Voice users are listed with their numbers, from the rollback record.
	voice := 0
	for _, row := range rows[1:] {
		u, err := b.shell.GetUser(context.Background(), row[0])
		require.NoError(t, err)
		require.Equal(t, strconv.FormatBool(u.EnterpriseVoiceEnabled), row[slices.Index(rows[0], "enterprise_voice")], row[0])
		require.Equal(t, u.LineURI, row[slices.Index(rows[0], "line_uri")], row[0])
		if u.EnterpriseVoiceEnabled {
			voice++
		}
	}
	require.Positive(t, voice, "the simulated tenant has voice users among these 12")
}

func TestWaveRetryFailed(t *testing.T) {
	t.Parallel()
	b := setupWith(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
	failing := []string{"retry.003@contoso.com", "retry.007@contoso.com", "retry.011@contoso.com"}
	for _, upn := range failing {
		b.shell.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindLicenceMissing})
	}
	w := b.planOne(t, "retry", 15, 5, nil)
	first := b.waitWave(t, w.ID, "completed", func(w wave) bool { return w.State == "completed" })
	require.Equal(t, 3, first.Progress.Counts["failed"])

	// The failure summary and its CSV.
	sum := decode[struct {
		Failures []failure `json:"failures"`
		Total    int       `json:"total"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/failures", w.ID)), http.StatusOK)
	require.Equal(t, 3, sum.Total)
	require.Equal(t, "licence_missing", sum.Failures[0].Code)
	require.NotEmpty(t, sum.Failures[0].Fix)
	res := b.get(t, fmt.Sprintf("/api/v1/waves/%d/failures?format=csv", w.ID))
	require.Equal(t, "error_code,count,retry_helps,explanation,fix\n", strings.SplitAfter(string(res.Body), "\n")[0])
	require.Contains(t, string(res.Body), "licence_missing,3,false,")
	apiErr(t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/failures?format=xml", w.ID)), http.StatusUnprocessableEntity, "invalid_format")

	// The licences are assigned; the lead retries the failed users as a new wave.
	for _, upn := range failing {
		b.shell.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindOK})
	}
	retry := decode[wave](t, b.waveAction(t, w.ID, "retry-failed", nil), http.StatusCreated)
	require.Equal(t, 3, retry.Size)
	require.Equal(t, w.ID, *retry.RetryOf)
	require.Equal(t, w.Number+1, retry.Number)
	require.Equal(t, "wave 1 retry", retry.Name)
	done := b.waitWave(t, retry.ID, "completed", func(w wave) bool { return w.State == "completed" })
	require.Equal(t, 3, done.Progress.Counts["moved"])
	for _, upn := range failing {
		st := b.user(t, upn)
		require.Equal(t, "moved", st.State)
		require.Equal(t, retry.ID, st.Move.WaveID)
		require.Len(t, st.Moves, 2, "the retry's move and the failure it retried")
		require.True(t, st.Moves[0].Current)
		require.Equal(t, "failed", st.Moves[1].State)
	}
	require.Contains(t, kinds(b.waveEvents(t, w.ID)), "retry_planned")
	offered := decode[struct {
		Actions []string `json:"actions"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d", w.ID)), http.StatusOK)
	require.NotContains(t, offered.Actions, "retry-failed", "its failed users were retried: the retry is not offered again")
	apiErr(t, b.waveAction(t, w.ID, "retry-failed", nil), http.StatusConflict, "no_failed_users")
	apiErr(t, b.waveAction(t, w.ID, "retry-failed", `{"start_at": "tomorrow"}`), http.StatusUnprocessableEntity, "invalid_start")
	apiErr(t, b.waveAction(t, 1<<40, "retry-failed", nil), http.StatusNotFound, "not_found")
}

// webhookSink records the notifications posted to it.
type webhookSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newWebhookSink(t *testing.T) *webhookSink {
	s := &webhookSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		if json.Unmarshal(data, &body) != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, b := range s.bodies {
		out = append(out, fmt.Sprint(b["event"]))
	}
	return out
}

func count(list []string, v string) int {
	n := 0
	for _, s := range list {
		if s == v {
			n++
		}
	}
	return n
}

// TestWaveHalts: a wave with 30% permanent failures, a 10% threshold and a
// minimum sample of 20 halts; after the threshold is crossed no move starts
// and at most the wave's concurrency of moves in flight make their move
// call; its later wave stays blocked; the halt is in the timeline; the
// webhook hears of it once.
func TestWaveHalts(t *testing.T) {
	t.Parallel()
	b := setupWith(t, slowShell())
	sink := newWebhookSink(t)
	decode[map[string]any](t, b.postJSON(t, "/api/v1/webhooks", map[string]string{"name": "ops", "url": sink.srv.URL + "/hook/secret-key", "format": "json"}), http.StatusCreated)

	const n, concurrency = 200, 5
	g := b.createGroup(t, "halt", users(n, "halt."))
	for i := 0; i < n; i += 10 { // 30% fail for good, spread through the wave
		for _, j := range []int{1, 4, 8} {
			b.shell.SetBehaviour(fmt.Sprintf("halt.%03d@contoso.com", i+j), sim.Behaviour{Kind: sim.KindLicenceMissing})
		}
	}
	// Late enough for the first wave to halt on a loaded machine first.
	later := time.Now().Add(8 * time.Second).UTC().Format(time.RFC3339)
	waves := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{
		"failure_threshold": map[string]any{"percent": 10, "min_sample": 20},
		"waves": []map[string]any{
			{"size": 150, "start_at": "now", "concurrency": concurrency, "max_attempts": 1},
			{"size": 50, "start_at": later, "concurrency": concurrency, "max_attempts": 1},
		},
	}), http.StatusCreated).Waves
	first, second := waves[0], waves[1]

	halted := b.waitWave(t, first.ID, "halted", func(w wave) bool { return w.State == "halted" })
	require.Contains(t, halted.StateReason, "over the threshold of 10%")
	settled := b.waitWave(t, first.ID, "moves in flight to finish", func(w wave) bool { return w.Progress.InFlight == 0 })
	require.Equal(t, "halted", settled.State)
	ended := settled.Progress.Counts["moved"] + settled.Progress.Counts["failed"]
	require.GreaterOrEqual(t, ended, 20, "not before the minimum sample")
	require.Less(t, ended, 20+concurrency, "it halts as soon as the sample is in")
	require.Equal(t, 150, ended+settled.Progress.Counts["cancelled"], "the rest are cancelled, not failed: %+v", settled.Progress)

	// After the threshold was crossed, no move started and at most the
	// concurrency of moves in flight made their move call.
	var haltedAt time.Time
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT at FROM wave_events WHERE wave_id = $1 AND kind = 'halted'`, first.ID).Scan(&haltedAt))
	var startedAfter, issuedAfter int
	require.NoError(t, b.pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE started_at > $2), count(*) FILTER (WHERE move_issued_at > $2)
		FROM moves WHERE wave_id = $1`, first.ID, haltedAt).Scan(&startedAfter, &issuedAfter))
	require.Zero(t, startedAfter)
	require.LessOrEqual(t, issuedAfter, concurrency)

	events := b.waveEvents(t, first.ID)
	require.Contains(t, kinds(events), "halted")
	blocked := b.wave(t, second.ID)
	require.Equal(t, "blocked", blocked.State)
	require.Contains(t, blocked.StateReason, "wave 1 halted")

	// The later wave's start time passes: it stays blocked, with no move.
	time.Sleep(time.Until(waves[1].StartAt) + 500*time.Millisecond)
	blocked = b.wave(t, second.ID)
	require.Equal(t, "blocked", blocked.State)
	require.Equal(t, 50, blocked.Progress.Counts["pending"])

	waitFor(t, "the halt's notification", func() ([]string, bool) {
		e := sink.events()
		return e, count(e, "wave.halted") == 1
	})
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 1, count(sink.events(), "wave.halted"), "the webhook fires once: %v", sink.events())
	require.Equal(t, 1, count(sink.events(), "wave.started"))
	deliveries := decode[struct {
		Deliveries []struct {
			Event    string `json:"event"`
			State    string `json:"state"`
			Attempts int    `json:"attempts"`
		} `json:"deliveries"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/notifications", first.ID)), http.StatusOK).Deliveries
	require.Len(t, deliveries, 2)
	for _, d := range deliveries {
		require.Equal(t, "delivered", d.State)
		require.Equal(t, 1, d.Attempts)
	}

	// The lead resumes the halted wave: its cancelled users are queued
	// again, failures so far stop counting, and the later wave may start.
	for i := 0; i < n; i++ {
		b.shell.SetBehaviour(fmt.Sprintf("halt.%03d@contoso.com", i), sim.Behaviour{Kind: sim.KindOK})
	}
	resumed := decode[wave](t, b.waveAction(t, first.ID, "resume", nil), http.StatusOK)
	require.Equal(t, "running", resumed.State)
	done := b.waitWave(t, first.ID, "completed", func(w wave) bool { return w.State == "completed" })
	require.Zero(t, done.Progress.Counts["cancelled"])
	require.Equal(t, 150, done.Progress.Counts["moved"]+done.Progress.Counts["failed"])
	b.waitWave(t, second.ID, "the later wave completed", func(w wave) bool { return w.State == "completed" })
	require.Equal(t, []string{"started", "halted", "resumed", "completed"}, kinds(b.waveEvents(t, first.ID)))
}

func TestWaveHaltRollsBack(t *testing.T) {
	t.Parallel()
	b := setupWith(t, slowShell())
	g := b.createGroup(t, "autoback", users(40, "autoback."))
	for i := 20; i < 40; i++ {
		b.shell.SetBehaviour(fmt.Sprintf("autoback.%03d@contoso.com", i), sim.Behaviour{Kind: sim.KindTenantNotEnabled})
	}
	w := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{
		"waves": []map[string]any{{"size": 40, "start_at": "now", "concurrency": 2, "max_attempts": 1,
			"failure_threshold": map[string]any{"count": 3, "min_sample": 5}, "rollback_on_halt": true}},
	}), http.StatusCreated).Waves[0]
	b.waitWave(t, w.ID, "halted", func(w wave) bool { return w.State == "halted" })
	done := b.waitWave(t, w.ID, "every moved user rolled back", func(w wave) bool {
		return w.Progress.InFlight == 0 && w.Progress.Counts["moved"] == 0 && w.Progress.Counts["rolling_back"] == 0
	})
	// Moves start roughly in plan order: most of the 20 good users moved
	// before the third failure; every one of them is rolled back.
	rolledBack := done.Progress.Counts["rolled_back"]
	require.GreaterOrEqual(t, rolledBack, 15, "%+v", done.Progress)
	require.Equal(t, 40, rolledBack+done.Progress.Counts["failed"]+done.Progress.Counts["cancelled"], "%+v", done.Progress)
	require.Equal(t, "halted", done.State, "the lead decides what next")
	require.Contains(t, kinds(b.waveEvents(t, w.ID)), "rolled_back")
	require.Equal(t, rolledBack, b.shell.Stats().Calls.MoveToPool)
	require.Equal(t, rolledBack, b.shell.Stats().MovesOnline)
}

func TestWaveActionErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "errors", users(4, "errors."))
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	ws := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 3, "start_at": future}}}), http.StatusCreated).Waves
	id := ws[0].ID
	path := func(action string) string { return fmt.Sprintf("/api/v1/waves/%d/%s", id, action) }
	tests := []struct {
		name, action string
		body         any
		status       int
		code, field  string
	}{
		{"reschedule without a time", "reschedule", map[string]any{}, 422, "invalid_start", "start_at"},
		{"reschedule to a bad time", "reschedule", map[string]any{"start_at": "next week"}, 422, "invalid_start", "start_at"},
		{"reschedule with an unknown field", "reschedule", map[string]any{"start": "now"}, 400, "invalid_json", "start"},
		{"members: nothing to do", "members", map[string]any{}, 422, "invalid_members", "add"},
		{"members: not in the group", "members", map[string]any{"add": []string{"nobody@contoso.com"}}, 422, "invalid_members", "add[0]"},
		{"members: planned already", "members", map[string]any{"add": []string{"errors.000@contoso.com"}}, 422, "invalid_members", "add[0]"},
		{"members: not in the wave", "members", map[string]any{"remove": []string{"errors.003@contoso.com"}}, 422, "invalid_members", "remove[0]"},
		{"members: emptying the wave", "members", map[string]any{"remove": []string{"errors.000@contoso.com", "errors.001@contoso.com", "errors.002@contoso.com"}}, 422, "invalid_members", "remove"},
		{"resume a scheduled wave", "resume", nil, 409, "wave_scheduled", ""},
		{"roll back a scheduled wave", "rollback", nil, 409, "wave_scheduled", ""},
		{"retry a wave without failures", "retry-failed", nil, 409, "no_failed_users", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res response
			if tt.body == nil {
				res = b.do(t, http.MethodPost, path(tt.action), "", nil)
			} else {
				res = b.postJSON(t, path(tt.action), tt.body)
			}
			e := apiErr(t, res, tt.status, tt.code)
			require.Equal(t, tt.field, e.Field, "%s", res)
		})
	}
	// Nothing changed.
	w := b.wave(t, id)
	require.Equal(t, "scheduled", w.State)
	require.Equal(t, 3, w.Size)
	require.Empty(t, kinds(b.waveEvents(t, id)))
}

func TestWaveMembersAndReschedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "edit", users(5, "edit."))
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	w := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 3, "start_at": future}}}), http.StatusCreated).Waves[0]

	changed := decode[wave](t, b.waveAction(t, w.ID, "members", map[string]any{
		"add": []string{"edit.003@contoso.com", "sip:EDIT.004@contoso.com"}, "remove": []string{"edit.000@contoso.com"}}), http.StatusOK)
	require.Equal(t, 4, changed.Size)
	require.Equal(t, 4, changed.Progress.Counts["pending"])
	require.Equal(t, 1, changed.Progress.Counts["cancelled"])
	removed := b.user(t, "edit.000@contoso.com")
	require.Equal(t, "cancelled", removed.State)
	require.Equal(t, "removed_from_wave", removed.Move.ErrorCode)

	// A removed user can be added back.
	back := decode[wave](t, b.waveAction(t, w.ID, "members", map[string]any{"add": []string{"edit.000@contoso.com"}}), http.StatusOK)
	require.Equal(t, 5, back.Size)

	// Rescheduled to now: it starts and moves everyone.
	moved := decode[wave](t, b.waveAction(t, w.ID, "reschedule", map[string]any{"start_at": "now"}), http.StatusOK)
	require.WithinDuration(t, time.Now(), moved.StartAt, 5*time.Second)
	done := b.waitWave(t, w.ID, "completed", func(w wave) bool { return w.State == "completed" })
	require.Equal(t, 5, done.Progress.Counts["moved"])
	apiErr(t, b.waveAction(t, w.ID, "reschedule", map[string]any{"start_at": future}), http.StatusConflict, "wave_started")
	apiErr(t, b.waveAction(t, w.ID, "members", map[string]any{"remove": []string{"edit.001@contoso.com"}}), http.StatusConflict, "wave_started")
	require.Equal(t, []string{"members_changed", "members_changed", "rescheduled", "started", "completed"}, kinds(b.waveEvents(t, w.ID)))
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := decode[map[string]any](t, b.postJSON(t, "/api/v1/webhooks",
		map[string]string{"name": "teams", "url": "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/secret-key"}), http.StatusCreated)
	require.Equal(t, "teams", created["format"], "the format follows the host")
	require.Equal(t, "contoso.webhook.office.com", created["host"])
	decode[map[string]any](t, b.postJSON(t, "/api/v1/webhooks",
		map[string]string{"name": "dead", "url": "http://127.0.0.1:1/hook/secret-key", "format": "json"}), http.StatusCreated)
	list := b.get(t, "/api/v1/webhooks")
	require.Equal(t, http.StatusOK, list.Status)
	require.NotContains(t, string(list.Body), "secret-key", "a webhook's key is never shown")

	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"no name", map[string]string{"url": "https://example.com/x"}, 422, "invalid_webhook", "name"},
		{"not a URL", map[string]string{"name": "x", "url": "hooks.slack.com/services/x"}, 422, "invalid_webhook", "url"},
		{"ftp", map[string]string{"name": "x", "url": "ftp://example.com/x"}, 422, "invalid_webhook", "url"},
		{"bad format", map[string]string{"name": "x", "url": "https://example.com/x", "format": "xml"}, 422, "invalid_webhook", "format"},
		{"name taken", map[string]string{"name": "teams", "url": "https://example.com/x"}, 409, "webhook_exists", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apiErr(t, b.postJSON(t, "/api/v1/webhooks", tt.body), tt.status, tt.code)
			require.Equal(t, tt.field, e.Field)
		})
	}

	// A delivery that fails is recorded, with an error that does not
	// hold the URL.
	require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/webhooks/%v", created["id"]), "", nil).Status)
	apiErr(t, b.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/webhooks/%v", created["id"]), "", nil), http.StatusNotFound, "not_found")
	w := b.planOne(t, "hooked", 2, 2, nil)
	type delivery struct {
		Webhook   string `json:"webhook"`
		Event     string `json:"event"`
		State     string `json:"state"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
	}
	got := waitFor(t, "a failed delivery", func() ([]delivery, bool) {
		d := decode[struct {
			Deliveries []delivery `json:"deliveries"`
		}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/notifications", w.ID)), http.StatusOK).Deliveries
		return d, len(d) > 0 && d[0].Attempts > 0
	})
	require.Equal(t, "dead", got[0].Webhook)
	require.Equal(t, "wave.started", got[0].Event)
	require.Equal(t, "pending", got[0].State, "retried with backoff")
	require.Contains(t, got[0].LastError, "connection refused")
	require.NotContains(t, got[0].LastError, "secret-key")
}

// TestAuditLog: writes through the API are in the audit log, with who did
// them, to what, and how they went; leads read it.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "audited", users(2, "audited."))
	apiErr(t, b.plan(t, g.ID, map[string]any{"shorthand": "canary 5"}), http.StatusUnprocessableEntity, "invalid_plan")
	w := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 2, "start_at": "2030-01-07T22:00:00Z"}}}), http.StatusCreated).Waves[0]
	decode[wave](t, b.waveAction(t, w.ID, "cancel", nil), http.StatusOK)

	type entry struct {
		Actor, Action, Target, Outcome string
		At                             time.Time
	}
	got := decode[struct {
		Entries []entry `json:"entries"`
	}](t, b.get(t, "/api/v1/audit?limit=10"), http.StatusOK).Entries
	require.Len(t, got, 4, "%+v", got)
	who := "token:test lead TestAuditLog (lead)"
	want := []entry{
		{who, "wave cancel", fmt.Sprintf("wave %d", w.ID), "ok", time.Time{}},
		{who, "group plan", fmt.Sprintf("group %d", g.ID), "ok", time.Time{}},
		{who, "group plan", fmt.Sprintf("group %d", g.ID), "refused invalid_plan", time.Time{}},
		{who, "group import", "group audited", "ok", time.Time{}},
	}
	for i := range got {
		require.WithinDuration(t, time.Now(), got[i].At, time.Minute)
		got[i].At = time.Time{}
	}
	require.Equal(t, want, got, "newest first")
	apiErr(t, b.get(t, "/api/v1/audit?limit=5000"), http.StatusUnprocessableEntity, "invalid_limit")

	// In sentences, naming the group and the wave, a refusal with why.
	type said struct {
		Says      string `json:"says"`
		OK        bool   `json:"ok"`
		GroupName string `json:"group_name"`
	}
	says := decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, "/api/v1/audit?limit=10"), http.StatusOK).Entries
	require.Equal(t, "cancelled wave 1 of audited", says[0].Says)
	require.Equal(t, "planned audited", says[1].Says)
	require.True(t, strings.HasPrefix(says[2].Says, `tried to plan audited; refused invalid_plan: shorthand: "canary 5" is not of the form`), says[2].Says)
	require.False(t, says[2].OK)
	require.Equal(t, "imported pilot group audited", says[3].Says)
	require.Equal(t, "audited", says[3].GroupName, "an import is its group's")

	// Filtered by what, by group, by who and by day; as CSV.
	byWhat := decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, "/api/v1/audit?what="+url.QueryEscape("cancel a wave")), http.StatusOK).Entries
	require.Len(t, byWhat, 1)
	other := b.createGroup(t, "other", users(1, "other."))
	byGroup := decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/audit?group=%d", g.ID)), http.StatusOK).Entries
	require.Len(t, byGroup, 4, "the group's import, plans and its wave's cancel, not the other group's import")
	require.Empty(t, decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/audit?group=%d&what=cancel+a+wave", other.ID)), http.StatusOK).Entries)
	require.Len(t, decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, "/api/v1/audit?who="+url.QueryEscape(who)+"&from="+time.Now().UTC().Format(time.DateOnly)), http.StatusOK).Entries, 5)
	require.Empty(t, decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, "/api/v1/audit?until=2020-01-01"), http.StatusOK).Entries)
	apiErr(t, b.get(t, "/api/v1/audit?what=dance"), http.StatusUnprocessableEntity, "invalid_what")
	apiErr(t, b.get(t, "/api/v1/audit?from=yesterday"), http.StatusUnprocessableEntity, "invalid_from")
	res := b.get(t, fmt.Sprintf("/api/v1/audit.csv?group=%d", g.ID))
	require.Equal(t, http.StatusOK, res.Status)
	lines := strings.Split(strings.TrimSpace(string(res.Body)), "\n")
	require.Len(t, lines, 1+4, string(res.Body))
	require.Contains(t, lines[1], "cancelled wave 1 of audited")

	// An entry the API wrote under its route's name, before every front
	// end named an action alike, reads and filters as the same action.
	_, err := b.pool.Exec(context.Background(), `INSERT INTO audit_log (actor, action, target, outcome, detail, wave_id, group_id)
		VALUES ($1, 'POST /api/v1/waves/{id}/cancel', $2, 'refused 409 wave_cancelled', 'wave 1 is cancelled', $3, $4)`,
		who, fmt.Sprintf("/api/v1/waves/%d/cancel", w.ID), w.ID, g.ID)
	require.NoError(t, err)
	byWhat = decode[struct {
		Entries []said `json:"entries"`
	}](t, b.get(t, "/api/v1/audit?what="+url.QueryEscape("cancel a wave")), http.StatusOK).Entries
	require.Len(t, byWhat, 2)
	require.Equal(t, "tried to cancel wave 1 of audited; refused 409 wave_cancelled: wave 1 is cancelled", byWhat[0].Says)
}
