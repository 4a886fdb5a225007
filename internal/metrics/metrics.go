// Package metrics is cutover's Prometheus metrics: what the database says at
// each scrape (moves by state and error code, moves in flight, wave
// progress, River's queues), and what this process times (moves, shell and
// Graph calls).
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Metrics holds a process's metrics in a registry of its own.
type Metrics struct {
	reg          *prometheus.Registry
	moveDuration *prometheus.HistogramVec
	shellCalls   *prometheus.HistogramVec
	graphCalls   *prometheus.HistogramVec
	interrupted  *prometheus.CounterVec
	slotOutside  prometheus.Histogram
}

// New returns the metrics of a process whose database is pool.
func New(pool *pgxpool.Pool, log *slog.Logger) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.moveDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cutover_move_duration_seconds",
		Help:    "Time from a move's first pre-flight to its outcome, by outcome (moved, skipped, failed).",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200},
	}, []string{"outcome"})
	calls := []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	m.shellCalls = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cutover_shell_call_duration_seconds", Help: "On-premises shell calls (Get-CsUser, Move-CsUser), by call and result (ok, or the error code).", Buckets: calls,
	}, []string{"call", "result"})
	m.graphCalls = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cutover_graph_call_duration_seconds", Help: "Microsoft Graph calls, by call and result (ok, or the error code).", Buckets: calls,
	}, []string{"call", "result"})
	m.interrupted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cutover_moves_interrupted_total",
		Help: "Moves this process stopped for a failure that is not the user's, spending no attempt, by cause (database, shell_session, worker_lost: moves in flight on a worker process found dead; stranded: moves the sweep gave a new job, none being left to run them; shell_unavailable, graph_unavailable: moves whose call met a shell or a Microsoft Graph that answered nobody).",
	}, []string{"cause"})
	m.slotOutside = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cutover_slot_held_outside_move_call_seconds",
		Help:    "Time a move held its slot of the cap outside its Move-CsUser call: its pre-flight, its records and its outcome.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	for _, cause := range []string{"database", "shell_session", "worker_lost", "stranded", "shell_unavailable", "graph_unavailable"} {
		m.interrupted.WithLabelValues(cause)
	}
	m.reg.MustRegister(m.moveDuration, m.shellCalls, m.graphCalls, m.interrupted, m.slotOutside,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&dbCollector{pool: pool, log: log})
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// MoveEnded records a move's outcome and how long it took.
func (m *Metrics) MoveEnded(outcome migration.MoveState, took time.Duration) {
	m.moveDuration.WithLabelValues(string(outcome)).Observe(took.Seconds())
}

// SlotHeld records how long a move held its slot outside its move call.
func (m *Metrics) SlotHeld(outside time.Duration) {
	m.slotOutside.Observe(outside.Seconds())
}

// Interrupted counts n moves stopped by a failure that is not the user's.
func (m *Metrics) Interrupted(cause string, n int) {
	m.interrupted.WithLabelValues(cause).Add(float64(n))
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	return string(migration.Classify(err).Code)
}

// Shell times the calls of a shell, those of a moved user's completion
// included where the shell makes them (migration.CompletionShell).
func (m *Metrics) Shell(s migration.Shell) migration.Shell {
	w := &shell{s: s, m: m}
	if ms, ok := s.(migration.CompletionShell); ok {
		return &completionShell{shell: w, ms: ms}
	}
	return w
}

type completionShell struct {
	*shell
	ms migration.CompletionShell
}

func (s *completionShell) MeetingMigration(ctx context.Context, identity string) (migration.MeetingMigration, bool, error) {
	start := time.Now()
	mm, found, err := s.ms.MeetingMigration(ctx, identity)
	s.observe("Get-CsMeetingMigrationStatus", start, err)
	return mm, found, err
}

func (s *completionShell) StartMeetingMigration(ctx context.Context, identity string) error {
	start := time.Now()
	err := s.ms.StartMeetingMigration(ctx, identity)
	s.observe("Start-CsExMeetingMigration", start, err)
	return err
}

func (s *completionShell) ClearLineURI(ctx context.Context, identity string) error {
	start := time.Now()
	err := s.ms.ClearLineURI(ctx, identity)
	s.observe("Set-CsUser -LineURI", start, err)
	return err
}

func (s *completionShell) AssignNumber(ctx context.Context, identity, number string) error {
	start := time.Now()
	err := s.ms.AssignNumber(ctx, identity, number)
	s.observe("Set-CsPhoneNumberAssignment", start, err)
	return err
}

type shell struct {
	s migration.Shell
	m *Metrics
}

func (s *shell) observe(call string, start time.Time, err error) {
	s.m.shellCalls.WithLabelValues(call, result(err)).Observe(time.Since(start).Seconds())
}

func (s *shell) GetUser(ctx context.Context, identity string) (migration.ShellUser, error) {
	start := time.Now()
	u, err := s.s.GetUser(ctx, identity)
	s.observe("Get-CsUser", start, err)
	return u, err
}

func (s *shell) MoveOnline(ctx context.Context, identity string, opts migration.MoveOnlineOptions) error {
	start := time.Now()
	err := s.s.MoveOnline(ctx, identity, opts)
	s.observe("Move-CsUser online", start, err)
	return err
}

func (s *shell) CheckHost(ctx context.Context) (migration.HostFacts, error) {
	return s.s.CheckHost(ctx)
}

func (s *shell) VoiceUsers(ctx context.Context, members []migration.Member) (map[string]migration.ShellUser, error) {
	return s.s.VoiceUsers(ctx, members)
}

func (s *shell) OnPremises(ctx context.Context) (migration.OnPremises, error) {
	return s.s.OnPremises(ctx)
}

