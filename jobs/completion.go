package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// CompletionArgs looks at the moved users' completion items that are due
// (migration.CompletionItem): River's leader inserts it every
// Config.CompletionEvery, and a worker process (which has the shell) works
// it.
type CompletionArgs struct{}

// Kind implements river.JobArgs.
func (CompletionArgs) Kind() string { return "completion" }

// InsertOpts implements river.JobArgsWithInsertOpts: one at a time.
func (CompletionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMoves, MaxAttempts: 1, UniqueOpts: oneAtATime}
}

// completionBatch is how many items one claim takes, and completionCalls
// how many of their shell calls run at once.
const (
	completionBatch = 200
	completionCalls = 4
)

// CompletionWorker works CompletionArgs: it claims the items due, a batch
// at a time, looks at each (asking Microsoft only when there is something
// to ask), and writes what it found in one statement per batch, so that a
// look at N users costs the database a constant number of statements, not
// one per user. A call that does not answer, or a shell that cannot be
// reached, changes nothing: the item is looked at again when its claim
// ends, and no user is marked failed for it.
type CompletionWorker struct {
	river.WorkerDefaults[CompletionArgs]
	pool       *pgxpool.Pool
	shell      migration.Shell
	completion migration.CompletionShell
	cfg        Config
	log        *slog.Logger
	actor      string
}

// Timeout implements river.Worker: a run claims batches for at most the
// interval it runs at, and a look at one item makes at most two calls to
// each of Graph and the shell (the users' IDs and the number's assignment;
// Get-CsUser and the step taken), each bounded.
func (w *CompletionWorker) Timeout(*river.Job[CompletionArgs]) time.Duration {
	return w.cfg.CompletionEvery + 2*w.cfg.ShellTimeout + 2*w.cfg.GraphTimeout
}

// Work implements river.Worker.
func (w *CompletionWorker) Work(ctx context.Context, _ *river.Job[CompletionArgs]) error {
	until := time.Now().Add(w.cfg.CompletionEvery)
	for time.Now().Before(until) {
		n, err := w.batch(ctx)
		if err != nil || n < completionBatch {
			return err
		}
	}
	return nil
}

