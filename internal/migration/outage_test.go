package migration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHeldWithin: the time the deployment was held within a span counts
// each instant once, however many holds overlap, and only inside the span.
func TestHeldWithin(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	span := func(a, b int) Span { return Span{Since: at(a), Until: at(b)} }
	tests := []struct {
		name     string
		spans    []Span
		from, to int
		want     time.Duration
	}{
		{"no hold", nil, 0, 30, 0},
		{"one inside", []Span{span(5, 8)}, 0, 30, 3 * time.Minute},
		{"one before", []Span{span(-10, -5)}, 0, 30, 0},
		{"one across the start", []Span{span(-5, 5)}, 0, 30, 5 * time.Minute},
		{"one across the end", []Span{span(25, 40)}, 0, 30, 5 * time.Minute},
		{"two overlapping (shell and Graph)", []Span{span(5, 10), span(7, 12)}, 0, 30, 7 * time.Minute},
		{"one inside another", []Span{span(5, 20), span(8, 9)}, 0, 30, 15 * time.Minute},
		{"unsorted", []Span{span(20, 22), span(5, 6)}, 0, 30, 3 * time.Minute},
		{"covering the whole span", []Span{span(-1, 31)}, 0, 30, 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, HeldWithin(tt.spans, at(tt.from), at(tt.to)))
		})
	}
}

// TestTeamsWaited: the provisioning wait counts from Teams' first answer,
// less held and stranded time, never below zero.
func TestTeamsWaited(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		now            time.Duration
		held, stranded time.Duration
		want           time.Duration
	}{
		{"nothing held", 20 * time.Minute, 0, 0, 20 * time.Minute},
		{"an outage of 3 minutes", 20 * time.Minute, 3 * time.Minute, 0, 17 * time.Minute},
		{"stranded too", 20 * time.Minute, 3 * time.Minute, 10 * time.Second, 17*time.Minute - 10*time.Second},
		{"held throughout", 5 * time.Minute, 5 * time.Minute, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, TeamsWaited(since, since.Add(tt.now), tt.held, tt.stranded))
		})
	}
}

// TestShellUnanswered names each host once.
func TestShellUnanswered(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		hosts []string
		want  string
	}{
		{nil, "the Skype for Business management shell does not answer"},
		{[]string{"fe01"}, "the Skype for Business management shell on fe01 does not answer"},
		{[]string{"w2", "w1", "w2"}, "the Skype for Business management shell on w1 and w2 does not answer"},
		{[]string{"c", "a", "b"}, "the Skype for Business management shell on a, b and c does not answer"},
	} {
		require.Equal(t, tt.want, ShellUnanswered(tt.hosts...))
	}
}
