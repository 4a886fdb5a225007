package api_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// csvOf is a CSV of the first n generated users (u0000001@contoso.com,User
// 1…), then the lines in more.
func csvOf(t *testing.T, n int, more ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("upn,display_name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "u%07d@contoso.com,User %d\n", i, i)
	}
	return b.String() + strings.Join(more, "")
}

// sipCSV is a CSV of n users with SIP addresses (s0000001@contoso.com…).
func sipCSV(n int) string {
	var b strings.Builder
	b.WriteString("upn,sip\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "u%07d@contoso.com,s%07d@contoso.com\n", i, i)
	}
	return b.String()
}

// TestGroupImportStreamed: a CSV is imported as it is read, and refused
// whole, naming the line, for a problem however late in the file.
func TestGroupImportStreamed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		query    string
		body     string
		status   int
		code     string
		field    string
		line     int
		contains []string
	}{
		{
			name: "an invalid upn on the last line", query: "?name=last",
			body:   csvOf(t, 5000, "u5000001.contoso.com,Last\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 5002,
			contains: []string{`line 5002, upn: "u5000001.contoso.com" is not a valid UPN`},
		},
		{
			name: "a duplicate 4,000 lines apart", query: "?name=far",
			body:   csvOf(t, 4000, "U0000007@Contoso.com,Again\n"),
			status: 422, code: "invalid_csv", field: "upn", line: 4002,
			contains: []string{"line 4002, upn: u0000007@contoso.com appears twice (first on line 8)"},
		},
		{
			name: "a duplicate sip address 4,000 lines apart", query: "?name=farsip",
			body:   sipCSV(4000) + "other@contoso.com,SIP:S0000007@Contoso.com\n",
			status: 422, code: "invalid_csv", field: "sip", line: 4002,
			contains: []string{"line 4002, sip: SIP address s0000007@contoso.com appears twice (first on line 8)"},
		},
		{
			name: "a bad line, then more than 8 MiB", query: "?name=huge-and-bad",
			body:   "upn,display_name\nbad,Bad\n" + string(hugeCSV()[len("upn,display_name\n"):]),
			status: 413, code: "body_too_large",
		},
		{
			name:   "no name, and more than 8 MiB",
			body:   string(hugeCSV()),
			status: 413, code: "body_too_large",
		},
		{
			name: "malformed after a bad line", query: "?name=malformed",
			body:   csvOf(t, 3000, "bad\n", "x@contoso.com,Bo\"b\n"),
			status: 422, code: "invalid_csv", line: 3003, contains: []string{"line 3003", "malformed CSV"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apiErr(t, b.do(t, http.MethodPost, "/api/v1/groups"+tt.query, "text/csv", strings.NewReader(tt.body)), tt.status, tt.code)
			require.Equal(t, tt.field, e.Field, "field; message %q", e.Message)
			require.Equal(t, tt.line, e.Line, "line; message %q", e.Message)
			for _, s := range tt.contains {
				require.Contains(t, e.Message, s)
			}
		})
	}
	require.Empty(t, b.groups(t), "a refused group was imported")
	apiErr(t, b.get(t, "/api/v1/users/u0000001@contoso.com"), http.StatusNotFound, "user_not_found")

	// A name in use: the file's problems are named first, as they were
	// when the file was read before the group was made.
	b.createGroup(t, "taken", users(2, "taken"))
	apiErr(t, b.do(t, http.MethodPost, "/api/v1/groups?name=taken", "text/csv", strings.NewReader(csvOf(t, 3000, "bad\n"))), 422, "invalid_csv")
	apiErr(t, b.do(t, http.MethodPost, "/api/v1/groups?name=taken", "text/csv", strings.NewReader(csvOf(t, 3000))), 422, "group_exists")
	apiErr(t, b.postJSON(t, "/api/v1/groups", `{"name": "taken", "members": [{"upn": "bad"}]}`), 422, "invalid_members")
	require.Len(t, b.groups(t), 1)
}

// TestGroupImportLargeUpload: an upload bigger than the memory it may use is
// read from disk, with its name after its file.
func TestGroupImportLargeUpload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", "ignored.csv")
	require.NoError(t, err)
	_, err = fw.Write([]byte(csvOf(t, 20000)))
	require.NoError(t, err)
	require.NoError(t, w.WriteField("name", "From the form field"))
	require.NoError(t, w.Close())

	g := decode[group](t, b.do(t, http.MethodPost, "/api/v1/groups", w.FormDataContentType(), &body), http.StatusCreated)
	require.Equal(t, "From the form field", g.Name)
	require.Equal(t, 20000, g.Members)
	require.Equal(t, "csv", g.Source)
	require.Equal(t, "unplanned", b.user(t, "u0020000@contoso.com").State)
}
