package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs"
)

// mix: a wave with the demo's seeded failure mix (users already online,
// permanent failures, time-outs and licences that retry) keeps its cap's
// worth of move calls in flight while it has work to start: a few users who
// time out on their own are not the service struggling. Beside it, the same
// wave without failures. Times are held against N·L/C counting every
// attempt (each Move-CsUser call, retries included).
func (b *bencher) mix(ctx context.Context, sz Sizes) (Figure, error) {
	const capacity, latency = 10, 200 * time.Millisecond
	workers := capacity * 3 / 2
	// Retries come back after about one move's time, so that the wave
	// always has work to start: what is measured is the limit, not the
	// backoff.
	quick := func(c *jobs.Config) { c.RetryBase, c.RetryMax = latency, 2*latency }
	mixed, err := b.waveRate(ctx, fmt.Sprintf("cutover: a wave of %d users with the demo's failure mix, cap %d", sz.MixWave, capacity),
		sz.MixWave, capacity, workers, sim.ShellConfig{Seed: 7, MoveLatency: latency}, quick)
	if err != nil {
		return Figure{}, err
	}
	clean, err := b.waveRate(ctx, fmt.Sprintf("cutover: the same wave without failures, cap %d", capacity),
		sz.MixWave, capacity, workers, sim.ShellConfig{Seed: 7, Mix: sim.Mix{}, MoveLatency: latency}, quick)
	if err != nil {
		return Figure{}, err
	}
	ideal := func(r waveRun) time.Duration { return time.Duration(r.moveCalls) * latency / capacity }
	ratio := mixed.meanInFlight / capacity
	return Figure{Name: fmt.Sprintf("wave of %d users with the demo's failure mix (seed 7), cap %d: move calls in flight", sz.MixWave, capacity),
		Baseline: "the cap", Base: capacity, Value: mixed.meanInFlight, Unit: "calls", Ratio: ratio, Goal: "≥ 0.80×", Met: ratio >= 0.80,
		Notes: fmt.Sprintf("the simulated Move-CsUser 200 ms, reads instant, retries after 200 to 400 ms; the limit lowered %d times. "+
			"Time %.2f s against N·L/C %.2f s for its %d move calls (%.2f×). "+
			"The same wave without failures: %.1f calls in flight (%.2f× the cap), %.2f s against %.2f s for %d calls (%.2f×), limit lowered %d times",
			mixed.lowered, mixed.took.Seconds(), ideal(mixed).Seconds(), mixed.moveCalls, mixed.took.Seconds()/ideal(mixed).Seconds(),
			clean.meanInFlight, clean.meanInFlight/capacity, clean.took.Seconds(), ideal(clean).Seconds(), clean.moveCalls, clean.took.Seconds()/ideal(clean).Seconds(), clean.lowered)}, nil
}
