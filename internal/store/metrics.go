package store

import (
	"context"

	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// Gauge is one value of a metric, with its labels in the metric's order.
type Gauge struct {
	Labels []string
	Value  float64
}

// Gauges are what the metrics read from the database at a scrape.
type Gauges struct {
	Moves      []Gauge // by state, error code
	InFlight   float64 // moves holding a slot of the cap
	Cap        float64 // the cap on moves in flight
	WaveMoves  []Gauge // moves of waves not finished: wave id, wave, group, state
	Hosts      []Gauge // worker hosts checked in the last 15 minutes: id, host (1 if ready)
	Processes  []Gauge // worker processes: alive, lost
	Holds      []Gauge // the deployment's holds: code (1 each)
	WaveLimits []Gauge // running waves' adaptive limits: wave id, wave, group
	RiverJobs  []Gauge // River's jobs: queue, state
}

// GaugesRead reads the gauges.
func (q *Queries) GaugesRead(ctx context.Context) (Gauges, error) {
	var g Gauges
	var err error
	if g.Moves, err = gauges(q.gen.GaugeMoves(ctx))(func(r dbsqlc.GaugeMovesRow) Gauge { return Gauge{[]string{r.State, r.ErrorCode}, r.N} }); err != nil {
		return g, err
	}
	if g.InFlight, err = q.gen.GaugeInFlight(ctx); err != nil {
		return g, err
	}
	if g.Cap, err = q.gen.GaugeCap(ctx); err != nil {
		return g, err
	}
	if g.WaveMoves, err = gauges(q.gen.GaugeWaveMoves(ctx))(func(r dbsqlc.GaugeWaveMovesRow) Gauge {
		return Gauge{[]string{r.WaveID, r.Wave, r.GroupName, r.State}, r.N}
	}); err != nil {
		return g, err
	}
	if g.Hosts, err = gauges(q.gen.GaugeHosts(ctx))(func(r dbsqlc.GaugeHostsRow) Gauge { return Gauge{[]string{r.ID, r.Host}, r.N} }); err != nil {
		return g, err
	}
	if g.Processes, err = gauges(q.gen.GaugeProcesses(ctx))(func(r dbsqlc.GaugeProcessesRow) Gauge { return Gauge{[]string{r.State}, r.N} }); err != nil {
		return g, err
	}
	if g.Holds, err = gauges(q.gen.GaugeHolds(ctx))(func(code string) Gauge { return Gauge{[]string{code}, 1} }); err != nil {
		return g, err
	}
	if g.WaveLimits, err = gauges(q.gen.GaugeWaveLimits(ctx))(func(r dbsqlc.GaugeWaveLimitsRow) Gauge {
		return Gauge{[]string{r.WaveID, r.Wave, r.GroupName}, r.N}
	}); err != nil {
		return g, err
	}
	g.RiverJobs, err = gauges(q.gen.GaugeRiverJobs(ctx))(func(r dbsqlc.GaugeRiverJobsRow) Gauge { return Gauge{[]string{r.Queue, r.State}, r.N} })
	return g, err
}

// gauges maps a query's rows to gauges.
func gauges[R any](rows []R, err error) func(func(R) Gauge) ([]Gauge, error) {
	return func(f func(R) Gauge) ([]Gauge, error) { return mapRows(rows, err, f) }
}
