package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// MoveArgs moves one user. Run is the move's run the job belongs to: a job
// of an earlier run (before a lead's retry) does nothing.
type MoveArgs struct {
	MoveID int64 `json:"move_id"`
	Run    int   `json:"run"`
}

// Kind implements river.JobArgs.
func (MoveArgs) Kind() string { return "move" }

// InsertOpts implements river.JobArgsWithInsertOpts: one job per move and run.
func (MoveArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMoves, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// MoveWorker moves one user: pre-flight (read the homing), capture the
// rollback record, move, verify. A transient failure retries with backoff up
// to the wave's max attempts; a permanent one fails the move at once. Every
// outcome is written in the transaction that completes the job.
//
// A move starts only while its wave runs, inside the wave's maintenance
// windows, and with a slot: under the wave's adaptive limit and the
// deployment's cap on moves in flight.
type MoveWorker struct {
	river.WorkerDefaults[MoveArgs]
	pool   *pgxpool.Pool
	shell  migration.Shell
	cfg    Config
	log    *slog.Logger
	actor  string
	tenant tenantCache
	freed  waiters // moves waiting for a slot freed in this process
	ready  *Readiness
	// overloads are each wave's latest attempt ends in this process: its
	// limit is lowered when a share of them said the service pushes back.
	overloads overloads
}

// NextRetry implements river.Worker: the backoff of Config.
func (w *MoveWorker) NextRetry(job *river.Job[MoveArgs]) time.Time {
	return time.Now().Add(w.cfg.Backoff(job.Attempt, job.ID))
}

// Timeout implements river.Worker.
func (w *MoveWorker) Timeout(*river.Job[MoveArgs]) time.Duration { return w.cfg.jobTimeout() }

// Work implements river.Worker. A move stopped by the database (out of
// reach, or cut off mid-attempt) or whose move changed under it spends no
// attempt: it runs again shortly, reading the move and the homing afresh.
func (w *MoveWorker) Work(ctx context.Context, job *river.Job[MoveArgs]) error {
	defer w.ready.beat.work(job.Args.MoveID)()
	err := w.work(ctx, job)
	if de, ok := errors.AsType[databaseError](err); ok && (ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return w.databaseWait(ctx, job, de)
	}
	if errors.Is(err, store.ErrStale) {
		// The move changed under this attempt (a lead cancelled it, or it
		// went to another process while this one was cut off), or this
		// process lost its slot before the move call: nothing more is done
		// here, and the next run reads the move afresh.
		w.release(context.WithoutCancel(ctx), job.Args.MoveID)
		return river.JobSnooze(time.Second)
	}
	return err
}

// databaseWait hands a move stopped by the database back to the queue
// without spending an attempt, and says so wherever it can: in the log and
// the metrics, and in the move's timeline if the database answers again.
func (w *MoveWorker) databaseWait(ctx context.Context, job *river.Job[MoveArgs], de databaseError) error {
	ctx = context.WithoutCancel(ctx)
	w.log.Warn("a move met a database failure: it runs again shortly, no attempt counted", "move_id", job.Args.MoveID, "error", de.err)
	if w.cfg.Interrupted != nil {
		w.cfg.Interrupted(CauseDatabase, 1)
	}
	note, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = store.New(w.pool).MoveEventAdd(note, job.Args.MoveID, migration.MoveEvent{Attempt: job.Attempt, Actor: w.actor,
		Message: fmt.Sprintf("attempt %d of %d: not counted: the database failed (%s); the move goes on shortly from where it was", job.Attempt, job.MaxAttempts, truncate(de.err.Error(), 300))})
	w.release(note, job.Args.MoveID)
	return river.JobSnooze(time.Second + time.Duration(job.ID%1000)*time.Millisecond)
}

// databaseError marks an error of the database rather than of the user's
// move (store.Unavailable).
type databaseError struct{ err error }

func (e databaseError) Error() string { return "the database: " + e.err.Error() }
func (e databaseError) Unwrap() error { return e.err }

// dbErr marks an error of a query as the database's when it is.
func dbErr(err error) error {
	if store.Unavailable(err) {
		return databaseError{err}
	}
	return err
}

func (w *MoveWorker) work(ctx context.Context, job *river.Job[MoveArgs]) error {
	m, wave, err := store.New(w.pool).MoveWithWave(ctx, job.Args.MoveID)
	err = dbErr(err)
	if migration.ErrorKind(err) == migration.ENotFound {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if m.Run != job.Args.Run || m.State.Done() {
		return nil // a job of an earlier run, or a move ended (or cancelled)
	}
	// Nothing starts on a host that is not ready, or while the deployment
	// is held (a sign-in that fails): the move waits, spending no attempt.
	w.ready.ensure(river.ClientFromContext[pgx.Tx](ctx))
	if err := w.ready.gate(ctx, job.ID); err != nil {
		return dbErr(err)
	}
	// A move cut off in flight (its worker died) finishes whatever its wave
	// does since; one that has not started waits for its wave and window.
	var cal migration.Calendar
	hold := true // a move cut off in flight is rare: hold its slot whatever its wave
	if !m.State.InFlight() {
		if wave.State == migration.WaveStatePaused {
			return river.JobSnooze(w.cfg.PausePoll)
		}
		cal, hold = wave.Calendar(), wave.Threshold.Set()
	}
	closed := func() error {
		if cal.Always() {
			return nil
		}
		now := w.cfg.Now()
		next, ok := cal.NextOpen(now)
		if !ok {
			return river.JobSnooze(24 * time.Hour)
		}
		if next.After(now) {
			return river.JobSnooze(w.cfg.windowWait(next) + time.Duration(job.ID%1000)*time.Millisecond)
		}
		return nil
	}
	a := &attempt{w: w, job: job, move: m, wave: wave, n: job.Attempt, holdSlot: hold}
	start := a.start()
	lease, err := w.acquire(ctx, m, closed, start)
	if errors.Is(err, store.ErrStale) {
		// The slot was taken, but the move changed under us before it
		// started (its wave halted or was cancelled): nothing was done.
		w.release(context.WithoutCancel(ctx), m.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if !lease.OK {
		switch lease.WaveState {
		case migration.WaveStateRunning:
			// Still no slot: wait without spending an attempt.
			return river.JobSnooze(time.Second + time.Duration(job.ID%500)*time.Millisecond)
		case migration.WaveStatePaused:
			return river.JobSnooze(w.cfg.PausePoll)
		}
		return nil // the wave halted or was cancelled: the move was cancelled with it
	}
	a.leasedAt, a.slotAt = lease.At, time.Now()
	if start != nil {
		a.changed(*start)
	}
	err = a.run(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// Cancelled (the process is stopping): free the slot and hand the
		// move to the next worker without spending an attempt. That worker
		// reads the homing first, so a move cut off half way is not repeated.
		w.release(context.WithoutCancel(ctx), m.ID)
		return river.JobSnooze(0)
	}
	return err
}

// acquire takes a slot for the move, waiting for one up to slotWait: a slot
// freed in this process wakes it at once, one freed elsewhere within
// SlotPoll. A move in flight already (cut off by a dead worker) takes a
// slot whatever its wave's state. closed says whether the move's window is
// closed (an error to return), before each try. start, when set, is the
// change that starts the move, made with the slot in one statement; the
// slot is held when that returns ErrStale.
func (w *MoveWorker) acquire(ctx context.Context, m migration.Move, closed func() error, start *store.MoveChange) (store.Lease, error) {
	q := store.New(w.pool)
	req := store.LeaseRequest{WaveID: m.WaveID, MoveID: m.ID, TTL: w.cfg.leaseTTL(), AnyState: m.State.InFlight(), Holder: w.cfg.ID}
	deadline := time.Now().Add(w.cfg.slotWait())
	// Registered before each try, so that a slot freed here during the
	// try wakes this move (or another waiting one) rather than nobody.
	wake := w.freed.wait()
	defer func() { w.freed.drop(wake) }()
	hops := -1 // not woken
	for {
		if err := closed(); err != nil {
			return store.Lease{}, err
		}
		var lease store.Lease
		var err error
		if start != nil {
			lease, err = q.LeaseStart(ctx, req, *start)
		} else {
			lease, err = q.LeaseAcquire(ctx, req)
		}
		if err != nil {
			return lease, dbErr(err)
		}
		if lease.OK || lease.WaveState != migration.WaveStateRunning && !m.State.InFlight() {
			return lease, nil
		}
		if hops >= 0 && hops < maxHops && lease.WaveFull {
			// Woken for a slot this move's wave may not take (it is at
			// its limit): pass it on to the next move waiting, which may
			// be of another wave. (A slot another move took first is
			// gone: there is nothing to pass on.)
			w.freed.drop(wake)
			w.freed.wakeOne(hops + 1)
			wake = w.freed.wait()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return lease, nil
		}
		poll := time.NewTimer(min(left, w.cfg.SlotPoll))
		select {
		case <-ctx.Done():
			poll.Stop()
			return lease, ctx.Err()
		case hops = <-wake:
			wake = w.freed.wait()
		case <-poll.C:
			hops = -1
		}
		poll.Stop()
	}
}

// release frees the move's slot and wakes a move waiting for one here.
func (w *MoveWorker) release(ctx context.Context, moveID int64) {
	if err := store.New(w.pool).LeaseRelease(ctx, moveID, w.cfg.ID); err != nil {
		w.log.Warn("freeing a move's slot failed; the slot frees itself when it expires", "move_id", moveID, "error", err)
	}
	w.freed.wakeOne(0)
}

// waiters are the moves of this process waiting for a slot, first come
// first woken: a slot freed here wakes one of them, not all, which would
// send them all to the database for the one slot.
type waiters struct {
	mu sync.Mutex
	q  []chan int
}

// wait registers a waiter. Its channel receives, when it is woken, how many
// waiters the wake was passed on by already.
func (s *waiters) wait() chan int {
	ch := make(chan int, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q = append(s.q, ch)
	return ch
}

// drop unregisters a waiter that no longer waits: a wake it was given and
// did not use (its own try took a slot, or it passes a wake on) goes to the
// next waiter.
func (s *waiters) drop(ch chan int) {
	s.mu.Lock()
	if i := slices.Index(s.q, ch); i >= 0 {
		s.q = slices.Delete(s.q, i, i+1)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	select {
	case hops := <-ch:
		s.wakeOne(hops)
	default:
	}
}

// wakeOne wakes the waiter that has waited longest, if any, telling it the
// wake was passed on hops times.
func (s *waiters) wakeOne(hops int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) > 0 {
		s.q[0] <- hops
		s.q = slices.Delete(s.q, 0, 1)
	}
}

// maxHops bounds how often a wake is passed on, so that moves of waves at
// their limits do not pass it round for ever.
const maxHops = 8

// attempt is one run of a move job.
type attempt struct {
	w           *MoveWorker
	job         *river.Job[MoveArgs]
	move        migration.Move
	wave        migration.Wave
	n           int
	directoryID string        // the user's object ID in Entra ID, once known
	licencedAt  time.Time     // when the user's licence was assigned, as Graph says (zero: unknown)
	leasedAt    time.Time     // when the attempt took its slot (the database's clock)
	slotAt      time.Time     // when the attempt took its slot (this process's clock)
	callTook    time.Duration // how long its Move-CsUser took
	// pending is a change made but not yet written (verifying, after the
	// move call): it is written with the next change, in the same round
	// trip. A move cut off before then is still moving with its move call
	// recorded, and the next attempt reads the homing before anything else.
	pending *store.MoveChange
	// holdSlot keeps the slot through the review of the wave after the
	// move's end (see finish).
	holdSlot bool
}

// start is the change that starts the attempt, made with its slot: nil for
// a move back from waiting for Teams, which verifies without a pre-flight.
func (a *attempt) start() *store.MoveChange {
	if a.resumesVerifying() {
		return nil
	}
	step := "pre-flight: reading the user's homing (Get-CsUser)"
	if a.move.State.InFlight() {
		// A run before this one was cut off (its worker died or stopped,
		// or the database failed) without counting the attempt: the run's
		// number tells this line from the last.
		step = fmt.Sprintf("resumed after an interruption that is not counted (run %d): ", len(a.job.AttemptedBy)) + step
	}
	return &store.MoveChange{
		MoveID: a.move.ID, Attempt: a.n, Actor: a.w.actor,
		To:      migration.MoveStatePreflight,
		From:    []migration.MoveState{migration.MoveStateQueued, migration.MoveStateRetrying, migration.MoveStatePreflight, migration.MoveStateMoving, migration.MoveStateVerifying},
		Message: a.prefix() + step,
	}
}

// resumesVerifying reports whether the move is back from waiting for Teams
// to show the move (or from a worker that died while verifying).
func (a *attempt) resumesVerifying() bool {
	return a.move.State == migration.MoveStateVerifying && a.move.MoveIssuedAt != nil
}

func (a *attempt) prefix() string {
	return fmt.Sprintf("attempt %d of %d: ", a.n, a.job.MaxAttempts)
}

// run works the attempt, started (see start) and holding its slot.
func (a *attempt) run(ctx context.Context) error {
	if a.move.State == migration.MoveStateVerifying {
		// Back from waiting for Teams to show the move (or from a worker
		// that died while verifying): verification reads the homing afresh.
		return a.verify(ctx)
	}
	q := store.New(a.w.pool)
	u, err := a.getUser(ctx)
	if err != nil {
		return a.fail(ctx, err)
	}
	if u.HomedOnline(a.w.cfg.Target) {
		if a.move.MoveIssuedAt != nil {
			if err := a.change(ctx, q, store.MoveChange{To: migration.MoveStateVerifying,
				Message: "homed online after the move call of an earlier attempt (HostingProvider " + u.HostingProvider + "); verifying, not moving again"}); err != nil {
				return err
			}
			return a.verify(ctx)
		}
		return a.finish(ctx, store.MoveChange{To: migration.MoveStateSkipped,
			Message: "already homed online (HostingProvider " + u.HostingProvider + "); not moved"})
	}
	if err := a.preflight(ctx, q, u); err != nil {
		return a.fail(ctx, err)
	}
	// A hold set while this attempt read the user stops it here, before
	// the move call: the slot goes back, and the next run starts again.
	if err := a.w.ready.gate(ctx, a.job.ID); err != nil {
		a.w.release(context.WithoutCancel(ctx), a.move.ID)
		return err
	}

	// The rollback record and the change to moving: one statement, before
	// the move call.
	opts := migration.MoveOnlineOptions{Target: a.w.cfg.Target,
		BypassEnterpriseVoiceCheck: a.wave.BypassEnterpriseVoiceCheck && u.EnterpriseVoiceEnabled}
	if err := a.change(ctx, q, store.MoveChange{
		To:         migration.MoveStateMoving,
		MoveIssued: true,
		SlotHolder: a.w.cfg.ID, // no move call on a slot this process lost
		Capture:    &u,
		Message:    "moving online (" + moveCommand(opts) + ")",
	}); err != nil {
		return err
	}
	called := time.Now()
	err = a.shellCall(ctx, "Move-CsUser", func(ctx context.Context) error { return a.w.shell.MoveOnline(ctx, a.move.UPN, opts) })
	a.callTook = time.Since(called)
	if err != nil {
		return a.fail(ctx, err)
	}
	a.pending = &store.MoveChange{MoveID: a.move.ID, Attempt: a.n, Actor: a.w.actor,
		To: migration.MoveStateVerifying, Message: "move accepted; verifying the homing (Get-CsUser)"}
	return a.verify(ctx)
}

// moveCommand is the move call in words for the timeline.
func moveCommand(o migration.MoveOnlineOptions) string {
	s := "Move-CsUser -Target " + o.TargetOrDefault()
	if o.BypassEnterpriseVoiceCheck {
		s += " -BypassEnterpriseVoiceCheck"
	}
	return s
}

// preflight checks the user in Microsoft Graph (when cutover has it), with
// what Get-CsUser says of their voice settings, and records the result: a
// failed check stops the move with its code.
func (a *attempt) preflight(ctx context.Context, q *store.Queries, on migration.ShellUser) error {
	dir := a.w.cfg.Directory
	if dir == nil {
		return nil
	}
	var tenant migration.Tenant
	if err := a.graphCall(ctx, "GET /organization", func(ctx context.Context) (err error) { tenant, err = a.w.tenant.get(ctx, dir); return err }); err != nil {
		return err
	}
	var users map[string]migration.DirectoryUser
	if err := a.graphCall(ctx, "GET /users", func(ctx context.Context) (err error) { users, err = dir.Users(ctx, []string{a.move.UPN}); return err }); err != nil {
		return err
	}
	var du *migration.DirectoryUser
	if u, ok := users[a.move.UPN]; ok {
		du = &u
	}
	now := time.Now()
	checks := migration.UserPreflight(du, migration.Member{UPN: a.move.UPN, SIP: a.move.SIP}, tenant, now, a.w.cfg.LicenceSettle)
	if c := migration.VoiceCheck(du, on, a.wave.BypassEnterpriseVoiceCheck); c != nil && du != nil {
		checks = append(checks, *c)
	}
	if err := q.PreflightSave(ctx, a.move.MemberID, checks, now); err != nil {
		return dbErr(err)
	}
	if err := migration.FirstFailure(checks); err != nil {
		return err
	}
	if du != nil {
		a.directoryID, a.licencedAt = du.ID, migration.LicenceAssignedAt(du)
	}
	return dbErr(q.MoveEventAdd(ctx, a.move.ID, migration.MoveEvent{Attempt: a.n, Actor: a.w.actor,
		Message: "pre-flight in Entra ID: " + summarise(checks)}))
}

// summarise says in a line how checks went, naming the warnings.
func summarise(checks []migration.Check) string {
	passed := 0
	var warnings []string
	for _, c := range checks {
		switch c.Status {
		case migration.CheckPass:
			passed++
		case migration.CheckWarn:
			warnings = append(warnings, c.Name+": "+c.Evidence)
		}
	}
	s := fmt.Sprintf("%d checks passed", passed)
	if len(warnings) > 0 {
		s += fmt.Sprintf(", %d warning(s): %s", len(warnings), strings.Join(warnings, "; "))
	}
	return s
}

// verify reads the homing back from the shell and, with Graph, waits (up to
// ProvisioningWait after the move call) for Teams to stop showing the user
// as on premises. The move is moved only when both agree.
func (a *attempt) verify(ctx context.Context) error {
	u, err := a.getUser(ctx)
	if err != nil {
		return a.fail(ctx, err)
	}
	if !u.HomedOnline(a.w.cfg.Target) {
		return a.fail(ctx, fmt.Errorf("the user is not homed online at %s after the move (HostingProvider %q, RegistrarPool %q)", a.w.cfg.Target, u.HostingProvider, u.RegistrarPool))
	}
	dir := a.w.cfg.Directory
	if dir == nil {
		return a.finish(ctx, store.MoveChange{To: migration.MoveStateMoved, Message: "homed online (HostingProvider " + u.HostingProvider + ")"})
	}
	if a.directoryID == "" {
		var users map[string]migration.DirectoryUser
		if err := a.graphCall(ctx, "GET /users", func(ctx context.Context) (err error) { users, err = dir.Users(ctx, []string{a.move.UPN}); return err }); err != nil {
			return a.fail(ctx, err)
		}
		du, ok := users[a.move.UPN]
		if !ok {
			return a.fail(ctx, &migration.PreflightError{Check: migration.Check{Name: "account", Status: migration.CheckFail,
				Code: migration.CodeAccountNotFound, Evidence: a.move.UPN + " has no account in Entra ID"}})
		}
		a.directoryID = du.ID
	}
	var account string
	if err := a.graphCall(ctx, "GET /users/{id}/teamwork/teamsUserConfiguration", func(ctx context.Context) (err error) {
		account, err = dir.TeamsAccountType(ctx, a.directoryID)
		return err
	}); err != nil {
		return a.fail(ctx, err)
	}
	if account == migration.AccountTypeUser {
		return a.finish(ctx, store.MoveChange{To: migration.MoveStateMoved,
			Message: "homed online (HostingProvider " + u.HostingProvider + "; Teams accountType " + account + ")"})
	}
	// Anything but user is not done: sfbOnPremUser while Teams takes the
	// move in; ineligibleUser, unknown and the rest say why in the timeline.
	shows := fmt.Sprintf("Teams shows accountType %s (%s)", account, migration.AccountTypeMeaning(account))
	// Measured from Teams' first answer of the run after the move call,
	// less the time the deployment was held and the time the move spent
	// stranded on a worker process that died (migration.TeamsWaited).
	q := store.New(a.w.pool)
	since, err := q.MoveTeamsWaitingSince(ctx, a.move.ID)
	if err != nil {
		return dbErr(err)
	}
	var waited, held time.Duration
	if since != nil {
		now := time.Now()
		spans, err := q.HeldSpans(ctx, *since)
		if err != nil {
			return dbErr(err)
		}
		held = migration.HeldWithin(spans, *since, now)
		waited = migration.TeamsWaited(*since, now, held, a.move.Stranded)
	}
	if since != nil && waited >= a.w.cfg.ProvisioningWait {
		msg := fmt.Sprintf("%s after a wait of %s, not user", shows, waited.Round(time.Second))
		if held > 0 {
			msg += fmt.Sprintf(" (the %s the deployment was held is not counted)", held.Round(time.Second))
		}
		return a.finish(ctx, store.MoveChange{To: migration.MoveStateFailed, ErrorCode: migration.CodeNotProvisionedOnline,
			ErrorMessage: msg, Message: fmt.Sprintf("failed: %s: %s", migration.CodeNotProvisionedOnline, msg)})
	}
	// Wait for provisioning without holding a slot or spending an attempt.
	// Look again after half the time waited so far: at least RetryBase, at
	// most five minutes, and not past the end of the wait.
	wait := min(max(waited/2, a.w.cfg.RetryBase), 5*time.Minute, a.w.cfg.ProvisioningWait-waited) + 10*time.Millisecond
	if err := a.flush(ctx, q); err != nil {
		return err
	}
	if err := q.MoveWaitNote(ctx, a.move.ID, time.Now().Add(wait), true, migration.MoveEvent{Attempt: a.n, Actor: a.w.actor,
		Message: fmt.Sprintf("on premises the user is online; %s: waiting up to %s for accountType user", shows, a.w.cfg.ProvisioningWait)}); err != nil {
		return dbErr(err)
	}
	a.w.release(ctx, a.move.ID)
	return river.JobSnooze(wait)
}

func (a *attempt) getUser(ctx context.Context) (migration.ShellUser, error) {
	var u migration.ShellUser
	err := a.shellCall(ctx, "Get-CsUser", func(ctx context.Context) (err error) {
		u, err = a.w.shell.GetUser(ctx, a.move.UPN)
		return err
	})
	return u, err
}

// shellCall runs the user's cmdlet under the shell time-out (Readiness.call).
func (a *attempt) shellCall(ctx context.Context, cmdlet string, call func(context.Context) error) error {
	return a.w.ready.call(ctx, migration.SideShell, cmdlet+" for "+a.move.UPN, call)
}

// graphCall runs one Graph request for the user under the Graph time-out
// (Readiness.call).
func (a *attempt) graphCall(ctx context.Context, request string, call func(context.Context) error) error {
	return a.w.ready.call(ctx, migration.SideGraph, request+" for "+a.move.UPN, call)
}

// change moves the move to a new state and records the event, after the
// pending change if there is one, in one round trip; with release it frees
// the move's slot in the same implicit transaction.
func (a *attempt) change(ctx context.Context, q *store.Queries, c store.MoveChange, release ...bool) error {
	releaseBy := ""
	if len(release) > 0 && release[0] {
		releaseBy = a.w.cfg.ID
	}
	return a.write(c, func(cs []store.MoveChange) error { return q.MoveUpdates(ctx, releaseBy, cs...) })
}

// end is change for the change that ends the attempt (how: ending): once
// it has committed, in the same round trip, it reads the facts of its
// wave's review (store.MoveEnd). The facts are zero when the end was
// written but the read after it failed.
func (a *attempt) end(ctx context.Context, c store.MoveChange, ending migration.MoveEnding, release bool) (act migration.WaveFacts, err error) {
	releaseBy := ""
	if release {
		releaseBy = a.w.cfg.ID
	}
	err = a.write(c, func(cs []store.MoveChange) (err error) {
		act, err = store.New(a.w.pool).MoveEnd(ctx, a.move.WaveID, ending, releaseBy, cs...)
		if errors.Is(err, store.ErrEndUnread) {
			// The end is written: only the review of the wave is lost,
			// and the sweep makes it up.
			a.w.log.Warn("a move ended, but its wave could not be read after it; the sweep reviews the wave", "wave_id", a.move.WaveID, "move_id", a.move.ID, "error", err)
			act, err = migration.WaveFacts{}, nil
		}
		return err
	})
	return act, err
}

// write writes c, after the pending change if there is one, with send.
func (a *attempt) write(c store.MoveChange, send func([]store.MoveChange) error) error {
	c.MoveID, c.Attempt, c.Actor = a.move.ID, a.n, a.w.actor
	cs := []store.MoveChange{c}
	if a.pending != nil {
		cs = []store.MoveChange{*a.pending, c}
	}
	if err := send(cs); err != nil {
		return dbErr(err)
	}
	for _, c := range cs {
		a.changed(c)
	}
	return nil
}

// flush writes the pending change, if any.
func (a *attempt) flush(ctx context.Context, q *store.Queries) error {
	if a.pending == nil {
		return nil
	}
	if err := q.MoveUpdate(ctx, *a.pending); err != nil {
		return dbErr(err)
	}
	a.changed(*a.pending)
	return nil
}

// changed notes a change written to the move (committed: the pages
// following its wave are told).
func (a *attempt) changed(c store.MoveChange) {
	a.w.cfg.Notifier.Touch(a.move.WaveID)
	if a.pending != nil && c.To == a.pending.To {
		a.pending = nil
	}
	a.move.State = c.To
	if c.To == migration.MoveStatePreflight && a.move.StartedAt == nil {
		now := time.Now()
		a.move.StartedAt = &now
	}
	if c.MoveIssued && a.move.MoveIssuedAt == nil {
		now := time.Now() // the database's own is a moment earlier
		a.move.MoveIssuedAt = &now
	}
}

// fail records a failed attempt: a transient failure with attempts left
// waits for its retry (River schedules it with NextRetry); anything else
// fails the move.
func (a *attempt) fail(ctx context.Context, cause error) error {
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return cause // stopping: Work hands the move on
	}
	if _, ok := errors.AsType[databaseError](cause); ok {
		return cause // not the user's: Work hands the move on
	}
	if se, ok := errors.AsType[sideError](cause); ok {
		held, err := a.w.ready.unanswered(ctx, river.ClientFromContext[pgx.Tx](ctx), se)
		if err != nil {
			return dbErr(err)
		}
		if held {
			return a.unanswered(ctx, se)
		}
	}
	f, err := a.classify(ctx, cause)
	if err != nil {
		return err
	}
	breaks := 0
	if f.Code == migration.CodeSessionBroken {
		if _, breaks, err = store.New(a.w.pool).MoveRunErrors(context.WithoutCancel(ctx), a.move.ID, f.Code); err != nil {
			return dbErr(err)
		}
	}
	return afterFailure(f, cause, a.n, a.job.MaxAttempts, breaks, failureSteps{
		hold:   func(f migration.Failure, msg string) error { return a.hold(ctx, f, msg) },
		resume: func(f migration.Failure, msg string) error { return a.resume(ctx, f, msg) },
		fail: func(f migration.Failure, msg, note string) error {
			return a.finish(ctx, store.MoveChange{To: migration.MoveStateFailed, ErrorCode: f.Code, ErrorMessage: msg,
				Message: fmt.Sprintf("failed: %s: %s%s", f.Code, msg, note)})
		},
		retry: func(f migration.Failure, msg string) error { return a.retry(ctx, f, msg, cause) },
	})
}

// retry writes that the attempt failed and when the next one is, frees the
// move's slot, and returns the error that has River run the job again.
func (a *attempt) retry(ctx context.Context, f migration.Failure, msg string, cause error) error {
	next := time.Now().Add(a.w.cfg.Backoff(a.n, a.job.ID)).Truncate(time.Second)
	err := a.change(context.WithoutCancel(ctx), store.New(a.w.pool), store.MoveChange{
		To: migration.MoveStateRetrying, ErrorCode: f.Code, ErrorMessage: msg, NextAttemptAt: &next,
		Message: a.prefix() + fmt.Sprintf("failed: %s: %s; next attempt at %s", f.Code, msg, next.UTC().Format("15:04:05 UTC")),
	}, true)
	if err != nil {
		return err
	}
	a.w.freed.wakeOne(0)
	if a.w.overloads.end(a.move.WaveID, f.Overload(), time.Now()) {
		a.overload(context.WithoutCancel(ctx), f.Code)
	}
	return fmt.Errorf("%s: %w", f.Code, cause)
}

// hold stops moves across the deployment for a failure that is not the
// user's (a sign-in that fails, Graph unreachable): the attempt is not counted, the slot is
// freed, and the move waits for the hold to clear. The next run reads the
// homing first, so a move cut off here is not made twice.
func (a *attempt) hold(ctx context.Context, f migration.Failure, msg string) error {
	ctx = context.WithoutCancel(ctx)
	if err := a.w.ready.holdMove(ctx, river.ClientFromContext[pgx.Tx](ctx), f, a.move.ID,
		migration.MoveEvent{Attempt: a.n, Actor: a.w.actor, Message: a.prefix()}, msg); err != nil {
		return dbErr(err)
	}
	a.w.release(ctx, a.move.ID)
	return a.w.ready.snooze(a.job.ID)
}

// resume hands back a move stopped by a failure that is not the user's
// (the shell's session broke: the host's fault): the attempt is not
// counted, the timeline says so, the slot is freed, and this host checks
// its shell again at once (a host that fails takes no moves, and with none
// ready the deployment is held).
func (a *attempt) resume(ctx context.Context, f migration.Failure, msg string) error {
	ctx = context.WithoutCancel(ctx)
	if err := store.New(a.w.pool).MoveEventAdd(ctx, a.move.ID, migration.MoveEvent{Attempt: a.n, Actor: a.w.actor, ErrorCode: f.Code,
		Message: a.prefix() + "not counted: " + string(f.Code) + ": " + msg + "; this host checks its shell again, and the move goes on from where it was"}); err != nil {
		return dbErr(err)
	}
	if a.w.cfg.Interrupted != nil {
		a.w.cfg.Interrupted(CauseShellSession, 1)
	}
	a.w.ready.recheck()
	a.w.release(ctx, a.move.ID)
	return a.w.ready.snooze(a.job.ID)
}

// unanswered hands back a move whose call met a side that does not answer
// (the deployment, or this host, is held for it): the attempt is not
// counted, the timeline says so, the slot is freed, and the move waits for
// the side to answer a probe again.
func (a *attempt) unanswered(ctx context.Context, se sideError) error {
	ctx = context.WithoutCancel(ctx)
	e := notCounted(a.prefix(), se)
	e.Attempt, e.Actor = a.n, a.w.actor
	if err := store.New(a.w.pool).MoveEventAdd(ctx, a.move.ID, e); err != nil {
		return dbErr(err)
	}
	if a.w.cfg.Interrupted != nil {
		a.w.cfg.Interrupted(string(se.side.Code()), 1)
	}
	a.w.release(ctx, a.move.ID)
	return a.w.ready.snooze(a.job.ID)
}

// classify finds the failure's catalogue entry. A 507 is read against time
// (migration.SettleLicence): from the licence's assignment in Graph, or
// else from the first 507 of this run of the move.
func (a *attempt) classify(ctx context.Context, cause error) (migration.Failure, error) {
	if _, ok := errors.AsType[sideError](cause); ok {
		// A call that did not answer while its side answered others:
		// the user's own time-out.
		return migration.FailureFor(migration.CodeTimeout), nil
	}
	f := migration.Classify(cause)
	if f.Code != migration.CodeLicenceMissing {
		return f, nil
	}
	ctx = context.WithoutCancel(ctx)
	q := store.New(a.w.pool)
	since := a.licencedAt
	if since.IsZero() {
		first, _, err := q.MoveRunErrors(ctx, a.move.ID, migration.CodeLicenceProvisioning)
		if err != nil {
			return f, dbErr(err)
		}
		since = cmp.Or(first, time.Now())
	}
	// The time the deployment was held is not the licence's: read the
	// settle time without it.
	now := time.Now()
	spans, err := q.HeldSpans(ctx, since)
	if err != nil {
		return f, dbErr(err)
	}
	return migration.SettleLicence(f, since, now.Add(-migration.HeldWithin(spans, since, now)), a.w.cfg.LicenceSettle), nil
}

// overload lowers the wave's adaptive limit after a throttling or time-out
// failure, once the wave's latest attempt ends say the service is
// struggling (overloads). It runs after the failure is recorded, in a
// transaction of its own: a limit not lowered is no reason to lose the
// failure.
func (a *attempt) overload(ctx context.Context, code migration.ErrorCode) {
	from, to, err := store.New(a.w.pool).WaveLimitOverload(ctx, a.move.WaveID, a.leasedAt, code, a.w.actor)
	switch {
	case err != nil:
		a.w.log.Warn("lowering the wave's concurrency failed", "wave_id", a.move.WaveID, "error", err)
	case to < from:
		a.w.cfg.Notifier.Touch(a.move.WaveID)
		a.w.log.Info("wave's concurrency lowered", "wave_id", a.move.WaveID, "wave", a.move.WaveName, "from", from, "to", to, "code", code)
	}
}

// finish ends the move (moved, skipped or failed) and frees its slot in one
// round trip, which reads the facts of the wave's review; then it reviews
// the wave (app.ReviewAfterEnd), which counts the outcome toward the wave's
// adaptive limit and halts or completes the wave as the rule says.
func (a *attempt) finish(ctx context.Context, c store.MoveChange) error {
	ctx = context.WithoutCancel(ctx) // the outcome is known: record it even if the job times out now
	c.Message = a.prefix() + c.Message
	failed := c.To == migration.MoveStateFailed
	overload := failed && migration.FailureFor(c.ErrorCode).Overload()
	ending := migration.MoveEnding{Counted: true, Failed: failed, Overload: overload}
	// River completes the job once Work returns: a move already ended
	// makes a rerun of the job do nothing, so the two need not commit
	// together.
	//
	// In a wave with a failure threshold the slot is held until the wave
	// has been reviewed, so that no move takes it before the threshold
	// halts the wave.
	hold := a.holdSlot
	act, err := a.end(ctx, c, ending, !hold)
	if err != nil {
		return err
	}
	if !hold {
		a.w.freed.wakeOne(0)
		a.slotHeld()
	}
	var out store.WaveOutcome
	if act.Wave.ID != 0 { // else unread: the sweep reviews the wave
		out, err = app.ReviewAfterEnd(ctx, a.w.pool, queueOf(ctx), act, a.move.ID, ending, a.w.actor)
	}
	if err != nil {
		// The move's end is recorded; the wave is reviewed again by the
		// next move's end or the sweep.
		a.w.log.Warn("reviewing the wave after a move ended failed", "wave_id", a.move.WaveID, "move_id", a.move.ID, "error", err)
	} else {
		touchOutcome(a.w.cfg.Notifier, a.move.WaveID, out)
	}
	if hold {
		a.w.release(ctx, a.move.ID)
		a.slotHeld()
	}
	logOutcome(a.w.log, out)
	if a.w.cfg.MoveEnded != nil {
		took := time.Duration(0)
		if a.move.StartedAt != nil {
			took = time.Since(*a.move.StartedAt)
		}
		a.w.cfg.MoveEnded(c.To, took)
	}
	if a.w.overloads.end(a.move.WaveID, overload, time.Now()) {
		a.overload(ctx, c.ErrorCode)
	}
	return nil
}

// slotHeld reports, once the slot is freed, how long the attempt held it
// outside its move call (attempts that made no call are not reported).
func (a *attempt) slotHeld() {
	if a.w.cfg.SlotHeld != nil && a.callTook > 0 && !a.slotAt.IsZero() {
		a.w.cfg.SlotHeld(time.Since(a.slotAt) - a.callTook)
	}
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
