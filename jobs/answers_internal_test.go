package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// TestSideAnswersSince: a call that did not answer is the user's own only
// if the side answered a call sent after it was made (by answerMargin at
// least: one sent in the same instant may have beaten the side's stop). An answer to a call
// sent earlier (a side that stops still finishes what it had begun) proves
// nothing; a probe answers for the side when nothing else has.
func TestSideAnswersSince(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	tests := []struct {
		name  string
		heard []time.Duration // calls answered, sent at t0 + each
		probe error           // the probe's answer, if it is asked
		want  bool            // the side answers: the time-out is the user's own
	}{
		{name: "another call sent after ours answered", heard: []time.Duration{time.Second}, want: true},
		{name: "only a call sent in the same instant answered, and the probe does not", heard: []time.Duration{5 * time.Millisecond}, probe: context.DeadlineExceeded, want: false},
		{name: "only a call sent before ours answered, and the probe does not", heard: []time.Duration{-time.Second}, probe: context.DeadlineExceeded, want: false},
		{name: "only a call sent before ours answered, and the probe does", heard: []time.Duration{-time.Second}, want: true},
		{name: "nothing answered, the probe does not", probe: context.DeadlineExceeded, want: false},
		{name: "nothing answered, the probe does", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			probed := 0
			w := newSideWatch(migration.SideShell, "Get-CsHostingProvider", time.Second, func(context.Context) error {
				probed++
				return tt.probe
			})
			for _, d := range tt.heard {
				w.heard(t0.Add(d))
			}
			err := w.answersSince(context.Background(), t0.Add(answerMargin))
			require.Equal(t, tt.want, err == nil, "%v", err)
			if !tt.want {
				var u errUnanswered
				require.True(t, errors.As(err, &u), "the probe's error says it did not answer: %v", err)
			}
			require.Equal(t, len(tt.heard) > 0 && tt.heard[0] >= answerMargin, probed == 0, "probed only when no call sent later answered")
		})
	}
}
