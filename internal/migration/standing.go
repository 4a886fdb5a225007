package migration

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Outcome is where a user stands as a count of users shows it. Every count
// of a wave, a group or the deployment puts each user in exactly one
// outcome, so that no sum can exceed the users it counts and nothing that
// failed reads as done.
type Outcome string

// The outcomes, in the order a bar shows them.
const (
	OutcomeMoved          Outcome = "moved"           // in Teams, moved there by cutover
	OutcomeSkipped        Outcome = "skipped"         // found in Teams already: nothing was moved
	OutcomeRollbackFailed Outcome = "rollback_failed" // still in Teams: the move back failed
	OutcomeFailed         Outcome = "failed"          // not moved: still on premises, with an error
	OutcomeRolledBack     Outcome = "rolled_back"     // moved back on premises
	OutcomeInProgress     Outcome = "in_progress"     // being moved (or moved back), or waiting to retry
	OutcomeScheduled      Outcome = "scheduled"       // in a wave that has not reached them yet
	OutcomeCancelled      Outcome = "cancelled"       // not moved: their wave was cancelled, or they were removed from it
	OutcomeUnplanned      Outcome = "unplanned"       // in no wave yet
	OutcomeLeftOut        Outcome = "left_out"        // in no wave: a lead left them out of the plan
)

// Outcomes lists every outcome in the order a bar shows them: the users in
// Teams first, then those who need a person, then those still to come.
var Outcomes = []Outcome{OutcomeMoved, OutcomeSkipped, OutcomeRollbackFailed, OutcomeFailed, OutcomeRolledBack,
	OutcomeInProgress, OutcomeScheduled, OutcomeCancelled, OutcomeUnplanned, OutcomeLeftOut}

// StateUnplanned and StateLeftOut are the states a count gives a member of
// a group who is in no wave yet, and one a lead left out of the plan (not a
// move's states: such a member has no move).
const (
	StateUnplanned MoveState = "unplanned"
	StateLeftOut   MoveState = "left_out"
)

// OutcomeOf says which outcome a move in state s counts as.
func OutcomeOf(s MoveState) Outcome {
	switch s {
	case MoveStateMoved:
		return OutcomeMoved
	case MoveStateSkipped:
		return OutcomeSkipped
	case MoveStateRollbackFailed:
		return OutcomeRollbackFailed
	case MoveStateFailed:
		return OutcomeFailed
	case MoveStateRolledBack:
		return OutcomeRolledBack
	case MoveStatePending:
		return OutcomeScheduled
	case MoveStateCancelled:
		return OutcomeCancelled
	case StateUnplanned:
		return OutcomeUnplanned
	case StateLeftOut:
		return OutcomeLeftOut
	}
	return OutcomeInProgress
}

// StatesOf lists the states of a move (or StateUnplanned) that count as
// the outcome: OutcomeOf's inverse.
func StatesOf(o Outcome) []MoveState {
	var out []MoveState
	for _, s := range append(slices.Clone(MoveStates), StateUnplanned, StateLeftOut) {
		if OutcomeOf(s) == o {
			out = append(out, s)
		}
	}
	return out
}

// ParseOutcome reads an outcome by its name.
func ParseOutcome(s string) (Outcome, bool) {
	o := Outcome(s)
	return o, slices.Contains(Outcomes, o)
}

// Words names the outcome for a person, as a count reads it ("12 moved to
// Teams").
func (o Outcome) Words() string {
	switch o {
	case OutcomeMoved:
		return "moved to Teams"
	case OutcomeSkipped:
		return "already in Teams"
	case OutcomeRollbackFailed:
		return "rollback failed"
	case OutcomeFailed:
		return "failed"
	case OutcomeRolledBack:
		return "rolled back"
	case OutcomeInProgress:
		return "in progress"
	case OutcomeScheduled:
		return "scheduled"
	case OutcomeCancelled:
		return "not moved (cancelled)"
	case OutcomeUnplanned:
		return "not in a wave yet"
	case OutcomeLeftOut:
		return "left out of the plan"
	}
	return string(o)
}

// InTeams reports whether a user with this outcome is homed online.
func (o Outcome) InTeams() bool {
	return o == OutcomeMoved || o == OutcomeSkipped || o == OutcomeRollbackFailed
}

// NeedsPerson reports whether a user with this outcome waits for a person:
// a failure to fix and retry, or a rollback that failed.
func (o Outcome) NeedsPerson() bool { return o == OutcomeFailed || o == OutcomeRollbackFailed }

// Tally counts users by outcome: each user once.
type Tally map[Outcome]int

// TallyOf turns counts of users by state (a member in no wave counted as
// StateUnplanned) into a tally.
func TallyOf(counts map[MoveState]int) Tally {
	t := Tally{}
	for s, n := range counts {
		if n > 0 {
			t[OutcomeOf(s)] += n
		}
	}
	return t
}

// Users is how many users the tally counts.
func (t Tally) Users() int {
	n := 0
	for _, k := range t {
		n += k
	}
	return n
}

// InTeams is how many of the users are homed online now.
func (t Tally) InTeams() int {
	return t[OutcomeMoved] + t[OutcomeSkipped] + t[OutcomeRollbackFailed]
}

// Finished is how many of the users no wave will move any more without a
// person: in Teams, failed, rolled back, cancelled or left out of the
// plan.
func (t Tally) Finished() int {
	return t.Users() - t[OutcomeInProgress] - t[OutcomeScheduled] - t[OutcomeUnplanned]
}

// Words says the tally in a line, the outcomes in the order of Outcomes
// and only those with users ("3 moved to Teams, 1 failed"); "no users" for
// an empty tally.
func (t Tally) Words() string {
	s := ""
	for _, o := range Outcomes {
		if n := t[o]; n > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", n, o.Words())
		}
	}
	if s == "" {
		return "no users"
	}
	return s
}

