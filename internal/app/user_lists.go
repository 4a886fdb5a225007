package app

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// UserListRequest chooses the users of a group, or of one of its waves, to
// list: a page of them, filtered.
type UserListRequest struct {
	// GroupID lists the group's members, each by where they stand now;
	// WaveID, when set, lists that wave's users, each by their move in it.
	GroupID, WaveID int64
	// InWave keeps, in a group's list, the members whose move in the
	// group is in that wave.
	InWave int64
	// Outcomes keep the users with one of these outcomes; none keeps all.
	Outcomes []migration.Outcome
	// DryRun keeps, in a group's list, the members whose last dry run came
	// out so (pass, warn or fail).
	DryRun migration.CheckStatus
	// ErrorCode keeps the users whose move failed with this code.
	ErrorCode migration.ErrorCode
	// Completion keeps the moved users whose completion stands so.
	Completion migration.Completion
	// Search keeps the users whose UPN or SIP address starts with it, or
	// each of whose words starts a word of their display name.
	Search string
	// After is the Next of the page before (0: the first page).
	After int
	// Limit is how many users a page holds. Defaults to UserPageSize;
	// at most MaxUserPage.
	Limit int
}

// The size of a page of users.
const (
	UserPageSize = 100
	MaxUserPage  = 1000
)

// UserRow is one user of a list, as the API answers it.
type UserRow struct {
	UPN          string              `json:"upn"`
	SIP          string              `json:"sip"`
	DisplayName  string              `json:"display_name"`
	Outcome      migration.Outcome   `json:"outcome"`
	State        migration.MoveState `json:"state"`
	WaveID       int64               `json:"wave_id,omitempty"`
	WaveName     string              `json:"wave_name,omitempty"`
	Attempts     int                 `json:"attempts"`
	MaxAttempts  int                 `json:"max_attempts,omitempty"`
	Error        *migration.Failure  `json:"error,omitempty"`
	ErrorMessage string              `json:"error_message,omitempty"`
	UpdatedAt    *time.Time          `json:"updated_at,omitempty"`
	// Elsewhere names the group whose later move says where the user
	// stands (a group's list).
	Elsewhere string `json:"elsewhere,omitempty"`
	// MovedOnTo names the later wave that stands in for the user's move
	// in this one (a wave's list).
	MovedOnTo string `json:"moved_on_to,omitempty"`
	// DryRun is how the member's last dry run came out (a group's list).
	DryRun migration.CheckStatus `json:"dry_run,omitempty"`
}

// UserPage is a page of users.
type UserPage struct {
	Users []UserRow `json:"users"`
	// Next is the After of the next page; 0 on the last.
	Next int `json:"next,omitempty"`
}

// UserList reads a page of the users r chooses, in import order.
//
// Errors: ENotFound (no such group or wave).
func (s *Service) UserList(ctx context.Context, r UserListRequest) (UserPage, error) {
	q := s.q()
	f, err := s.userFilter(ctx, q, r)
	if err != nil {
		return UserPage{}, err
	}
	f.Limit++ // one more tells whether a page follows
	rows, err := q.UserList(ctx, f)
	if err != nil {
		return UserPage{}, err
	}
	page := UserPage{Users: make([]UserRow, 0, len(rows))}
	if len(rows) == f.Limit {
		rows = rows[:len(rows)-1]
		page.Next = rows[len(rows)-1].Position
	}
	for _, row := range rows {
		page.Users = append(page.Users, userRowOf(row))
	}
	return page, nil
}

// userFilter checks that r's group or wave exists and turns r into the
// store's filter.
func (s *Service) userFilter(ctx context.Context, q *store.Queries, r UserListRequest) (store.UserFilter, error) {
	f := store.UserFilter{GroupID: r.GroupID, WaveID: r.WaveID, InWave: r.InWave, ErrorCode: r.ErrorCode, DryRun: r.DryRun, Search: r.Search,
		Completion: r.Completion, After: r.After, Limit: r.Limit}
	if f.Limit <= 0 {
		f.Limit = UserPageSize
	}
	f.Limit = min(f.Limit, MaxUserPage)
	for _, o := range r.Outcomes {
		f.States = append(f.States, migration.StatesOf(o)...)
	}
	var err error
	if r.WaveID != 0 {
		_, err = q.WaveGet(ctx, r.WaveID)
	} else {
		_, err = q.GroupGet(ctx, r.GroupID)
	}
	return f, err
}

