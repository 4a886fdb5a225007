package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
	"github.com/cutover/cutover/internal/store"
)

// MoveStateUnplanned counts, in a group's progress, members not yet in a wave.
const MoveStateUnplanned = migration.StateUnplanned

// WaveView is a wave with its progress.
type WaveView struct {
	migration.Wave
	Progress migration.Progress `json:"progress"`
	// NextWindowOpen is when moves may start again, for a wave outside
	// its maintenance windows.
	NextWindowOpen *time.Time `json:"next_window_open,omitempty"`
	// Actions are what a lead may do to the wave as it is now (Offers).
	Actions []string `json:"actions"`
	// Attention lists what about the wave waits for a person.
	Attention []Attention `json:"attention"`
	// Completion counts the wave's moved users by where what must still
	// happen after their move stands (migration.CompletionItem).
	Completion migration.CompletionSum `json:"completion"`
}

// GroupView is a pilot group with its waves, its progress and its failures
// by error code.
type GroupView struct {
	migration.Group
	StartedAt      *time.Time               `json:"started_at,omitempty"`
	FinishedAt     *time.Time               `json:"finished_at,omitempty"`
	Progress       migration.Progress       `json:"progress"`
	Waves          []WaveView               `json:"waves"`
	Failures       []migration.FailureCount `json:"failures"`
	IgnoredColumns []string                 `json:"ignored_columns,omitempty"`
	SkippedUsers   []readiness.Skipped      `json:"skipped_users,omitempty"`
	// Attention lists what about the group waits for a person.
	Attention []Attention `json:"attention"`
	// Elsewhere is how many members stand where another group's move put
	// them since (rolled back there, say): the progress counts them so.
	Elsewhere int `json:"elsewhere,omitempty"`
	// Import says, in the answer to an import, which users it found in
	// cutover's moves elsewhere and what it kept.
	Import *store.ImportReport `json:"import,omitempty"`
	// Plans are the plans the group was planned with, as the lead wrote
	// them, oldest first.
	Plans []store.Plan `json:"plans"`
	// Actions are what a lead may do to the group as a whole now: GroupPause,
	// GroupResume (each the route POST /api/v1/groups/{id}/<action>).
	Actions []string `json:"actions"`
}

// A lead's actions on a whole group.
const (
	GroupPause  = "pause"  // Service.GroupPause
	GroupResume = "resume" // Service.GroupResume
)

// groupOffers lists what a lead may do to the group as a whole now: what
// GroupPause and GroupResume would not refuse.
func groupOffers(waves []WaveView) []string {
	out := []string{}
	if slices.ContainsFunc(waves, func(w WaveView) bool { return migration.WavePause.Starts(w.State) }) {
		out = append(out, GroupPause)
	}
	if slices.ContainsFunc(waves, func(w WaveView) bool { return w.State == migration.WaveStatePaused }) {
		out = append(out, GroupResume)
	}
	return out
}

// Offers reports whether the group offers the action now.
func (v GroupView) Offers(action string) bool { return slices.Contains(v.Actions, action) }

// GroupStatus returns a group with its waves, progress and failures.
func (s *Service) GroupStatus(ctx context.Context, groupID int64, now time.Time) (GroupView, error) {
	q := s.q()
	g, err := q.GroupGet(ctx, groupID)
	if err != nil {
		return GroupView{}, err
	}
	return s.GroupViewOf(ctx, g, now)
}

// GroupViewOf returns group g with its waves, progress and failures.
func (s *Service) GroupViewOf(ctx context.Context, g migration.Group, now time.Time) (GroupView, error) {
	q := s.q()
	waves, err := q.WaveList(ctx, g.ID)
	if err != nil {
		return GroupView{}, err
	}
	views, tallies, err := s.waveViews(ctx, waves, now)
	if err != nil {
		return GroupView{}, err
	}
	failures, err := q.FailureCounts(ctx, g.ID, 0)
	if err != nil {
		return GroupView{}, err
	}
	v := GroupView{Group: g, Waves: views, Failures: make([]migration.FailureCount, 0, len(failures))}
	for _, f := range failures {
		v.Failures = append(v.Failures, migration.FailureCount{Failure: migration.FailureFor(f.Code), Count: f.Count})
	}
	inGroup, retried := store.GroupCounted(tallies)
	count, err := q.GroupCount(ctx, g, inGroup, retried)
	if err != nil {
		return GroupView{}, err
	}
	allDone := g.Unplanned == 0 && len(waves) > 0
	for _, w := range views {
		if w.StartedAt != nil && (v.StartedAt == nil || w.StartedAt.Before(*v.StartedAt)) {
			v.StartedAt = w.StartedAt
		}
		if !w.State.Done() {
			allDone = false
		} else if v.FinishedAt == nil || w.FinishedAt.After(*v.FinishedAt) {
			v.FinishedAt = w.FinishedAt
		}
	}
	if !allDone {
		v.FinishedAt = nil
	}
	v.Progress = migration.NewProgress(count.Counts, v.StartedAt, v.FinishedAt, now)
	v.Progress.Retried = count.Retried
	v.Elsewhere = count.Elsewhere
	v.Attention = groupAttention(v)
	v.Actions = groupOffers(views)
	if v.Plans, err = q.GroupPlans(ctx, g.ID); err != nil {
		return GroupView{}, err
	}
	if v.Plans == nil {
		v.Plans = []store.Plan{}
	}
	return v, nil
}

