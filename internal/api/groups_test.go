package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGroupCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// A CSV as Excel saves it: a byte order mark, CRLF line ends, quoted
	// fields, blank lines, aliased headers and columns cutover does not read.
	excelCSV := "\ufeffUserPrincipalName,SipAddress,DisplayName,Department,Office\r\n" +
		"Alice@Contoso.com,sip:Alice.Smith@Contoso.com,\"Smith, Alice\",Finance,HQ\r\n" +
		"\r\n" +
		"\"bob@contoso.com\",\"bob@contoso.com\",\"Bob \"\"The Builder\"\" Jones\",Ops,\r\n" +
		",,,,\r\n" +
		"carol@contoso.com,,\"Carol\r\nOn Two Lines\",,\r\n"

	tests := []struct {
		name        string
		contentType string
		query       string
		body        func(t *testing.T) (io.Reader, string) // body and its content type, if multipart
		// want
		groupName string
		source    string
		members   int
		ignored   []string
		// users found afterwards by their UPN, with their SIP address and display name
		users [][3]string
	}{
		{
			name: "json", contentType: "application/json",
			body: func(*testing.T) (io.Reader, string) {
				return strings.NewReader(`{"name": "  JSON pilot  ", "members": [
					{"upn": "Dave@Contoso.com", "sip": "SIP:D.Jones@Contoso.com", "display_name": "Dave Jones"},
					{"upn": "erin@contoso.com"}]}`), ""
			},
			groupName: "JSON pilot", source: "json", members: 2,
			users: [][3]string{{"dave@contoso.com", "d.jones@contoso.com", "Dave Jones"}, {"erin@contoso.com", "erin@contoso.com", ""}},
		},
		{
			name: "json without a content type",
			body: func(*testing.T) (io.Reader, string) {
				return strings.NewReader(`{"name": "untyped", "members": [{"upn": "frank@contoso.com"}]}`), ""
			},
			groupName: "untyped", source: "json", members: 1,
		},
		{
			name: "csv with a BOM, CRLF, quoted fields and blank lines", contentType: "text/csv; charset=utf-8", query: "?name=" + url.QueryEscape("Excel pilot"),
			body:      func(*testing.T) (io.Reader, string) { return strings.NewReader(excelCSV), "" },
			groupName: "Excel pilot", source: "csv", members: 3, ignored: []string{"Department", "Office"},
			users: [][3]string{
				{"alice@contoso.com", "alice.smith@contoso.com", "Smith, Alice"},
				{"bob@contoso.com", "bob@contoso.com", `Bob "The Builder" Jones`},
				{"carol@contoso.com", "carol@contoso.com", "Carol\nOn Two Lines"}, // encoding/csv reads a quoted CRLF as \n
			},
		},
		{
			name: "multipart upload",
			body: func(t *testing.T) (io.Reader, string) {
				return multipartBody(t, map[string]string{"name": "Uploaded pilot"}, "hr.csv", []byte("upn,display_name,cost_centre\ngina@contoso.com,Gina\nhal@contoso.com,Hal\n"))
			},
			groupName: "Uploaded pilot", source: "csv", members: 2, ignored: []string{"cost_centre"},
			users: [][3]string{{"gina@contoso.com", "gina@contoso.com", "Gina"}, {"hal@contoso.com", "hal@contoso.com", "Hal"}},
		},
		{
			// The form's name field names the group; ?name= is for a plain CSV body.
			name: "multipart upload with a name field and ?name=", query: "?name=from-the-query",
			body: func(t *testing.T) (io.Reader, string) {
				return multipartBody(t, map[string]string{"name": "From the form"}, "it.csv", []byte("upn\njack@contoso.com\n"))
			},
			groupName: "From the form", source: "csv", members: 1,
		},
		{
			// The schema allows 200 characters; "é" is two bytes in UTF-8.
			name: "json with a name of 150 accented characters", contentType: "application/json",
			body: func(*testing.T) (io.Reader, string) {
				return strings.NewReader(`{"name": "` + strings.Repeat("é", 150) + `", "members": [{"upn": "kim@contoso.com"}]}`), ""
			},
			groupName: strings.Repeat("é", 150), source: "json", members: 1,
		},
		{
			name: "multipart upload named after its file",
			body: func(t *testing.T) (io.Reader, string) {
				return multipartBody(t, nil, "legal-pilot.csv", []byte("upn\nivan@contoso.com\n"))
			},
			groupName: "legal-pilot", source: "csv", members: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, ct := tt.body(t)
			if ct == "" {
				ct = tt.contentType
			}
			r := b.do(t, http.MethodPost, "/api/v1/groups"+tt.query, ct, body)
			g := decode[group](t, r, http.StatusCreated)
			require.Equal(t, tt.groupName, g.Name)
			require.Equal(t, tt.source, g.Source)
			require.Equal(t, tt.members, g.Members)
			require.Equal(t, tt.members, g.Unplanned)
			require.Equal(t, tt.ignored, g.IgnoredColumns)
			require.Empty(t, g.Waves)
			require.Empty(t, g.Failures)
			require.Nil(t, g.FinishedAt)
			require.Equal(t, tt.members, g.Progress.Total)
			require.Equal(t, map[string]int{"unplanned": tt.members}, g.Progress.Counts)

			require.Equal(t, "/api/v1/groups/"+strconv.FormatInt(g.ID, 10), r.Header.Get("Location"))
			got := decode[group](t, b.get(t, r.Header.Get("Location")), http.StatusOK)
			require.Equal(t, g.ID, got.ID)
			require.Equal(t, tt.groupName, got.Name)
			require.Equal(t, tt.members, got.Members)

			for _, u := range tt.users {
				st := b.user(t, u[0])
				require.Equal(t, "unplanned", st.State, u[0])
				require.Equal(t, u[0], st.UPN)
				require.Equal(t, u[1], st.SIP)
				require.Equal(t, u[2], st.DisplayName)
				require.Len(t, st.Groups, 1)
				require.Equal(t, g.ID, st.Groups[0].GroupID)
			}
		})
	}
}

