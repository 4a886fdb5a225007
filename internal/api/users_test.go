package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/sim"
)

// TestGroupMovedEndToEnd moves a whole group through the API as a migration
// lead's script would: create it, plan it to start now, poll until it has
// finished, then read its progress, its waves, their failed moves and what
// helpdesk sees of single users.
func TestGroupMovedEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		skipped = "user001@contoso.com" // in the canary
		failed  = "user012@contoso.com" // in wave 1
		retried = "user023@contoso.com" // in wave 2
		bySIP   = "user020@contoso.com" // has a SIP address of its own
	)
	members := users(30, "user")
	members[20].SIP, members[20].DisplayName = "sip:Jane.Doe@Contoso.com", "Jane Doe"
	b.shell.SetBehaviour(skipped, sim.Behaviour{Kind: sim.KindAlreadyOnline})
	b.shell.SetBehaviour(failed, sim.Behaviour{Kind: sim.KindLicenceMissing})
	b.shell.SetBehaviour(retried, sim.Behaviour{Kind: sim.KindTimeout, Failures: 2})

	g := b.createGroup(t, "Contoso pilot", members)
	planned := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{
		"shorthand":    "canary 10, then waves of 10 every 1s, starting now",
		"max_attempts": 4,
	}), http.StatusCreated).Waves
	require.Len(t, planned, 3)

	g = b.waitFinished(t, g.ID)

	t.Run("group progress", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, 30, g.Members)
		require.Zero(t, g.Unplanned)
		require.NotNil(t, g.StartedAt)
		require.False(t, g.FinishedAt.Before(*g.StartedAt))
		p := g.Progress
		require.Equal(t, 30, p.Total)
		require.Equal(t, 30, p.Done)
		require.Zero(t, p.InFlight)
		require.Equal(t, 100.0, p.Percent)
		require.Equal(t, map[string]int{"moved": 28, "skipped": 1, "failed": 1}, p.Counts)
		require.Equal(t, 3.3, p.FailureRate, "1 failed of 30 done, in percent")
		require.Equal(t, 1, p.Retried, "one user needed more than one attempt")

		require.Len(t, g.Failures, 1)
		f := g.Failures[0]
		require.Equal(t, "licence_missing", f.Code)
		require.Equal(t, 1, f.Count)
		require.False(t, f.Transient)
		require.NotEmpty(t, f.Explanation)
		require.Contains(t, f.Fix, "licence")
	})

	t.Run("wave progress", func(t *testing.T) {
		t.Parallel()
		want := []struct {
			name    string
			counts  map[string]int
			failure float64
			retried int
		}{
			{"canary", map[string]int{"moved": 9, "skipped": 1}, 0, 0},
			{"wave 1", map[string]int{"moved": 9, "failed": 1}, 10, 0},
			{"wave 2", map[string]int{"moved": 10}, 0, 1},
		}
		require.Len(t, g.Waves, len(want))
		for i, w := range g.Waves {
			require.Equal(t, planned[i].ID, w.ID)
			require.Equal(t, want[i].name, w.Name)
			require.Equal(t, "completed", w.State, w.Name)
			require.Equal(t, 10, w.Size)
			require.Equal(t, 4, w.MaxAttempts)
			require.NotNil(t, w.StartedAt, w.Name)
			require.NotNil(t, w.FinishedAt, w.Name)
			require.False(t, w.FinishedAt.After(*g.FinishedAt), "a wave finished after its group")
			require.Equal(t, 10, w.Progress.Total, w.Name)
			require.Equal(t, 10, w.Progress.Done, w.Name)
			require.Equal(t, 100.0, w.Progress.Percent, w.Name)
			require.Equal(t, want[i].counts, w.Progress.Counts, w.Name)
			require.Equal(t, want[i].failure, w.Progress.FailureRate, w.Name)
			require.Equal(t, want[i].retried, w.Progress.Retried, w.Name)
		}
		require.Equal(t, time.Second, g.Waves[1].StartAt.Sub(g.Waves[0].StartAt), "waves 1s apart")
		require.Equal(t, time.Second, g.Waves[2].StartAt.Sub(g.Waves[1].StartAt), "waves 1s apart")
	})

	t.Run("group list", func(t *testing.T) {
		t.Parallel()
		gs := b.groups(t)
		require.Len(t, gs, 1)
		require.Equal(t, g.ID, gs[0].ID)
		require.NotNil(t, gs[0].FinishedAt)
		require.Equal(t, g.Progress, gs[0].Progress)
		require.Equal(t, g.Failures, gs[0].Failures)
	})

	t.Run("wave", func(t *testing.T) {
		t.Parallel()
		w := decode[wave](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d", planned[1].ID)), http.StatusOK)
		require.Equal(t, planned[1].ID, w.ID)
		require.Equal(t, g.ID, w.GroupID)
		require.Equal(t, "wave 1", w.Name)
		require.Equal(t, "completed", w.State)
		require.Equal(t, map[string]int{"moved": 9, "failed": 1}, w.Progress.Counts)
		require.Equal(t, 100.0, w.Progress.Percent)
	})

	movesOf := func(t *testing.T, waveID int64, query string) []move {
		t.Helper()
		return decode[struct {
			Moves []move `json:"moves"`
		}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/moves%s", waveID, query)), http.StatusOK).Moves
	}

	t.Run("failed moves of a wave", func(t *testing.T) {
		t.Parallel()
		moves := movesOf(t, planned[1].ID, "?state=failed")
		require.Len(t, moves, 1)
		m := moves[0]
		require.Equal(t, failed, m.UPN)
		require.Equal(t, "failed", m.State)
		require.Equal(t, "licence_missing", m.ErrorCode)
		require.Contains(t, m.ErrorMessage, "(507)")
		require.Equal(t, 1, m.Attempts)
		require.Equal(t, 4, m.MaxAttempts)
		require.Equal(t, "wave 1", m.WaveName)
		require.Equal(t, "Contoso pilot", m.GroupName)

		require.Empty(t, movesOf(t, planned[0].ID, "?state=failed"), "the canary has no failed move")
		require.Empty(t, movesOf(t, planned[2].ID, "?state=failed"), "wave 2 has no failed move")
	})

	t.Run("moves of a wave in plan order", func(t *testing.T) {
		t.Parallel()
		moves := movesOf(t, planned[0].ID, "")
		require.Len(t, moves, 10)
		for i, m := range moves {
			require.Equal(t, fmt.Sprintf("user%03d@contoso.com", i), m.UPN)
		}
		skippedMoves := movesOf(t, planned[0].ID, "?state=skipped")
		require.Len(t, skippedMoves, 1)
		require.Equal(t, skipped, skippedMoves[0].UPN)
	})

	t.Run("moves in a state that does not exist", func(t *testing.T) {
		t.Parallel()
		e := apiErr(t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/moves?state=bogus", planned[1].ID)), http.StatusUnprocessableEntity, "invalid_state")
		require.Equal(t, "state", e.Field)
		require.Contains(t, e.Message, "bogus")
	})

	t.Run("helpdesk: failed user", func(t *testing.T) {
		t.Parallel()
		st := b.user(t, failed)
		require.Equal(t, "failed", st.State)
		require.Equal(t, failed, st.UPN)
		require.NotNil(t, st.Error)
		require.Equal(t, "licence_missing", st.Error.Code)
		require.Contains(t, st.Error.Fix, "licence")
		require.Contains(t, st.Explanation.Summary, "failed")
		require.Contains(t, st.Explanation.Next, st.Error.Fix)
		require.NotNil(t, st.Move)
		require.Equal(t, 1, st.Move.Attempts)
		last := st.Timeline[len(st.Timeline)-1]
		require.Equal(t, "failed", last.State)
		require.Equal(t, "licence_missing", last.ErrorCode)
		require.Equal(t, 1, b.shell.CallsFor(failed).MoveOnline, "a permanent failure is not tried again")
	})

	t.Run("helpdesk: retried user", func(t *testing.T) {
		t.Parallel()
		st := b.user(t, retried)
		require.Equal(t, "moved", st.State)
		require.Nil(t, st.Error)
		require.NotNil(t, st.Move)
		require.Equal(t, 3, st.Move.Attempts)
		require.Equal(t, 3, b.shell.CallsFor(retried).MoveOnline)
		require.Equal(t, 1, b.shell.MovesFor(retried), "moved once")
		require.NotNil(t, st.RollbackRecord)
		require.Equal(t, "pool01.contoso.com", st.RollbackRecord.RegistrarPool)

		require.Equal(t, "pending", st.Timeline[0].State)
		var failedAttempts []int
		for _, e := range st.Timeline {
			if e.State == "retrying" {
				require.Equal(t, "timeout", e.ErrorCode, "a failed attempt's event names its error")
				failedAttempts = append(failedAttempts, e.Attempt)
			}
		}
		require.Equal(t, []int{1, 2}, failedAttempts)
		moveEvents := slices.DeleteFunc(slices.Clone(st.Timeline), func(e event) bool { return strings.HasPrefix(e.Message, "completion: ") })
		last := moveEvents[len(moveEvents)-1]
		require.Equal(t, "moved", last.State, "the last event of the move is the outcome (completion's come after)")
		require.Equal(t, 3, last.Attempt)
		require.Empty(t, last.ErrorCode)
		for i := 1; i < len(st.Timeline); i++ {
			require.False(t, st.Timeline[i].At.Before(st.Timeline[i-1].At), "the timeline is in order")
		}
	})

	t.Run("helpdesk: skipped user", func(t *testing.T) {
		t.Parallel()
		st := b.user(t, skipped)
		require.Equal(t, "skipped", st.State)
		require.Nil(t, st.Error)
		require.Contains(t, st.Explanation.Summary, "already homed online")
		require.Zero(t, b.shell.CallsFor(skipped).MoveOnline)
	})

	lookups := []struct {
		name, identity, upn string
	}{
		{"by UPN", bySIP, bySIP},
		{"by UPN in another case", "USER020@Contoso.COM", bySIP},
		{"by SIP address", "jane.doe@contoso.com", bySIP},
		{"by SIP address with sip: and another case", "SIP:Jane.Doe@CONTOSO.com", bySIP},
		{"by SIP URI", "sip:jane.doe@contoso.com", bySIP},
		{"by UPN as a SIP URI", "sip:user005@contoso.com", "user005@contoso.com"},
	}
	for _, tt := range lookups {
		t.Run("helpdesk: "+tt.name, func(t *testing.T) {
			t.Parallel()
			st := b.user(t, tt.identity)
			require.Equal(t, tt.identity, st.Identity)
			require.Equal(t, tt.upn, st.UPN)
			require.Equal(t, "moved", st.State)
			require.Contains(t, st.Explanation.Summary, "Moved online")
			require.NotNil(t, st.Move)
			require.Equal(t, 1, st.Move.Attempts)
			require.NotNil(t, st.RollbackRecord)
			require.Equal(t, "pool01.contoso.com", st.RollbackRecord.RegistrarPool)
			require.Equal(t, st.Move.ID, st.RollbackRecord.MoveID)
			require.Len(t, st.Groups, 1)
			require.True(t, st.Groups[0].Planned)
			if tt.upn == bySIP {
				require.Equal(t, "jane.doe@contoso.com", st.SIP)
				require.Equal(t, "Jane Doe", st.DisplayName)
			}
		})
	}

	t.Run("helpdesk: every moved user has a rollback record", func(t *testing.T) {
		t.Parallel()
		for i := range 30 {
			upn := fmt.Sprintf("user%03d@contoso.com", i)
			if upn == skipped || upn == failed {
				continue
			}
			st := b.user(t, upn)
			require.Equal(t, "moved", st.State, upn)
			require.NotNil(t, st.RollbackRecord, upn)
			require.Equal(t, "SRV:", st.RollbackRecord.HostingProvider, upn)
			require.LessOrEqual(t, b.shell.MovesFor(upn), 1, "%s moved twice", upn)
		}
	})
}

func TestUserLookupNotPlanned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Waiting room", []member{{UPN: "wendy@contoso.com", SIP: "w.smith@contoso.com", DisplayName: "Wendy Smith"}})

	t.Run("unplanned", func(t *testing.T) {
		t.Parallel()
		for _, identity := range []string{"wendy@contoso.com", "sip:W.Smith@contoso.com"} {
			st := b.user(t, identity)
			require.Equal(t, "unplanned", st.State)
			require.Equal(t, "wendy@contoso.com", st.UPN)
			require.Equal(t, "w.smith@contoso.com", st.SIP)
			require.Equal(t, "Wendy Smith", st.DisplayName)
			require.Contains(t, st.Explanation.Summary, "Waiting room")
			require.Nil(t, st.Move)
			require.Nil(t, st.Error)
			require.NotNil(t, st.Timeline)
			require.Empty(t, st.Timeline)
			require.Equal(t, []membership{{GroupID: g.ID, GroupName: "Waiting room", Planned: false}}, st.Groups)
		}
	})

	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown user", http.MethodGet, "/api/v1/users/nobody@contoso.com", http.StatusNotFound, "user_not_found"},
		{"unknown SIP address", http.MethodGet, "/api/v1/users/" + url.PathEscape("sip:nobody@contoso.com"), http.StatusNotFound, "user_not_found"},
		{"retry of an unknown user", http.MethodPost, "/api/v1/users/nobody@contoso.com/retry", http.StatusNotFound, "user_not_found"},
		{"retry of an unplanned user", http.MethodPost, "/api/v1/users/wendy@contoso.com/retry", http.StatusNotFound, "user_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apiErr(t, b.do(t, tt.method, tt.path, "", nil), tt.status, tt.code)
			require.Contains(t, e.Message, "@contoso.com")
		})
	}
}

