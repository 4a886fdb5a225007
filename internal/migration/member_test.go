package migration_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

// member is the comparable part of a migration.Member (which also holds an
// unexported position).
type member struct {
	UPN, SIP, DisplayName string
	Line                  int
}

func project(ms []migration.Member) []member {
	out := make([]member, len(ms))
	for i, m := range ms {
		out[i] = member{UPN: m.UPN, SIP: m.SIP, DisplayName: m.DisplayName, Line: m.Line}
	}
	return out
}

// wantError is what a *migration.Error must hold.
type wantError struct {
	code  string
	line  int
	field string
	// contains are fragments of the message.
	contains []string
	// details is the number of problems listed; 0 means 1.
	details int
}

// requireError checks that err is an EInvalid *migration.Error as described
// and returns it.
func requireError(t *testing.T, err error, want wantError) *migration.Error {
	t.Helper()
	require.Error(t, err)
	var e *migration.Error
	require.True(t, errors.As(err, &e), "want a *migration.Error, got %T: %v", err, err)
	require.Equal(t, migration.EInvalid, e.Kind, "kind of %q", e.Message)
	require.Equal(t, want.code, e.Code, "code of %q", e.Message)
	require.Equal(t, want.line, e.Line, "line of %q", e.Message)
	require.Equal(t, want.field, e.Field, "field of %q", e.Message)
	for _, c := range want.contains {
		require.Contains(t, e.Message, c)
	}
	details := want.details
	if details == 0 {
		details = 1
	}
	require.Len(t, e.Details, details, "details of %q", e.Message)
	require.Equal(t, e.Line, e.Details[0].Line, "the error's line is its first problem's")
	require.Equal(t, e.Field, e.Details[0].Field, "the error's field is its first problem's")
	return e
}

func TestParseMembersCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    []member
		ignored []string
	}{
		{
			name: "LF with sip and display name",
			data: "upn,sip,display_name\nalice@contoso.com,sip:Alice@Contoso.com,Alice\nbob@contoso.com,,Bob\n",
			want: []member{
				{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: "Alice", Line: 2},
				{UPN: "bob@contoso.com", SIP: "bob@contoso.com", DisplayName: "Bob", Line: 3},
			},
		},
		{
			name: "byte order mark and CRLF",
			data: "\xef\xbb\xbfUPN,Name\r\nAlice@Contoso.com,Alice Smith\r\nbob@contoso.com,Bob\r\n",
			want: []member{
				{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: "Alice Smith", Line: 2},
				{UPN: "bob@contoso.com", SIP: "bob@contoso.com", DisplayName: "Bob", Line: 3},
			},
		},
		{
			name: "no final line end",
			data: "upn\r\nalice@contoso.com",
			want: []member{{UPN: "alice@contoso.com", SIP: "alice@contoso.com", Line: 2}},
		},
		{
			name: "quoted fields with commas, quotes and line ends",
			data: "upn,display_name\n" +
				"\"alice@contoso.com\",\"Smith, Alice\"\n" +
				"bob@contoso.com, \"Bob \"\"The Builder\"\"\"\n" +
				"carol@contoso.com,\"Carol\nsecond line\"\n" +
				"dave@contoso.com,Dave\n",
			want: []member{
				{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: "Smith, Alice", Line: 2},
				{UPN: "bob@contoso.com", SIP: "bob@contoso.com", DisplayName: `Bob "The Builder"`, Line: 3},
				{UPN: "carol@contoso.com", SIP: "carol@contoso.com", DisplayName: "Carol\nsecond line", Line: 4},
				{UPN: "dave@contoso.com", SIP: "dave@contoso.com", DisplayName: "Dave", Line: 6},
			},
		},
		{
			name: "blank lines and all-blank records skipped",
			data: "upn,name\n\nalice@contoso.com,A\n,\n  ,  \n\r\nbob@contoso.com,B\n\n\n",
			want: []member{
				{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: "A", Line: 3},
				{UPN: "bob@contoso.com", SIP: "bob@contoso.com", DisplayName: "B", Line: 7},
			},
		},
		{
			name: "Get-CsUser aliases in mixed case",
			data: "UserPrincipalName,SipAddress,DisplayName\nalice@contoso.com,SIP:alice.s@contoso.com,Alice\n",
			want: []member{{UPN: "alice@contoso.com", SIP: "alice.s@contoso.com", DisplayName: "Alice", Line: 2}},
		},
		{
			name: "snake case aliases padded with spaces",
			data: " User_Principal_Name , SIP_Address , NAME \nalice@contoso.com,alice.s@contoso.com,Alice\n",
			want: []member{{UPN: "alice@contoso.com", SIP: "alice.s@contoso.com", DisplayName: "Alice", Line: 2}},
		},
		{
			name: "columns in any order",
			data: "display_name,sip,upn\nAlice,sip:a.s@contoso.com,alice@contoso.com\n",
			want: []member{{UPN: "alice@contoso.com", SIP: "a.s@contoso.com", DisplayName: "Alice", Line: 2}},
		},
		{
			name:    "unknown columns ignored and reported",
			data:    "Department,upn,  Office ,,name\nSales,alice@contoso.com,Leeds,x,Alice\n",
			want:    []member{{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: "Alice", Line: 2}},
			ignored: []string{"Department", "Office"},
		},
		{
			name: "short records",
			data: "upn,sip,name\nalice@contoso.com\nbob@contoso.com,bob.b@contoso.com\n",
			want: []member{
				{UPN: "alice@contoso.com", SIP: "alice@contoso.com", Line: 2},
				{UPN: "bob@contoso.com", SIP: "bob.b@contoso.com", Line: 3},
			},
		},
		{
			name: "values trimmed and lower-cased",
			data: "upn,sip,name\n  ALICE@CONTOSO.COM  ,  Sip:Alice@Contoso.COM ,  Alice  \n",
			want: []member{{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: "Alice", Line: 2}},
		},
		{
			name: "display name of 256 characters",
			data: "upn,name\nalice@contoso.com," + strings.Repeat("é", 256) + "\n",
			want: []member{{UPN: "alice@contoso.com", SIP: "alice@contoso.com", DisplayName: strings.Repeat("é", 256), Line: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := migration.ParseMembersCSV([]byte(tt.data))
			require.NoError(t, err)
			require.Equal(t, tt.want, project(res.Members))
			require.Equal(t, tt.ignored, res.IgnoredColumns)
			for name, r := range cutReaders(tt.data) {
				members, ignored, err := readCSV(r)
				require.NoError(t, err, name)
				require.Equal(t, tt.want, project(members), name)
				require.Equal(t, tt.ignored, ignored, name)
			}
		})
	}
}

