package migration

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReviewWave states what a move's end means for its wave, case by case:
// the adaptive limit, the threshold, the rollback on halt, the completion.
func TestReviewWave(t *testing.T) {
	t.Parallel()
	wave := func(state WaveState, change func(*Wave)) Wave {
		w := Wave{ID: 1, Name: "wave 1", State: state, Concurrency: 10, ConcurrencyLimit: 10}
		if change != nil {
			change(&w)
		}
		return w
	}
	lowered := func(w *Wave) { w.ConcurrencyLimit, w.LimitSuccesses = 4, 2 }
	threshold := func(w *Wave) { w.Threshold = Threshold{Count: 3, MinSample: 5} }
	rollBack := func(w *Wave) { threshold(w); w.RollbackOnHalt = true }
	moved := MoveEnding{Counted: true}
	failed := MoveEnding{Counted: true, Failed: true}
	throttled := MoveEnding{Counted: true, Failed: true, Overload: true}
	tests := []struct {
		name string
		f    WaveFacts
		end  MoveEnding
		want WaveReview
	}{
		{name: "a move ends while others run: nothing", f: WaveFacts{Wave: wave(WaveStateRunning, nil), OtherActive: true}, end: moved},
		{name: "the last move ends: the wave completes", f: WaveFacts{Wave: wave(WaveStateRunning, nil)}, end: moved, want: WaveReview{Complete: true}},
		{name: "the last move fails: the wave completes", f: WaveFacts{Wave: wave(WaveStateRunning, nil)}, end: failed, want: WaveReview{Complete: true}},
		{name: "a success under a lowered limit counts toward raising it",
			f: WaveFacts{Wave: wave(WaveStateRunning, lowered), OtherActive: true}, end: moved,
			want: WaveReview{CountSuccess: true, Limit: 4, Successes: 3}},
		{name: "the success that completes a limit's worth raises it",
			f: WaveFacts{Wave: wave(WaveStateRunning, func(w *Wave) { w.ConcurrencyLimit, w.LimitSuccesses = 4, 3 }), OtherActive: true}, end: moved,
			want: WaveReview{CountSuccess: true, Limit: 5, Successes: 0, LimitRaised: true}},
		{name: "a failure that is not an overload counts toward the limit too",
			f: WaveFacts{Wave: wave(WaveStateRunning, lowered), OtherActive: true}, end: failed,
			want: WaveReview{CountSuccess: true, Limit: 4, Successes: 3}},
		{name: "an overload never counts toward the limit",
			f: WaveFacts{Wave: wave(WaveStateRunning, lowered), OtherActive: true}, end: throttled},
		{name: "a review without a move's end counts nothing toward the limit",
			f: WaveFacts{Wave: wave(WaveStateRunning, lowered), OtherActive: true}, end: Recount},
		{name: "a wave at its concurrency writes nothing for a success",
			f: WaveFacts{Wave: wave(WaveStateRunning, nil), OtherActive: true}, end: moved},
		{name: "a paused wave counts toward its limit and does not complete",
			f: WaveFacts{Wave: wave(WaveStatePaused, lowered)}, end: moved,
			want: WaveReview{CountSuccess: true, Limit: 4, Successes: 3}},
		{name: "a paused wave's last move: nothing until it is resumed", f: WaveFacts{Wave: wave(WaveStatePaused, nil)}, end: moved},
		{name: "failures below the threshold: nothing",
			f: WaveFacts{Wave: wave(WaveStateRunning, threshold), OtherActive: true, Counted: true, Failed: 2, Ended: 6, Started: 8}, end: failed},
		{name: "failures crossing the threshold halt the wave",
			f: WaveFacts{Wave: wave(WaveStateRunning, threshold), OtherActive: true, Counted: true, Failed: 3, Ended: 6, Started: 8}, end: failed,
			want: WaveReview{Halt: true, HaltReason: "3 permanent failures had reached the threshold of 3"}},
		{name: "the last move's failure crossing the threshold halts rather than completes",
			f: WaveFacts{Wave: wave(WaveStateRunning, threshold), Counted: true, Failed: 3, Ended: 8, Started: 8}, end: failed,
			want: WaveReview{Halt: true, HaltReason: "3 permanent failures had reached the threshold of 3"}},
		{name: "failures before the minimum sample: nothing",
			f: WaveFacts{Wave: wave(WaveStateRunning, threshold), OtherActive: true, Counted: true, Failed: 3, Ended: 4, Started: 8}, end: failed},
		{name: "a success reaching the minimum sample halts a wave already over its threshold",
			f: WaveFacts{Wave: wave(WaveStateRunning, threshold), OtherActive: true, Counted: true, Failed: 3, Ended: 5, Started: 8}, end: moved,
			want: WaveReview{Halt: true, HaltReason: "3 permanent failures had reached the threshold of 3"}},
		{name: "counts not read: the threshold is not judged",
			f: WaveFacts{Wave: wave(WaveStateRunning, threshold), OtherActive: true, Failed: 9, Ended: 9, Started: 9}, end: moved},
		{name: "a halt that rolls back what it moved",
			f: WaveFacts{Wave: wave(WaveStateRunning, rollBack), OtherActive: true, Counted: true, Failed: 3, Ended: 6, Started: 8}, end: failed,
			want: WaveReview{Halt: true, HaltReason: "3 permanent failures had reached the threshold of 3", RollBack: true}},
		{name: "a halted wave that rolls back on halt rolls back the user just moved",
			f: WaveFacts{Wave: wave(WaveStateHalted, rollBack), OtherActive: true}, end: moved, want: WaveReview{RollBack: true}},
		{name: "a halted wave that does not roll back: nothing", f: WaveFacts{Wave: wave(WaveStateHalted, threshold)}, end: moved},
		{name: "a completed wave: nothing", f: WaveFacts{Wave: wave(WaveStateCompleted, lowered)}, end: moved},
		{name: "a cancelled wave: nothing", f: WaveFacts{Wave: wave(WaveStateCancelled, nil)}, end: failed},
		{name: "a wave rolling back: nothing (its rollbacks end it)", f: WaveFacts{Wave: wave(WaveStateRollingBack, nil)}, end: moved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ReviewWave(tt.f, tt.end)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want != WaveReview{}, got.Changes(), "Changes says whether the lock is worth taking")
		})
	}
}