// TestRetry retries a failed user once the cause is fixed: the retry is
// accepted, the user ends moved, and the timeline keeps the failure before it.
func TestRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		failing = "rita@contoso.com"
		clean   = "ron@contoso.com"
	)
	b.shell.SetBehaviour(failing, sim.Behaviour{Kind: sim.KindLicenceMissing})
	g := b.createGroup(t, "Retry pilot", []member{{UPN: failing}, {UPN: clean}})
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"shorthand": "canary 2, then waves of 1 every 1h, starting now"}), http.StatusCreated)
	g = b.waitFinished(t, g.ID)
	require.Equal(t, map[string]int{"moved": 1, "failed": 1}, g.Progress.Counts)
	require.Equal(t, "failed", b.user(t, failing).State)

	retry := func(t *testing.T, identity string) response {
		t.Helper()
		return b.do(t, http.MethodPost, "/api/v1/users/"+url.PathEscape(identity)+"/retry", "", nil)
	}

	e := apiErr(t, retry(t, clean), http.StatusConflict, "not_failed")
	require.Contains(t, e.Message, clean)
	require.Contains(t, e.Message, "moved")
	apiErr(t, retry(t, "nobody@contoso.com"), http.StatusNotFound, "user_not_found")
	require.Equal(t, 1, b.shell.CallsFor(clean).MoveOnline, "a refused retry moved the user")

	// The licence is assigned: the user can be moved now.
	b.shell.SetBehaviour(failing, sim.Behaviour{Kind: sim.KindOK})
	st := decode[userStatus](t, retry(t, "SIP:Rita@Contoso.com"), http.StatusAccepted)
	require.Equal(t, failing, st.UPN)
	require.Contains(t, []string{"queued", "preflight", "moving", "verifying", "moved"}, st.State)
	require.NotNil(t, st.Move)
	require.Equal(t, 2, st.Move.Run, "a retry is the move's second run")
	require.True(t, slices.ContainsFunc(st.Timeline, func(e event) bool { return e.State == "queued" && strings.HasPrefix(e.Actor, "token:test lead") }),
		"the timeline shows the retry: %+v", st.Timeline)

	e = apiErr(t, retry(t, failing), http.StatusConflict, "not_failed")
	require.Contains(t, e.Message, failing)

	st = waitFor(t, failing+" to be moved", func() (userStatus, bool) {
		st := b.user(t, failing)
		return st, st.State == "moved"
	})
	require.Nil(t, st.Error)
	require.Equal(t, 2, st.Move.Run)
	require.Equal(t, 1, st.Move.Attempts, "attempts count from zero in a new run")
	require.Empty(t, st.Move.ErrorCode)
	require.NotNil(t, st.RollbackRecord)
	require.Len(t, st.Moves, 1, "a retry is the same move, not a new one")
	require.Equal(t, 2, b.shell.CallsFor(failing).MoveOnline)
	require.Equal(t, 1, b.shell.MovesFor(failing))

	// The timeline: the failure, then the retry, then the move.
	failedAt := slices.IndexFunc(st.Timeline, func(e event) bool { return e.State == "failed" })
	require.GreaterOrEqual(t, failedAt, 0, "the earlier failure is in the timeline: %+v", st.Timeline)
	require.Equal(t, "licence_missing", st.Timeline[failedAt].ErrorCode)
	require.Equal(t, 1, st.Timeline[failedAt].Attempt)
	retriedAt := slices.IndexFunc(st.Timeline, func(e event) bool { return e.State == "queued" && strings.HasPrefix(e.Actor, "token:") })
	require.Greater(t, retriedAt, failedAt, "the retry comes after the failure")
	require.Contains(t, st.Timeline[retriedAt].Message, "retry")
	last := st.Timeline[len(st.Timeline)-1]
	require.Equal(t, "moved", last.State)
	require.Equal(t, 1, last.Attempt)

	// The group finishes again with nothing failed.
	g = b.waitFinished(t, g.ID)
	require.Equal(t, map[string]int{"moved": 2}, g.Progress.Counts)
	require.Equal(t, 100.0, g.Progress.Percent)
	require.Zero(t, g.Progress.FailureRate)
	require.Empty(t, g.Failures)
	require.Equal(t, "completed", g.Waves[0].State)

	e = apiErr(t, retry(t, failing), http.StatusConflict, "not_failed")
	require.Contains(t, e.Message, "moved")
}

func TestRollbackUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		failing = "fay@contoso.com"
		moved   = "mo@contoso.com"
	)
	b.shell.SetBehaviour(failing, sim.Behaviour{Kind: sim.KindTenantNotEnabled})
	g := b.createGroup(t, "Rollback pilot", []member{{UPN: failing}, {UPN: moved}})
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"shorthand": "canary 2, then waves of 1 every 1h, starting now"}), http.StatusCreated)
	b.waitFinished(t, g.ID)
	rollback := func(t *testing.T, identity string) response {
		t.Helper()
		return b.do(t, http.MethodPost, "/api/v1/users/"+url.PathEscape(identity)+"/rollback", "", nil)
	}
	apiErr(t, rollback(t, failing), http.StatusConflict, "not_moved")
	apiErr(t, rollback(t, "nobody@contoso.com"), http.StatusNotFound, "user_not_found")

	st := decode[userStatus](t, rollback(t, moved), http.StatusAccepted)
	require.Contains(t, []string{"rolling_back", "rolled_back"}, st.State)
	st = waitFor(t, "the rollback", func() (userStatus, bool) {
		st := b.user(t, moved)
		return st, st.State == "rolled_back"
	})
	require.Contains(t, st.Explanation.Expect, "brings no contacts from Teams")
	require.Equal(t, 1, b.shell.CallsFor(moved).MoveToPool)
}