// hugeCSV is a CSV of more than 10 MB.
func hugeCSV() []byte {
	var buf bytes.Buffer
	buf.WriteString("upn,display_name\n")
	for i := 0; buf.Len() < 10<<20; i++ {
		fmt.Fprintf(&buf, "user%07d@contoso.com,User %d\n", i, i)
	}
	return buf.Bytes()
}

// TestGroupCreateErrors sends bad groups: each is refused with an error that
// names the field or CSV line at fault, and nothing is imported.
func TestGroupCreateErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		csvType  = "text/csv"
		jsonType = "application/json"
	)
	raw := func(s string) func(*testing.T) (io.Reader, string) {
		return func(*testing.T) (io.Reader, string) { return strings.NewReader(s), "" }
	}
	tests := []struct {
		name        string
		contentType string
		query       string
		body        func(t *testing.T) (io.Reader, string)
		// want
		status   int
		code     string
		field    string
		line     int
		contains []string // in the message
	}{
		{
			name: "csv: duplicate upn", contentType: csvType, query: "?name=dup",
			body: raw("upn,display_name\r\n" +
				"alice@contoso.com,Alice\r\n" +
				"bob@contoso.com,Bob\r\n" +
				"\r\n" +
				"ALICE@contoso.com,Alice again\r\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 5, contains: []string{"line 5", "alice@contoso.com", "line 2"},
		},
		{
			name: "csv: duplicate sip address", contentType: csvType, query: "?name=dupsip",
			body: raw("upn,sip\n" +
				"alice@contoso.com,shared@contoso.com\n" +
				"bob@contoso.com,sip:Shared@contoso.com\n"),
			status: 422, code: "invalid_csv", field: "sip", line: 3, contains: []string{"line 3", "shared@contoso.com", "line 2"},
		},
		{
			name: "csv: invalid upn", contentType: csvType, query: "?name=bad",
			body: raw("upn,sip\n" +
				"alice@contoso.com,\n" +
				"\"bob@contoso.com\",\"sip:bob@contoso.com\"\n" +
				"carol.contoso.com,\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 4, contains: []string{"line 4", "carol.contoso.com"},
		},
		{
			name: "csv: invalid upn after a quoted field over two lines", contentType: csvType, query: "?name=bad2",
			body: raw("upn,display_name\n" +
				"alice@contoso.com,\"Alice\nSmith\"\n" +
				"bob@contoso,Bob\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 4, contains: []string{"line 4", "bob@contoso"},
		},
		{
			name: "csv: every problem listed", contentType: csvType, query: "?name=many",
			body: raw("upn\n" +
				"no-at-sign\n" +
				"alice@contoso.com\n" +
				"\n" +
				"also bad\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 2, contains: []string{"line 2", "and 1 more problem"},
		},
		{
			name: "csv: no upn column", contentType: csvType, query: "?name=noupn",
			body:   raw("email,display_name\nalice@contoso.com,Alice\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 1, contains: []string{"line 1", "upn"},
		},
		{
			name: "csv: header only", contentType: csvType, query: "?name=empty",
			body:   raw("upn,display_name\r\n\r\n"),
			status: 422, code: "invalid_csv", line: 2, contains: []string{"line 2"},
		},
		{
			name: "csv: empty file", contentType: csvType, query: "?name=nothing",
			body:   raw(""),
			status: 422, code: "invalid_csv", line: 1, contains: []string{"line 1"},
		},
		{
			name: "csv: bare quote", contentType: csvType, query: "?name=quote",
			body:   raw("upn,display_name\nalice@contoso.com,Alice\nbob@contoso.com,Bob \"Bobby\" Jones\n"),
			status: 422, code: "invalid_csv", line: 3, contains: []string{"line 3"},
		},
		{
			name: "csv: not UTF-8", contentType: csvType, query: "?name=latin1",
			body:   raw("upn,display_name\nalice@contoso.com,Alice\nbob@contoso.com,Jos\xe9\n"),
			status: 422, code: "invalid_csv", line: 3, contains: []string{"line 3", "UTF-8"},
		},
		{
			name: "csv: no name", contentType: csvType,
			body:   raw("upn\nalice@contoso.com\n"),
			status: 422, code: "invalid_group", field: "name",
		},
		{
			name: "csv: 10 MB", contentType: csvType, query: "?name=huge",
			body:   func(*testing.T) (io.Reader, string) { return bytes.NewReader(hugeCSV()), "" },
			status: 413, code: "body_too_large",
		},
		{
			name: "json: 10 MB", contentType: jsonType,
			body: func(*testing.T) (io.Reader, string) {
				return strings.NewReader(`{"name": "huge", "members": [` + strings.Repeat(`{"upn": "someone@contoso.com"},`, 10<<20/30) + `{"upn": "last@contoso.com"}]}`), ""
			},
			status: 413, code: "body_too_large",
		},
		{
			name: "multipart: 10 MB", query: "?name=huge-upload",
			body: func(t *testing.T) (io.Reader, string) {
				return multipartBody(t, map[string]string{"name": "huge upload"}, "huge.csv", hugeCSV())
			},
			status: 413, code: "body_too_large",
		},
		{
			name: "multipart: no file field",
			body: func(t *testing.T) (io.Reader, string) {
				return multipartBody(t, map[string]string{"name": "no file"}, "", nil)
			},
			status: 422, code: "invalid_csv", field: "file",
		},
		{
			name: "multipart: duplicate upn in the file",
			body: func(t *testing.T) (io.Reader, string) {
				return multipartBody(t, map[string]string{"name": "dup upload"}, "dup.csv", []byte("upn\na@contoso.com\nb@contoso.com\na@contoso.com\n"))
			},
			status: 422, code: "invalid_csv", field: "upn", line: 4, contains: []string{"line 4"},
		},
		{
			name: "wrong content type", contentType: "application/xml",
			body:   raw(`<group name="x"/>`),
			status: 415, code: "unsupported_media_type", contains: []string{"application/xml"},
		},
		{
			name: "json: malformed", contentType: jsonType,
			body:   raw(`{"name": "x", "members": [{"upn": alice@contoso.com}]}`),
			status: 400, code: "invalid_json",
		},
		{
			name: "json: cut short", contentType: jsonType,
			body:   raw(`{"name": "x", "members": [`),
			status: 400, code: "invalid_json",
		},
		{
			name: "json: empty body", contentType: jsonType,
			body:   raw(``),
			status: 400, code: "invalid_json",
		},
		{
			name: "json: trailing data", contentType: jsonType,
			body:   raw(`{"name": "x", "members": [{"upn": "a@contoso.com"}]} {"name": "y"}`),
			status: 400, code: "invalid_json",
		},
		{
			name: "json: unknown field", contentType: jsonType,
			body:   raw(`{"name": "x", "owner": "me", "members": [{"upn": "a@contoso.com"}]}`),
			status: 400, code: "invalid_json", field: "owner", contains: []string{"owner"},
		},
		{
			name: "json: wrong type", contentType: jsonType,
			body:   raw(`{"name": 42, "members": [{"upn": "a@contoso.com"}]}`),
			status: 400, code: "invalid_json", field: "name", contains: []string{"name", "string"},
		},
		{
			name: "json: members not a list", contentType: jsonType,
			body:   raw(`{"name": "x", "members": {"upn": "a@contoso.com"}}`),
			status: 400, code: "invalid_json", field: "members", contains: []string{"members", "array"},
		},
		{
			name: "json: missing name", contentType: jsonType,
			body:   raw(`{"members": [{"upn": "a@contoso.com"}]}`),
			status: 422, code: "invalid_group", field: "name", contains: []string{"name"},
		},
		{
			name: "json: blank name", contentType: jsonType,
			body:   raw(`{"name": "   ", "members": [{"upn": "a@contoso.com"}]}`),
			status: 422, code: "invalid_group", field: "name",
		},
		{
			name: "json: name too long", contentType: jsonType,
			body:   raw(`{"name": "` + strings.Repeat("x", 201) + `", "members": [{"upn": "a@contoso.com"}]}`),
			status: 422, code: "invalid_group", field: "name",
		},
		{
			name: "json: no members", contentType: jsonType,
			body:   raw(`{"name": "x", "members": []}`),
			status: 422, code: "invalid_members", field: "members",
		},
		{
			name: "json: invalid upn", contentType: jsonType,
			body:   raw(`{"name": "x", "members": [{"upn": "a@contoso.com"}, {"upn": "b@"}]}`),
			status: 422, code: "invalid_members", field: "members[1].upn", contains: []string{"members[1].upn"},
		},
		{
			name: "json: duplicate upn", contentType: jsonType,
			body:   raw(`{"name": "x", "members": [{"upn": "a@contoso.com"}, {"upn": "b@contoso.com"}, {"upn": "A@Contoso.com"}]}`),
			status: 422, code: "invalid_members", field: "members[2].upn", contains: []string{"members[2].upn", "members[0].upn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, ct := tt.body(t)
			if ct == "" {
				ct = tt.contentType
			}
			e := apiErr(t, b.do(t, http.MethodPost, "/api/v1/groups"+tt.query, ct, body), tt.status, tt.code)
			require.Equal(t, tt.field, e.Field, "field; message %q", e.Message)
			require.Equal(t, tt.line, e.Line, "line; message %q", e.Message)
			for _, s := range tt.contains {
				require.Contains(t, e.Message, s)
			}
			require.Empty(t, b.groups(t), "a refused group was imported")
		})
	}
}

func TestGroupCreateDuplicateName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.createGroup(t, "Finance pilot", users(3, "fin"))

	tests := []struct {
		name        string
		contentType string
		query       string
		body        string
	}{
		{"json", "application/json", "", `{"name": "Finance pilot", "members": [{"upn": "other@contoso.com"}]}`},
		{"json with spaces around the name", "application/json", "", `{"name": " Finance pilot ", "members": [{"upn": "other@contoso.com"}]}`},
		{"csv", "text/csv", "?name=Finance+pilot", "upn\nother@contoso.com\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apiErr(t, b.do(t, http.MethodPost, "/api/v1/groups"+tt.query, tt.contentType, strings.NewReader(tt.body)),
				http.StatusUnprocessableEntity, "group_exists")
			require.Equal(t, "name", e.Field)
			gs := b.groups(t)
			require.Len(t, gs, 1)
			require.Equal(t, first.ID, gs[0].ID)
			require.Equal(t, 3, gs[0].Members)
			apiErr(t, b.get(t, "/api/v1/users/other@contoso.com"), http.StatusNotFound, "user_not_found")
		})
	}
}

// future is a whole second a day or two ahead, in UTC.
func future() time.Time {
	return time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
}

func TestPlanShorthand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Sales pilot", users(10, "sales"))
	start := future()

	r := b.plan(t, g.ID, map[string]any{
		"shorthand": fmt.Sprintf("canary 2, then waves of 3 every 1h, starting at %s", start.Format(time.RFC3339)),
	})
	planned := decode[struct {
		Waves []wave `json:"waves"`
	}](t, r, http.StatusCreated).Waves

	wantSizes := []int{2, 3, 3, 2}
	wantNames := []string{"canary", "wave 1", "wave 2", "wave 3"}
	require.Len(t, planned, len(wantSizes))
	for i, w := range planned {
		require.Equal(t, wantSizes[i], w.Size, "wave %d", i)
		require.Equal(t, wantNames[i], w.Name, "wave %d", i)
		require.Equal(t, i+1, w.Number)
		require.Equal(t, g.ID, w.GroupID)
		require.Equal(t, "scheduled", w.State)
		require.True(t, start.Add(time.Duration(i)*time.Hour).Equal(w.StartAt), "wave %d starts at %s", i, w.StartAt)
		require.Equal(t, 3, w.MaxAttempts, "the default attempts")
		require.Equal(t, 10, w.Concurrency, "the default concurrency")
		require.Nil(t, w.StartedAt)
		require.Equal(t, wantSizes[i], w.Progress.Total)
		require.Equal(t, map[string]int{"pending": wantSizes[i]}, w.Progress.Counts)
	}

	got := b.group(t, g.ID)
	require.Equal(t, 0, got.Unplanned)
	require.Len(t, got.Waves, 4)
	require.Nil(t, got.StartedAt)
	require.Nil(t, got.FinishedAt)
	require.Equal(t, 10, got.Progress.Total)
	require.Equal(t, map[string]int{"pending": 10}, got.Progress.Counts)
	require.Zero(t, got.Progress.Percent)

	// Members are planned in import order: users 2 to 4 are in wave 1.
	for i, want := range []string{"canary", "canary", "wave 1", "wave 1", "wave 1", "wave 2", "wave 2", "wave 2", "wave 3", "wave 3"} {
		st := b.user(t, fmt.Sprintf("sales%03d@contoso.com", i))
		require.Equal(t, "pending", st.State)
		require.NotNil(t, st.Move)
		require.Equal(t, want, st.Move.WaveName, "sales%03d", i)
		require.Contains(t, st.Explanation.Summary, want)
		require.Len(t, st.Timeline, 1)
		require.Equal(t, "pending", st.Timeline[0].State)
		require.Nil(t, st.RollbackRecord)
	}

	e := apiErr(t, b.plan(t, g.ID, map[string]any{"shorthand": "canary 1, then waves of 1 every 1h, starting now"}),
		http.StatusConflict, "already_planned")
	require.Contains(t, e.Message, "Sales pilot")
	require.Len(t, b.group(t, g.ID).Waves, 4, "a refused plan added waves")
}

