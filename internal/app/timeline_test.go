package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

func TestTimeline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ev := func(s int, kind, msg string) store.WaveEvent {
		return store.WaveEvent{At: at.Add(time.Duration(s) * time.Second), Kind: kind, Message: msg, Actor: "worker"}
	}
	low, raise := migration.WaveEventLimitLowered, migration.WaveEventLimitRaised
	tests := []struct {
		name   string
		events []store.WaveEvent
		want   []string
	}{
		{"no episode", []store.WaveEvent{ev(0, "started", "started"), ev(1, low, "moves in flight limited to 5 (was 10): timeout"), ev(2, "completed", "completed")},
			[]string{"started", "moves in flight limited to 5 (was 10): timeout", "completed"}},
		{"one episode", []store.WaveEvent{ev(0, "started", "started"), ev(1, low, "moves in flight limited to 5 (was 10): timeout"),
			ev(2, raise, "moves in flight limited to 6 (was 5)"), ev(3, low, "moves in flight limited to 3 (was 6): timeout"), ev(4, "completed", "completed")},
			[]string{"started", "the limit on moves in flight changed 3 times (2 lowered, 1 raised) until 10:00:03 UTC; the last: moves in flight limited to 3 (was 6): timeout", "completed"}},
		{"two episodes", []store.WaveEvent{ev(1, low, "a"), ev(2, low, "b"), ev(3, "paused", "paused"), ev(4, raise, "c"), ev(5, raise, "d")},
			[]string{"the limit on moves in flight changed 2 times (2 lowered, 0 raised) until 10:00:02 UTC; the last: b", "paused",
				"the limit on moves in flight changed 2 times (0 lowered, 2 raised) until 10:00:05 UTC; the last: d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			n := 0
			for _, e := range app.Timeline(tt.events) {
				got = append(got, e.Message)
				n += max(1, len(e.Changes))
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, len(tt.events), n, "every event is in a line or behind one")
		})
	}
}
