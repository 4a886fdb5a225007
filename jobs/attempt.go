package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// The attempt: one run of a move job, from its pre-flight to its check
// that the user is homed online and provisioned in Teams.

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
	// Read once in a while; a read from the cache is no call of Graph's.
	tenant, fresh := a.w.tenant.cached()
	if !fresh {
		if err := a.graphCall(ctx, "GET /organization", func(ctx context.Context) (err error) { tenant, err = a.w.tenant.get(ctx, dir); return err }); err != nil {
			return err
		}
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
