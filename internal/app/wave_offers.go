package app

import (
	"slices"

	"github.com/cutover/cutover/internal/migration"
)

// A lead's actions on a wave, as the pages name them (each is the API route
// /api/v1/waves/{id}/<action>, and the method of Service beside it).
const (
	WavePause             = "pause"              // WavePause
	WaveResume            = "resume"             // WaveResume
	WaveCancel            = "cancel"             // WaveCancel
	WaveRollBack          = "rollback"           // WaveRollBack
	WaveRetryFailed       = "retry-failed"       // WaveRetryFailed
	WaveReschedule        = "reschedule"         // WaveReschedule
	WaveMembers           = "members"            // WaveMembers
	WaveOverrideReadiness = "override-readiness" // WaveOverrideReadiness
)

// WaveActions are a lead's actions on a wave, in the order the pages show
// them.
var WaveActions = []string{WavePause, WaveResume, WaveCancel, WaveRetryFailed, WaveRollBack, WaveOverrideReadiness, WaveReschedule, WaveMembers}

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
	case WavePause:
		return migration.WavePause.Starts(s)
	case WaveResume:
		return slices.ContainsFunc(resumes, func(c migration.WaveChange) bool { return c.Starts(s) })
	case WaveCancel:
		return migration.WaveCancel.Starts(s)
	case WaveRollBack:
		return migration.WaveRollBack.Starts(s) && c[migration.MoveStateMoved]+c[migration.MoveStateRollbackFailed] > 0 && unended(c) == 0
	case WaveRetryFailed:
		// Failed users a later move of theirs in the group (a retry wave)
		// stands in for are no longer this wave's to retry.
		return c[migration.MoveStateFailed]-v.Progress.Superseded[migration.OutcomeFailed] > 0
	case WaveReschedule, WaveMembers:
		return v.Unstarted()
	case WaveOverrideReadiness:
		return v.HeldByReadiness()
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