// A user's page offers the actions the use cases take: every user of a
// wave that ran (moved, failed) and of one cancelled before its start (who
// may be moved again, in a wave of their own) is tried with both, through
// the API; an action offered must be taken, one not offered refused as a
// conflict.
func TestUserOffersAreWhatTheUseCasesTake(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.shell.SetBehaviour("ran.001@contoso.com", sim.Behaviour{Kind: sim.KindLicenceMissing})
	ran := b.planOne(t, "ran", 2, 2, nil)
	b.waitWave(t, ran.ID, "completed", func(w wave) bool { return w.State == "completed" })
	cancelled := b.planOne(t, "cancelled", 2, 2, map[string]any{"start_at": future().Format(time.RFC3339)})
	decode[wave](t, b.waveAction(t, cancelled.ID, "cancel", nil), http.StatusOK)

	svc := app.New(b.pool, nil)
	tests := []struct {
		upn    string
		offers []string
	}{
		{"ran.000@contoso.com", []string{app.UserRollBack}},
		{"ran.001@contoso.com", []string{app.UserRetry}},
		{"cancelled.000@contoso.com", []string{app.UserRetry}}, // cancelled before its start: moved again
	}
	for _, tt := range tests {
		st, err := svc.LookUp(context.Background(), tt.upn, time.Now())
		require.NoError(t, err)
		require.Equal(t, tt.offers, st.Actions, tt.upn)
		for _, a := range []string{app.UserRetry, app.UserRollBack} {
			res := b.postJSON(t, "/api/v1/users/"+tt.upn+"/"+a, nil)
			if st.Offers(a) {
				require.Equal(t, 2, res.Status/100, "%s %s is offered: %s", tt.upn, a, res.Body)
			} else {
				require.Equal(t, http.StatusConflict, res.Status, "%s %s is not offered: %s", tt.upn, a, res.Body)
			}
		}
	}
}
