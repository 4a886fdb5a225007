package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// usersCSV is a CSV of n good users, then the lines in more.
func usersCSV(n int, more ...string) string {
	var b strings.Builder
	b.WriteString("upn,display_name\n")
	for i := range n {
		fmt.Fprintf(&b, "u%07d@contoso.com,User %d\n", i+1, i+1)
	}
	for _, l := range more {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// csvStream starts a stream of a CSV's members.
func csvStream(t *testing.T, r io.Reader) migration.MemberStream {
	t.Helper()
	s, err := migration.ReadMembersCSV(r)
	require.NoError(t, err)
	return s
}

// TestGroupCreateStream: the members are copied as a stream yields them; a
// stream that fails, at its last line or reading its input, leaves nothing,
// and its error is the answer.
func TestGroupCreateStream(t *testing.T) {
	t.Parallel()
	errRead := errors.New("the body could not be read")
	tests := []struct {
		name    string
		stream  func(t *testing.T) migration.MemberStream
		members int   // if created
		line    int   // of a *migration.Error
		is      error // or this error
	}{
		{name: "a CSV of 3,000 users", stream: func(t *testing.T) migration.MemberStream {
			return csvStream(t, strings.NewReader(usersCSV(3000)))
		}, members: 3000},
		{name: "a list of users", stream: func(*testing.T) migration.MemberStream {
			return migration.CheckMembers([]migration.Member{{UPN: "A@Contoso.com"}, {UPN: "b@contoso.com", SIP: "sip:B.b@contoso.com"}})
		}, members: 2},
		{name: "a problem on the last line", stream: func(t *testing.T) migration.MemberStream {
			return csvStream(t, strings.NewReader(usersCSV(3000, "last")))
		}, line: 3002},
		{name: "a duplicate on the last line", stream: func(t *testing.T) migration.MemberStream {
			return csvStream(t, strings.NewReader(usersCSV(3000, "u0000002@contoso.com")))
		}, line: 3002},
		{name: "the input cut by an error", stream: func(t *testing.T) migration.MemberStream {
			return csvStream(t, io.MultiReader(strings.NewReader(usersCSV(3000)), iotest.ErrReader(errRead)))
		}, is: errRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, q := newFixtures(t)
			ctx := context.Background()
			g, err := q.GroupCreate(ctx, store.NewGroup{Name: "streamed", Source: "csv", Stream: tt.stream(t)})
			var members int
			require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM group_members`).Scan(&members))
			switch {
			case tt.is != nil:
				require.ErrorIs(t, err, tt.is)
			case tt.line > 0:
				e, ok := errors.AsType[*migration.Error](err)
				require.True(t, ok, "%T %v", err, err)
				require.Equal(t, tt.line, e.Line, e.Message)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.members, g.Members)
				require.Equal(t, tt.members, members)
				var last string
				require.NoError(t, f.pool.QueryRow(ctx, `SELECT upn FROM group_members WHERE position = $1`, tt.members).Scan(&last))
				require.NotEmpty(t, last)
				return
			}
			require.Zero(t, members, "a refused group's members were kept")
			var groups int
			require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM pilot_groups`).Scan(&groups))
			require.Zero(t, groups, "a refused group was kept")
		})
	}
}

// TestGroupCreateNameInUse: a name in use is the answer when the members are
// good; their problems come first, as when they were read before the group
// was made.
func TestGroupCreateNameInUse(t *testing.T) {
	t.Parallel()
	_, q := newFixtures(t)
	ctx := context.Background()
	_, err := q.GroupCreate(ctx, store.NewGroup{Name: "taken", Source: "csv", Stream: csvStream(t, strings.NewReader(usersCSV(3)))})
	require.NoError(t, err)

	_, err = q.GroupCreate(ctx, store.NewGroup{Name: "taken", Source: "csv", Stream: csvStream(t, strings.NewReader(usersCSV(2000, "bad")))})
	e, ok := errors.AsType[*migration.Error](err)
	require.True(t, ok, "%T %v", err, err)
	require.Equal(t, migration.CodeInvalidCSV, e.Code)
	require.Equal(t, 2002, e.Line)

	_, err = q.GroupCreate(ctx, store.NewGroup{Name: "taken", Source: "csv", Stream: csvStream(t, strings.NewReader(usersCSV(2000)))})
	e, ok = errors.AsType[*migration.Error](err)
	require.True(t, ok, "%T %v", err, err)
	require.Equal(t, "group_exists", e.Code)
}

// TestGroupCreateDuplicateUnchecked: members given as a list are copied as
// they are; Postgres refuses a UPN or SIP address twice, and the answer says
// which.
func TestGroupCreateDuplicateUnchecked(t *testing.T) {
	t.Parallel()
	_, q := newFixtures(t)
	ctx := context.Background()
	for field, ms := range map[string][]migration.Member{
		"upn": {{UPN: "a@contoso.com", SIP: "a@contoso.com"}, {UPN: "a@contoso.com", SIP: "b@contoso.com"}},
		"sip": {{UPN: "a@contoso.com", SIP: "s@contoso.com"}, {UPN: "b@contoso.com", SIP: "s@contoso.com"}},
	} {
		_, err := q.GroupCreate(ctx, store.NewGroup{Name: "dup " + field, Source: "json", Members: ms})
		e, ok := errors.AsType[*migration.Error](err)
		require.True(t, ok, "%T %v", err, err)
		require.Equal(t, migration.EInvalid, e.Kind)
		require.Equal(t, migration.CodeInvalidMembers, e.Code)
		require.Equal(t, field, e.Field)
	}
}
