package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// importReport is what an import found of its users in cutover's moves
// elsewhere.
type importReport struct {
	Users int `json:"users"`
	Kept  int `json:"kept"`
	Busy  struct {
		Users int      `json:"users"`
		Says  []string `json:"says"`
	} `json:"busy"`
	InTeams struct {
		Users int      `json:"users"`
		Says  []string `json:"says"`
	} `json:"in_teams"`
	LeftOut []string `json:"left_out"`
}

// TestImportSaysWhomItFound: an import's check names the users being moved
// in another group and those another group moved to Teams, keeps nothing,
// and the import leaves them out when asked; from JSON and from a CSV.
func TestImportSaysWhomItFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	moved := b.createGroup(t, "Pilot: Finance", []member{{UPN: "ana.lima@contoso.com", DisplayName: "Ana Lima"}})
	b.waitState(t, b.planNow(t, moved.ID, "wave 1", 1).ID, "completed")
	busy := b.createGroup(t, "Pilot: Sales", []member{{UPN: "ken.ito@contoso.com", DisplayName: "Ken Ito"}})
	decode[map[string]any](t, b.plan(t, busy.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": future().Format(time.RFC3339), "name": "wave 2"}}}), http.StatusCreated)
	members := []member{{UPN: "ana.lima@contoso.com", DisplayName: "Ana Lima"}, {UPN: "ken.ito@contoso.com", DisplayName: "Ken Ito"}, {UPN: "new.user@contoso.com"}}

	preview := decode[struct {
		Preview bool         `json:"preview"`
		Import  importReport `json:"import"`
	}](t, b.postJSON(t, "/api/v1/groups", map[string]any{"name": "Pilot: Legal", "members": members, "preview": true}), http.StatusOK)
	require.True(t, preview.Preview)
	require.Equal(t, 3, preview.Import.Users)
	require.Equal(t, 1, preview.Import.Busy.Users)
	require.Equal(t, []string{"Ken Ito (ken.ito@contoso.com) is planned into the scheduled wave wave 2 of Pilot: Sales; remove the user from that wave (or cancel it) first"}, preview.Import.Busy.Says)
	require.Equal(t, 1, preview.Import.InTeams.Users)
	require.Equal(t, []string{"Ana Lima (ana.lima@contoso.com) is moved to Teams by wave 1 of Pilot: Finance"}, preview.Import.InTeams.Says)
	require.Len(t, b.groups(t), 2, "a check keeps nothing")

	csv := "upn,display_name\nana.lima@contoso.com,Ana Lima\nken.ito@contoso.com,Ken Ito\nnew.user@contoso.com,\n"
	res := b.do(t, http.MethodPost, "/api/v1/groups?name=Pilot:+Legal&preview=true", "text/csv", strings.NewReader(csv))
	fromCSV := decode[struct {
		Import importReport `json:"import"`
	}](t, res, http.StatusOK)
	require.Equal(t, preview.Import, fromCSV.Import, "a CSV is checked as a list is")

	res = b.do(t, http.MethodPost, "/api/v1/groups?name=Pilot:+Legal&leave_out=busy&leave_out=in_teams", "text/csv", strings.NewReader(csv))
	created := decode[struct {
		ID      int64        `json:"id"`
		Members int          `json:"members"`
		Import  importReport `json:"import"`
	}](t, res, http.StatusCreated)
	require.Equal(t, 1, created.Members, "the two in cutover's moves elsewhere are left out")
	require.Equal(t, 1, created.Import.Kept)
	require.ElementsMatch(t, []string{"busy", "in_teams"}, created.Import.LeftOut)
	require.Equal(t, "new.user@contoso.com", b.user(t, "new.user@contoso.com").UPN)

	e := apiErr(t, b.postJSON(t, "/api/v1/groups", map[string]any{"name": "Pilot: HR", "members": members, "leave_out": []string{"everyone"}}),
		http.StatusUnprocessableEntity, "invalid_leave_out")
	require.Contains(t, e.Message, `"everyone" is not what an import can leave out`)
	e = apiErr(t, b.postJSON(t, "/api/v1/groups", map[string]any{"name": "Pilot: HR", "members": members[:2], "leave_out": []string{"busy", "in_teams"}}),
		http.StatusUnprocessableEntity, "invalid_members")
	require.Contains(t, e.Message, "would leave the group empty")
	require.Len(t, b.groups(t), 3, "nothing half-kept")
}

// TestGroupPauseResume: a lead pauses every wave of a group in one action,
// audited once, and resumes them; the group's plan is kept as written.
func TestGroupPauseResume(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Pilot: Ops", users(6, "ops."))
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"shorthand": "canary 2, then waves of 2 every 1h, starting in 1d",
		"max_attempts": 3, "concurrency": 5, "failure_threshold": map[string]any{"percent": 10}}), http.StatusCreated)
	gv := b.group(t, g.ID)
	require.Len(t, gv.Waves, 3)
	full := decode[struct {
		Actions []string `json:"actions"`
		Plans   []struct {
			Sentence string  `json:"sentence"`
			Settings string  `json:"settings"`
			WaveIDs  []int64 `json:"wave_ids"`
		} `json:"plans"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/groups/%d", g.ID)), http.StatusOK)
	require.Equal(t, []string{"pause"}, full.Actions)
	require.Len(t, full.Plans, 1)
	require.Equal(t, "canary 2, then waves of 2 every 1h, starting in 1d", full.Plans[0].Sentence)
	require.Equal(t, "3 attempts per user; 5 moves at once per wave; halt a wave at 10% failed, after at least 20 users", full.Plans[0].Settings)
	require.Len(t, full.Plans[0].WaveIDs, 3)

	paused := decode[group](t, b.postJSON(t, fmt.Sprintf("/api/v1/groups/%d/pause", g.ID), nil), http.StatusOK)
	for _, w := range paused.Waves {
		require.Equal(t, "paused", w.State, w.Name)
		require.Contains(t, w.StateReason, "paused with the whole group")
	}
	apiErr(t, b.postJSON(t, fmt.Sprintf("/api/v1/groups/%d/pause", g.ID), nil), http.StatusConflict, "nothing_to_pause")
	resumed := decode[group](t, b.postJSON(t, fmt.Sprintf("/api/v1/groups/%d/resume", g.ID), nil), http.StatusOK)
	for _, w := range resumed.Waves {
		require.Equal(t, "scheduled", w.State, w.Name)
	}
	apiErr(t, b.postJSON(t, fmt.Sprintf("/api/v1/groups/%d/resume", g.ID), nil), http.StatusConflict, "nothing_to_resume")
	apiErr(t, b.postJSON(t, "/api/v1/groups/999999/pause", nil), http.StatusNotFound, "not_found")

	audit := decode[struct {
		Entries []struct {
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
		} `json:"entries"`
	}](t, b.get(t, "/api/v1/audit"), http.StatusOK)
	pauses := 0
	for _, e := range audit.Entries {
		if e.Action == "group pause" && e.Outcome == "ok" {
			pauses++
		}
	}
	require.Equal(t, 1, pauses, "the group's pause is one action in the audit log, not one per wave")
}

// TestLeaveOutOfThePlan: members a lead leaves out of the plan are counted
// as such, no plan takes them, and they can be put back; a member in a
// wave already cannot be left out, and the refusal names the wave.
func TestLeaveOutOfThePlan(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Pilot: Legal", users(4, "legal."))
	path := fmt.Sprintf("/api/v1/groups/%d/users/", g.ID)
	done := decode[struct {
		Users int    `json:"users"`
		Says  string `json:"says"`
	}](t, b.postJSON(t, path+"leave-out", map[string]any{"users": []string{"legal.001@contoso.com", "sip:legal.002@contoso.com"}}), http.StatusOK)
	require.Equal(t, 2, done.Users)
	require.Contains(t, done.Says, "2 users left out of the plan of Pilot: Legal")

	gv := decode[struct {
		Unplanned int      `json:"unplanned"`
		LeftOut   int      `json:"left_out"`
		Progress  progress `json:"progress"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/groups/%d", g.ID)), http.StatusOK)
	require.Equal(t, 2, gv.Unplanned)
	require.Equal(t, 2, gv.LeftOut)
	require.Equal(t, 4, gv.Progress.Total, "every member counted once")
	list := decode[struct {
		Users []struct {
			UPN     string `json:"upn"`
			Outcome string `json:"outcome"`
		} `json:"users"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/groups/%d/users?outcome=left_out", g.ID)), http.StatusOK)
	require.Len(t, list.Users, 2)
	require.Equal(t, "left_out", list.Users[0].Outcome)

	planned := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 2, "start_at": future().Format(time.RFC3339), "name": "wave 1"}}}), http.StatusCreated)
	require.Equal(t, 2, planned.Waves[0].Size, "the plan takes the two not left out")
	apiErr(t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": "now"}}}), http.StatusConflict, "already_planned")

	e := apiErr(t, b.postJSON(t, path+"leave-out", map[string]any{"users": []string{"legal.000@contoso.com"}}), http.StatusConflict, "user_planned")
	require.Contains(t, e.Message, "User 0 (legal.000@contoso.com) is in wave 1 already; remove the user from that wave first")
	apiErr(t, b.postJSON(t, path+"leave-out", map[string]any{"users": []string{"nobody@contoso.com"}}), http.StatusUnprocessableEntity, "invalid_users")
	apiErr(t, b.postJSON(t, path+"leave-out", map[string]any{"users": []string{}}), http.StatusUnprocessableEntity, "invalid_users")
	apiErr(t, b.get(t, fmt.Sprintf("/api/v1/groups/%d/users?dry=maybe", g.ID)), http.StatusUnprocessableEntity, "invalid_dry")

	decode[map[string]any](t, b.postJSON(t, path+"put-back", map[string]any{"users": []string{"legal.001@contoso.com"}}), http.StatusOK)
	gv = decode[struct {
		Unplanned int      `json:"unplanned"`
		LeftOut   int      `json:"left_out"`
		Progress  progress `json:"progress"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/groups/%d", g.ID)), http.StatusOK)
	require.Equal(t, 1, gv.Unplanned)
	require.Equal(t, 1, gv.LeftOut)
}

// TestPlanPreviewEnds: a plan's times written without a zone are in the
// zone it names, and its preview says when its waves end at the pace of
// the moves already made (not before any move has ended).
func TestPlanPreviewEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Pilot: Pace", users(4, "pace."))
	type preview struct {
		Waves []struct {
			StartAt time.Time `json:"start_at"`
		} `json:"waves"`
		EndsAround  *time.Time `json:"ends_around"`
		PaceSeconds float64    `json:"pace_seconds"`
		PaceMoves   int        `json:"pace_moves"`
	}
	req := map[string]any{"preview": true, "start_time_zone": "America/New_York",
		"waves": []map[string]any{{"size": 4, "start_at": "2030-12-07 22:00", "concurrency": 2}}}
	before := decode[preview](t, b.plan(t, g.ID, req), http.StatusOK)
	require.Equal(t, "2030-12-08T03:00:00Z", before.Waves[0].StartAt.UTC().Format(time.RFC3339), "22:00 in New York")
	require.Nil(t, before.EndsAround, "no move has ended: nothing estimated")

	done := b.createGroup(t, "Pilot: Done", users(2, "done."))
	b.waitState(t, b.planNow(t, done.ID, "wave 1", 2).ID, "completed")
	after := decode[preview](t, b.plan(t, g.ID, req), http.StatusOK)
	require.NotNil(t, after.EndsAround)
	require.Equal(t, 2, after.PaceMoves)
	require.True(t, after.EndsAround.After(after.Waves[0].StartAt), "ends after it starts")
	require.LessOrEqual(t, after.EndsAround.Sub(after.Waves[0].StartAt), time.Duration(2*after.PaceSeconds*float64(time.Second))+time.Second,
		"4 users, 2 at once: two moves' time")

	apiErr(t, b.plan(t, g.ID, map[string]any{"preview": true, "start_time_zone": "Mars/Olympus", "shorthand": "canary 1, then waves of 1 every 1h, starting now"}),
		http.StatusUnprocessableEntity, "invalid_plan")
}
