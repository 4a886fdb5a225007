package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs"
)

// throughput: moves per second with a shell that answers at once, against
// River working no-op jobs with the same workers.
func (b *bencher) throughput(ctx context.Context, sz Sizes) (Figure, error) {
	const workers = 50
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	var mu sync.Mutex
	worked := 0
	client, err := riverClient(pool, workers, func() { mu.Lock(); worked++; mu.Unlock() })
	if err != nil {
		done()
		return Figure{}, err
	}
	b.p.startPhase("setup: River inserting %d no-op jobs", sz.BaselineJobs)
	params := make([]river.InsertManyParams, sz.BaselineJobs)
	for i := range params {
		params[i] = river.InsertManyParams{Args: noopArgs{N: i}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMoves}}
	}
	if _, err := client.InsertManyFast(ctx, params); err != nil {
		done()
		return Figure{}, err
	}
	b.p.startPhase("baseline: River working %d no-op jobs, %d workers", sz.BaselineJobs, workers)
	base, err := timed(func() error {
		if err := client.Start(ctx); err != nil {
			return err
		}
		return waitFor(ctx, 10*time.Millisecond, func() (bool, error) {
			mu.Lock()
			w := worked
			mu.Unlock()
			b.p.count(w, sz.BaselineJobs, "jobs worked")
			return w >= sz.BaselineJobs, nil
		})
	})
	b.p.endPhase()
	_ = client.Stop(context.WithoutCancel(ctx))
	done()
	if err != nil {
		return Figure{}, err
	}
	baseRate := float64(sz.BaselineJobs) / base.Seconds()

	rate, err := b.waveRate(ctx, fmt.Sprintf("cutover: a wave of %d users, instant shell, %d workers", sz.Moves, workers),
		sz.Moves, workers, workers, sim.ShellConfig{Mix: sim.Mix{}})
	if err != nil {
		return Figure{}, err
	}
	floor, err := b.movesFloor(ctx, sz.Moves, workers)
	if err != nil {
		return Figure{}, err
	}
	ratio := rate.perSecond / baseRate
	return Figure{Name: fmt.Sprintf("moves/s, %d users, instant shell", sz.Moves), Baseline: fmt.Sprintf("River, %d no-op jobs", sz.BaselineJobs),
		Base: baseRate, Value: rate.perSecond, Unit: "/s", Ratio: ratio, Goal: "≥ 0.5×", Met: ratio >= 0.5,
		Notes: fmt.Sprintf("%d workers each; a move is a slot taken with the start of its pre-flight, its change to moving with the rollback record (on disk before the call), 2 Get-CsUser and a Move-CsUser, then its check and outcome written in one round trip, with the read the wave's review needs after their commit; 4 states and their timeline events in all. "+
			"Floor: the same writes by a minimal pgx program on cutover's schema (River jobs, %d workers; per move a slot of the cap with the pre-flight's change, the change to moving with the rollback record, on disk, then verifying, moved and the slot's release, on disk, each change with its event; nothing read, checked or reviewed): "+
			"%s/s, %.3f× River's; cutover %.2f× the floor",
			workers, workers, number(floor), floor/baseRate, rate.perSecond/floor)}, nil
}
