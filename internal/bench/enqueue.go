package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/cutover/cutover/jobs"
)

var sqlEnqueueJobsQueued = statement("enqueue_jobs_queued")

// enqueue: import, plan and queue a group of n users, against River
// inserting n jobs with InsertManyFast.
func (b *bencher) enqueue(ctx context.Context, sz Sizes) (Figure, error) {
	n := sz.Enqueue
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	b.p.startPhase("baseline: River InsertManyFast %d jobs", n)
	base, err := timed(func() error {
		client, err := riverClient(pool, 0, func() {})
		if err != nil {
			return err
		}
		params := make([]river.InsertManyParams, n)
		for i := range params {
			params[i] = river.InsertManyParams{Args: noopArgs{N: i}}
		}
		_, err = client.InsertManyFast(ctx, params)
		return err
	})
	b.p.endPhase()
	done()
	if err != nil {
		return Figure{}, err
	}
	floor, err := b.enqueueFloor(ctx, n)
	if err != nil {
		return Figure{}, err
	}
	pool, _, done, err = b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	defer done()
	srv, client, token, err := b.benchAPI(ctx, pool, nil, jobs.Config{Control: true, PollInterval: 20 * time.Millisecond})
	if err != nil {
		return Figure{}, err
	}
	defer srv.Close()
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	b.p.startPhase("cutover: import+plan+enqueue %d users", n)
	began := time.Now()
	var planned time.Duration
	ours, err := timed(func() error {
		if _, err := importAndPlan(ctx, srv.URL, token, n, 10); err != nil {
			return err
		}
		planned = time.Since(began)
		b.p.step("imported and planned")
		return waitFor(ctx, 20*time.Millisecond, func() (bool, error) {
			c, err := count(ctx, pool, sqlEnqueueJobsQueued)
			b.p.count(c, n, "jobs queued")
			return c >= n, err
		})
	})
	b.p.endPhase()
	if err != nil {
		return Figure{}, err
	}
	ratio := ours.Seconds() / base.Seconds()
	return Figure{Name: fmt.Sprintf("import+plan+enqueue %d users", n), Baseline: fmt.Sprintf("River InsertManyFast %d jobs", n),
		Base: base.Seconds(), Value: ours.Seconds(), Unit: "s", Ratio: ratio, Goal: "≤ 3×", Met: ratio <= 3,
		Notes: fmt.Sprintf("cutover: CSV import over HTTP (validated, one transaction) and plan %.2f s, then the wave's start queueing a move job per user %.2f s. "+
			"Floor: the rows cutover keeps, written by a minimal pgx program (COPY of the members, one INSERT of the moves, one UPDATE of them to queued, "+
			"River InsertManyFast of their jobs): %.2f s, %.2f× River's; cutover %.2f× the floor",
			planned.Seconds(), (ours - planned).Seconds(), floor.Seconds(), floor.Seconds()/base.Seconds(), ours.Seconds()/floor.Seconds())}, nil
}