func TestPlanExplicitWaves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Ops pilot", users(10, "ops"))
	start := future()

	first := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"name": "team leads", "size": 3, "start_at": start.Format(time.RFC3339), "max_attempts": 5, "concurrency": 2},
		{"size": 4, "start_at": start.Add(time.Hour).Format(time.RFC3339)},
	}}), http.StatusCreated).Waves
	require.Len(t, first, 2)
	require.Equal(t, "team leads", first[0].Name)
	require.Equal(t, 3, first[0].Size)
	require.Equal(t, 5, first[0].MaxAttempts)
	require.Equal(t, 2, first[0].Concurrency)
	require.True(t, start.Equal(first[0].StartAt))
	require.Equal(t, "wave 2", first[1].Name)
	require.Equal(t, 4, first[1].Size)
	require.Equal(t, 3, first[1].MaxAttempts)
	require.Equal(t, 10, first[1].Concurrency)
	require.True(t, start.Add(time.Hour).Equal(first[1].StartAt))
	require.Equal(t, 3, b.group(t, g.ID).Unplanned)

	// The rest of the group, in a later plan: numbered after the first.
	rest := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"size": 3, "start_at": start.Add(2 * time.Hour).Format(time.RFC3339)},
	}}), http.StatusCreated).Waves
	require.Len(t, rest, 1)
	require.Equal(t, 3, rest[0].Number)
	require.Equal(t, "wave 3", rest[0].Name)
	got := b.group(t, g.ID)
	require.Equal(t, 0, got.Unplanned)
	require.Len(t, got.Waves, 3)
	require.Equal(t, "wave 3", b.user(t, "ops009@contoso.com").Move.WaveName)

	e := apiErr(t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"size": 1, "start_at": start.Format(time.RFC3339)},
	}}), http.StatusConflict, "already_planned")
	require.Contains(t, e.Message, "Ops pilot")

	// The schema allows wave names of 100 characters; "é" is two bytes in UTF-8.
	g2 := b.createGroup(t, "Ops pilot 2", users(2, "ops2-"))
	accented := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g2.ID, map[string]any{"waves": []map[string]any{
		{"name": strings.Repeat("é", 60), "size": 2, "start_at": start.Format(time.RFC3339)},
	}}), http.StatusCreated).Waves
	require.Len(t, accented, 1)
	require.Equal(t, strings.Repeat("é", 60), accented[0].Name)
}

