package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

type loadResult struct {
	rate     float64
	p50, p99 time.Duration
}

// load runs op from clients goroutines for d and measures it.
func load(ctx context.Context, clients int, d time.Duration, op func(*rand.Rand) error) (loadResult, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			var mine []time.Duration
			for time.Now().Before(end) && ctx.Err() == nil {
				start := time.Now()
				if err := op(rnd); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return percentile(lat, p).Round(10 * time.Microsecond) }
	return loadResult{rate: float64(len(lat)) / d.Seconds(), p50: pct(0.50), p99: pct(0.99)}, nil
}

// percentile is the p-th quantile (0 to 1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(p*float64(len(sorted)-1))]
}
