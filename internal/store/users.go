package store

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// UserFilter chooses users of a group, or of one wave, for a list.
type UserFilter struct {
	// GroupID is the group whose members are listed, each by where they
	// stand; WaveID, when set, lists that wave's users instead, each by
	// their move in it.
	GroupID, WaveID int64
	// InWave, for a group's list, keeps the members whose move in the
	// group is in that wave.
	InWave int64
	// States keeps users in these states (of where they stand, for a
	// group; of their move in the wave, for a wave): none keeps all.
	States []migration.MoveState
	// ErrorCode keeps users whose move failed with this code.
	ErrorCode migration.ErrorCode
	// DryRun, for a group's list, keeps the members whose last dry run
	// came out so (pass, warn or fail).
	DryRun migration.CheckStatus
	// Completion keeps the moved users whose completion stands so: ""
	// keeps all.
	Completion migration.Completion
	// Search keeps users whose UPN or SIP address starts with it, or each
	// of whose words starts a word of their display name.
	Search string
	// After is the position (import order) to list from: the last one of
	// the page before.
	After int
	// Limit is how many users to list at most.
	Limit int
}

// UserRow is one user of a list.
type UserRow struct {
	MemberID    int64
	Position    int
	UPN         string
	SIP         string
	DisplayName string
	// The user's move in the group (or wave): none (0) for a member in no
	// wave.
	MoveID       int64
	WaveID       int64
	WaveName     string
	State        migration.MoveState
	Attempts     int
	MaxAttempts  int
	ErrorCode    migration.ErrorCode
	ErrorMessage string
	UpdatedAt    *time.Time
	// Elsewhere, in a group's list, names the other group whose move says
	// where the user stands now (State is that move's).
	Elsewhere string
	// SupersededBy, in a wave's list, names the later wave of the group
	// that stands in for the user's move in this one.
	SupersededBy string
	// DryRun, in a group's list, is how the member's last dry run came out
	// ("" if none ran).
	DryRun migration.CheckStatus
}

// UserList reads a page of the users f chooses, in import order.
func (q *Queries) UserList(ctx context.Context, f UserFilter) ([]UserRow, error) {
	pattern, words := searchTerms(f.Search)
	if pattern == "" && words == "" && strings.TrimSpace(f.Search) != "" {
		return []UserRow{}, nil // a search with nothing to match matches no one
	}
	states := names(f.States)
	if f.WaveID != 0 {
		rows, err := q.gen.WaveUsers(ctx, dbsqlc.WaveUsersParams{WaveID: f.WaveID, After: f.After, States: states,
			ErrorCode: string(f.ErrorCode), Completion: string(f.Completion), Pattern: pattern, Words: words, MaxUsers: f.Limit})
		return mapRows(rows, err, func(r dbsqlc.WaveUsersRow) UserRow {
			return UserRow{MemberID: r.MemberID, Position: r.Position, UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName,
				MoveID: r.MoveID, WaveID: r.WaveID, WaveName: r.WaveName, State: migration.MoveState(r.State), Attempts: r.Attempts,
				MaxAttempts: r.MaxAttempts, ErrorCode: migration.ErrorCode(r.ErrorCode), ErrorMessage: r.ErrorMessage,
				UpdatedAt: &r.UpdatedAt, SupersededBy: r.SupersededWave}
		})
	}
	rows, err := q.gen.GroupUsers(ctx, dbsqlc.GroupUsersParams{GroupID: f.GroupID, After: f.After, WaveID: f.InWave,
		ErrorCode: string(f.ErrorCode), DryRun: string(f.DryRun), Completion: string(f.Completion), Pattern: pattern, Words: words,
		States: states, MaxUsers: f.Limit})
	return mapRows(rows, err, func(r dbsqlc.GroupUsersRow) UserRow {
		u := UserRow{MemberID: r.MemberID, Position: r.Position, UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName,
			State: migration.MoveState(r.State), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts,
			ErrorCode: migration.ErrorCode(r.ErrorCode), ErrorMessage: r.ErrorMessage, UpdatedAt: r.UpdatedAt, Elsewhere: r.StandingGroup,
			DryRun: migration.CheckStatus(r.DryRun)}
		if r.MoveID != nil {
			u.MoveID, u.WaveID, u.WaveName = *r.MoveID, *r.WaveID, *r.WaveName
		}
		return u
	})
}

// UserMatch is migration.UserMatch: the store reads and writes it.
type UserMatch = migration.UserMatch

// UserSearch finds up to limit users, each once, whose UPN or SIP address
// starts with text, or each of whose words starts a word of their display
// name, in order of UPN.
func (q *Queries) UserSearch(ctx context.Context, text string, limit int) ([]UserMatch, error) {
	pattern, words := searchTerms(text)
	if pattern == "" && words == "" {
		return []UserMatch{}, nil
	}
	rows, err := q.gen.UserSearch(ctx, dbsqlc.UserSearchParams{Pattern: pattern, Words: words, MaxUsers: limit})
	return mapRows(rows, err, func(r dbsqlc.UserSearchRow) UserMatch { return UserMatch(r) })
}

// searchTerms turns what a person typed into the search of
// sql/queries/users.sql: a LIKE pattern matching addresses that start with
// it (its own wildcards escaped; none if it holds a space), and a tsquery
// matching display names with a word starting with each of its words (its
// words are letters and digits only, so nothing in it is tsquery syntax).
func searchTerms(text string) (pattern, words string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", ""
	}
	if addr := NormalizeIdentity(text); !strings.ContainsFunc(addr, unicode.IsSpace) {
		pattern = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(addr) + "%"
	}
	var terms []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		terms = append(terms, "'"+w+"':*")
	}
	return pattern, strings.Join(terms, " & ")
}

// NamedMember is a member of a group named in a request, with the wave of
// their move in the group ("" for none).
type NamedMember struct {
	ID          int64
	UPN, SIP    string
	DisplayName string
	LeftOut     bool
	WaveName    string
}

// GroupMembersOf returns the members of a group with these UPNs or SIP
// addresses (with or without "sip:").
func (q *Queries) GroupMembersOf(ctx context.Context, groupID int64, identities []string) ([]NamedMember, error) {
	ids := make([]string, len(identities))
	for i, id := range identities {
		ids[i] = NormalizeIdentity(id)
	}
	rows, err := q.gen.GroupMembersOf(ctx, dbsqlc.GroupMembersOfParams{GroupID: groupID, Identities: ids})
	return mapRows(rows, err, func(r dbsqlc.GroupMembersOfRow) NamedMember {
		return NamedMember{ID: r.ID, UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName, LeftOut: r.LeftOut, WaveName: r.WaveName}
	})
}

// GroupMembersLeaveOut leaves members of a group in no wave out of the plan
// (leftOut), or puts them back, and returns those it changed.
func (q *Queries) GroupMembersLeaveOut(ctx context.Context, groupID int64, memberIDs []int64, leftOut bool) ([]int64, error) {
	return q.gen.GroupMembersLeaveOut(ctx, dbsqlc.GroupMembersLeaveOutParams{GroupID: groupID, MemberIDs: memberIDs, LeftOut: leftOut})
}
