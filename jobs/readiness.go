package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Readiness is what a worker process knows of whether the deployment can
// move anyone: its own host's readiness (checked at start, every
// HostCheckEvery, and every HostRecheck while something is wrong), and the
// deployment's holds, which every process sees. A move starts only on a
// ready host and while nothing holds the deployment; a move stopped by a
// hold spends no attempt and waits.
type Readiness struct {
	pool  *pgxpool.Pool
	shell migration.Shell
	cfg   Config
	log   *slog.Logger
	host  string

	ready   atomic.Bool // the host passed its last check (true until checked)
	beat    *liveness
	started sync.Once
	wake    chan struct{} // a hold was set here: check the host now

	mu     sync.Mutex
	holds  []store.Hold
	readAt time.Time
}

// Hold codes that are not failures of a move.
const (
	// HoldNoReadyHost: every worker host failed its readiness check.
	HoldNoReadyHost migration.ErrorCode = "no_ready_host"
)

// Wave events of the deployment's holds.
const (
	WaveEventHeld     = "held"          // notified
	WaveEventReleased = "hold_released" // moves start again
)

func newReadiness(pool *pgxpool.Pool, shell migration.Shell, cfg Config, log *slog.Logger) *Readiness {
	host, _ := os.Hostname()
	r := &Readiness{pool: pool, shell: shell, cfg: cfg, log: log, host: host, wake: make(chan struct{}, 1),
		beat: &liveness{pool: pool, cfg: cfg, log: log, host: host}}
	r.ready.Store(true)
	return r
}

// holdCacheTTL is how long a process trusts its read of the holds: a hold
// set anywhere stops move starts everywhere within it.
const holdCacheTTL = 500 * time.Millisecond

// Ready reports whether this host passed its last check.
func (r *Readiness) Ready() bool { return r.ready.Load() }

// held returns the deployment's first hold, if any (read at most every
// holdCacheTTL).
func (r *Readiness) held(ctx context.Context) (*store.Hold, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.readAt) >= holdCacheTTL {
		holds, err := store.New(r.pool).Holds(ctx)
		if err != nil {
			return nil, err
		}
		r.holds, r.readAt = holds, time.Now()
	}
	if len(r.holds) == 0 {
		return nil, nil
	}
	return &r.holds[0], nil
}

// forget drops the cached holds, so that the next look reads them.
func (r *Readiness) forget() {
	r.mu.Lock()
	r.readAt = time.Time{}
	r.mu.Unlock()
}

// Hold stops every move start across the deployment. The first process to
// set a hold of a code tells the lead once: an event (notified to webhooks)
// and the reason on every running wave, and a warning in its log.
func (r *Readiness) Hold(ctx context.Context, client *river.Client[pgx.Tx], code migration.ErrorCode, reason, evidence string) error {
	defer r.forget()
	r.recheck() // the host check decides when it clears: look soon

	var told []int64 // waves whose reason changed, told once committed
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		created, err := q.HoldSet(ctx, store.Hold{Code: code, Reason: reason, Evidence: evidence, SetBy: r.cfg.ID})
		if err != nil || !created {
			return err
		}
		r.log.Warn("moves stopped across the deployment", "code", code, "reason", reason, "evidence", evidence)
		waves, err := q.WavesRunning(ctx)
		if err != nil {
			return err
		}
		for _, w := range waves {
			msg := movesWait(reason)
			if err := q.WaveReason(ctx, w.ID, migration.WaveStateRunning, msg); err != nil {
				return err
			}
			told = append(told, w.ID)
			w.StateReason = msg
			ev, err := q.WaveEventAdd(ctx, w.ID, WaveEventHeld, msg+" ("+evidence+")", "worker "+r.cfg.ID)
			if err != nil {
				return err
			}
			if err := notify(ctx, tx, client, ev, w); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		r.cfg.Notifier.Touch(told...)
	}
	return err
}

// recheck makes this process check its host now.
func (r *Readiness) recheck() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// movesWait is a running wave's reason while a hold stops its moves.
func movesWait(reason string) string { return "moves wait: " + reason }