// TestThresholdCountsNeeded: the counts are read where they can change the
// answer, and only there.
func TestThresholdCountsNeeded(t *testing.T) {
	t.Parallel()
	w := Wave{State: WaveStateRunning, Concurrency: 10, Controls: Controls{Threshold: Threshold{Percent: 10, MinSample: 20}}}
	paused, none := w, w
	paused.State = WaveStatePaused
	none.Threshold = Threshold{}
	moved, failed := MoveEnding{Counted: true}, MoveEnding{Counted: true, Failed: true}
	tests := []struct {
		name  string
		w     Wave
		end   MoveEnding
		ended int
		want  bool
	}{
		{name: "a failure, however many ended", w: w, end: failed, ended: 31, want: true},
		{name: "the sweep, however many ended", w: w, end: Recount, ended: 31, want: true},
		{name: "a success within the sample and the concurrency", w: w, end: moved, ended: 30, want: true},
		{name: "a success past them", w: w, end: moved, ended: 31, want: false},
		{name: "no threshold", w: none, end: failed, ended: 3, want: false},
		{name: "a paused wave", w: paused, end: failed, ended: 3, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, ThresholdCountsNeeded(tt.w, tt.end, tt.ended))
		})
	}
}

// TestHaltWords: the halt says why, what was cancelled and what is rolled back.
func TestHaltWords(t *testing.T) {
	t.Parallel()
	why := "3 permanent failures had reached the threshold of 3"
	require.Equal(t, "failure threshold crossed: when it halted, 3 permanent failures had reached the threshold of 3; the moves then in flight finished after, and are in the counts", HaltReason(why))
	require.Equal(t, "halted: 3 permanent failures had reached the threshold of 3; 7 moves not started were cancelled; moves in flight finish; the users it moved are rolled back", HaltEvent(why, 7, true))
	require.Equal(t, "halted: 3 permanent failures had reached the threshold of 3; 0 moves not started were cancelled; moves in flight finish", HaltEvent(why, 0, false))
}
