package migration_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

func TestDecideMeetings(t *testing.T) {
	t.Parallel()
	moved := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return moved.Add(d) }
	tests := []struct {
		name    string
		now     time.Time
		mm      migration.MeetingMigration
		found   bool
		state   migration.ItemState
		checkAt time.Time // zero: no next look
		says    string
	}{
		{"before the service begins", at(time.Minute), migration.MeetingMigration{}, false, migration.ItemPending, at(90 * time.Minute), "about 90 minutes after the move"},
		{"no migration yet", at(2 * time.Hour), migration.MeetingMigration{}, false, migration.ItemPending, at(150 * time.Minute), "not started"},
		{"no migration after a day", at(25 * time.Hour), migration.MeetingMigration{}, false, migration.ItemPerson, time.Time{}, "within 24 hours"},
		{"queued", at(2 * time.Hour), migration.MeetingMigration{State: "Pending"}, true, migration.ItemPending, at(150 * time.Minute), "is migrating"},
		{"in progress", at(3 * time.Hour), migration.MeetingMigration{State: "InProgress", TotalMeeting: 4}, true, migration.ItemPending, at(210 * time.Minute), "is migrating"},
		{"succeeded", at(3 * time.Hour), migration.MeetingMigration{State: "Succeeded", TotalMeeting: 4, SucceededMeeting: 4}, true, migration.ItemDone, time.Time{}, "Meetings migrated to Teams (4)."},
		{"succeeded, some meetings not", at(3 * time.Hour), migration.MeetingMigration{State: "Succeeded", TotalMeeting: 4, SucceededMeeting: 3, FailedMeeting: 1}, true, migration.ItemFailed, time.Time{}, "3 of 4 meetings migrated, 1 failed"},
		{"failed, Microsoft retries", at(3 * time.Hour), migration.MeetingMigration{State: "Failed", RetryCount: 2}, true, migration.ItemPending, at(210 * time.Minute), "retries on its own"},
		{"failed, retries spent", at(5 * time.Hour), migration.MeetingMigration{State: "Failed", RetryCount: 9}, true, migration.ItemFailed, time.Time{}, "could not migrate"},
		{"failed after a day", at(25 * time.Hour), migration.MeetingMigration{State: "Failed", RetryCount: 3}, true, migration.ItemFailed, time.Time{}, "could not migrate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := migration.DecideMeetings(moved, tt.now, tt.mm, tt.found)
			require.Equal(t, tt.state, got.State)
			require.Contains(t, got.Says, tt.says)
			if tt.checkAt.IsZero() {
				require.True(t, got.State.Final(), "a final item is not looked at again")
			} else {
				require.Equal(t, tt.checkAt, got.CheckAt)
			}
			if got.State == migration.ItemFailed || got.State == migration.ItemPerson {
				require.Contains(t, got.Fix, "Start-CsExMeetingMigration", "a failure says what to do")
			}
		})
	}
}

func TestExplainCompletion(t *testing.T) {
	t.Parallel()
	moved := migration.Explanation{Summary: "Moved online today.", Expect: "Teams.", Next: "Nothing to do."}
	item := func(state migration.ItemState, says, fix string) migration.CompletionItem {
		return migration.CompletionItem{Kind: migration.ItemMeetings, State: state, Says: says, Fix: fix}
	}
	tests := []struct {
		name          string
		items         []migration.CompletionItem
		summary, next string
	}{
		{"none", nil, "Moved online today.", "Nothing to do."},
		{"pending", []migration.CompletionItem{item(migration.ItemPending, "Microsoft is migrating the user's meetings.", "")},
			"Moved online today. Still to come after the move: meetings migrated to Teams.",
			"Nothing to do yet: Microsoft is migrating the user's meetings. cutover follows it, and says here when it is done or needs someone."},
		{"failed", []migration.CompletionItem{item(migration.ItemFailed, "Microsoft could not migrate the user's meetings.", "A migration lead triggers it again.")},
			"Moved online today. Needs someone after the move: meetings migrated to Teams.",
			"Microsoft could not migrate the user's meetings. A migration lead triggers it again."},
		{"done", []migration.CompletionItem{item(migration.ItemDone, "Meetings migrated to Teams (3).", "")},
			"Moved online today. Done after the move too: meetings migrated to Teams.", "Nothing to do."},
		{"calling waits for the SBC's routing", []migration.CompletionItem{item(migration.ItemDone, "Meetings migrated to Teams (3).", ""),
			{Kind: migration.ItemVoice, State: migration.ItemPerson, WaitsFor: migration.WaitsForRouting,
				Says: "Teams is ready for the user's calls; their incoming calls reach Teams once the SBC sends them to Direct Routing, which a migration lead confirms for the wave.",
				Fix:  "A migration lead confirms on the wave's page (Confirm SBC routing)."}},
			"Moved online today. Needs someone after the move: Enterprise Voice and number in Teams.",
			"Teams is ready for the user's calls; their incoming calls reach Teams once the SBC sends them to Direct Routing, which a migration lead confirms for the wave. A migration lead confirms on the wave's page (Confirm SBC routing)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := migration.ExplainCompletion(moved, tt.items)
			require.Equal(t, tt.summary, got.Summary)
			require.Equal(t, tt.next, got.Next)
			if migration.CompletionOf(tt.items) == migration.CompletionNeeds && tt.items[len(tt.items)-1].Kind == migration.ItemVoice {
				require.Equal(t, moved.Expect+" Until their calling in Teams is complete, calls to their number may not reach them in Teams.", got.Expect)
			} else {
				require.Equal(t, moved.Expect, got.Expect)
			}
		})
	}
}