func (s *shell) MoveToPool(ctx context.Context, identity, pool string) error {
	start := time.Now()
	err := s.s.MoveToPool(ctx, identity, pool)
	s.observe("Move-CsUser to pool", start, err)
	return err
}

// Unwrap returns the shell timed, for those who need its own methods.
func (s *shell) Unwrap() migration.Shell { return s.s }

// Directory times the calls of a directory; nil stays nil.
func (m *Metrics) Directory(d migration.Directory) migration.Directory {
	if d == nil {
		return nil
	}
	return &directory{d: d, m: m}
}

type directory struct {
	d migration.Directory
	m *Metrics
}

func (d *directory) observe(call string, start time.Time, err error) {
	d.m.graphCalls.WithLabelValues(call, result(err)).Observe(time.Since(start).Seconds())
}

func (d *directory) Tenant(ctx context.Context) (migration.Tenant, error) {
	start := time.Now()
	t, err := d.d.Tenant(ctx)
	d.observe("tenant", start, err)
	return t, err
}

func (d *directory) Users(ctx context.Context, upns []string) (map[string]migration.DirectoryUser, error) {
	start := time.Now()
	u, err := d.d.Users(ctx, upns)
	d.observe("users", start, err)
	return u, err
}

func (d *directory) GroupUsers(ctx context.Context, groupID string) ([]migration.DirectoryUser, error) {
	start := time.Now()
	u, err := d.d.GroupUsers(ctx, groupID)
	d.observe("group users", start, err)
	return u, err
}

func (d *directory) FindGroups(ctx context.Context, name string) ([]migration.DirectoryGroup, error) {
	start := time.Now()
	g, err := d.d.FindGroups(ctx, name)
	d.observe("find groups", start, err)
	return g, err
}

func (d *directory) TeamsAccountType(ctx context.Context, userID string) (string, error) {
	start := time.Now()
	a, err := d.d.TeamsAccountType(ctx, userID)
	d.observe("teams account type", start, err)
	return a, err
}

func (d *directory) TeamsVoice(ctx context.Context, userID string) (migration.TeamsVoice, error) {
	start := time.Now()
	v, err := d.d.TeamsVoice(ctx, userID)
	d.observe("teams voice", start, err)
	return v, err
}

func (d *directory) NumberAssignment(ctx context.Context, number string) (migration.NumberAssignment, bool, error) {
	start := time.Now()
	a, found, err := d.d.NumberAssignment(ctx, number)
	d.observe("number assignment", start, err)
	return a, found, err
}

func (d *directory) AccountRoles(ctx context.Context, upn string) ([]migration.DirectoryRole, error) {
	start := time.Now()
	r, err := d.d.AccountRoles(ctx, upn)
	d.observe("account roles", start, err)
	return r, err
}

// dbCollector reads, at each scrape, what the database says: it is the same
// from every process.
type dbCollector struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

var (
	movesDesc    = prometheus.NewDesc("cutover_moves", "Moves by state and error code.", []string{"state", "error_code"}, nil)
	inFlightDesc = prometheus.NewDesc("cutover_moves_in_flight", "Moves holding a slot now, across every worker process.", nil, nil)
	capDesc      = prometheus.NewDesc("cutover_moves_in_flight_max", "The deployment's cap on moves in flight.", nil, nil)
	waveDesc     = prometheus.NewDesc("cutover_wave_moves", "Moves of each wave not finished, by state.", []string{"wave_id", "wave", "group", "state"}, nil)
	waveLimit    = prometheus.NewDesc("cutover_wave_concurrency_limit", "Each running wave's adaptive limit on moves in flight.", []string{"wave_id", "wave", "group"}, nil)
	riverDesc    = prometheus.NewDesc("cutover_river_jobs", "River jobs by queue and state (the queue's depth).", []string{"queue", "state"}, nil)
	upDesc       = prometheus.NewDesc("cutover_database_up", "1 if the database answered the scrape's queries.", nil, nil)
	hostDesc     = prometheus.NewDesc("cutover_worker_host_ready", "1 if the worker process's host passed its last readiness check (checked in the last 15 minutes); 0 if it takes no moves.", []string{"id", "host"}, nil)
	processDesc  = prometheus.NewDesc("cutover_worker_processes", "Worker processes: alive (a heartbeat in the last 5 seconds), and lost (found dead, in the last 24 hours).", []string{"state"}, nil)
	holdDesc     = prometheus.NewDesc("cutover_deployment_held", "1 for each condition that stops every move start now, by code: a sign-in that fails, a shell or Graph that answers nobody, Graph refusing cutover, the migration account unable to move users, a government cloud, no ready worker host.", []string{"code"}, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{movesDesc, inFlightDesc, capDesc, waveDesc, waveLimit, riverDesc, upDesc, hostDesc, holdDesc, processDesc} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.collect(ctx, ch)
	up := 1.0
	if err != nil {
		c.log.Warn("metrics: reading the database failed", "error", err)
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
}

func (c *dbCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	g, err := store.New(c.pool).GaugesRead(ctx)
	if err != nil {
		return err
	}
	send := func(desc *prometheus.Desc, gauges ...store.Gauge) {
		for _, v := range gauges {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v.Value, v.Labels...)
		}
	}
	send(movesDesc, g.Moves...)
	send(inFlightDesc, store.Gauge{Value: g.InFlight})
	send(capDesc, store.Gauge{Value: g.Cap})
	send(waveDesc, g.WaveMoves...)
	send(hostDesc, g.Hosts...)
	send(processDesc, g.Processes...)
	send(holdDesc, g.Holds...)
	send(waveLimit, g.WaveLimits...)
	send(riverDesc, g.RiverJobs...)
	return nil
}