func TestParseMembersCSVErrors(t *testing.T) {
	t.Parallel()
	csvErr := func(line int, field string, contains ...string) wantError {
		return wantError{code: migration.CodeInvalidCSV, line: line, field: field, contains: contains}
	}
	var tooMany strings.Builder
	tooMany.WriteString("upn\n")
	for i := range migration.MaxProblems + 5 {
		fmt.Fprintf(&tooMany, "user%d.contoso.com\n", i)
	}
	tests := []struct {
		name string
		data string
		want wantError
	}{
		{"empty file", "", csvErr(1, "", "line 1", "empty", "upn column")},
		{"byte order mark only", "\xef\xbb\xbf", csvErr(1, "", "empty")},
		{"blank lines only", "\n\r\n\n", csvErr(1, "", "empty")},
		{"header only", "upn,name\n", csvErr(2, "", "line 2", "no users")},
		{"header and blank records only", "upn,name\n,\n\n  , \n", csvErr(2, "", "no users")},
		{"no upn column", "email,name\nalice@contoso.com,Alice\n", csvErr(1, "upn", "line 1, upn:", "no upn column", "found: email, name")},
		{"upn column twice", "upn,UserPrincipalName\nalice@contoso.com,alice@contoso.com\n", csvErr(1, "upn", "line 1", `"UserPrincipalName" appears twice`)},
		{"sip column twice", "upn,sip,SipAddress\nalice@contoso.com,a@contoso.com,a@contoso.com\n", csvErr(1, "sip", `"SipAddress" appears twice`)},
		{"duplicate upn", "upn\nalice@contoso.com\nbob@contoso.com\nALICE@contoso.com\n", csvErr(4, "upn", "line 4, upn:", "alice@contoso.com appears twice (first on line 2)")},
		{"duplicate sip", "upn,sip\nalice@contoso.com,shared@contoso.com\nbob@contoso.com,sip:Shared@Contoso.com\n", csvErr(3, "sip", "line 3, sip:", "shared@contoso.com appears twice (first on line 2)")},
		{"sip equal to another user's upn", "upn,sip\nalice@contoso.com,\nbob@contoso.com,alice@contoso.com\n", csvErr(3, "sip", "alice@contoso.com appears twice (first on line 2)")},
		{"upn without @", "upn\nalice@contoso.com\nbob.contoso.com\n", csvErr(3, "upn", "line 3, upn:", `"bob.contoso.com" is not a valid UPN`, "no @")},
		{"upn with two @", "upn\nbob@fabrikam@contoso.com\n", csvErr(2, "upn", "more than one @")},
		{"upn with nothing before @", "upn\n@contoso.com\n", csvErr(2, "upn", "nothing before the @")},
		{"upn domain without dot", "upn\nbob@contoso\n", csvErr(2, "upn", "needs a dot")},
		{"upn domain with empty label", "upn\nbob@contoso..com\n", csvErr(2, "upn", `domain "contoso..com" is not valid`)},
		{"upn domain label starting with hyphen", "upn\nbob@-contoso.com\n", csvErr(2, "upn", "is not valid")},
		{"upn domain with underscore", "upn\nbob@con_toso.com\n", csvErr(2, "upn", "is not valid")},
		{"upn with space before @", "upn\nbob smith@contoso.com\n", csvErr(2, "upn", `' ' is not allowed before the @`)},
		{"upn with space in domain", "upn\nbob@contoso .com\n", csvErr(2, "upn", "is not valid")},
		{"upn with two dots in a row", "upn\nbob..smith@contoso.com\n", csvErr(2, "upn", "two dots")},
		{"upn starting with a dot", "upn\n.bob@contoso.com\n", csvErr(2, "upn", "two dots")},
		{"upn local part over 64", "upn\n" + strings.Repeat("a", 65) + "@contoso.com\n", csvErr(2, "upn", "longer than 64")},
		{"upn over 256", "upn\na@" + strings.Repeat(strings.Repeat("b", 60)+".", 5) + "com\n", csvErr(2, "upn", "longer than 256")},
		{"empty upn with other fields", "upn,name\nalice@contoso.com,Alice\n,Bob\n", csvErr(3, "upn", "line 3, upn: upn is empty")},
		{"invalid sip", "upn,sip\nalice@contoso.com,sip:alice\n", csvErr(2, "sip", `"alice" is not a valid SIP address`, "no @")},
		{"display name over 256", "upn,name\nalice@contoso.com," + strings.Repeat("é", 257) + "\n", csvErr(2, "display_name", "longer than 256")},
		{"invalid UTF-8 on line 3", "upn,name\nalice@contoso.com,Alice\nbob@contoso.com,Jos\xe9\n", csvErr(3, "", "line 3", "not UTF-8")},
		{"invalid UTF-8 after BOM and CRLF", "\xef\xbb\xbfupn\r\nalice@contoso.com\r\n\r\n\xff@contoso.com\r\n", csvErr(4, "", "not UTF-8")},
		{"invalid UTF-8 in header", "up\xffn\nalice@contoso.com\n", csvErr(1, "", "not UTF-8")},
		{"bare quote", "upn,name\nalice@contoso.com,Alice\nbob@contoso.com,Bo\"b\n", csvErr(3, "", "line 3", "malformed CSV", `bare "`)},
		{"bare quote in header", "upn,na\"me\nalice@contoso.com,Alice\n", csvErr(1, "", "line 1", "malformed CSV")},
		{"extraneous quote", "upn\n\"alice\"x@contoso.com\n", csvErr(2, "", "line 2", "malformed CSV")},
		// The quote opened on line 2 is never closed: the reader runs to the
		// end of the file, but the line to fix is 2.
		{"unterminated quote", "upn,name\nalice@contoso.com,\"Alice\nbob@contoso.com,Bob\ncarol@contoso.com,Carol\n", csvErr(2, "", "line 2", "malformed CSV")},
		{
			"more than MaxProblems problems", tooMany.String(),
			wantError{
				code: migration.CodeInvalidCSV, line: 2, field: "upn", details: migration.MaxProblems,
				contains: []string{"line 2, upn:", fmt.Sprintf("(and %d more problems)", migration.MaxProblems-1)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := migration.ParseMembersCSV([]byte(tt.data))
			e := requireError(t, err, tt.want)
			require.Empty(t, res.Members, "nothing is returned with an error")
			for name, r := range cutReaders(tt.data) {
				_, _, err := readCSV(r)
				require.Equal(t, e, err, name)
			}
		})
	}
}

func TestParseMembersCSVProblemsListed(t *testing.T) {
	t.Parallel()
	data := "upn,sip\nalice@contoso.com\nbob\nalice@contoso.com\ncarol@contoso.com,carol\n,\ndave@contoso.com\n"
	_, err := migration.ParseMembersCSV([]byte(data))
	e := requireError(t, err, wantError{
		code: migration.CodeInvalidCSV, line: 3, field: "upn", details: 3,
		contains: []string{`line 3, upn: "bob" is not a valid UPN`, "(and 2 more problems)"},
	})
	require.Equal(t, []int{3, 4, 5}, []int{e.Details[0].Line, e.Details[1].Line, e.Details[2].Line})
	require.Equal(t, []string{"upn", "upn", "sip"}, []string{e.Details[0].Field, e.Details[1].Field, e.Details[2].Field})
	require.Contains(t, e.Details[1].Message, "first on line 2")
}

func TestParseMembersCSVMaxProblems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("upn\n")
	for i := range 3 * migration.MaxProblems {
		fmt.Fprintf(&b, "user%d\n", i)
	}
	_, err := migration.ParseMembersCSV([]byte(b.String()))
	e := requireError(t, err, wantError{code: migration.CodeInvalidCSV, line: 2, field: "upn", details: migration.MaxProblems})
	for i, p := range e.Details {
		require.Equal(t, i+2, p.Line)
		require.Equal(t, "upn", p.Field)
	}
}

