package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/browsertest"
)

// fixture is a page that is accessible but for body, so that a check finds
// exactly what body breaks and nothing of the page around it.
func fixture(body string) string {
	return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Fixture</title></head>
<body style="color:#111;background:#fff"><main><h1>Fixture</h1>` + body + `</main></body>
</html>`
}

// gif is a 1x1 transparent GIF, for images that need no server.
const gif = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="

// recorder stands in for the test when AssertAccessible is expected to fail
// it: it keeps the errors instead, and passes everything else on.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestAxe proves the check can fail: pages with a known serious barrier are
// reported, rule, impact and element, and fail AssertAccessible, while a clean
// page passes, on a laptop and on a phone.
func TestAxe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		opts []browsertest.Option
		// want are the rules the page breaks, each at a serious or
		// critical impact, on the element #bad.
		want []string
	}{
		{
			name: "image without alt",
			body: `<img id="bad" src="` + gif + `" width="40" height="40">`,
			want: []string{"image-alt"},
		},
		{
			name: "input without label",
			body: `<form><input id="bad" type="text" name="q"></form>`,
			want: []string{"label"},
		},
		{
			name: "text at 1.5:1 contrast",
			// lightgray on white.
			body: `<p id="bad" style="color:#d3d3d3;background:#fff">Faint text</p>`,
			want: []string{"color-contrast"},
		},
		{
			name: "clean",
			body: `<img src="` + gif + `" alt="Contoso logo" width="40" height="40">
<form><label for="q">UPN or SIP address</label> <input id="q" type="text" name="q"> <button>Look up</button></form>
<p>Plain text, dark on white.</p>`,
		},
		{
			name: "clean on a phone",
			body: `<form><label for="q">UPN or SIP address</label> <input id="q" type="text" name="q"> <button>Look up</button></form>`,
			opts: []browsertest.Option{browsertest.Phone()},
		},
	}
	pages := http.NewServeMux()
	for i, tt := range tests {
		pages.HandleFunc(fmt.Sprintf("GET /%d", i), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, fixture(tt.body))
		})
	}
	srv := httptest.NewServer(pages)
	t.Cleanup(srv.Close)

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := browsertest.Browser(t, tt.opts...)
			require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(fmt.Sprintf("%s/%d", srv.URL, i))))

			violations, err := browsertest.Axe(ctx)
			require.NoError(t, err)
			var got []string
			for _, v := range violations {
				got = append(got, v.ID)
				if !slices.Contains(tt.want, v.ID) {
					continue
				}
				require.True(t, v.Blocking(), "%s is serious or critical: %s", v.ID, v)
				require.NotEmpty(t, v.Help)
				require.True(t, strings.HasPrefix(v.HelpURL, "https://"), "help URL %q", v.HelpURL)
				require.Len(t, v.Nodes, 1, "%s", v)
				require.Equal(t, []string{"#bad"}, v.Nodes[0].Target)
				require.NotEmpty(t, v.Nodes[0].FailureSummary)
			}
			require.ElementsMatch(t, tt.want, got, "rules broken: %v", violations)

			// The same page through the assertion: failed, naming each
			// rule and element, or passed.
			rec := &recorder{TB: t}
			browsertest.AssertAccessible(rec, ctx, tt.name)
			if len(tt.want) == 0 {
				require.Empty(t, rec.errors)
				return
			}
			require.Len(t, rec.errors, 1)
			for _, id := range tt.want {
				require.Contains(t, rec.errors[0], id+" (")
			}
			require.Contains(t, rec.errors[0], "#bad")
		})
	}
}
