package jobs

import (
	"context"
	"errors"
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

	// Whether the shell and Graph answer (graph is nil without Graph).
	shellSide, graphSide *sideWatch
	lastHost             atomic.Pointer[store.WorkerHost] // this host's last check

	mu     sync.Mutex
	cached []store.Hold // the holds as last read
	readAt time.Time
}

// Hold codes that are not failures of a move.
const (
	// HoldNoReadyHost: every worker host failed its readiness check.
	HoldNoReadyHost migration.ErrorCode = "no_ready_host"
)

func newReadiness(pool *pgxpool.Pool, shell migration.Shell, cfg Config, log *slog.Logger) *Readiness {
	host, _ := os.Hostname()
	r := &Readiness{pool: pool, shell: shell, cfg: cfg, log: log, host: host, wake: make(chan struct{}, 1),
		beat: &liveness{pool: pool, cfg: cfg, log: log, host: host}}
	r.ready.Store(true)
	// The probes are reads that touch no user: Get-CsHostingProvider (and
	// Get-CsAccessEdgeConfiguration), and the tenant's organization.
	r.shellSide = newSideWatch(migration.SideShell, "Get-CsHostingProvider", cfg.ProbeTimeout, func(ctx context.Context) error {
		_, err := shell.OnPremises(ctx)
		return err
	})
	if cfg.Directory != nil {
		r.graphSide = newSideWatch(migration.SideGraph, "GET /organization", cfg.ProbeTimeout, func(ctx context.Context) error {
			_, err := cfg.Directory.Tenant(ctx)
			return err
		})
	}
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
	holds, err := r.holds(ctx)
	if err != nil || len(holds) == 0 {
		return nil, err
	}
	return &holds[0], nil
}

// holds returns the deployment's holds (read at most every holdCacheTTL).
func (r *Readiness) holds(ctx context.Context) ([]store.Hold, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.readAt) >= holdCacheTTL {
		holds, err := store.New(r.pool).Holds(ctx)
		if err != nil {
			return nil, err
		}
		r.cached, r.readAt = holds, time.Now()
	}
	return r.cached, nil
}

// forget drops the cached holds, so that the next look reads them.
func (r *Readiness) forget() {
	r.mu.Lock()
	r.readAt = time.Time{}
	r.mu.Unlock()
}

