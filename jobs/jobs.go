// Package jobs holds cutover's River job kinds and their workers: the start
// of a wave, which queues its moves in bulk, and the move of one user. It also
// holds the operations that write domain rows and River jobs in one
// transaction (planning a group, retrying a user).
package jobs

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
)

// Queues. A worker process on the Skype for Business host may serve only
// QueueMoves.
const (
	QueueMoves   = "moves"
	QueueControl = "control"
)

// Config configures the River client and the workers. Zero values take the
// documented defaults.
type Config struct {
	// ID names this process in River and in timeline events. Defaults to
	// the host name and process ID.
	ID string
	// MoveWorkers is how many moves this process works at once; 0 serves
	// no moves (an API-only process).
	MoveWorkers int
	// Control makes this process start waves (the control queue).
	Control bool
	// ShellTimeout bounds one call to the on-premises shell. Defaults to
	// 2 minutes.
	ShellTimeout time.Duration
	// GraphTimeout bounds one call to Microsoft Graph (with the retries of
	// a throttled request inside it). Defaults to 30 seconds.
	GraphTimeout time.Duration
	// ProbeTimeout bounds a probe of the shell or of Graph: a read that
	// touches no user, made when a call did not answer, to tell a user's
	// own time-out from a side that does not answer anyone (which holds
	// the deployment). Defaults to 10 seconds, or the shell time-out if
	// shorter.
	ProbeTimeout time.Duration
	// ProbeEvery is how often a side that does not answer is probed, so
	// that its hold clears within about this of it answering again.
	// Defaults to 5 seconds.
	ProbeEvery time.Duration
	// RetryBase is the wait before the first retry of a transient failure;
	// it doubles with each attempt, up to RetryMax. Defaults to 30 seconds.
	RetryBase time.Duration
	// RetryMax caps the wait between attempts. Defaults to 30 minutes.
	RetryMax time.Duration
	// PollInterval is how often idle workers look for jobs when no
	// notification reaches them. Defaults to 1 second.
	PollInterval time.Duration
	// Directory is Microsoft Graph, for the pre-flight checks of every move
	// and the check after it. Nil moves users on the shell's word alone.
	Directory migration.Directory
	// LicenceSettle is how long a fresh licence takes to provision; a move
	// before that retries later. Defaults to 30 minutes.
	LicenceSettle time.Duration
	// Target is the ProxyFqdn of the hosting provider users are moved to
	// (Move-CsUser -Target), and the HostingProvider that shows them homed
	// online. Defaults to migration.DefaultOnlineTarget.
	Target string
	// ProvisioningWait is how long after the move call Teams may go on
	// showing the user as on premises before the move fails. Defaults to
	// 30 minutes.
	ProvisioningWait time.Duration
	// Now is the clock of maintenance windows. Defaults to time.Now.
	Now func() time.Time
	// PausePoll is how often a move of a paused wave looks whether the
	// wave was resumed. Defaults to 15 seconds.
	PausePoll time.Duration
	// WindowRecheck, when set, caps how long a move (or a wave's start)
	// outside its maintenance window waits before it looks at the clock
	// again; by default it waits until the window opens.
	WindowRecheck time.Duration
	// SlotPoll is how often a move waiting for a slot looks for one freed
	// by another process; slots freed in this process wake it at once.
	// Defaults to 250 milliseconds.
	SlotPoll time.Duration
	// HTTPClient sends webhook notifications. Defaults to a client with a
	// 10-second time-out.
	HTTPClient *http.Client
	// DNS, when set, resolves the pilot groups' SIP domains for the hybrid
	// readiness (checked with the host). Nil leaves DNS unchecked.
	DNS migration.DNSResolver
	// OverrideURL is the -HostedMigrationOverrideUrl the shell passes, if
	// any: with it a hosting provider needs no AutodiscoverUrl.
	OverrideURL string
	// StrandedQuiet is how long a move that is not final must have been
	// unchanged, with no River job to run it, before the sweep gives it a
	// new job. A move and its job are written together, so this only keeps
	// the sweep clear of moves being written now. Defaults to 10 seconds.
	StrandedQuiet time.Duration
	// HostCheckEvery is how often a worker process checks its host
	// (PowerShell, modules, server build, TLS 1.2, sign-in). Defaults to 5
	// minutes.
	HostCheckEvery time.Duration
	// HostRecheck is how often it checks while its host is not ready or
	// the deployment is held, and about how long a move waits before it
	// looks again. Defaults to 15 seconds.
	HostRecheck time.Duration
	// Heartbeat is how often this process says in Postgres that it lives
	// and renews the slots it holds. A process silent for DeadAfter is
	// dead: its slots are freed and its running moves handed to a live
	// process. Defaults to 1 second.
	Heartbeat time.Duration
	// Interrupted, when set, hears of each move stopped by a failure that
	// is not the user's and spends no attempt: its cause ("database",
	// "shell_session", "worker_lost", "stranded", "shell_unavailable",
	// "graph_unavailable"), for metrics.
	Interrupted func(cause string, n int)
	// MoveEnded, when set, hears of each move's outcome and how long it
	// took from its first pre-flight (for metrics).
	MoveEnded func(outcome migration.MoveState, took time.Duration)
	// SlotHeld, when set, hears of each move that ended after its move
	// call how long it held its slot outside that call: from the slot's
	// take to its release, less the call (for metrics and the benchmark).
	SlotHeld func(outside time.Duration)
	// CompletionEvery is how often the moved users' completion items that
	// are due are looked at. Defaults to 1 minute.
	CompletionEvery time.Duration
	// MeetingsTiming is when a moved user's meetings are looked at.
	// Defaults to Microsoft's (migration.DefaultMeetingsTiming); the
	// simulated tenant keeps a faster clock.
	MeetingsTiming migration.MeetingsTiming
	// VoiceTiming is how long a moved Enterprise Voice user's number may
	// take to show in Teams, and how often it is looked at. Defaults to
	// migration.DefaultVoiceTiming.
	VoiceTiming migration.VoiceTiming
	// NumberTiming is how often a number's move to online management is
	// looked at. Defaults to migration.DefaultNumberTiming.
	NumberTiming migration.NumberTiming
	// Notifier, when set, hears of each change to a wave or a move once it
	// has committed, so that the pages following the wave show it; the
	// notification is sent apart from the change, never in its
	// transaction. Nil tells no one.
	Notifier *live.Notifier
}