// Headline says in a sentence how the users stand: how many are in Teams
// and how, how many wait for a person, how many are still to move ("3 of
// 20 users moved to Teams, 1 already in Teams, 2 failed; 14 still to
// move.").
func (t Tally) Headline() string {
	users := t.Users()
	if users == 0 {
		return "No users."
	}
	of := fmt.Sprintf("%d users", users)
	if users == 1 {
		of = "1 user"
	}
	s := fmt.Sprintf("%d of %s moved to Teams", t[OutcomeMoved], of)
	for _, o := range []Outcome{OutcomeSkipped, OutcomeFailed, OutcomeRolledBack, OutcomeRollbackFailed, OutcomeCancelled, OutcomeLeftOut} {
		if n := t[o]; n > 0 {
			s += fmt.Sprintf(", %d %s", n, o.Words())
		}
	}
	if left := t[OutcomeInProgress] + t[OutcomeScheduled] + t[OutcomeUnplanned]; left > 0 {
		s += fmt.Sprintf("; %d still to move", left)
	}
	return s + "."
}

// Place is where a user is homed, as cutover last knew it.
type Place string

// The places.
const (
	PlaceOnPremises Place = "on_premises" // Skype for Business Server
	PlaceTeams      Place = "teams"       // homed online: Teams only
	PlaceMoving     Place = "moving"      // a move (or a move back) is under way
)

// Words names the place for a person.
func (p Place) Words() string {
	switch p {
	case PlaceTeams:
		return "in Teams"
	case PlaceOnPremises:
		return "on premises (Skype for Business Server)"
	case PlaceMoving:
		return "being moved"
	}
	return string(p)
}

// Standing is where a user stands now, read from every move of theirs in
// every group: the latest thing that happened to them (a move, a skip, a
// rollback), never their latest move alone.
type Standing struct {
	// Current is the move that says where the user stands: their active
	// move if they have one, else the move that ended last, unless that
	// one changed nothing (it failed or was cancelled) while an earlier
	// one left them in Teams, which is then Current. Nil for a user never
	// planned.
	Current *Move
	// Later is the move that ended after Current and changed nothing
	// (failed or cancelled while the user stayed in Teams), if any.
	Later *Move
	// Place is where the user is homed.
	Place Place
	// MovedBy is the move that put the user in Teams and that a rollback
	// would undo: moved (or its rollback failed), with nothing since that
	// moved the user back. Nil when cutover did not move them there.
	MovedBy *Move
}

// homes reports whether a move that ended in state s says where its user
// is homed: moved, found online, moved back, or not moved back.
func homes(s MoveState) bool {
	switch s {
	case MoveStateMoved, MoveStateSkipped, MoveStateRolledBack, MoveStateRollbackFailed:
		return true
	}
	return false
}

// StandingOf reads where a user stands from all their moves, in any order.
// The moves are ordered as they happened: an active move first (a user
// has at most one), then by the time of their last change, newest first.
// The store's cutover_standing (sql/0018) makes the same choice for the
// counts of a group; a test keeps the two equal.
func StandingOf(moves []Move) Standing {
	if len(moves) == 0 {
		return Standing{Place: PlaceOnPremises}
	}
	ordered := slices.Clone(moves)
	SortByRecency(ordered)
	var st Standing
	latest := &ordered[0]
	st.Current = latest
	if latest.State.Active() {
		st.Place = PlaceMoving
		return st
	}
	var homed *Move
	for i := range ordered {
		if homes(ordered[i].State) {
			homed = &ordered[i]
			break
		}
	}
	st.Place = PlaceOnPremises
	if homed != nil && OutcomeOf(homed.State).InTeams() {
		st.Place = PlaceTeams
		if homed != latest {
			st.Current, st.Later = homed, latest
		}
	}
	if st.Place == PlaceTeams {
		// The move that put the user in Teams: the one that says so, or,
		// for a user found online, the move before it that moved them
		// (and nothing moved back since).
		for i := range ordered {
			m := &ordered[i]
			if m.State == MoveStateMoved || m.State == MoveStateRollbackFailed {
				st.MovedBy = m
				break
			}
			if m.State == MoveStateRolledBack {
				break
			}
		}
	}
	return st
}

// SortByRecency orders moves as they happened, newest first: an active
// move first, then by the time of their last change, then by ID.
func SortByRecency(moves []Move) {
	slices.SortStableFunc(moves, func(a, b Move) int {
		if a.State.Active() != b.State.Active() {
			if a.State.Active() {
				return -1
			}
			return 1
		}
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// ExplainStanding says where a user stands in words a helpdesk agent can
// read out: the explanation of the current move, told with what the
// user's other moves add (a later move that changed nothing, a user found
// in Teams whom cutover had moved there).
func ExplainStanding(st Standing, now time.Time) Explanation {
	if st.Current == nil {
		return Explanation{}
	}
	e := Explain(*st.Current, now)
	if l := st.Later; l != nil {
		what := "failed (" + string(l.ErrorCode) + ")"
		if l.State == MoveStateCancelled {
			what = "was cancelled before it started"
		}
		e.Summary += fmt.Sprintf(" A later move, in %s of %s, %s and changed nothing: the user is still in Teams.", l.WaveName, l.GroupName, what)
	}
	if st.Current.State == MoveStateSkipped && st.MovedBy != nil {
		m := st.MovedBy
		e.Summary = fmt.Sprintf("In Teams: moved online by cutover in %s of %s %s; %s of %s found the user there and left them alone.",
			m.WaveName, m.GroupName, whenAt(*orNow(m.FinishedAt, now), now), st.Current.WaveName, st.Current.GroupName)
		e.Expect = ExpectMoved
	}
	return e
}
