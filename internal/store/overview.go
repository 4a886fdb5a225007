package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// DeploymentTally counts every user of every group once, by the state of
// where they stand (migration.StateUnplanned for those in no wave).
func (q *Queries) DeploymentTally(ctx context.Context) (map[migration.MoveState]int, error) {
	rows, err := q.gen.DeploymentTally(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[migration.MoveState]int{}
	for _, r := range rows {
		counts[migration.MoveState(r.State)] += r.Users
	}
	return counts, nil
}

// PeriodOutcomes is migration.PeriodOutcomes: the store reads and writes it.
type PeriodOutcomes = migration.PeriodOutcomes

// OutcomesOverTime counts the moves that ended in each hour from the first
// period holding an outcome to the one holding until, each period once,
// empty ones too; in each day (daily is true) if that runs longer than
// hourlyUpTo.
func (q *Queries) OutcomesOverTime(ctx context.Context, until time.Time, hourlyUpTo time.Duration) (periods []PeriodOutcomes, daily bool, err error) {
	first, err := q.gen.FirstOutcome(ctx)
	if err != nil {
		return nil, false, err
	}
	unit, step := "hour", time.Hour
	if daily = until.Sub(first) > hourlyUpTo; daily {
		unit, step = "day", 24*time.Hour
	}
	start := first.UTC().Truncate(step)
	rows, err := q.gen.OutcomesOverTime(ctx, dbsqlc.OutcomesOverTimeParams{Unit: unit, Since: start})
	if err != nil {
		return nil, daily, err
	}
	var out []PeriodOutcomes
	for t := start; !t.After(until); t = t.Add(step) {
		out = append(out, PeriodOutcomes{Start: t})
	}
	for _, r := range rows {
		i := int(r.Period.UTC().Sub(start) / step)
		if i < 0 || i >= len(out) {
			continue
		}
		switch migration.MoveState(r.State) {
		case migration.MoveStateMoved:
			out[i].Moved += r.Moves
		case migration.MoveStateFailed:
			out[i].Failed += r.Moves
		case migration.MoveStateRolledBack:
			out[i].RolledBack += r.Moves
		}
	}
	return out, daily, nil
}