// WaveViews returns waves with their progress.
func (s *Service) WaveViews(ctx context.Context, waves []migration.Wave, now time.Time) ([]WaveView, error) {
	views, _, err := s.waveViews(ctx, waves, now)
	return views, err
}

// waveViews returns waves with their progress, and their tallies.
func (s *Service) waveViews(ctx context.Context, waves []migration.Wave, now time.Time) ([]WaveView, map[int64]store.WaveTally, error) {
	q := s.q()
	ids := make([]int64, len(waves))
	for i, w := range waves {
		ids[i] = w.ID
	}
	tallies, err := q.WaveTallies(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	completion, err := q.WaveCompletion(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	views := make([]WaveView, len(waves))
	for i, w := range waves {
		views[i] = WaveView{Wave: w, Progress: migration.NewProgress(tallies[w.ID].Counts, w.StartedAt, w.FinishedAt, now)}
		views[i].Progress.Retried = tallies[w.ID].Retried
		if sup := migration.TallyOf(tallies[w.ID].Superseded); len(sup) > 0 {
			views[i].Progress.Superseded = sup
			views[i].Progress.Says += fmt.Sprintf(" Of these, %s %s been moved on to a later wave of the group (a retry).", users(sup.Users()), hasHave(sup.Users()))
		}
		if w.State != migration.WaveStateRunning && w.FinishedAt == nil {
			views[i].Progress.EstimatedFinish = nil // no throughput while it does not run
		}
		if cal := w.Calendar(); !w.State.Done() && !cal.Always() {
			if next, ok := cal.NextOpen(now); ok && next.After(now) {
				views[i].NextWindowOpen = &next
			}
		}
		views[i].Completion = completion[w.ID].Said()
		views[i].Actions = views[i].offered()
		views[i].Attention = waveAttention(views[i])
	}
	return views, tallies, nil
}

// hasHave agrees with users(n).
func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

// WaveSpan is a wave on a timeline: from when it started (or is to start)
// to when it ended, or is expected to end.
type WaveSpan struct {
	WaveID     int64
	Name       string
	State      migration.WaveState
	Start, End time.Time
	// Estimated says that End is expected, not past: at the wave's pace
	// so far while it runs, or at the pace of the last week's moves before
	// it starts. Unknown says that nothing estimates it yet.
	Estimated, Unknown bool
	// Attention says that something about the wave waits for a person.
	Attention bool
}

// WaveSpans lays a group's waves on a timeline, in their order.
func (s *Service) WaveSpans(ctx context.Context, g GroupView, now time.Time) ([]WaveSpan, error) {
	var pace time.Duration
	for _, w := range g.Waves {
		if w.StartedAt == nil && !w.State.Done() {
			var err error
			if pace, _, err = s.q().MovePace(ctx); err != nil {
				return nil, err
			}
			break
		}
	}
	spans := make([]WaveSpan, 0, len(g.Waves))
	for _, w := range g.Waves {
		sp := WaveSpan{WaveID: w.ID, Name: w.Name, State: w.State, Start: w.StartAt, Attention: len(w.Attention) > 0}
		if w.StartedAt != nil {
			sp.Start = *w.StartedAt
		}
		switch {
		case w.FinishedAt != nil:
			sp.End = *w.FinishedAt
		case w.Progress.EstimatedFinish != nil && w.State == migration.WaveStateRunning:
			sp.End, sp.Estimated = *w.Progress.EstimatedFinish, true
		case w.StartedAt == nil && pace > 0:
			rounds := (w.Size + max(w.Concurrency, 1) - 1) / max(w.Concurrency, 1)
			sp.End, sp.Estimated = sp.Start.Add(time.Duration(rounds)*pace), true
		default:
			sp.End, sp.Unknown = maxTime(sp.Start, now), true
		}
		spans = append(spans, sp)
	}
	return spans, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