func userRowOf(r store.UserRow) UserRow {
	u := UserRow{UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName, Outcome: migration.OutcomeOf(r.State), State: r.State,
		WaveID: r.WaveID, WaveName: r.WaveName, Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, ErrorMessage: r.ErrorMessage,
		UpdatedAt: r.UpdatedAt, Elsewhere: r.Elsewhere, MovedOnTo: r.SupersededBy, DryRun: r.DryRun}
	if r.ErrorCode != "" {
		f := migration.FailureFor(r.ErrorCode)
		u.Error = &f
	}
	return u
}

// UserListHeader is the first line of a list of users as CSV.
var UserListHeader = []string{"upn", "sip", "display_name", "outcome", "state", "wave", "attempts", "error_code", "explanation", "fix",
	"error_message", "updated_at", "stands_by_group", "moved_on_to", "dry_run"}

// WriteUserList writes every user r chooses (all pages) as CSV: exactly
// the users the list shows with the same filters, page after page.
//
// Errors: ENotFound (no such group or wave).
func (s *Service) WriteUserList(ctx context.Context, w io.Writer, r UserListRequest) error {
	q := s.q()
	f, err := s.userFilter(ctx, q, r)
	if err != nil {
		return err
	}
	f.Limit = MaxUserPage
	cw := csv.NewWriter(w)
	_ = cw.Write(UserListHeader)
	for {
		rows, err := q.UserList(ctx, f)
		if err != nil {
			return err
		}
		for _, row := range rows {
			u := userRowOf(row)
			explanation, fix := "", ""
			if u.Error != nil {
				explanation, fix = u.Error.Explanation, u.Error.Fix
			}
			_ = cw.Write(cells(u.UPN, u.SIP, u.DisplayName, u.Outcome.Words(), string(u.State), u.WaveName, strconv.Itoa(u.Attempts),
				string(row.ErrorCode), explanation, fix, u.ErrorMessage, stamp(u.UpdatedAt), u.Elsewhere, u.MovedOnTo, string(u.DryRun)))
		}
		if len(rows) < f.Limit {
			break
		}
		f.After = rows[len(rows)-1].Position
	}
	cw.Flush()
	return cw.Error()
}

// UserSearch finds up to limit users whose UPN or SIP address starts with
// text, or each of whose words starts a word of their display name.
func (s *Service) UserSearch(ctx context.Context, text string, limit int) ([]store.UserMatch, error) {
	return s.q().UserSearch(ctx, text, limit)
}

// ParseOutcomes reads outcomes by name ("failed", "rolled_back"), naming
// the one that is none.
//
// Errors: EInvalid (an unknown outcome), on field.
func ParseOutcomes(field string, values []string) ([]migration.Outcome, error) {
	var out []migration.Outcome
	for _, v := range values {
		if v == "" {
			continue
		}
		o, ok := migration.ParseOutcome(v)
		if !ok {
			names := make([]string, len(migration.Outcomes))
			for i, o := range migration.Outcomes {
				names[i] = string(o)
			}
			return nil, migration.Invalid("invalid_outcome", field, "%q is not an outcome; use one of %s", v, strings.Join(names, ", "))
		}
		out = append(out, o)
	}
	return out, nil
}

// WaveUsersRequest names users of a wave (by UPN or SIP address) for an
// action on exactly them.
type WaveUsersRequest struct {
	WaveID int64
	Users  []string
}

// UsersDone says what an action on chosen users did.
type UsersDone struct {
	// Users is how many users it acted on.
	Users int `json:"users"`
	// Wave is the wave they are in now: the wave acted on, or the new wave
	// a retry planned them into (none for an action on a group's members).
	Wave *migration.Wave `json:"wave,omitempty"`
	// Says is what happened, in a sentence.
	Says string `json:"says"`
}

// waveMoves reads the wave r names and the moves of the chosen users in
// it, each named once: a user not in the wave, or named twice, is an
// EInvalid error naming them.
func waveMoves(ctx context.Context, q *store.Queries, r WaveUsersRequest) (migration.Wave, []migration.Move, error) {
	w, err := q.WaveGet(ctx, r.WaveID)
	if err != nil {
		return w, nil, err
	}
	moves, err := movesOf(ctx, q, w, r.Users)
	return w, moves, err
}