// holdMove holds the deployment for a failure of a move that is not the
// user's, and says in the move's timeline that its attempt is not counted.
func (r *Readiness) holdMove(ctx context.Context, client *river.Client[pgx.Tx], f migration.Failure, moveID int64, e migration.MoveEvent, msg string) error {
	if err := r.Hold(ctx, client, f.Code, migration.HoldReason(f.Code), msg); err != nil {
		return err
	}
	e.ErrorCode = f.Code
	e.Message += "not counted: " + string(f.Code) + ": " + msg + "; moves across the deployment wait until the workers' check passes"
	return store.New(r.pool).MoveEventAdd(ctx, moveID, e)
}

// Release clears a hold, if there is one; moves start again.
func (r *Readiness) Release(ctx context.Context, code migration.ErrorCode) error {
	defer r.forget()
	var told []int64 // waves whose reason changed, told once committed
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		h, err := q.HoldClear(ctx, code)
		if err != nil || h == nil {
			return err
		}
		r.log.Info("moves start again across the deployment", "code", code, "held_for", time.Since(h.Since).Round(time.Second))
		waves, err := q.WavesRunning(ctx)
		if err != nil {
			return err
		}
		// A wave that showed this hold shows the next one, if another holds.
		next := ""
		if rest, err := q.Holds(ctx); err != nil {
			return err
		} else if len(rest) > 0 {
			next = movesWait(rest[0].Reason)
		}
		for _, w := range waves {
			if w.StateReason != movesWait(h.Reason) {
				continue
			}
			if err := q.WaveReason(ctx, w.ID, migration.WaveStateRunning, next); err != nil {
				return err
			}
			told = append(told, w.ID)
			if _, err := q.WaveEventAdd(ctx, w.ID, WaveEventReleased, fmt.Sprintf("moves start again after %s: %s cleared", time.Since(h.Since).Round(time.Second), h.Code), "worker "+r.cfg.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		r.cfg.Notifier.Touch(told...)
	}
	return err
}

// Check checks this host now: it records the result, takes the host out of
// service (or back in) and sets or clears the deployment's holds that the
// check decides (a sign-in that fails; no ready host anywhere).
func (r *Readiness) Check(ctx context.Context, client *river.Client[pgx.Tx]) (store.WorkerHost, error) {
	h := store.WorkerHost{ID: r.cfg.ID, Host: r.host, CheckedAt: time.Now()}
	facts, err := r.shell.CheckHost(ctx)
	if err != nil {
		// A host that cannot say how it is takes no moves either.
		h.Checks = []migration.Check{{Name: "shell", Status: migration.CheckFail, Evidence: "the management shell did not answer the host check: " + err.Error(),
			Fix: "Check that PowerShell runs on this host (--pwsh) and that shell.ps1 can start."}}
	} else {
		h.Facts, h.Checks = facts, migration.HostReadiness(facts)
	}
	h.Ready = migration.HostReady(h.Checks)
	q := store.New(r.pool)
	if err := q.HostSave(ctx, h); err != nil {
		return h, err
	}
	if was := r.ready.Swap(h.Ready); was != h.Ready {
		if h.Ready {
			r.log.Info("worker host ready: it takes moves again", "host", r.host)
		} else {
			r.log.Warn("worker host not ready: it takes no moves", "host", r.host, "failed", failedChecks(h.Checks))
		}
	}
	if h.Ready {
		if err := r.checkHybrid(ctx); err != nil {
			r.log.Warn("checking the hybrid configuration failed", "error", err)
		}
	}

	// The sign-in is the deployment's: with it failing, nobody moves.
	if err == nil {
		if facts.SignIn != "" {
			if err := r.Hold(ctx, client, migration.CodeSignInFailed, migration.HoldReason(migration.CodeSignInFailed), facts.SignIn); err != nil {
				return h, err
			}
		} else if err := r.Release(ctx, migration.CodeSignInFailed); err != nil {
			return h, err
		}
	}
	if err := r.checkGraph(ctx, client); err != nil {
		return h, err
	}
	// No ready host anywhere: the moves wait for one, and the waves say so.
	hosts, err := q.HostList(ctx, time.Now().Add(-3*r.cfg.HostCheckEvery))
	if err != nil {
		return h, err
	}
	var ready int
	var why []string
	for _, o := range hosts {
		if o.Ready {
			ready++
		} else {
			why = append(why, o.Host+": "+failedChecks(o.Checks))
		}
	}
	if ready == 0 && !h.Ready {
		return h, r.Hold(ctx, client, HoldNoReadyHost, "no worker host is ready", strings.Join(why, "; "))
	}
	if h.Ready {
		return h, r.Release(ctx, HoldNoReadyHost)
	}
	return h, nil
}

// graphProbe bounds the look at Graph of a host check.
const graphProbe = 30 * time.Second

// checkGraph signs in to Microsoft Graph and reads the organisation, when
// the workers use Graph: a sign-in or a Graph that does not answer, or that
// refuses cutover's credentials, holds the deployment (no user spends an
// attempt on it) until a check passes again.
func (r *Readiness) checkGraph(ctx context.Context, client *river.Client[pgx.Tx]) error {
	if r.cfg.Directory == nil {
		return nil
	}
	gctx, cancel := context.WithTimeout(ctx, graphProbe)
	_, err := r.cfg.Directory.Tenant(gctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		if f := migration.Classify(err); f.Deployment {
			r.log.Warn("Microsoft Graph: the deployment is not ready", "code", f.Code, "error", err)
			return r.Hold(ctx, client, f.Code, migration.HoldReason(f.Code), err.Error())
		}
		return nil // throttled, say: not the deployment's
	}
	for _, code := range []migration.ErrorCode{migration.CodeGraphUnavailable, migration.CodeGraphAccessDenied} {
		if err := r.Release(ctx, code); err != nil {
			return err
		}
	}
	return nil
}

// checkHybrid checks the on-premises half of the hybrid configuration
// through the shell, and the SIP domains' DNS, and records both.
func (r *Readiness) checkHybrid(ctx context.Context) error {
	q := store.New(r.pool)
	now := time.Now()
	o, err := r.shell.OnPremises(ctx)
	checks := migration.OnPremReadiness(o, r.cfg.Target, r.cfg.OverrideURL)
	if err != nil {
		checks = []migration.Check{{Name: migration.CheckHostingProvider, Status: migration.CheckWarn,
			Evidence: "Get-CsHostingProvider and Get-CsAccessEdgeConfiguration did not answer: " + err.Error(),
			Fix:      "Check that the worker's account may run the Get- cmdlets (CsViewOnlyAdministrator or more)."}}
	}
	if err := q.ReadinessSave(ctx, store.ReadinessSection{Section: migration.SectionOnPremises, Checks: checks, CheckedAt: now, CheckedBy: r.cfg.ID}); err != nil {
		return err
	}
	if err := r.readVoice(ctx, q); err != nil {
		r.log.Warn("reading the members' voice settings failed", "error", err)
	}
	if r.cfg.DNS == nil {
		return nil
	}
	domains, err := q.SIPDomains(ctx)
	if err != nil {
		return err
	}
	checks = []migration.Check{}
	if len(domains) == 0 {
		checks = append(checks, migration.Check{Name: "dns", Status: migration.CheckWarn,
			Evidence: "no pilot group yet: no SIP domain to look up", Fix: "Import a pilot group; its SIP domains are checked at the next host check."})
	}
	for _, d := range domains {
		checks = append(checks, migration.DNSReadiness(d, r.cfg.DNS.SIPDomain(ctx, d))...)
	}
	return q.ReadinessSave(ctx, store.ReadinessSection{Section: migration.SectionDNS, Checks: checks, CheckedAt: now, CheckedBy: r.cfg.ID})
}

// voiceBatch is how many members' voice settings one check reads.
const voiceBatch = 20000

// readVoice reads the Enterprise Voice settings of members not read yet
// (one Get-CsUser -Filter call for every voice user), so that the dry run
// lists voice users and their numbers before anyone moves.
func (r *Readiness) readVoice(ctx context.Context, q *store.Queries) error {
	members, err := q.MembersVoiceUnread(ctx, voiceBatch)
	if err != nil || len(members) == 0 {
		return err
	}
	list := make([]migration.Member, len(members))
	for i, m := range members {
		list[i] = m.Member
	}
	voice, err := r.shell.VoiceUsers(ctx, list)
	if err != nil {
		return err
	}
	return q.MembersVoiceSave(ctx, members, voice)
}

// failedChecks says in a line which checks failed, and their evidence.
func failedChecks(checks []migration.Check) string {
	var out []string
	for _, c := range checks {
		if c.Status == migration.CheckFail {
			out = append(out, c.Name+": "+c.Evidence)
		}
	}
	return strings.Join(out, "; ")
}

// run checks the host every HostCheckEvery, every HostRecheck while the
// host is not ready or the deployment is held, and within HostRecheck of a
// lead asking for a check, until the client stops.
func (r *Readiness) run(client *river.Client[pgx.Tx], first bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-client.Stopped()
		cancel()
	}()
	var last time.Time
	if !first {
		last = time.Now() // Start checked just now
	}
	for {
		due := time.Since(last) >= r.cfg.HostCheckEvery
		if h, _ := r.held(ctx); h != nil || !r.Ready() {
			due = due || time.Since(last) >= r.cfg.HostRecheck
		}
		if at, err := store.New(r.pool).ReadinessRequestedAt(ctx); err == nil && at.After(last) {
			due = true // a lead asked
		}
		if due {
			last = time.Now()
			if _, err := r.Check(ctx, client); err != nil && ctx.Err() == nil {
				r.log.Warn("checking the worker host failed", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			last = time.Time{}
		case <-time.After(min(r.cfg.HostRecheck, r.cfg.HostCheckEvery)):
		}
	}
}

// Start starts the process's heartbeat, checks the host now and then keeps
// checking it while the client runs. Moves start both themselves, if
// nothing did, at their first run.
func (r *Readiness) Start(ctx context.Context, client *river.Client[pgx.Tx]) error {
	var err error
	r.started.Do(func() {
		go r.beat.run(client)
		_, err = r.Check(ctx, client)
		go r.run(client, false)
		r.tell(ctx)
	})
	return err
}

// tell says in the log, once the host has been checked at start, whether
// the deployment is ready, and if not why: every hold, whichever process
// set it.
func (r *Readiness) tell(ctx context.Context) {
	holds, err := store.New(r.pool).Holds(ctx)
	if err != nil {
		return
	}
	for _, h := range holds {
		r.log.Warn("the deployment is not ready: moves wait", "code", h.Code, "reason", h.Reason, "evidence", h.Evidence, "since", h.Since.UTC().Format(time.RFC3339))
	}
	if len(holds) == 0 && r.Ready() {
		r.log.Info("the deployment is ready: this host passed its check and nothing holds moves")
	}
}

// ensure starts the heartbeat and the checks at a move's first run, if
// Start was not called.
func (r *Readiness) ensure(client *river.Client[pgx.Tx]) {
	r.started.Do(func() {
		go r.beat.run(client)
		go r.run(client, true)
	})
}

// gate says whether a move may start now: nil, or the snooze that makes it
// wait (spending no attempt) for a ready host or the end of a hold.
func (r *Readiness) gate(ctx context.Context, jobID int64) error {
	if !r.Ready() {
		return r.snooze(jobID) // another host may take it meanwhile
	}
	h, err := r.held(ctx)
	if err != nil {
		return err
	}
	if h != nil {
		return r.snooze(jobID)
	}
	return nil
}

// snooze makes a job wait, spending no attempt, about half a recheck
// (spread by the job, so that a deployment's moves do not all look at once).
func (r *Readiness) snooze(jobID int64) error {
	return river.JobSnooze(r.cfg.HostRecheck/2 + time.Duration(jobID%250)*time.Millisecond)
}
