package api_test

import (
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/sim"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata/ from what the tests see")

// The parts of a rendered view that differ from run to run: times, and how
// long things took.
var (
	volatileTimes = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}| UTC)?|\b\d{2}:\d{2}(:\d{2})?\b`)
	volatileSpans = regexp.MustCompile(`\b\d+(\.\d+)?\s?(ns|µs|ms|s|m|h|seconds?|minutes?)\b`)
	volatileAgo   = regexp.MustCompile(`\b(\d+|a few|an?) (seconds?|minutes?|hours?) ago\b`)
	volatileDays  = regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b`)
	// A worker is named by its host and process.
	volatileWorker = regexp.MustCompile(`\bworker [A-Za-z0-9._-]+`)
)

// stable blanks what changes from run to run in a rendered view.
func stable(view string) string {
	view = volatileTimes.ReplaceAllString(view, "<time>")
	view = volatileAgo.ReplaceAllString(view, "<ago>")
	view = volatileDays.ReplaceAllString(view, "<day>")
	view = volatileWorker.ReplaceAllString(view, "worker <process>")
	return volatileSpans.ReplaceAllString(view, "<span>")
}

// TestHelpdeskTimelineUnchanged is what a helpdesk agent sees of a user who
// was planned, queued, failed, retried by a lead, retried by the worker
// after a time-out, and moved: the lookup page and the API's answer, times
// blanked, are the golden files of testdata/timeline, which were written
// before a wave's plan and start began sharing one timeline entry among
// its moves (rewrite them with -update only for a change meant to be seen).
func TestHelpdeskTimelineUnchanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const user = "tina@contoso.com"
	b.shell.SetBehaviour(user, sim.Behaviour{Kind: sim.KindLicenceMissing})
	g := b.createGroup(t, "Timeline pilot", []member{{UPN: user, DisplayName: "Tina Timeline"}})
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": "now"}}}), http.StatusCreated)
	waitFor(t, user+" to fail", func() (userStatus, bool) { st := b.user(t, user); return st, st.State == "failed" })

	// The licence is assigned; the retry's first move call times out.
	b.shell.SetBehaviour(user, sim.Behaviour{Kind: sim.KindTimeout, Failures: 1})
	decode[userStatus](t, b.do(t, http.MethodPost, "/api/v1/users/"+url.PathEscape(user)+"/retry", "", nil), http.StatusAccepted)
	waitFor(t, user+" to be moved", func() (userStatus, bool) { st := b.user(t, user); return st, st.State == "moved" })

	helpdesk := newToken(t, b.pool, "helpdesk")
	views := map[string]string{
		"lookup.html": "/ui/lookup?q=" + url.QueryEscape(user),
		"user.json":   "/api/v1/users/" + url.PathEscape(user),
	}
	for name, path := range views {
		res := b.doAs(t, helpdesk, http.MethodGet, path)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
		got := stable(string(res.Body))
		golden := filepath.Join("testdata", "timeline", name)
		if *updateGolden {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			continue
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err)
		require.Equal(t, string(want), got, "%s looks different to helpdesk (%s)", path, golden)
	}
}
