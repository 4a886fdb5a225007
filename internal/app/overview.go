package app

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Overview is the deployment as a whole, as a lead lands on it: every user
// once by where they stand, what waits for a person now, the next waves to
// start, and the moves' outcomes over time.
type Overview struct {
	// Progress counts every user of every group once.
	Progress migration.Progress `json:"progress"`
	// Groups are every group's view, newest first.
	Groups []GroupView `json:"groups"`
	// Holds are what stops every move now (a sign-in refused, Graph or the
	// shell not answering, no ready host).
	Holds []store.Hold `json:"holds"`
	// Attention is what waits for a person in each group.
	Attention []GroupAttention `json:"attention"`
	// Failures are the users whose move failed, by code across groups,
	// most first, each with the groups they are in.
	Failures []CodeFailures `json:"failures"`
	// Next are the waves to start next, soonest first (at most NextWaves).
	Next []NextWave `json:"next"`
	// History counts the moves ended per hour (per day, with Daily), from
	// the first to now.
	History []store.PeriodOutcomes `json:"history"`
	Daily   bool                   `json:"daily"`
}

// GroupAttention is what waits for a person in one group.
type GroupAttention struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	Attention
}

// CodeFailures counts the users whose move failed with one code, in each
// group.
type CodeFailures struct {
	migration.FailureCount
	Groups []GroupCount `json:"groups"`
}

// GroupCount is a count of users in one group.
type GroupCount struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	Users     int    `json:"users"`
}

// NextWave is a wave still to start, with its group.
type NextWave struct {
	WaveView
	GroupName string `json:"group_name"`
}

// NextWaves is how many of the next waves the overview shows.
const NextWaves = 5

// dailyAfter is how long a history runs before it is counted per day
// rather than per hour.
const dailyAfter = 72 * time.Hour

// Overview reads the deployment as a whole.
func (s *Service) Overview(ctx context.Context, now time.Time) (Overview, error) {
	q := s.q()
	var o Overview
	counts, err := q.DeploymentTally(ctx)
	if err != nil {
		return o, err
	}
	groups, err := q.GroupList(ctx)
	if err != nil {
		return o, err
	}
	var started, finished *time.Time
	byCode := map[migration.ErrorCode]*CodeFailures{}
	for _, g := range groups {
		v, err := s.GroupViewOf(ctx, g, now)
		if err != nil {
			return o, err
		}
		o.Groups = append(o.Groups, v)
		for _, a := range v.Attention {
			o.Attention = append(o.Attention, GroupAttention{GroupID: g.ID, GroupName: g.Name, Attention: a})
		}
		for _, f := range v.Failures {
			c := byCode[f.Code]
			if c == nil {
				c = &CodeFailures{FailureCount: migration.FailureCount{Failure: f.Failure}}
				byCode[f.Code] = c
			}
			c.Count += f.Count
			c.Groups = append(c.Groups, GroupCount{GroupID: g.ID, GroupName: g.Name, Users: f.Count})
		}
		for _, w := range v.Waves {
			if w.State == migration.WaveStateScheduled {
				o.Next = append(o.Next, NextWave{WaveView: w, GroupName: g.Name})
			}
		}
		if v.StartedAt != nil && (started == nil || v.StartedAt.Before(*started)) {
			started = v.StartedAt
		}
	}
	for _, c := range byCode {
		o.Failures = append(o.Failures, *c)
	}
	slices.SortFunc(o.Failures, func(a, b CodeFailures) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Code, b.Code)) })
	slices.SortFunc(o.Next, func(a, b NextWave) int { return a.StartAt.Compare(b.StartAt) })
	o.Next = o.Next[:min(len(o.Next), NextWaves)]
	o.Progress = migration.NewProgress(counts, started, finished, now)
	if o.Holds, err = q.Holds(ctx); err != nil {
		return o, err
	}
	o.History, o.Daily, err = q.OutcomesOverTime(ctx, now, dailyAfter)
	return o, err
}
