package app

import (
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/migration"
)

// Attention is one thing about a wave or a group that waits for a person,
// in words: a page marks the wave or group by it, lists it first, and
// leads to the users it speaks of.
type Attention struct {
	// Kind names what it is, for a page to mark and filter by: halted,
	// blocked, held (waiting for hybrid readiness), nobody_moved,
	// failed, rollback_failed.
	Kind string `json:"kind"`
	// Says is the sentence a person reads.
	Says string `json:"says"`
	// Users is how many users it concerns (0: the wave or group itself).
	Users int `json:"users,omitempty"`
	// WaveID is the wave it is about (0: the group as a whole).
	WaveID int64 `json:"wave_id,omitempty"`
}

// The kinds of attention.
const (
	AttentionHalted = "halted"
	// AttentionCompletion: moved users with a completion item that failed
	// or was handed to a person.
	AttentionCompletion     = "completion"
	AttentionBlocked        = "blocked"
	AttentionHeld           = "held"
	AttentionNobodyMoved    = "nobody_moved"
	AttentionFailed         = "failed"
	AttentionRollbackFailed = "rollback_failed"
)

// waveAttention lists what about a wave waits for a person: a halt, a
// block, a wait for hybrid readiness, users whose move failed (and no
// later move in the group stands in for), rollbacks that failed, and a
// wave that ended having moved nobody.
func waveAttention(v WaveView) []Attention {
	out := []Attention{}
	switch {
	case v.State == migration.WaveStateHalted:
		out = append(out, Attention{Kind: AttentionHalted, Says: v.Name + " is halted: " + v.StateReason})
	case v.State == migration.WaveStateBlocked:
		out = append(out, Attention{Kind: AttentionBlocked, Says: v.Name + " is blocked: " + v.StateReason})
	case v.HeldByReadiness():
		out = append(out, Attention{Kind: AttentionHeld, Says: v.Name + " has not started: " + strings.TrimPrefix(v.StateReason, "not started: ")})
	}
	o, sup := v.Progress.Outcomes, v.Progress.Superseded
	if n := o[migration.OutcomeFailed] - sup[migration.OutcomeFailed]; n > 0 {
		out = append(out, Attention{Kind: AttentionFailed, Users: n, Says: fmt.Sprintf("%s: %s failed and %s a person", v.Name, users(n), waits(n))})
	}
	if n := o[migration.OutcomeRollbackFailed]; n > 0 {
		out = append(out, Attention{Kind: AttentionRollbackFailed, Users: n,
			Says: fmt.Sprintf("%s: the rollback of %s failed; they are still in Teams", v.Name, users(n))})
	}
	if n := v.Completion.Needs; n > 0 {
		says := fmt.Sprintf("%s: after the move, %s %s a person", v.Name, users(n), needNeeds(n))
		if w := v.Completion.Waiting(); w != "" {
			says += " (" + w + ")"
		}
		out = append(out, Attention{Kind: AttentionCompletion, Users: n, Says: says})
	}
	if v.State == migration.WaveStateCompleted && o.Users() > 0 && o[migration.OutcomeMoved] == 0 {
		out = append(out, Attention{Kind: AttentionNobodyMoved, Says: fmt.Sprintf("%s moved nobody: %s", v.Name, o.Words())})
	}
	for i := range out {
		out[i].WaveID = v.ID
	}
	return out
}

// groupAttention lists what about a group waits for a person: its waves'
// halts, blocks and waits, its members who failed or whose rollback failed
// (each once, where they stand now), and a group whose waves have all ended
// having moved nobody.
func groupAttention(g GroupView) []Attention {
	out := []Attention{}
	ended := len(g.Waves) > 0
	for _, w := range g.Waves {
		for _, a := range w.Attention {
			if a.Kind == AttentionHalted || a.Kind == AttentionBlocked || a.Kind == AttentionHeld {
				out = append(out, a)
			}
		}
		ended = ended && w.State.Done()
	}
	o := g.Progress.Outcomes
	if n := o[migration.OutcomeFailed]; n > 0 {
		out = append(out, Attention{Kind: AttentionFailed, Users: n, Says: fmt.Sprintf("%s failed and %s a person", users(n), waits(n))})
	}
	if n := o[migration.OutcomeRollbackFailed]; n > 0 {
		out = append(out, Attention{Kind: AttentionRollbackFailed, Users: n, Says: fmt.Sprintf("The rollback of %s failed; they are still in Teams", users(n))})
	}
	if ended && g.Unplanned == 0 && o.Users() > 0 && o[migration.OutcomeMoved] == 0 {
		out = append(out, Attention{Kind: AttentionNobodyMoved, Says: "Nobody in this group was moved: " + o.Words()})
	}
	return out
}

// users says "1 user" or "n users".
func users(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

// waits agrees with users(n).
func waits(n int) string {
	if n == 1 {
		return "waits for"
	}
	return "wait for"
}

// needNeeds agrees with users(n).
func needNeeds(n int) string {
	if n == 1 {
		return "needs"
	}
	return "need"
}
