package app

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// PlanRequest is a plan of a group, whichever front end read it: either explicit waves, or the shorthand with
// the attempts and concurrency of every wave it makes. Its controls (failure
// threshold, rollback on halt, maintenance windows) apply to every wave that
// sets none of its own.
type PlanRequest struct {
	Waves       []WaveRequest `json:"waves"`
	Shorthand   string        `json:"shorthand"`
	MaxAttempts int           `json:"max_attempts"`
	Concurrency int           `json:"concurrency"`
	// Preview answers the waves the plan would make, and keeps nothing.
	Preview bool `json:"preview"`
	// StartTimeZone is the time zone (IANA) of the start times written
	// without one ("at 2026-12-07 22:00"). Defaults to UTC.
	StartTimeZone string `json:"start_time_zone"`
	migration.Controls
}

// WaveRequest is one wave of a plan given wave by wave.
type WaveRequest struct {
	Name        string `json:"name"`
	Size        int    `json:"size"`
	StartAt     string `json:"start_at"`
	MaxAttempts int    `json:"max_attempts"`
	Concurrency int    `json:"concurrency"`
	migration.Controls
}

// Specs reads a plan request into the function that makes its waves
// once the number of users left to plan is known; start times without a
// zone are read in StartTimeZone, "now" is now.
func (req PlanRequest) Specs(now time.Time) (func(unplanned, next int) ([]migration.WaveSpec, error), error) {
	loc := time.UTC
	if req.StartTimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(req.StartTimeZone); err != nil || req.StartTimeZone == "Local" {
			return nil, migration.Invalid(migration.CodeInvalidPlan, "start_time_zone", "%q is not a time zone like Europe/London or UTC", req.StartTimeZone)
		}
	}
	switch {
	case req.Shorthand != "" && len(req.Waves) > 0:
		return nil, migration.Invalid(migration.CodeInvalidPlan, "waves", "give either waves or shorthand, not both")
	case req.Shorthand != "":
		sh, err := migration.ParseShorthandIn(req.Shorthand, now, loc)
		if err != nil {
			return nil, err
		}
		if req.MaxAttempts < 0 || req.MaxAttempts > migration.MaxMaxAttempts {
			return nil, migration.Invalid(migration.CodeInvalidPlan, "max_attempts", "must be between 1 and %d (got %d)", migration.MaxMaxAttempts, req.MaxAttempts)
		}
		if req.Concurrency < 0 || req.Concurrency > migration.MaxConcurrency {
			return nil, migration.Invalid(migration.CodeInvalidPlan, "concurrency", "must be between 1 and %d (got %d)", migration.MaxConcurrency, req.Concurrency)
		}
		return func(unplanned, next int) ([]migration.WaveSpec, error) {
			waves, err := sh.Waves(unplanned, next, req.MaxAttempts, req.Concurrency)
			if err != nil {
				return nil, err
			}
			for i := range waves {
				waves[i].Controls = req.Controls
			}
			return migration.CheckWaves(waves, unplanned, next)
		}, nil
	case len(req.Waves) > 0:
		if req.MaxAttempts != 0 || req.Concurrency != 0 {
			return nil, migration.Invalid(migration.CodeInvalidPlan, "max_attempts", "with explicit waves, set max_attempts and concurrency on each wave")
		}
		specs := make([]migration.WaveSpec, len(req.Waves))
		for i, w := range req.Waves {
			specs[i] = migration.WaveSpec{Name: w.Name, Size: w.Size, MaxAttempts: w.MaxAttempts, Concurrency: w.Concurrency, Controls: w.Controls}
			if w.Controls.IsZero() {
				specs[i].Controls = req.Controls
			}
			if w.StartAt == "now" {
				specs[i].StartAt = now
			} else if w.StartAt != "" {
				t, ok := migration.ParseTimeIn(w.StartAt, loc)
				if !ok {
					return nil, migration.Invalid(migration.CodeInvalidPlan, fmt.Sprintf("waves[%d].start_at", i), "%q is not an RFC 3339 time like 2026-11-23T22:00:00Z (or \"now\", or 2026-11-23 22:00 in start_time_zone)", w.StartAt)
				}
				specs[i].StartAt = t
			}
		}
		return func(unplanned, next int) ([]migration.WaveSpec, error) {
			return migration.CheckWaves(specs, unplanned, next)
		}, nil
	}
	return nil, migration.Invalid(migration.CodeInvalidPlan, "waves", "the plan needs waves ([{size, start_at, max_attempts, concurrency}]) or a shorthand (\"canary 10, then waves of 50 every 1h, starting at 2026-11-23T22:00:00Z\")")
}

// Said is the plan as the lead wrote it, kept with the group: its sentence
// (the shorthand, or the waves in words), its settings in words, and the
// request as it came.
func (req PlanRequest) Said() store.PlanSaid {
	said := store.PlanSaid{Sentence: req.Shorthand}
	var settings []string
	if req.Shorthand == "" {
		var waves []string
		for _, w := range req.Waves {
			waves = append(waves, fmt.Sprintf("%s (%d users) starting %s", cmp.Or(w.Name, "a wave"), w.Size, cmp.Or(w.StartAt, "now")))
		}
		said.Sentence = strings.Join(waves, "; ")
	} else {
		if req.MaxAttempts > 0 {
			settings = append(settings, fmt.Sprintf("%d attempts per user", req.MaxAttempts))
		}
		if req.Concurrency > 0 {
			settings = append(settings, fmt.Sprintf("%d moves at once per wave", req.Concurrency))
		}
	}
	if c := req.Controls.Words(); c != "" {
		settings = append(settings, c)
	}
	said.Settings = strings.Join(settings, "; ")
	req.Preview = false
	said.Request, _ = json.Marshal(req)
	return said
}

// PlanGroup plans the group's members not yet in a wave as req says (its
// start times read at now), keeps the plan as the lead wrote it, and
// schedules each wave's start (PlanSaid).
func (s *Service) PlanGroup(ctx context.Context, a Actor, groupID int64, req PlanRequest, now time.Time) ([]migration.Wave, error) {
	plan, err := req.Specs(now)
	if err != nil {
		return nil, err
	}
	return s.PlanSaid(ctx, a, groupID, plan, req.Said())
}

// PlanGroupPreview answers the waves PlanGroup would make, and when they
// would end at the pace of the last week's moves; it keeps nothing.
func (s *Service) PlanGroupPreview(ctx context.Context, groupID int64, req PlanRequest, now time.Time) ([]migration.Wave, PlanEnd, error) {
	plan, err := req.Specs(now)
	if err != nil {
		return nil, PlanEnd{}, err
	}
	waves, err := s.PlanPreview(ctx, groupID, plan)
	if err != nil {
		return nil, PlanEnd{}, err
	}
	end, err := s.PlanEnds(ctx, waves)
	return waves, end, err
}