// TestPlanErrors sends bad plans: each is refused naming the field at fault,
// and the group stays unplanned.
func TestPlanErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, "Legal pilot", users(10, "legal"))
	at := future().Format(time.RFC3339)
	later := future().Add(time.Hour).Format(time.RFC3339)
	path := fmt.Sprintf("/api/v1/groups/%d/plan", g.ID)

	tests := []struct {
		name     string
		path     string
		body     string
		status   int
		code     string
		field    string
		contains string
	}{
		{"both waves and shorthand", path,
			`{"shorthand": "canary 2, then waves of 3 every 1h, starting now", "waves": [{"size": 2, "start_at": "now"}]}`,
			422, "invalid_plan", "waves", "not both"},
		{"neither waves nor shorthand", path, `{}`, 422, "invalid_plan", "waves", "shorthand"},
		{"empty waves", path, `{"waves": []}`, 422, "invalid_plan", "waves", ""},
		{"size too large", path,
			`{"waves": [{"size": 5, "start_at": "` + at + `"}, {"size": 6, "start_at": "` + later + `"}]}`,
			422, "invalid_plan", "waves[1].size", "10"},
		{"size zero", path, `{"waves": [{"size": 0, "start_at": "` + at + `"}]}`, 422, "invalid_plan", "waves[0].size", ""},
		{"bad start_at", path, `{"waves": [{"size": 2, "start_at": "tomorrow night"}]}`, 422, "invalid_plan", "waves[0].start_at", "tomorrow night"},
		{"missing start_at", path, `{"waves": [{"size": 2}]}`, 422, "invalid_plan", "waves[0].start_at", ""},
		{"waves out of order", path,
			`{"waves": [{"size": 2, "start_at": "` + later + `"}, {"size": 2, "start_at": "` + at + `"}]}`,
			422, "invalid_plan", "waves[1].start_at", ""},
		{"too many attempts", path, `{"waves": [{"size": 2, "start_at": "now", "max_attempts": 26}]}`, 422, "invalid_plan", "waves[0].max_attempts", ""},
		{"plan-wide attempts with explicit waves", path, `{"max_attempts": 4, "waves": [{"size": 2, "start_at": "now"}]}`, 422, "invalid_plan", "max_attempts", ""},
		{"bad shorthand", path, `{"shorthand": "canary two, then some waves"}`, 422, "invalid_plan", "shorthand", "canary two"},
		{"shorthand with a bad interval", path, `{"shorthand": "canary 2, then waves of 3 every fortnight, starting now"}`, 422, "invalid_plan", "shorthand", "fortnight"},
		{"shorthand with a bad start", path, `{"shorthand": "canary 2, then waves of 3 every 1h, starting at teatime"}`, 422, "invalid_plan", "shorthand", "teatime"},
		{"canary larger than the group", path, `{"shorthand": "canary 11, then waves of 3 every 1h, starting now"}`, 422, "invalid_plan", "shorthand", "10"},
		{"unknown field", path, `{"wave": [{"size": 2, "start_at": "now"}]}`, 400, "invalid_json", "wave", ""},
		{"wrong type", path, `{"waves": [{"size": "two", "start_at": "now"}]}`, 400, "invalid_json", "", "number"},
		{"malformed json", path, `{"shorthand": `, 400, "invalid_json", "", ""},
		{"unknown group", "/api/v1/groups/4242/plan", `{"shorthand": "canary 2, then waves of 3 every 1h, starting now"}`, 404, "not_found", "", "4242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apiErr(t, b.postJSON(t, tt.path, tt.body), tt.status, tt.code)
			if tt.field != "" || tt.status == 422 {
				require.Equal(t, tt.field, e.Field, "field; message %q", e.Message)
			}
			require.Contains(t, e.Message, tt.contains)
			got := b.group(t, g.ID)
			require.Equal(t, 10, got.Unplanned, "a refused plan planned users")
			require.Empty(t, got.Waves, "a refused plan made waves")
		})
	}

	t.Run("not json", func(t *testing.T) {
		t.Parallel()
		apiErr(t, b.do(t, http.MethodPost, path, "text/plain", strings.NewReader(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type")
		require.Empty(t, b.group(t, g.ID).Waves)
	})
}

// TestPlanUserBusy refuses to plan a group with a user whose move in another
// group is still active, naming the user.
func TestPlanUserBusy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.createGroup(t, "Group A", []member{{UPN: "amy@contoso.com"}, {UPN: "ben@contoso.com"}, {UPN: "cat@contoso.com"}})
	decode[map[string]any](t, b.plan(t, a.ID, map[string]any{
		"shorthand": "canary 3, then waves of 1 every 1h, starting at " + future().Format(time.RFC3339),
	}), http.StatusCreated)

	other := b.createGroup(t, "Group B", []member{{UPN: "dan@contoso.com"}, {UPN: "Cat@Contoso.com"}})
	e := apiErr(t, b.plan(t, other.ID, map[string]any{"shorthand": "canary 1, then waves of 1 every 1h, starting now"}),
		http.StatusConflict, "user_busy")
	require.Contains(t, e.Message, "cat@contoso.com")
	require.Contains(t, e.Message, "Group A")
	require.NotContains(t, e.Message, "dan@contoso.com")
	require.Len(t, e.Details, 1)
	require.Contains(t, e.Details[0].Message, "cat@contoso.com")

	got := b.group(t, other.ID)
	require.Equal(t, 2, got.Unplanned)
	require.Empty(t, got.Waves)
	require.Equal(t, "unplanned", b.user(t, "dan@contoso.com").State)
	cat := b.user(t, "cat@contoso.com")
	require.Equal(t, "pending", cat.State)
	require.Len(t, cat.Groups, 2)
}