func TestNormalizeMembers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []migration.Member
		want []member
	}{
		{
			name: "trimmed, lower-cased, sip: dropped",
			in: []migration.Member{
				{UPN: "  Alice@Contoso.COM ", SIP: " SIP:Alice.Smith@Contoso.com", DisplayName: "  Alice Smith "},
				{UPN: "bob@contoso.com", SIP: "sip:bob@contoso.com"},
			},
			want: []member{
				{UPN: "alice@contoso.com", SIP: "alice.smith@contoso.com", DisplayName: "Alice Smith"},
				{UPN: "bob@contoso.com", SIP: "bob@contoso.com"},
			},
		},
		{
			name: "sip defaults to the upn",
			in:   []migration.Member{{UPN: "Carol@Contoso.com"}, {UPN: "dave@contoso.com", SIP: "   "}},
			want: []member{
				{UPN: "carol@contoso.com", SIP: "carol@contoso.com"},
				{UPN: "dave@contoso.com", SIP: "dave@contoso.com"},
			},
		},
		{
			name: "lines kept",
			in:   []migration.Member{{UPN: "erin@contoso.com", Line: 7}},
			want: []member{{UPN: "erin@contoso.com", SIP: "erin@contoso.com", Line: 7}},
		},
		{
			name: "allowed characters",
			in:   []migration.Member{{UPN: "o'brien+test_1.x-y@sub-1.contoso.co.uk"}},
			want: []member{{UPN: "o'brien+test_1.x-y@sub-1.contoso.co.uk", SIP: "o'brien+test_1.x-y@sub-1.contoso.co.uk"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := migration.NormalizeMembers(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, project(out))
		})
	}
}

