package app

import (
	"context"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// UserStatus is the helpdesk's view of one user: where they stand now in
// plain language (read from every move of theirs, in every group), its
// error and fix, and every move with its timeline and rollback record.
type UserStatus struct {
	Identity    string              `json:"identity"`
	UPN         string              `json:"upn"`
	SIP         string              `json:"sip"`
	DisplayName string              `json:"display_name"`
	State       migration.MoveState `json:"state"`
	// Outcome and Place say where the user stands as a count of users and
	// as a homing: in Teams, on premises, or being moved.
	Outcome     migration.Outcome     `json:"outcome"`
	Place       migration.Place       `json:"place"`
	Explanation migration.Explanation `json:"explanation"`
	// Move is the move that says where the user stands
	// (migration.Standing.Current); Timeline and RollbackRecord are its.
	Move           *migration.Move           `json:"move,omitempty"`
	Error          *migration.Failure        `json:"error,omitempty"`
	Timeline       []migration.MoveEvent     `json:"timeline"`
	RollbackRecord *migration.RollbackRecord `json:"rollback_record,omitempty"`
	Preflight      *store.Preflight          `json:"preflight,omitempty"`
	// Completion is what must still happen after the move that put the
	// user in Teams (migration.CompletionItem), in the order a checklist
	// shows it; empty for a user cutover did not move there.
	Completion []migration.CompletionItem `json:"completion"`
	// Moves are every move of the user in every group, newest first (as
	// they happened: see migration.SortByRecency), each with its timeline
	// and rollback record.
	Moves  []UserMove         `json:"moves"`
	Groups []store.Membership `json:"groups"`
	// Actions are what a lead may do to the user now: UserRetry,
	// UserRollBack. The pages show the buttons by it.
	Actions []string `json:"-"`
	// RetryNewWave says that the user's retry makes a wave of its own in
	// their group (their move's wave cannot run it again), not a new run
	// of the move in its wave.
	RetryNewWave bool `json:"-"`
	// RollBackMove is the move a rollback undoes (migration.Standing.MovedBy),
	// which need not be Move: a user found online by a later group.
	RollBackMove *migration.Move `json:"-"`
}

// UserMove is one of a user's moves, with its timeline and rollback record.
type UserMove struct {
	migration.Move
	Error          *migration.Failure        `json:"error,omitempty"`
	Timeline       []migration.MoveEvent     `json:"timeline"`
	RollbackRecord *migration.RollbackRecord `json:"rollback_record,omitempty"`
	// Current says that this move is where the user stands now.
	Current bool `json:"current"`
}

// A lead's actions on one user, as the pages name them (the API route
// /api/v1/users/{identity}/<action>).
const (
	UserRetry           = "retry"            // Service.UserRetry
	UserRollBack        = "rollback"         // Service.UserRollBack
	UserMigrateMeetings = "migrate-meetings" // Service.UserMigrateMeetings
)

// retryable reports whether a user standing with this move may be moved
// again: on premises, their move failed, was rolled back or was cancelled.
func retryable(st migration.Standing) bool {
	c := st.Current
	return c != nil && st.Place == migration.PlaceOnPremises && c.SupersededBy == nil &&
		(c.State == migration.MoveStateFailed || c.State == migration.MoveStateRolledBack || c.State == migration.MoveStateCancelled)
}

// requeues reports whether the retry of a user standing with move m runs
// m again in its wave (a failed move of a wave in one of migration.RetryIn), rather
// than in a wave of its own.
func requeues(m migration.Move, waveState migration.WaveState) bool {
	return m.State == migration.MoveStateFailed && slices.Contains(migration.RetryIn, waveState)
}

// userOffers lists what a lead may do to a user standing so, their current
// move's wave being in waveState: what UserRetry and UserRollBack take.
func userOffers(st migration.Standing) []string {
	var out []string
	if retryable(st) {
		out = append(out, UserRetry)
	}
	if st.MovedBy != nil && st.Place == migration.PlaceTeams {
		out = append(out, UserRollBack)
	}
	return out
}

// Offers reports whether the user's move offers the action now.
func (st UserStatus) Offers(action string) bool { return slices.Contains(st.Actions, action) }

// LookUp finds a user by UPN or SIP address: where they stand now, read
// from every move of theirs in every group, and each of those moves with
// its timeline; or the groups they wait in unplanned.
//
// Errors: ENotFound if the user is in no pilot group.
func (s *Service) LookUp(ctx context.Context, identity string, now time.Time) (UserStatus, error) {
	q := s.q()
	st := UserStatus{Identity: identity, Moves: []UserMove{}, Timeline: []migration.MoveEvent{}, Completion: []migration.CompletionItem{}}
	v, err := q.UserView(ctx, identity)
	if err != nil {
		return st, err
	}
	groups := v.Groups
	if len(groups) == 0 {
		return st, migration.Errorf(migration.ENotFound, "user_not_found", "%s is in no pilot group (looked up by UPN and SIP address)", identity)
	}
	st.Groups = groups
	st.UPN, st.SIP, st.DisplayName = groups[0].UPN, groups[0].SIP, groups[0].DisplayName
	st.Preflight = v.Preflights[groups[0].MemberID]
	standing := migration.StandingOf(v.Moves)
	st.Place = standing.Place
	if standing.Current == nil {
		st.State, st.Outcome = MoveStateUnplanned, migration.OutcomeUnplanned
		st.Explanation = migration.Explanation{
			Summary: "In pilot group " + groups[0].GroupName + ", not yet planned into a wave.",
			Expect:  "Nothing changes for the user until a migration lead schedules them.",
			Next:    "Nothing to do; look again once the group is planned.",
		}
		return st, nil
	}
	current := *standing.Current
	st.Move, st.State, st.Outcome = &current, current.State, migration.OutcomeOf(current.State)
	st.UPN, st.SIP, st.DisplayName = current.UPN, current.SIP, current.DisplayName
	st.Explanation = migration.ExplainStanding(standing, now)
	if by := standing.MovedBy; by != nil && by.State == migration.MoveStateMoved && v.Completion[by.ID] != nil {
		st.Completion = v.Completion[by.ID]
		st.Explanation = migration.ExplainCompletion(st.Explanation, st.Completion)
	}
	if current.ErrorCode != "" {
		f := migration.FailureFor(current.ErrorCode)
		st.Error = &f
	}
	if tl := v.Timelines[current.ID]; tl != nil {
		st.Timeline = tl
	}
	st.RollbackRecord = v.Rollbacks[current.ID]
	if p, ok := v.Preflights[current.MemberID]; ok {
		st.Preflight = p
	}
	ordered := slices.Clone(v.Moves)
	migration.SortByRecency(ordered)
	for _, m := range ordered {
		um := UserMove{Move: m, Timeline: v.Timelines[m.ID], RollbackRecord: v.Rollbacks[m.ID], Current: m.ID == current.ID}
		if um.Timeline == nil {
			um.Timeline = []migration.MoveEvent{}
		}
		if m.ErrorCode != "" {
			f := migration.FailureFor(m.ErrorCode)
			um.Error = &f
		}
		st.Moves = append(st.Moves, um)
	}
	st.Actions = userOffers(standing)
	if standing.Place == migration.PlaceTeams && slices.ContainsFunc(st.Completion, migration.CompletionItem.Retriggerable) {
		st.Actions = append(st.Actions, UserMigrateMeetings)
	}
	st.RollBackMove = standing.MovedBy
	if slices.Contains(st.Actions, UserRetry) {
		// Only a retry's kind depends on the wave (rare: read then).
		w, err := q.WaveGet(ctx, current.WaveID)
		if err != nil {
			return st, err
		}
		st.RetryNewWave = !requeues(current, w.State)
	}
	return st, nil
}
