package app

import (
	"context"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// UserStatus is the helpdesk's view of one user: where their move stands in
// plain language, its error and fix, its timeline, and earlier moves.
type UserStatus struct {
	Identity       string                    `json:"identity"`
	UPN            string                    `json:"upn"`
	SIP            string                    `json:"sip"`
	DisplayName    string                    `json:"display_name"`
	State          migration.MoveState       `json:"state"`
	Explanation    migration.Explanation     `json:"explanation"`
	Move           *migration.Move           `json:"move,omitempty"`
	Error          *migration.Failure        `json:"error,omitempty"`
	Timeline       []migration.MoveEvent     `json:"timeline"`
	RollbackRecord *migration.RollbackRecord `json:"rollback_record,omitempty"`
	Preflight      *store.Preflight          `json:"preflight,omitempty"`
	PreviousMoves  []migration.Move          `json:"previous_moves,omitempty"`
	Groups         []store.Membership        `json:"groups"`
	// Actions are what a lead may do to the user's move now: UserRetry,
	// UserRollBack. The pages show the buttons by it; the API's answer
	// keeps the shape the helpdesk has always had.
	Actions []string `json:"-"`
}

// A lead's actions on one user, as the pages name them (the API route
// /api/v1/users/{identity}/<action>).
const (
	UserRetry    = "retry"    // Service.UserRetry
	UserRollBack = "rollback" // Service.UserRollBack
)

// retryIn are the states of a wave in which a failed move can be retried
// on its own (Service.UserRetry); in others its wave's failed users are
// retried as a new wave.
var retryIn = []migration.WaveState{migration.WaveStateRunning, migration.WaveStateCompleted, migration.WaveStatePaused}

// userOffers lists what a lead may do to a move now, its wave being in
// waveState: what UserRetry and UserRollBack take.
func userOffers(m migration.Move, waveState migration.WaveState) []string {
	switch {
	case m.State == migration.MoveStateFailed && slices.Contains(retryIn, waveState):
		return []string{UserRetry}
	case m.State == migration.MoveStateMoved || m.State == migration.MoveStateRollbackFailed:
		return []string{UserRollBack}
	}
	return nil
}

// Offers reports whether the user's move offers the action now.
func (st UserStatus) Offers(action string) bool { return slices.Contains(st.Actions, action) }

// LookUp finds a user by UPN or SIP address: their current (or latest)
// move and its timeline, or the groups they wait in unplanned.
//
// Errors: ENotFound if the user is in no pilot group.
func (s *Service) LookUp(ctx context.Context, identity string, now time.Time) (UserStatus, error) {
	q := s.q()
	st := UserStatus{Identity: identity}
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
	st.Preflight = v.Preflight
	if v.Current == nil {
		st.State = MoveStateUnplanned
		st.Explanation = migration.Explanation{
			Summary: "In pilot group " + groups[0].GroupName + ", not yet planned into a wave.",
			Expect:  "Nothing changes for the user until a migration lead schedules them.",
			Next:    "Nothing to do; look again once the group is planned.",
		}
		st.Timeline = []migration.MoveEvent{}
		return st, nil
	}
	current := *v.Current
	st.Move, st.State = &current, current.State
	st.UPN, st.SIP, st.DisplayName = current.UPN, current.SIP, current.DisplayName
	st.Explanation = migration.Explain(current, now)
	if current.ErrorCode != "" {
		f := migration.FailureFor(current.ErrorCode)
		st.Error = &f
	}
	st.Timeline, st.RollbackRecord = v.Timeline, v.Rollback
	var waveState migration.WaveState
	if current.State == migration.MoveStateFailed {
		// Only a failed move's retry depends on its wave (rare: read then).
		w, err := q.WaveGet(ctx, current.WaveID)
		if err != nil {
			return st, err
		}
		waveState = w.State
	}
	st.Actions = userOffers(current, waveState)
	for _, m := range v.Moves {
		if m.ID != current.ID {
			st.PreviousMoves = append(st.PreviousMoves, m)
		}
	}
	return st, nil
}