func TestNormalizeMembersErrors(t *testing.T) {
	t.Parallel()
	ok := func(upn string) migration.Member { return migration.Member{UPN: upn} }
	jsonErr := func(field string, contains ...string) wantError {
		return wantError{code: migration.CodeInvalidMembers, field: field, contains: contains}
	}
	tooMany := make([]migration.Member, migration.MaxProblems+10)
	for i := range tooMany {
		tooMany[i] = ok(fmt.Sprintf("user%d", i))
	}
	tests := []struct {
		name string
		in   []migration.Member
		want wantError
	}{
		{"nil", nil, jsonErr("members", "no users")},
		{"empty", []migration.Member{}, jsonErr("members", "no users")},
		{"empty upn", []migration.Member{ok("a@contoso.com"), ok("b@contoso.com"), ok("  ")}, jsonErr("members[2].upn", "members[2].upn: upn is empty")},
		{"invalid upn", []migration.Member{ok("a@contoso.com"), ok("b@contoso.com"), ok("c.contoso.com")}, jsonErr("members[2].upn", `members[2].upn: "c.contoso.com" is not a valid UPN`)},
		{"invalid sip", []migration.Member{ok("a@contoso.com"), {UPN: "b@contoso.com", SIP: "sip:b@"}}, jsonErr("members[1].sip", "members[1].sip:", "not a valid SIP address")},
		{"display name too long", []migration.Member{{UPN: "a@contoso.com", DisplayName: strings.Repeat("x", 257)}}, jsonErr("members[0].display_name", "longer than 256")},
		{"duplicate upn", []migration.Member{ok("x@contoso.com"), ok("a@contoso.com"), ok("b@contoso.com"), ok("A@Contoso.com")}, jsonErr("members[3].upn", "members[3].upn: a@contoso.com appears twice (first at members[1].upn)")},
		{"duplicate sip", []migration.Member{ok("x@contoso.com"), {UPN: "a@contoso.com", SIP: "s@contoso.com"}, {UPN: "b@contoso.com", SIP: "sip:S@contoso.com"}}, jsonErr("members[2].sip", "members[2].sip: SIP address s@contoso.com appears twice (first at members[1].sip)")},
		{"duplicate of the first", []migration.Member{ok("a@contoso.com"), ok("b@contoso.com"), ok("a@contoso.com")}, jsonErr("members[2].upn", "(first at members[0].upn)")},
		{"members from CSV lines", []migration.Member{{UPN: "a@contoso.com", Line: 2}, {UPN: "a", Line: 5}}, wantError{code: migration.CodeInvalidCSV, line: 5, field: "upn", contains: []string{"line 5, upn:"}}},
		{
			"more than MaxProblems problems", tooMany,
			wantError{
				code: migration.CodeInvalidMembers, field: "members[0].upn", details: migration.MaxProblems,
				contains: []string{fmt.Sprintf("(and %d more problems)", migration.MaxProblems-1)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := migration.NormalizeMembers(tt.in)
			e := requireError(t, err, tt.want)
			require.Nil(t, out)
			for _, p := range e.Details {
				require.False(t, p.Line == 0 && !strings.HasPrefix(p.Field, "members"), "problem %+v names neither a line nor a member", p)
			}
		})
	}
}

func TestNormalizeMembersProblemFields(t *testing.T) {
	t.Parallel()
	in := make([]migration.Member, 30)
	for i := range in {
		in[i] = migration.Member{UPN: fmt.Sprintf("user%d", i)}
	}
	_, err := migration.NormalizeMembers(in)
	e := requireError(t, err, wantError{code: migration.CodeInvalidMembers, field: "members[0].upn", details: migration.MaxProblems})
	for i, p := range e.Details {
		require.Equal(t, fmt.Sprintf("members[%d].upn", i), p.Field)
		require.Zero(t, p.Line)
	}
}

func TestNormalizeMembersDoesNotChangeInput(t *testing.T) {
	t.Parallel()
	in := []migration.Member{{UPN: " A@Contoso.com ", SIP: "sip:A@contoso.com", DisplayName: " A "}}
	_, err := migration.NormalizeMembers(in)
	require.NoError(t, err)
	require.Equal(t, []member{{UPN: " A@Contoso.com ", SIP: "sip:A@contoso.com", DisplayName: " A "}}, project(in))
}

// cutReaders return readers of data that cut it where a reader may: a byte
// at a time (through the middle of runes), in halves, with the end of the
// input given with the last bytes.
func cutReaders(data string) map[string]io.Reader {
	return map[string]io.Reader{
		"one byte at a time": iotest.OneByteReader(strings.NewReader(data)),
		"half reads":         iotest.HalfReader(strings.NewReader(data)),
		"EOF with the data":  iotest.DataErrReader(strings.NewReader(data)),
	}
}

// readCSV reads every member a CSV stream yields, and its error.
func readCSV(r io.Reader) ([]migration.Member, []string, error) {
	s, err := migration.ReadMembersCSV(r)
	if err != nil {
		return nil, nil, err
	}
	var ms []migration.Member
	for s.Next() {
		ms = append(ms, s.Member())
	}
	return ms, s.IgnoredColumns(), s.Err()
}

// goodLines writes n good users, from line 2.
func goodLines(b *strings.Builder, n int) {
	for i := range n {
		fmt.Fprintf(b, "u%07d@contoso.com,User %d\n", i+1, i+1)
	}
}

// TestReadMembersCSVStreams: the members are yielded as they are read, good
// ones up to the first problem; the problem may be on the file's last line,
// and a duplicate is named by both its lines however far apart.
func TestReadMembersCSVStreams(t *testing.T) {
	t.Parallel()
	t.Run("problem on the last line", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("upn,display_name\n")
		goodLines(&b, 5000)
		b.WriteString("last.contoso.com,Last\n")
		ms, _, err := readCSV(strings.NewReader(b.String()))
		require.Len(t, ms, 5000, "the good members before the problem are yielded")
		requireError(t, err, wantError{code: migration.CodeInvalidCSV, line: 5002, field: "upn", contains: []string{`line 5002, upn: "last.contoso.com" is not a valid UPN`}})
	})
	t.Run("duplicate far apart", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("upn,display_name\n")
		goodLines(&b, 4000)
		b.WriteString("U0000001@Contoso.com,Again\n")
		_, _, err := readCSV(strings.NewReader(b.String()))
		requireError(t, err, wantError{code: migration.CodeInvalidCSV, line: 4002, field: "upn", contains: []string{"line 4002, upn: u0000001@contoso.com appears twice (first on line 2)"}})
	})
	t.Run("nothing after the first problem", func(t *testing.T) {
		t.Parallel()
		ms, _, err := readCSV(strings.NewReader("upn\na@contoso.com\nb\nc@contoso.com\nd\n"))
		require.Equal(t, []member{{UPN: "a@contoso.com", SIP: "a@contoso.com", Line: 2}}, project(ms))
		e := requireError(t, err, wantError{code: migration.CodeInvalidCSV, line: 3, field: "upn", details: 2})
		require.Equal(t, 5, e.Details[1].Line, "the rest is still checked")
	})
	t.Run("problems listed after MaxProblems good lines", func(t *testing.T) {
		t.Parallel()
		ms, _, err := readCSV(strings.NewReader("upn\na@contoso.com\nb@contoso.com\nA@contoso.com\nc@contoso.com\nB@contoso.com\n"))
		require.Len(t, ms, 2)
		e := requireError(t, err, wantError{code: migration.CodeInvalidCSV, line: 4, field: "upn", details: 2})
		require.Contains(t, e.Details[1].Message, "b@contoso.com appears twice (first on line 3)", "members after a problem are remembered")
	})
}

