package cli

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// TestOutcomeBar: a terminal's bar is split by outcome, always 30 marks
// wide, and a failure is never drawn as a move.
func TestOutcomeBar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tally migration.Tally
		want  string
	}{
		{"nothing yet", migration.Tally{migration.OutcomeScheduled: 20}, strings.Repeat("░", 30)},
		{"all moved", migration.Tally{migration.OutcomeMoved: 20}, strings.Repeat("█", 30)},
		{"the demo's canary", migration.Tally{migration.OutcomeMoved: 17, migration.OutcomeSkipped: 1, migration.OutcomeFailed: 2},
			strings.Repeat("█", 26) + "▓" + "xxx"},
		{"all failed", migration.Tally{migration.OutcomeFailed: 3}, strings.Repeat("x", 30)},
		{"one failure among many", migration.Tally{migration.OutcomeMoved: 999, migration.OutcomeFailed: 1}, strings.Repeat("█", 29) + "x"},
		{"half under way", migration.Tally{migration.OutcomeMoved: 5, migration.OutcomeInProgress: 5}, strings.Repeat("█", 15) + strings.Repeat("░", 15)},
		{"rolled back", migration.Tally{migration.OutcomeRolledBack: 2, migration.OutcomeMoved: 2}, strings.Repeat("█", 15) + strings.Repeat("r", 15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := outcomeBar(tt.tally)
			require.Equal(t, 30, utf8.RuneCountInString(got), got)
			require.Equal(t, tt.want, got)
		})
	}
}