func TestDecideVoice(t *testing.T) {
	t.Parallel()
	moved := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return moved.Add(d) }
	const line = "tel:+14255550100;ext=100"
	ready := migration.TeamsVoice{EnterpriseVoice: true, Numbers: []string{"+14255550100"}}
	tests := []struct {
		name     string
		now      time.Time
		v        migration.TeamsVoice
		found    bool
		moving   bool // the wave moves the number online, not done yet
		routed   bool // a lead confirmed the SBC's routing
		state    migration.ItemState
		says     string
		fix      string
		waitsFor migration.WaitsFor
	}{
		{"Graph does not find the user yet", at(time.Minute), migration.TeamsVoice{}, false, false, true, migration.ItemPending, "does not find the user yet", "", ""},
		{"Graph never found the user", at(25 * time.Hour), migration.TeamsVoice{}, false, false, true, migration.ItemPerson, "a day after the move", "Entra ID has the user", ""},
		{"Enterprise Voice off online", at(time.Minute), migration.TeamsVoice{Numbers: []string{"+14255550100"}}, true, false, true, migration.ItemPerson, "without Enterprise Voice", "-EnterpriseVoiceEnabled $true", ""},
		{"number not synchronised yet", at(time.Minute), migration.TeamsVoice{EnterpriseVoice: true}, true, false, true, migration.ItemPending, "+14255550100 is not shown there yet", "", ""},
		{"number never shown", at(25 * time.Hour), migration.TeamsVoice{EnterpriseVoice: true, Numbers: []string{"+14255550199"}}, true, false, true, migration.ItemPerson, "does not show the user's number", "NumberSource OnPremises", ""},
		{"number being moved online, for days", at(72 * time.Hour), migration.TeamsVoice{EnterpriseVoice: true}, true, true, false, migration.ItemPending, "being moved to online management", "", ""},
		{"number to be moved online, Enterprise Voice off until it is assigned", at(time.Minute), migration.TeamsVoice{Numbers: []string{"+14255550100"}}, true, true, false, migration.ItemPending, "being moved to online management", "", ""},
		{"ready, the SBC's routing not confirmed", at(time.Minute), ready, true, false, false, migration.ItemPerson, "which a migration lead confirms", "Confirm SBC routing", migration.WaitsForRouting},
		{"calling in Teams", at(time.Minute), ready, true, false, true, migration.ItemDone, "with the user's number +14255550100", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := migration.DefaultVoiceTiming.Decide(migration.VoiceLook{MovedAt: moved, Now: tt.now, LineURI: line, Teams: tt.v, Found: tt.found,
				NumberMoving: tt.moving, RoutingConfirmed: tt.routed})
			require.Equal(t, tt.state, got.State)
			require.Contains(t, got.Says, tt.says)
			require.Equal(t, tt.waitsFor, got.WaitsFor)
			if tt.fix != "" {
				require.Contains(t, got.Fix, tt.fix)
			}
			if got.State == migration.ItemPending {
				require.Equal(t, tt.now.Add(migration.DefaultVoiceTiming.Poll), got.CheckAt)
			}
		})
	}
	require.Equal(t, migration.ItemPerson, migration.VoiceBypassed.State)
}