// TestReadMembersCSVWhichProblem: a file's problems are judged as when the
// whole file was read before any record: an error reading it first, then
// bytes that are not UTF-8, then malformed CSV, then the members' problems.
func TestReadMembersCSVWhichProblem(t *testing.T) {
	t.Parallel()
	errRead := errors.New("body too large")
	var many strings.Builder
	many.WriteString("upn\n")
	goodLines(&many, 3000)
	tests := []struct {
		name string
		r    io.Reader
		want wantError // or
		is   error
	}{
		{
			name: "not UTF-8 after a bad member",
			r:    strings.NewReader("upn,name\nbad\n" + many.String()[4:] + "x@contoso.com,Jos\xe9\n"),
			want: wantError{code: migration.CodeInvalidCSV, line: 3003, contains: []string{"line 3003", "not UTF-8"}},
		},
		{
			name: "malformed after a bad member",
			r:    strings.NewReader("upn,name\nbad\n" + many.String()[4:] + "x@contoso.com,Bo\"b\n"),
			want: wantError{code: migration.CodeInvalidCSV, line: 3003, contains: []string{"line 3003", "malformed CSV"}},
		},
		{
			name: "not UTF-8 after malformed",
			r:    strings.NewReader("upn,name\nx@contoso.com,Bo\"b\n" + many.String()[4:] + "y@contoso.com,Jos\xe9\n"),
			want: wantError{code: migration.CodeInvalidCSV, line: 3003, contains: []string{"not UTF-8"}},
		},
		{
			name: "not UTF-8 after a header without upn",
			r:    strings.NewReader("email\n" + many.String()[4:] + "Jos\xe9\n"),
			want: wantError{code: migration.CodeInvalidCSV, line: 3002, contains: []string{"not UTF-8"}},
		},
		{
			name: "a read error after a bad member",
			r:    io.MultiReader(strings.NewReader("upn\nbad\n"+many.String()[4:]), iotest.ErrReader(errRead)),
			is:   errRead,
		},
		{
			name: "a read error after bytes that are not UTF-8",
			r:    io.MultiReader(strings.NewReader("upn\n\xff\n"+many.String()[4:]), iotest.ErrReader(errRead)),
			is:   errRead,
		},
		{
			name: "a read error after a header without upn",
			r:    io.MultiReader(strings.NewReader("email\n"), iotest.ErrReader(errRead)),
			is:   errRead,
		},
		{
			name: "a read error after good members",
			r:    io.MultiReader(strings.NewReader(many.String()), iotest.ErrReader(errRead)),
			is:   errRead,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readCSV(tt.r)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
				return
			}
			requireError(t, err, tt.want)
		})
	}
}

// TestCheckMembers: a list's members are yielded checked, up to the first
// problem, and the list is left as it was.
func TestCheckMembers(t *testing.T) {
	t.Parallel()
	in := []migration.Member{{UPN: " A@Contoso.com "}, {UPN: "b@contoso.com"}, {UPN: "c"}, {UPN: "d@contoso.com"}, {UPN: "a@contoso.com"}}
	s := migration.CheckMembers(in)
	var got []migration.Member
	for s.Next() {
		got = append(got, s.Member())
	}
	require.Equal(t, []member{{UPN: "a@contoso.com", SIP: "a@contoso.com"}, {UPN: "b@contoso.com", SIP: "b@contoso.com"}}, project(got))
	e := requireError(t, s.Err(), wantError{code: migration.CodeInvalidMembers, field: "members[2].upn", details: 2})
	require.Equal(t, "members[4].upn: a@contoso.com appears twice (first at members[0].upn)", e.Details[1].String())
	require.False(t, s.Next(), "a stream ends once")
	require.Equal(t, " A@Contoso.com ", in[0].UPN)
}