// batch claims and looks at one batch, and says how many items it claimed.
func (w *CompletionWorker) batch(ctx context.Context) (int, error) {
	q := store.New(w.pool)
	lease := 2*w.cfg.ShellTimeout + time.Minute
	items, err := q.CompletionClaim(ctx, completionBatch, lease)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	ids := w.userIDs(ctx, items)
	looks := make([]store.CompletionLook, len(items))
	found := make([]bool, len(items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(completionCalls)
	for i, it := range items {
		g.Go(func() error {
			step, ok := w.look(gctx, it, ids)
			looks[i], found[i] = store.CompletionLook{MoveID: it.MoveID, Kind: it.Kind, Step: step}, ok
			return nil
		})
	}
	_ = g.Wait()
	var write []store.CompletionLook
	var later []store.CompletionDueItem
	for i, l := range looks {
		if found[i] {
			write = append(write, l)
		} else {
			later = append(later, items[i])
		}
	}
	if err := q.CompletionSet(context.WithoutCancel(ctx), write, w.actor); err != nil {
		return 0, err
	}
	if len(later) > 0 {
		w.log.Warn("completion: Microsoft did not answer for some users; they are looked at again later", "users", len(later))
		if err := q.CompletionLater(context.WithoutCancel(ctx), later, time.Now().Add(w.retryAfter())); err != nil {
			return 0, err
		}
	}
	return len(items), nil
}

// userIDs reads the Entra ID object IDs of the batch's users whose voice
// item is due, in one read of Graph (nil without Graph, or when it does not
// answer: their items wait).
func (w *CompletionWorker) userIDs(ctx context.Context, items []store.CompletionDueItem) map[string]string {
	var upns []string
	for _, it := range items {
		if (it.Kind == migration.ItemVoice || it.Kind == migration.ItemNumber) && !it.Bypass {
			upns = append(upns, it.UPN)
		}
	}
	if len(upns) == 0 || w.cfg.Directory == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, w.cfg.GraphTimeout)
	defer cancel()
	users, err := w.cfg.Directory.Users(cctx, upns)
	if err != nil {
		w.log.Debug("completion: Microsoft Graph did not answer", "error", err)
		return nil
	}
	ids := make(map[string]string, len(users))
	for upn, u := range users {
		ids[upn] = u.ID
	}
	return ids
}

// retryAfter is how soon an item whose look could not be made is looked at
// again: a few runs of the job on.
func (w *CompletionWorker) retryAfter() time.Duration {
	return min(5*w.cfg.CompletionEvery, 5*time.Minute)
}

// look looks at one item: ok is false when the look could not be made (the
// call did not answer), and nothing is written. ids are the users' object
// IDs in Entra ID, by UPN (nil: Graph could not be read).
func (w *CompletionWorker) look(ctx context.Context, it store.CompletionDueItem, ids map[string]string) (migration.ItemStep, bool) {
	now := w.cfg.Now()
	switch it.Kind {
	case migration.ItemVoice:
		if it.Bypass {
			return migration.VoiceBypassed, true
		}
		if w.cfg.Directory == nil {
			return migration.ItemStep{State: migration.ItemPending, CheckAt: now.Add(w.cfg.VoiceTiming.Poll),
				Says: "cutover checks the user's calling in Teams through Microsoft Graph, which it is not connected to."}, true
		}
		if ids == nil {
			return migration.ItemStep{}, false
		}
		id, known := ids[it.UPN]
		var v migration.TeamsVoice
		if known {
			cctx, cancel := context.WithTimeout(ctx, w.cfg.GraphTimeout)
			defer cancel()
			var err error
			if v, err = w.cfg.Directory.TeamsVoice(cctx, id); err != nil {
				return w.graphRefused(it, err, "TeamsUserConfiguration.Read.All")
			}
		}
		return w.cfg.VoiceTiming.Decide(migration.VoiceLook{MovedAt: it.MovedAt, Now: now, LineURI: it.LineURI, Teams: v, Found: known,
			NumberMoving: it.NumberState != "" && it.NumberState != migration.ItemDone, RoutingConfirmed: it.RoutingConfirmed}), true
	case migration.ItemNumber:
		return w.lookNumber(ctx, it, ids)
	case migration.ItemMeetings:
		return w.lookMeetings(ctx, it, now)
	}
	return migration.ItemStep{}, false
}

// lookNumber looks at a user's number moved to online management, and takes
// the step Decide gives: it reads the user on premises (Get-CsUser) and the
// number's assignment in Teams (Graph) first, every time, so that a step
// whose answer was lost is seen done rather than taken twice.
func (w *CompletionWorker) lookNumber(ctx context.Context, it store.CompletionDueItem, ids map[string]string) (migration.ItemStep, bool) {
	if w.cfg.Directory == nil {
		return migration.ItemStep{State: migration.ItemPerson, Fix: "Connect cutover to Microsoft Graph (--graph), or move the number by hand.",
			Says: "cutover moves a number to online management only when it can see the number's assignment in Teams through Microsoft Graph."}, true
	}
	id, known := ids[it.UPN]
	if ids == nil || !known {
		return migration.ItemStep{}, false
	}
	sctx, cancel := context.WithTimeout(ctx, w.cfg.ShellTimeout)
	defer cancel()
	su, err := w.shell.GetUser(sctx, it.UPN)
	if err != nil {
		w.log.Debug("completion: Get-CsUser did not answer", "upn", it.UPN, "error", err)
		return migration.ItemStep{}, false
	}
	number := migration.Telephone(it.LineURI)
	gctx, gcancel := context.WithTimeout(ctx, w.cfg.GraphTimeout)
	defer gcancel()
	a, assigned, err := w.cfg.Directory.NumberAssignment(gctx, number)
	if err != nil {
		return w.graphRefused(it, err, "TeamsTelephoneNumber.Read.All")
	}
	now := w.cfg.Now()
	look := migration.NumberLook{Now: now, LineURI: it.LineURI, OnPremLineURI: su.LineURI, UserID: id, Assignment: a, Assigned: assigned,
		Approved: it.NumbersApproved, WindowOpen: it.Calendar.Open(now)}
	if !look.WindowOpen {
		look.NextOpen, _ = it.Calendar.NextOpen(now)
	}
	if it.Acted == numberCleared && it.ActedAt != nil {
		look.ClearedAt = *it.ActedAt
	}
	step, action := w.cfg.NumberTiming.Decide(look)
	var says, acted string
	switch action {
	case migration.NumberClear:
		err = w.completion.ClearLineURI(sctx, it.UPN)
		says, acted = fmt.Sprintf("cleared the number %s on premises (Set-CsUser -LineUri $null).", number), numberCleared
	case migration.NumberAssign:
		err = w.completion.AssignNumber(sctx, it.UPN, number)
		says, acted = fmt.Sprintf("assigned the number %s to the user online (Set-CsPhoneNumberAssignment).", number), numberAssigned
	default:
		if look.OnPremLineURI == "" && it.Acted == "" && number != "" && step.State == migration.ItemPending {
			// Cleared, by a call whose answer was lost: the wait for
			// synchronisation counts from now.
			_ = store.New(w.pool).CompletionActed(context.WithoutCancel(ctx), it.MoveID, it.Kind, numberCleared,
				fmt.Sprintf("the number %s is seen cleared on premises.", number), w.actor)
		}
		return step, true
	}
	if err != nil {
		if f := migration.Classify(err); f.Transient || f.Deployment || ctx.Err() != nil || errors.Is(err, context.Canceled) {
			// No answer, or this process stopping: the next look reads
			// what happened.
			w.log.Debug("completion: the shell did not answer", "upn", it.UPN, "action", action, "error", err)
			return migration.ItemStep{}, false
		}
		return migration.ItemStep{State: migration.ItemFailed, Evidence: step.Evidence, Message: err.Error(),
			Fix:  "A Teams administrator moves the number by hand: Set-CsUser -LineUri $null on premises, then, after synchronisation, Set-CsPhoneNumberAssignment -PhoneNumberType DirectRouting.",
			Says: fmt.Sprintf("Moving the number %s to online management failed.", number)}, true
	}
	if err := store.New(w.pool).CompletionActed(context.WithoutCancel(ctx), it.MoveID, it.Kind, acted, says, w.actor); err != nil {
		return migration.ItemStep{}, false
	}
	return step, true
}

// The steps of a number's move cutover records (completion_items.acted).
const (
	numberCleared  = "cleared"
	numberAssigned = "assigned"
)

// lookMeetings looks at a moved user's meeting migration, and sends a
// lead's request that Microsoft migrate them again: at most once, since it
// sends the meeting invitations again, so the request is recorded as sent
// before it is sent, and a request whose answer is lost is never repeated.
func (w *CompletionWorker) lookMeetings(ctx context.Context, it store.CompletionDueItem, now time.Time) (migration.ItemStep, bool) {
	t := w.cfg.MeetingsTiming
	from := it.MovedAt
	switch {
	case it.Acted == migration.MeetingsTriggerRequested:
		says := "asked Microsoft to migrate the user's meetings to Teams again (Start-CsExMeetingMigration -TargetMeetingType Teams); the meeting invitations are sent again."
		if err := store.New(w.pool).CompletionActed(context.WithoutCancel(ctx), it.MoveID, it.Kind, migration.MeetingsTriggered, says, w.actor); err != nil {
			return migration.ItemStep{}, false
		}
		cctx, cancel := context.WithTimeout(ctx, w.cfg.ShellTimeout)
		defer cancel()
		if err := w.completion.StartMeetingMigration(cctx, it.UPN); err != nil {
			w.log.Warn("completion: Start-CsExMeetingMigration did not succeed; it is not sent again", "upn", it.UPN, "error", err)
			return migration.ItemStep{State: migration.ItemPerson,
				Says: "cutover could not confirm that Microsoft took the request to migrate the user's meetings again, and does not send it twice.",
				Fix:  "A Teams administrator reads Get-CsMeetingMigrationStatus -Identity <user>, and runs Start-CsExMeetingMigration -Identity <user> -TargetMeetingType Teams only if no new migration shows."}, true
		}
		from = now
	case it.Acted == migration.MeetingsTriggered && it.ActedAt != nil:
		from = *it.ActedAt
	}
	again := from != it.MovedAt
	if now.Before(t.FirstCheck(from)) {
		step := t.Decide(from, now, migration.MeetingMigration{}, false)
		if again {
			step.Says = "Microsoft was asked to migrate the user's meetings again; cutover looks at the migration as the service takes it up."
		}
		return step, true
	}
	cctx, cancel := context.WithTimeout(ctx, w.cfg.ShellTimeout)
	defer cancel()
	mm, found, err := w.completion.MeetingMigration(cctx, it.UPN)
	if err != nil {
		w.log.Debug("completion: Get-CsMeetingMigrationStatus did not answer", "upn", it.UPN, "error", err)
		return migration.ItemStep{}, false
	}
	if again && found && mm.ModifiedDate.Before(from) {
		found = false // the migration from before the request
	}
	step := t.Decide(from, w.cfg.Now(), mm, found)
	if again && step.Fix != "" {
		step.Fix = migration.MeetingsFixAgain
	}
	return step, true
}

// graphRefused is the look at an item whose read of Microsoft Graph failed:
// no answer changes nothing (ok false: looked at again soon); a refusal of
// cutover's credentials or permission is the deployment's, said on the item
// with the permission to grant (it is looked at again, and goes on once
// the permission is granted), and logged as a warning, so that it is never
// silent.
func (w *CompletionWorker) graphRefused(it store.CompletionDueItem, err error, permission string) (migration.ItemStep, bool) {
	if migration.Classify(err).Code != migration.CodeGraphAccessDenied {
		w.log.Debug("completion: Microsoft Graph did not answer", "upn", it.UPN, "error", err)
		return migration.ItemStep{}, false
	}
	w.log.Warn("completion: Microsoft Graph refuses cutover's request: grant the app registration the permission", "permission", permission, "upn", it.UPN, "error", err)
	return migration.ItemStep{State: migration.ItemPending, CheckAt: w.cfg.Now().Add(w.retryAfter()),
		Says: fmt.Sprintf("Microsoft Graph refuses cutover's request (it needs the application permission %s, with admin consent): "+
			"cutover looks again, and goes on once an administrator grants it.", permission)}, true
}