// TestDecideNumber: each state of a number's move to online management,
// and that cutover acts only when what Microsoft shows calls for it.
func TestDecideNumber(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	const line, user = "tel:+14255550100", "0b5a-user"
	onPrem := migration.NumberAssignment{TelephoneNumber: "+14255550100", NumberSource: migration.NumberSourceOnPremises, NumberType: "directRouting", AssignmentTargetID: user}
	online := onPrem
	online.NumberSource = migration.NumberSourceOnline
	other := online
	other.AssignmentTargetID = "someone-else"
	look := func(f func(*migration.NumberLook)) migration.NumberLook {
		l := migration.NumberLook{Now: now, LineURI: line, OnPremLineURI: line, UserID: user, Assignment: onPrem, Assigned: true,
			Approved: true, WindowOpen: true}
		f(&l)
		return l
	}
	tests := []struct {
		name     string
		look     migration.NumberLook
		state    migration.ItemState
		action   migration.NumberAction
		says     string
		waitsFor migration.WaitsFor
	}{
		{"no number on premises", look(func(l *migration.NumberLook) { l.LineURI, l.OnPremLineURI, l.Assigned = "", "", false }), migration.ItemDone, "", "no number to move", ""},
		{"not approved: nothing is cleared", look(func(l *migration.NumberLook) { l.Approved = false }), migration.ItemPerson, "", "waits for a migration lead's approval", migration.WaitsForApproval},
		{"approved, window closed: nothing is cleared", look(func(l *migration.NumberLook) { l.WindowOpen, l.NextOpen = false, now.Add(3*time.Hour) }), migration.ItemPending, "", "next window", ""},
		{"approved, in the window: clear", look(func(*migration.NumberLook) {}), migration.ItemPending, migration.NumberClear, "clears the number", ""},
		{"cleared, not synchronised yet: wait", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.ClearedAt = "", now.Add(-10*time.Minute) }), migration.ItemPending, "", "until the next directory synchronisation", ""},
		{"cleared, answer lost, window closed since: wait, do not clear again", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.WindowOpen = "", false }), migration.ItemPending, "", "until the next directory synchronisation", ""},
		{"cleared hours ago, still synchronised", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.ClearedAt = "", now.Add(-4*time.Hour) }), migration.ItemPerson, "", "still shows it synchronised", ""},
		{"synchronised away: assign, even outside the window", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.Assigned, l.WindowOpen = "", false, false }), migration.ItemPending, migration.NumberAssign, "assigns the number", ""},
		{"assigned online: done", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.Assignment = "", online }), migration.ItemDone, "", "managed online", ""},
		{"assigned to someone else", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.Assignment = "", other }), migration.ItemPerson, "", "someone else", ""},
		{"another number on premises now", look(func(l *migration.NumberLook) { l.OnPremLineURI = "tel:+14255550199" }), migration.ItemPerson, "", "is now +14255550199", ""},
		{"cleared by someone else, not approved: nothing is assigned", look(func(l *migration.NumberLook) { l.OnPremLineURI, l.Assigned, l.Approved = "", false, false }),
			migration.ItemPerson, "", "waits for a migration lead's approval", migration.WaitsForApproval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, action := migration.DefaultNumberTiming.Decide(tt.look)
			require.Equal(t, tt.state, got.State, got.Says)
			require.Equal(t, tt.action, action)
			require.Contains(t, got.Says, tt.says)
			require.Equal(t, tt.waitsFor, got.WaitsFor)
			if got.State == migration.ItemPending {
				require.False(t, got.CheckAt.IsZero())
			}
		})
	}
}

// TestCompletionSentence: a wave's completion in a sentence says how many
// of those who need someone wait on a lead, and for what.
func TestCompletionSentence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sum  migration.CompletionSum
		says string
	}{
		{"none", migration.CompletionSum{}, ""},
		{"no lead awaited", migration.CompletionSum{Users: 3, Done: 1, Pending: 1, Needs: 1}, "After the move: 1 done, 1 pending, 1 needing someone."},
		{"the routing and the approval awaited", migration.CompletionSum{Users: 9, Done: 1, Needs: 8, WaitRouting: 5, WaitApproval: 2},
			"After the move: 1 done, 0 pending, 8 needing someone (5 wait for a lead to confirm the SBC's routing; 2 for a lead to approve their number's move)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.says, tt.sum.Sentence())
		})
	}
}
