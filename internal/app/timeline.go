package app

import (
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// TimelineEntry is a line of a wave's timeline as a person reads it: one
// event, or an episode of the adaptive limit on moves in flight (a run of
// its changes with nothing else between them) said in one line, with its
// changes behind it.
type TimelineEntry struct {
	At      time.Time
	Message string
	Actor   string
	// Changes are an episode's events, oldest first (none for one event).
	Changes []store.WaveEvent
}

// Timeline says a wave's events (oldest first) as a person reads them: a
// run of two or more changes of the adaptive limit is one line saying how
// many there were, until when, and the last.
func Timeline(events []store.WaveEvent) []TimelineEntry {
	limit := func(e store.WaveEvent) bool {
		return e.Kind == migration.WaveEventLimitLowered || e.Kind == migration.WaveEventLimitRaised
	}
	var out []TimelineEntry
	for i := 0; i < len(events); {
		j := i
		for j < len(events) && limit(events[j]) {
			j++
		}
		if j-i < 2 {
			e := events[i]
			out = append(out, TimelineEntry{At: e.At, Message: e.Message, Actor: e.Actor})
			i++
			continue
		}
		run := events[i:j]
		lowered := 0
		for _, e := range run {
			if e.Kind == migration.WaveEventLimitLowered {
				lowered++
			}
		}
		last := run[len(run)-1]
		out = append(out, TimelineEntry{At: run[0].At, Actor: last.Actor, Changes: run,
			Message: fmt.Sprintf("the limit on moves in flight changed %d times (%d lowered, %d raised) until %s; the last: %s",
				len(run), lowered, len(run)-lowered, last.At.UTC().Format("15:04:05 UTC"), last.Message)})
		i = j
	}
	return out
}