func (c Config) withDefaults() Config {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.ShellTimeout <= 0 {
		c.ShellTimeout = 2 * time.Minute
	}
	if c.GraphTimeout <= 0 {
		c.GraphTimeout = 30 * time.Second
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = min(10*time.Second, c.ShellTimeout)
	}
	if c.ProbeEvery <= 0 {
		c.ProbeEvery = 5 * time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 30 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 30 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.LicenceSettle <= 0 {
		c.LicenceSettle = migration.DefaultLicenceSettle
	}
	c.Target = migration.MoveOnlineOptions{Target: c.Target}.TargetOrDefault()
	if c.ProvisioningWait <= 0 {
		c.ProvisioningWait = 30 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PausePoll <= 0 {
		c.PausePoll = 15 * time.Second
	}
	if c.SlotPoll <= 0 {
		c.SlotPoll = 250 * time.Millisecond
	}
	if c.StrandedQuiet <= 0 {
		c.StrandedQuiet = 10 * time.Second
	}
	if c.HostCheckEvery <= 0 {
		c.HostCheckEvery = 5 * time.Minute
	}
	if c.HostRecheck <= 0 {
		c.HostRecheck = 15 * time.Second
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = time.Second
	}
	if c.CompletionEvery <= 0 {
		c.CompletionEvery = time.Minute
	}
	if c.MeetingsTiming == (migration.MeetingsTiming{}) {
		c.MeetingsTiming = migration.DefaultMeetingsTiming
	}
	if c.VoiceTiming == (migration.VoiceTiming{}) {
		c.VoiceTiming = migration.DefaultVoiceTiming
	}
	if c.NumberTiming == (migration.NumberTiming{}) {
		c.NumberTiming = migration.DefaultNumberTiming
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return c
}

// slotWait is how long a move waits in its worker for a slot before it
// snoozes and lets the worker go (30 seconds with the default shell
// time-out).
func (c Config) slotWait() time.Duration { return min(30*time.Second, c.ShellTimeout) }

// jobTimeout bounds one attempt of a move: the wait for a slot, three shell
// calls, four Graph calls, a probe and the database work around them (9
// minutes with the default time-outs).
func (c Config) jobTimeout() time.Duration {
	return c.slotWait() + 3*c.ShellTimeout + 4*c.GraphTimeout + c.ProbeTimeout + min(30*time.Second, c.ShellTimeout)
}

// windowWait is how long to wait for a maintenance window opening at next.
func (c Config) windowWait(next time.Time) time.Duration {
	d := max(next.Sub(c.Now()), 0)
	if c.WindowRecheck > 0 {
		d = min(d, c.WindowRecheck)
	}
	return d
}

// RescueAfter is how long a move may run before River takes its worker for
// dead and runs it again elsewhere: a little longer than an attempt may take,
// minutes rather than River's default hour (10 minutes with the default
// shell time-out). River looks for such jobs every 30 seconds.
func (c Config) RescueAfter() time.Duration { return c.jobTimeout() + min(time.Minute, c.jobTimeout()) }

// leaseTTL is how long a slot lives without its holder's heartbeat: five
// beats (5 seconds by default), so that a slot held by a process that died
// is free within that, while a process whose heartbeat is late a beat or two
// keeps its slots.
func (c Config) leaseTTL() time.Duration { return 5 * c.Heartbeat }

// DeadAfter is how long a process may be silent before the live processes
// take it for dead and hand its running moves on (5 seconds by default).
func (c Config) DeadAfter() time.Duration { return 5 * c.Heartbeat }

// Backoff is the wait after failed attempt n (1-based): RetryBase doubled per
// attempt, capped at RetryMax, spread by up to ±10% by the job ID so that a
// wave's retries do not all land at once.
func (c Config) Backoff(attempt int, jobID int64) time.Duration {
	d := c.RetryBase
	for i := 1; i < attempt && d < c.RetryMax; i++ {
		d *= 2
	}
	d = min(d, c.RetryMax)
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%d", jobID, attempt)
	spread := float64(h.Sum32()%2001)/10000 - 0.1 // -0.1 .. +0.1
	return time.Duration(float64(d) * (1 + spread))
}

// NewClient returns a River client with cutover's workers. It works the queues
// that cfg asks for; with none it only inserts (an API-only process). The
// worker host is checked from the first move on (see NewClientWithReadiness
// to check it at start).
func NewClient(pool *pgxpool.Pool, shell migration.Shell, cfg Config, log *slog.Logger) (*river.Client[pgx.Tx], error) {
	client, _, err := NewClientWithReadiness(pool, shell, cfg, log)
	return client, err
}

// NewClientWithReadiness is NewClient, with the process's Readiness: Start it
// once the client runs, to check the host at once.
func NewClientWithReadiness(pool *pgxpool.Pool, shell migration.Shell, cfg Config, log *slog.Logger) (*river.Client[pgx.Tx], *Readiness, error) {
	cfg = cfg.withDefaults()
	workers := river.NewWorkers()
	actor := "worker " + cfg.ID
	ready := newReadiness(pool, shell, cfg, log)
	river.AddWorker(workers, &WaveStartWorker{pool: pool, cfg: cfg, actor: actor})
	river.AddWorker(workers, &MoveWorker{pool: pool, shell: shell, cfg: cfg, log: log, actor: actor, ready: ready})
	river.AddWorker(workers, &RollbackWorker{pool: pool, shell: shell, cfg: cfg, log: log, actor: actor, ready: ready})
	river.AddWorker(workers, &WebhookWorker{pool: pool, cfg: cfg, log: log})
	river.AddWorker(workers, &WaveSweepWorker{pool: pool, cfg: cfg, log: log, actor: actor})
	if completion, ok := shell.(migration.CompletionShell); ok {
		river.AddWorker(workers, &CompletionWorker{pool: pool, shell: shell, completion: completion, cfg: cfg, log: log, actor: actor})
	}
	queues := map[string]river.QueueConfig{}
	if cfg.MoveWorkers > 0 {
		queues[QueueMoves] = river.QueueConfig{MaxWorkers: cfg.MoveWorkers}
	}
	if cfg.Control {
		queues[QueueControl] = river.QueueConfig{MaxWorkers: 4}
	}
	rc := &river.Config{
		ID:                   cfg.ID,
		Logger:               log,
		Workers:              workers,
		JobTimeout:           cfg.jobTimeout(),
		RescueStuckJobsAfter: cfg.RescueAfter(),
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, cfg.PollInterval),
	}
	if len(queues) > 0 {
		rc.Queues = queues
	}
	if cfg.Control {
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return WaveSweepArgs{}, nil }, nil)}
		if _, completion := shell.(migration.CompletionShell); completion && cfg.MoveWorkers > 0 {
			// Worked where the shell reads what completion asks.
			rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.CompletionEvery),
				func() (river.JobArgs, *river.InsertOpts) { return CompletionArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	return client, ready, err
}

// complete marks a job done in tx, so that the job's end commits with the
// domain rows it changed.
func complete[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T]) error {
	_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
	return err
}

// tenantCache keeps the tenant's details a few minutes, so that each move's
// pre-flight does not read the organisation, domains and SKUs again.
type tenantCache struct {
	mu      sync.Mutex
	tenant  migration.Tenant
	fetched time.Time
}

const tenantCacheTTL = 5 * time.Minute

// cached returns the tenant read less than tenantCacheTTL ago, if any: a
// read of the cache is no call of Graph's, and says nothing of whether
// Graph answers.
func (c *tenantCache) cached() (migration.Tenant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tenant, !c.fetched.IsZero() && time.Since(c.fetched) < tenantCacheTTL
}

func (c *tenantCache) get(ctx context.Context, dir migration.Directory) (migration.Tenant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fetched.IsZero() && time.Since(c.fetched) < tenantCacheTTL {
		return c.tenant, nil
	}
	t, err := dir.Tenant(ctx)
	if err != nil {
		return t, err
	}
	c.tenant, c.fetched = t, time.Now()
	return t, nil
}