// movesOf reads the moves of the chosen users in wave w (waveMoves).
func movesOf(ctx context.Context, q *store.Queries, w migration.Wave, users []string) ([]migration.Move, error) {
	if len(users) == 0 {
		return nil, migration.Invalid("invalid_users", "users", "choose at least one user")
	}
	moves, err := q.WaveMovesOf(ctx, w.ID, users)
	if err != nil {
		return nil, err
	}
	var out []migration.Move
	var problems []migration.Problem
	seen := map[int64]bool{}
	for i, u := range users {
		id := store.NormalizeIdentity(u)
		var found *migration.Move
		for j := range moves {
			if moves[j].UPN == id || moves[j].SIP == id {
				found = &moves[j]
				break
			}
		}
		switch {
		case found == nil:
			problems = append(problems, migration.Problem{Field: fmt.Sprintf("users[%d]", i), Message: fmt.Sprintf("%s is not in %s", u, w.Name)})
		case seen[found.ID]:
			problems = append(problems, migration.Problem{Field: fmt.Sprintf("users[%d]", i), Message: fmt.Sprintf("%s is named twice", u)})
		default:
			seen[found.ID] = true
			out = append(out, *found)
		}
	}
	if len(problems) > 0 {
		return nil, migration.InvalidProblems("invalid_users", problems)
	}
	return out, nil
}

// WaveUsersRetry moves exactly the chosen users of a wave to Teams again.
// If the wave can still run them (running, paused or completed) and each
// failed in it, each of their moves runs again in it, as a new run with its
// own attempts (the wave runs until they end); otherwise a new wave of the
// group holds exactly them, starting now. Each must be on premises with
// nothing since their move in this wave: a user who is not is named, and
// nothing changes.
//
// Errors: ENotFound (no such wave), EInvalid (no user, or one not in the
// wave), EConflict (a user who cannot be moved again, named with why).
func (s *Service) WaveUsersRetry(ctx context.Context, a Actor, r WaveUsersRequest) (UsersDone, error) {
	var out UsersDone
	err := s.change(ctx, a, AuditWaveUsersRetry, waveTarget(r.WaveID), func(tx pgx.Tx, q *store.Queries) error {
		w, moves, err := waveMoves(ctx, q, r)
		if err != nil {
			return err
		}
		members := make([]int64, len(moves))
		again := slices.Contains(migration.RetryIn, w.State)
		for i, m := range moves {
			members[i] = m.MemberID
			again = again && m.State == migration.MoveStateFailed
		}
		if !again {
			retry, err := q.WaveRetryCreate(ctx, w, members, time.Now(), a.Name)
			if err != nil {
				return err
			}
			out = UsersDone{Users: len(moves), Wave: &retry,
				Says: fmt.Sprintf("%s planned into %s, which starts now.", usersTitle(len(moves)), retry.Name)}
			return s.queue.WaveStart(ctx, tx, retry)
		}
		if err := q.WaveRetryable(ctx, w, members); err != nil {
			return err
		}
		for _, m := range moves {
			queued, err := requeue(ctx, q, m, a)
			if err != nil {
				return err
			}
			if err := s.queue.Moves(ctx, tx, []store.QueuedMove{{MoveID: queued.ID, Run: queued.Run}}, queued.MaxAttempts, time.Time{}); err != nil {
				return err
			}
		}
		if w, err = q.WaveGet(ctx, w.ID); err != nil {
			return err
		}
		out = UsersDone{Users: len(moves), Wave: &w, Says: fmt.Sprintf("%s queued again in %s.", usersTitle(len(moves)), w.Name)}
		return nil
	})
	return out, err
}