// Hold stops every move start across the deployment. The first process to
// set a hold of a code tells the lead once: every running wave's reason
// names the holds, a wave held by nothing before gets an event (notified to
// webhooks), and the log a warning.
func (r *Readiness) Hold(ctx context.Context, client *river.Client[pgx.Tx], code migration.ErrorCode, reason, evidence string) error {
	defer r.forget()
	r.recheck() // the host check decides when it clears: look soon

	var told []int64 // waves whose reason changed, told once committed
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.HoldsLock(ctx); err != nil {
			return err
		}
		before, err := q.Holds(ctx)
		if err != nil {
			return err
		}
		created, err := q.HoldSet(ctx, store.Hold{Code: code, Reason: reason, Evidence: evidence, SetBy: r.cfg.ID})
		if err != nil || !created {
			return err
		}
		r.log.Warn("moves stopped across the deployment", "code", code, "reason", reason, "evidence", evidence)
		holds, err := q.Holds(ctx)
		if err != nil {
			return err
		}
		waves, err := q.WavesRunning(ctx)
		if err != nil {
			return err
		}
		for _, w := range waves {
			msg := movesWait(holds)
			if err := q.WaveReason(ctx, w.ID, migration.WaveStateRunning, msg, ""); err != nil {
				return err
			}
			told = append(told, w.ID)
			if len(before) > 0 && w.StateReason == movesWait(before) {
				continue // held already, and told so: one event per hold of the wave
			}
			w.StateReason = msg
			ev, err := q.WaveEventAdd(ctx, w.ID, migration.WaveEventHeld, msg+" ("+evidence+")", "worker "+r.cfg.ID)
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

// movesWait is a running wave's reason while holds stop its moves: each
// hold's reason, in the order they were set.
func movesWait(holds []store.Hold) string {
	reasons := make([]string, len(holds))
	for i, h := range holds {
		reasons[i] = h.Reason
	}
	return "moves wait: " + strings.Join(reasons, "; ")
}

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

// Release clears a hold, if there is one. A wave that showed the holds
// shows those left; once none is left, its moves start again, and it says
// so.
func (r *Readiness) Release(ctx context.Context, code migration.ErrorCode) error {
	defer r.forget()
	var told []int64 // waves whose reason changed, told once committed
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.HoldsLock(ctx); err != nil {
			return err
		}
		before, err := q.Holds(ctx)
		if err != nil {
			return err
		}
		h, err := q.HoldClear(ctx, code)
		if err != nil || h == nil {
			return err
		}
		r.log.Info("a hold of the deployment cleared", "code", code, "held_for", time.Since(h.Since).Round(time.Second))
		waves, err := q.WavesRunning(ctx)
		if err != nil {
			return err
		}
		rest, err := q.Holds(ctx)
		if err != nil {
			return err
		}
		next := ""
		if len(rest) > 0 {
			next = movesWait(rest)
		} else {
			r.log.Info("moves start again across the deployment")
		}
		for _, w := range waves {
			if w.StateReason != movesWait(before) {
				continue
			}
			if err := q.WaveReason(ctx, w.ID, migration.WaveStateRunning, next, ""); err != nil {
				return err
			}
			told = append(told, w.ID)
			if len(rest) > 0 {
				continue
			}
			if _, err := q.WaveEventAdd(ctx, w.ID, migration.WaveEventReleased, fmt.Sprintf("moves start again after %s: %s cleared", time.Since(before[0].Since).Round(time.Second), h.Code), "worker "+r.cfg.ID); err != nil {
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
// check decides (a sign-in that fails; a shell or Graph that does not
// answer; no ready host anywhere).
func (r *Readiness) Check(ctx context.Context, client *river.Client[pgx.Tx]) (store.WorkerHost, error) {
	h := store.WorkerHost{ID: r.cfg.ID, Host: r.host, CheckedAt: time.Now()}
	sent := h.CheckedAt
	cctx, cancel := context.WithTimeout(ctx, r.cfg.ShellTimeout)
	facts, err := r.shell.CheckHost(cctx)
	cancel()
	switch {
	case err != nil && noAnswer(err) && ctx.Err() == nil:
		r.shellSide.missed(sent)
		h.Checks = []migration.Check{r.shellUnanswered("the host check did not answer " + unansweredIn(r.cfg.ShellTimeout, err))}
	case err != nil:
		// A host that cannot say how it is takes no moves either.
		h.Checks = []migration.Check{{Name: "shell", Status: migration.CheckFail, Evidence: "the management shell did not answer the host check: " + err.Error(),
			Fix: "Check that PowerShell runs on this host (--pwsh) and that shell.ps1 can start."}}
	default:
		r.shellSide.heard(sent)
		h.Facts, h.Checks = facts, migration.HostReadiness(facts)
	}
	h.Ready = migration.HostReady(h.Checks)
	if err := r.saveHost(ctx, h); err != nil {
		return h, err
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
	answered := err == nil
	if err := r.checkGraph(ctx, client); err != nil {
		return h, err
	}
	if answered {
		if err := r.checkAccount(ctx, client, facts); err != nil {
			return h, err
		}
	}
	return h, r.reviewHosts(ctx, client, h)
}

// checkAccount checks the account Move-CsUser signs in with
// (migration.AccountChecks), records the checks, and holds every move while
// one fails: no user's move could succeed, so none spends an attempt.
func (r *Readiness) checkAccount(ctx context.Context, client *river.Client[pgx.Tx], facts migration.HostFacts) error {
	a := migration.Account{UPN: facts.Account, Graph: r.cfg.Directory != nil, OverrideURL: r.cfg.OverrideURL}
	if a.UPN != "" && a.Graph {
		gctx, cancel := context.WithTimeout(ctx, r.cfg.GraphTimeout)
		roles, err := r.cfg.Directory.AccountRoles(gctx, a.UPN)
		cancel()
		switch {
		case err == nil:
			a.Roles = roles
		case ctx.Err() != nil:
			return ctx.Err()
		case noAnswer(err):
			return nil // Graph's own hold says so; the account is checked once it answers
		default:
			a.RolesError = err.Error()
		}
	}
	checks := migration.AccountChecks(a)
	if err := store.New(r.pool).ReadinessSave(ctx, store.ReadinessSection{Section: migration.SectionAccount, Checks: checks,
		CheckedAt: time.Now(), CheckedBy: r.cfg.ID}); err != nil {
		return err
	}
	for _, c := range checks {
		if c.Status == migration.CheckFail {
			return r.Hold(ctx, client, c.Code, migration.HoldReason(c.Code), c.Evidence+". Fix: "+c.Fix)
		}
	}
	return r.Release(ctx, migration.CodeAccountNotReady)
}

// saveHost records this host's check, and takes the host out of service
// (or back in) as it says.
func (r *Readiness) saveHost(ctx context.Context, h store.WorkerHost) error {
	if err := store.New(r.pool).HostSave(ctx, h); err != nil {
		return err
	}
	r.lastHost.Store(&h)
	if was := r.ready.Swap(h.Ready); was != h.Ready {
		if h.Ready {
			r.log.Info("worker host ready: it takes moves again", "host", r.host)
		} else {
			r.log.Warn("worker host not ready: it takes no moves", "host", r.host, "failed", failedChecks(h.Checks))
		}
	}
	return nil
}

// shellUnanswered is the failed check of a host whose shell did not answer
// (evidence says what): the host takes no moves until it answers a probe
// again.
func (r *Readiness) shellUnanswered(what string) migration.Check {
	f := migration.FailureFor(migration.CodeShellUnavailable)
	return migration.Check{Name: "shell", Status: migration.CheckFail, Code: f.Code,
		Evidence: what, Fix: f.Fix}
}

// reviewHosts holds the deployment when no worker host is ready, and
// releases it when one is: with every host out because its shell does not
// answer, the hold says so (shell_unavailable); otherwise no_ready_host
// names each host's failed checks.
func (r *Readiness) reviewHosts(ctx context.Context, client *river.Client[pgx.Tx], h store.WorkerHost) error {
	if h.Ready {
		if err := r.Release(ctx, HoldNoReadyHost); err != nil {
			return err
		}
		return r.Release(ctx, migration.CodeShellUnavailable)
	}
	hosts, err := store.New(r.pool).HostList(ctx, time.Now().Add(-3*r.cfg.HostCheckEvery))
	if err != nil {
		return err
	}
	var why, silent, evidence []string
	for _, o := range hosts {
		switch {
		case o.Ready:
			return nil // another host takes the moves
		case onlyUnanswered(o.Checks):
			silent = append(silent, o.Host)
			for _, c := range o.Checks {
				if c.Status == migration.CheckFail {
					evidence = append(evidence, o.Host+": "+c.Evidence)
				}
			}
		}
		why = append(why, o.Host+": "+failedChecks(o.Checks))
	}
	if len(silent) == len(hosts) {
		if err := r.Hold(ctx, client, migration.CodeShellUnavailable, migration.ShellUnanswered(silent...), strings.Join(evidence, "; ")); err != nil {
			return err
		}
		return r.Release(ctx, HoldNoReadyHost)
	}
	if err := r.Hold(ctx, client, HoldNoReadyHost, "no worker host is ready", strings.Join(why, "; ")); err != nil {
		return err
	}
	return r.Release(ctx, migration.CodeShellUnavailable)
}

// onlyUnanswered reports whether a host failed its check only because its
// shell did not answer.
func onlyUnanswered(checks []migration.Check) bool {
	failed := false
	for _, c := range checks {
		if c.Status == migration.CheckFail {
			if c.Code != migration.CodeShellUnavailable {
				return false
			}
			failed = true
		}
	}
	return failed
}

// answerMargin is how long after a call that did not answer another must
// have been sent for its answer to clear the side: a call sent in the same
// instant may have reached the side just before it stopped, while ours
// reached it just after (a fault test froze Microsoft's side 7 ms after a
// user's call was sent, and a call sent between them was answered).
const answerMargin = time.Second

// unanswered decides whether a call that did not answer (se) is its user's
// own or the side's: the side answered something after it (another call, or
// a probe made now), or not. A side that does not answer holds moves: for
// Graph, the deployment; for the shell, this host (and the deployment when
// no other host is ready). held says the attempt is not the user's.
func (r *Readiness) unanswered(ctx context.Context, client *river.Client[pgx.Tx], se sideError) (held bool, err error) {
	ctx = context.WithoutCancel(ctx)
	side := r.side(se.side)
	if side == nil {
		return false, nil
	}
	// Never later than now: a call whose time-out was shorter than the
	// margin is judged by what is sent from now on (a probe).
	at := se.sent.Add(answerMargin)
	if now := time.Now(); at.After(now) {
		at = now
	}
	perr := side.answersSince(ctx, at)
	if perr == nil {
		return false, nil
	}
	evidence := se.Error() + "; " + perr.Error()
	if se.side == migration.SideGraph {
		return true, r.Hold(ctx, client, migration.CodeGraphUnavailable, migration.HoldReason(migration.CodeGraphUnavailable), evidence)
	}
	return true, r.shellDown(ctx, client, evidence)
}

// call runs a call of a side (what, in words) under the side's time-out,
// and notes what it says of the side: an answer (even an error is one), or
// none, which comes back as a sideError for unanswered to judge.
func (r *Readiness) call(ctx context.Context, side migration.Side, what string, fn func(context.Context) error) error {
	w, timeout := r.side(side), r.cfg.ShellTimeout
	if side == migration.SideGraph {
		timeout = r.cfg.GraphTimeout
	}
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	err := fn(cctx)
	cancel()
	switch {
	case w == nil:
	case err == nil:
		w.heard(sent)
	case noAnswer(err):
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return sideError{side: side, what: what, within: timeout, sent: sent, at: time.Now(), err: err}
		}
	case errors.Is(err, context.Canceled):
		// Stopped on this side: it says nothing of Microsoft's.
	case !errors.Is(err, migration.ErrSessionBroken):
		w.heard(sent)
	}
	return err
}

// side returns the watch of a side (nil: Graph is not used).
func (r *Readiness) side(s migration.Side) *sideWatch {
	if s == migration.SideGraph {
		return r.graphSide
	}
	return r.shellSide
}

// shellDown takes this host out of service because its shell does not
// answer, keeping what its last check found, and holds the deployment if no
// other host is ready.
func (r *Readiness) shellDown(ctx context.Context, client *river.Client[pgx.Tx], evidence string) error {
	h := store.WorkerHost{ID: r.cfg.ID, Host: r.host, CheckedAt: time.Now()}
	if last := r.lastHost.Load(); last != nil {
		h.Facts = last.Facts
		for _, c := range last.Checks {
			if c.Code != migration.CodeShellUnavailable {
				h.Checks = append(h.Checks, c)
			}
		}
	}
	h.Checks = append([]migration.Check{r.shellUnanswered(evidence)}, h.Checks...)
	if err := r.saveHost(ctx, h); err != nil {
		return err
	}
	return r.reviewHosts(ctx, client, h)
}

// outage reports whether a side is found not answering here, or a hold of a
// side that does not answer is set (by any process).
func (r *Readiness) outage(holds []store.Hold) bool {
	if r.shellSide.isDown() || r.graphSide != nil && r.graphSide.isDown() {
		return true
	}
	for _, h := range holds {
		if h.Code == migration.CodeShellUnavailable || h.Code == migration.CodeGraphUnavailable {
			return true
		}
	}
	return false
}

// probeSides probes the shell and Graph once each: true if both answered.
func (r *Readiness) probeSides(ctx context.Context) bool {
	ok := r.shellSide.check(ctx) == nil
	if r.graphSide != nil && r.graphSide.check(ctx) != nil {
		ok = false
	}
	return ok
}

// checkGraph signs in to Microsoft Graph and reads the organisation, when
// the workers use Graph: a sign-in or a Graph that does not answer, or that
// refuses cutover's credentials, holds the deployment (no user spends an
// attempt on it) until a check passes again.
func (r *Readiness) checkGraph(ctx context.Context, client *river.Client[pgx.Tx]) error {
	if r.cfg.Directory == nil {
		return nil
	}
	sent := time.Now()
	gctx, cancel := context.WithTimeout(ctx, r.cfg.GraphTimeout)
	tenant, err := r.cfg.Directory.Tenant(gctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		if noAnswer(err) {
			r.graphSide.missed(sent)
			r.log.Warn("Microsoft Graph does not answer", "error", err)
			return r.Hold(ctx, client, migration.CodeGraphUnavailable, migration.HoldReason(migration.CodeGraphUnavailable),
				"GET /organization did not answer "+unansweredIn(r.cfg.GraphTimeout, err))
		}
		if f := migration.Classify(err); f.Deployment {
			r.log.Warn("Microsoft Graph: the deployment is not ready", "code", f.Code, "error", err)
			return r.Hold(ctx, client, f.Code, migration.HoldReason(f.Code), err.Error())
		}
		return nil // throttled, say: not the deployment's
	}
	if err == nil {
		r.graphSide.heard(sent)
		// A tenant of a government cloud moves nobody: refused here, at
		// the first check, rather than user by user.
		if c := migration.CloudCheck(tenant); c.Status == migration.CheckFail {
			if err := r.Hold(ctx, client, c.Code, migration.HoldReason(c.Code), c.Evidence); err != nil {
				return err
			}
		} else if err := r.Release(ctx, migration.CodeCloudNotSupported); err != nil {
			return err
		}
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
	octx, cancel := context.WithTimeout(ctx, r.cfg.ShellTimeout)
	o, err := r.shell.OnPremises(octx)
	cancel()
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
	vctx, cancel := context.WithTimeout(ctx, r.cfg.ShellTimeout)
	voice, err := r.shell.VoiceUsers(vctx, list)
	cancel()
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
	var last, probed time.Time
	if !first {
		last = time.Now() // Start checked just now
	}
	for {
		due := time.Since(last) >= r.cfg.HostCheckEvery
		holds, _ := r.holds(ctx)
		if len(holds) > 0 || !r.Ready() {
			due = due || time.Since(last) >= r.cfg.HostRecheck
		}
		// A side that does not answer is probed every few seconds (a read
		// that touches no user); once both answer, the check clears the
		// holds.
		if r.outage(holds) && time.Since(probed) >= r.cfg.ProbeEvery {
			probed = time.Now()
			due = due || r.probeSides(ctx)
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
		case <-time.After(min(r.cfg.HostRecheck, r.cfg.HostCheckEvery, r.cfg.ProbeEvery)):
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
