package app

import (
	"slices"

	"github.com/cutover/cutover/internal/migration"
)

// A lead's actions on a wave, as the pages name them (each is the API route
// /api/v1/waves/{id}/<action>, and the method of Service beside it).
const (
	ActionPause             = "pause"              // WavePause
	ActionResume            = "resume"             // WaveResume
	ActionCancel            = "cancel"             // WaveCancel
	ActionRollBack          = "rollback"           // WaveRollBack
	ActionRetryFailed       = "retry-failed"       // WaveRetryFailed
	ActionReschedule        = "reschedule"         // WaveReschedule
	ActionMembers           = "members"            // WaveMembers
	ActionOverrideReadiness = "override-readiness" // WaveOverrideReadiness
	ActionConfirmRouting    = "confirm-routing"    // WaveConfirmRouting
	ActionApproveNumbers    = "approve-numbers"    // WaveApproveNumbers
)

// WaveActions are a lead's actions on a wave, in the order the pages show
// them.
var WaveActions = []string{ActionPause, ActionResume, ActionCancel, ActionRetryFailed, ActionRollBack, ActionOverrideReadiness, ActionReschedule, ActionMembers,
	ActionApproveNumbers, ActionConfirmRouting}

// offered lists the actions the wave offers now.
func (v WaveView) offered() []string {
	out := []string{}
	for _, a := range WaveActions {
		if v.Offers(a) {
			out = append(out, a)
		}
	}
	return out
}

// resumes are the changes a lead's resume makes, by the wave's state
// (WaveResume's switch).
var resumes = []migration.WaveChange{migration.WaveResume, migration.WaveResumeScheduled, migration.WaveResumeHalted, migration.WaveUnblock}

// Offers reports whether the wave, as it is now, offers a lead the action:
// the use case would not refuse it for the wave's state or its users. The
// pages show a wave's buttons by it, so that no button is one the API
// refuses whatever the lead does, and none the API takes is missing.
func (v WaveView) Offers(action string) bool {
	s := v.State
	c := v.Progress.Counts
	switch action {
	case ActionPause:
		return migration.WavePause.Starts(s)
	case ActionResume:
		return slices.ContainsFunc(resumes, func(c migration.WaveChange) bool { return c.Starts(s) })
	case ActionCancel:
		return migration.WaveCancel.Starts(s)
	case ActionRollBack:
		return migration.WaveRollBack.Starts(s) && c[migration.MoveStateMoved]+c[migration.MoveStateRollbackFailed] > 0 && unended(c) == 0
	case ActionRetryFailed:
		// Failed users a later move of theirs in the group (a retry wave)
		// stands in for are no longer this wave's to retry.
		return c[migration.MoveStateFailed]-v.Progress.Superseded[migration.OutcomeFailed] > 0
	case ActionReschedule, ActionMembers:
		return v.Unstarted()
	case ActionOverrideReadiness:
		return v.HeldByReadiness()
	case ActionConfirmRouting:
		// Offered once the wave has moved Enterprise Voice users, whom it
		// concerns; the use case takes it earlier too (a lead who
		// confirms ahead, from the API or the command line).
		return v.RoutingConfirmedAt == nil && v.Completion.Voice > 0
	case ActionApproveNumbers:
		// Whatever the wave's state: a cancelled wave's moved users wait
		// on it too.
		return v.NumberPlan.Or() == migration.NumbersOnline && v.NumbersApprovedAt == nil
	}
	return false
}

// unended counts the moves queued, waiting to retry or in flight: a wave
// with any cannot be rolled back yet.
func unended(counts map[migration.MoveState]int) int {
	n := 0
	for st, k := range counts {
		if st.InFlight() || st == migration.MoveStateQueued || st == migration.MoveStateRetrying {
			n += k
		}
	}
	return n
}