// WaveUsersRollBack moves exactly the chosen users of a wave back on
// premises, each to the pool in their rollback record. Each must be in
// Teams by their move in this wave (a rollback that failed may be asked for
// again); a user who is not is named, and nothing changes. The wave's own
// state is left as it is.
//
// Errors: ENotFound (no such wave), EInvalid (no user, or one not in the
// wave), EConflict (a user this wave did not leave in Teams, named with
// why).
func (s *Service) WaveUsersRollBack(ctx context.Context, a Actor, r WaveUsersRequest) (UsersDone, error) {
	var out UsersDone
	err := s.change(ctx, a, AuditWaveUsersRollBack, waveTarget(r.WaveID), func(tx pgx.Tx, q *store.Queries) error {
		w, moves, err := waveMoves(ctx, q, r)
		if err != nil {
			return err
		}
		var problems []migration.Problem
		for i, m := range moves {
			st, err := standingOf(ctx, q, m.UPN, "roll back")
			if err != nil {
				return err
			}
			if st.MovedBy == nil || st.MovedBy.ID != m.ID || st.Place != migration.PlaceTeams {
				problems = append(problems, migration.Problem{Field: fmt.Sprintf("users[%d]", i),
					Message: fmt.Sprintf("%s cannot be rolled back by %s: %s", m.UPN, w.Name, standingWords(st))})
			}
		}
		if len(problems) > 0 {
			e := migration.Errorf(migration.EConflict, "not_moved", "%s of the %d chosen cannot be rolled back: %s", usersTitle(len(problems)), len(moves), problems[0].Message)
			e.Details = problems
			return e
		}
		for _, m := range moves {
			if err := s.rollBackMove(ctx, tx, q, m, "rollback of the user requested from "+w.Name+": moving the user back on premises", a.Name); err != nil {
				return err
			}
		}
		out = UsersDone{Users: len(moves), Wave: &w, Says: fmt.Sprintf("%s being moved back on premises.", usersTitle(len(moves)))}
		return nil
	})
	return out, err
}

// usersTitle says "1 user" or "12 users".
func usersTitle(n int) string { return users(n) }

// GroupUsersRequest names members of a group (by UPN or SIP address) for
// an action on exactly them.
type GroupUsersRequest struct {
	GroupID int64
	Users   []string
}

// GroupUsersLeaveOut leaves exactly the chosen members of a group out of
// its plan (back true: puts them back into it): no plan puts a member left
// out into a wave. Each must be in no wave of the group; a member who is
// (or is not in the group) is named, and nothing changes.
//
// Errors: ENotFound (no such group), EInvalid (no user, or one not in the
// group), EConflict (a member in a wave already, named with which).
func (s *Service) GroupUsersLeaveOut(ctx context.Context, a Actor, r GroupUsersRequest, back bool) (UsersDone, error) {
	var out UsersDone
	action, target := AuditGroupUsersLeaveOut, fmt.Sprintf("group %d", r.GroupID)
	if back {
		action = AuditGroupUsersPutBack
	}
	err := s.change(ctx, a, action, target, func(_ pgx.Tx, q *store.Queries) error {
		g, err := q.GroupGet(ctx, r.GroupID)
		if err != nil {
			return err
		}
		if len(r.Users) == 0 {
			return migration.Invalid("invalid_users", "users", "choose at least one user")
		}
		members, err := q.GroupMembersOf(ctx, g.ID, r.Users)
		if err != nil {
			return err
		}
		var ids []int64
		var invalid, planned []migration.Problem
		for i, u := range r.Users {
			id := store.NormalizeIdentity(u)
			j := slices.IndexFunc(members, func(m store.NamedMember) bool { return m.UPN == id || m.SIP == id })
			field := fmt.Sprintf("users[%d]", i)
			switch {
			case j < 0:
				invalid = append(invalid, migration.Problem{Field: field, Message: fmt.Sprintf("%s is not a member of %s", u, g.Name)})
			case members[j].WaveName != "":
				planned = append(planned, migration.Problem{Field: field,
					Message: fmt.Sprintf("%s is in %s already; remove the user from that wave first", nameOfMember(members[j]), members[j].WaveName)})
			default:
				ids = append(ids, members[j].ID)
			}
		}
		if len(invalid) > 0 {
			return migration.InvalidProblems("invalid_users", invalid)
		}
		if len(planned) > 0 {
			e := migration.Errorf(migration.EConflict, "user_planned", "%s of the %d chosen %s in a wave already: %s", users(len(planned)),
				len(r.Users), isAre(len(planned)), planned[0].Message)
			e.Details = planned
			return e
		}
		changed, err := q.GroupMembersLeaveOut(ctx, g.ID, ids, !back)
		if err != nil {
			return err
		}
		out = UsersDone{Users: len(changed)}
		if back {
			out.Says = fmt.Sprintf("%s put back into the plan of %s: the next plan takes them.", usersTitle(len(changed)), g.Name)
		} else {
			out.Says = fmt.Sprintf("%s left out of the plan of %s: no plan takes them until you put them back.", usersTitle(len(changed)), g.Name)
		}
		return nil
	})
	return out, err
}

// nameOfMember names a member for a person.
func nameOfMember(m store.NamedMember) string {
	if m.DisplayName == "" {
		return m.UPN
	}
	return m.DisplayName + " (" + m.UPN + ")"
}

// isAre agrees with users(n).
func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
