package migration

import "fmt"

// The review of a wave is what the end of one of its moves means for the
// wave: count toward raising its adaptive limit, halt it when its failures
// cross its threshold (and roll back what it moved, if it says so), or
// complete it when nothing of it is left to run. It is one pure rule,
// ReviewWave, from facts read in one statement (WaveFacts); the store reads
// the facts and applies what the rule says, and decides nothing. The same
// rule answers, from facts read without the wave's lock, whether the
// wave's lock is worth taking at all: while a wave of thousands runs, almost
// every move's end changes nothing.

// MoveEnding is how the move whose end a review follows ended. The sweep
// and a lead's action review a wave without a move's end: the zero value,
// with Recount set.
type MoveEnding struct {
	// Failed: the move failed for good, so the threshold's failures grew.
	Failed bool
	// Overload: it failed because the service pushed back (throttling, a
	// time-out), which never counts toward raising the adaptive limit.
	Overload bool
	// Counted: the move went through the wave's calls (not a review
	// without a move's end), so it counts toward raising the limit unless
	// it was an overload.
	Counted bool
}

// Recount is the review without a move's end (the periodic sweep, a lead
// resuming a wave, a wave that starts with nothing to move): nothing counts
// toward the limit, and the threshold is counted whatever the sample.
var Recount = MoveEnding{Failed: true}

// WaveFacts are what a wave's review reads, in one statement, after a move
// of it ended: the wave, whether another of its moves is still active, and
// the counts its failure threshold is judged on.
type WaveFacts struct {
	Wave Wave
	// OtherActive: another move of the wave is pending, queued, waiting
	// for a retry or in flight, so the wave cannot be complete. A move
	// that ended holding its slot does not count.
	OtherActive bool
	// Counted says the threshold's counts were read. They are read only
	// where they can change the answer (ThresholdCountsNeeded): a move that
	// did not fail changes neither the failures nor the moves started, so
	// once the sample is reached it cannot cross the threshold.
	Counted bool
	// The threshold's counts, of the moves started since it counts from
	// (Wave.ThresholdSince): failed for good, ended, started.
	Failed, Ended, Started int
}

// ThresholdSampleMargin is how many ended moves a wave's threshold is
// counted up to after a move that did not fail: its minimum sample, plus
// the wave's concurrency, since moves ending at once each count the others.
func ThresholdSampleMargin(w Wave) int { return w.Threshold.MinSample + w.Concurrency }

// ThresholdCountsNeeded says whether a review of w after end needs the
// threshold's counts, given ended moves so far (counted at most up to the
// margin and one): only a running wave under a threshold is judged on
// them, and a move that did not fail can cross it only while the minimum
// sample is being reached.
func ThresholdCountsNeeded(w Wave, end MoveEnding, endedUpToMargin int) bool {
	if w.State != WaveStateRunning || !w.Threshold.Set() {
		return false
	}
	return end.Failed || endedUpToMargin <= ThresholdSampleMargin(w)
}

// WaveReview is what a move's end means for its wave. The zero value
// changes nothing.
type WaveReview struct {
	// CountSuccess: the wave's adaptive limit and its count of good moves
	// toward the next step become Limit and Successes.
	CountSuccess     bool
	Limit, Successes int
	LimitRaised      bool // Limit is one more than the wave's
	Halt             bool
	HaltReason       string // the threshold crossed, in words
	Complete         bool   // no move of the wave is left to run
	RollBack         bool   // the users the halted wave moved are moved back
}

// Changes reports whether the review changes anything, that is, whether
// the wave's lock is worth taking.
func (r WaveReview) Changes() bool {
	return r.CountSuccess || r.Halt || r.Complete || r.RollBack
}

// ReviewWave is the rule: what the end of a move (end) means for its wave,
// from facts f. A running or paused wave counts a move that went through
// without an overload toward raising its adaptive limit (additive increase,
// LimitIncrease), unless it is at its concurrency already; a running wave
// whose counted failures cross its threshold halts, rolling back what it
// moved if it says so; a halted wave that rolls back on halt rolls back the
// user a move that was in flight at the halt has just moved; a running wave
// with no move left to run completes. A paused wave completes when it is
// resumed.
func ReviewWave(f WaveFacts, end MoveEnding) WaveReview {
	var r WaveReview
	w := f.Wave
	switch w.State {
	case WaveStateHalted:
		r.RollBack = w.RollbackOnHalt
		return r
	case WaveStateRunning, WaveStatePaused:
	default:
		return r
	}
	if end.Counted && !end.Overload && (w.ConcurrencyLimit < w.Concurrency || w.LimitSuccesses > 0) {
		r.CountSuccess = true
		r.Limit, r.Successes = LimitIncrease(w.ConcurrencyLimit, w.LimitSuccesses, w.Concurrency)
		r.LimitRaised = r.Limit > w.ConcurrencyLimit
	}
	if w.State != WaveStateRunning {
		return r
	}
	if f.Counted {
		if crossed, why := w.Threshold.Crossed(f.Failed, f.Ended, f.Started); crossed {
			r.Halt, r.HaltReason = true, why
			r.RollBack = w.RollbackOnHalt
			return r
		}
	}
	r.Complete = !f.OtherActive
	return r
}

// HaltReason is the reason a halted wave shows beside its state: the
// threshold crossed (why), said of the moment it halted, since the moves
// then in flight end after it and the wave's counts say how they ended.
func HaltReason(why string) string {
	return "failure threshold crossed: when it halted, " + why + "; the moves then in flight finished after, and are in the counts"
}

// HaltEvent is the event of a wave's halt: why, how many moves not started
// were cancelled, and whether the users it moved are rolled back.
func HaltEvent(why string, cancelled int, rollBack bool) string {
	msg := fmt.Sprintf("halted: %s; %d moves not started were cancelled; moves in flight finish", why, cancelled)
	if rollBack {
		msg += "; the users it moved are rolled back"
	}
	return msg
}
