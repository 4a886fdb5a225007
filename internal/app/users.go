package app

import (
	"context"
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
}

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
	for _, m := range v.Moves {
		if m.ID != current.ID {
			st.PreviousMoves = append(st.PreviousMoves, m)
		}
	}
	return st, nil
}
