package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// module is this module's path, which the import graph leaves out.
const module = "github.com/cutover/cutover/"

// TestArchitectureIsTheImportGraph: ARCHITECTURE.md's list of imports (the
// ```imports block beside its diagram) is the graph of the code's own
// packages as `go list` reads it (tests, test helpers and examples left
// out), and the floors hold: the application layer does not import the
// workers, and only the binary's wiring (internal/cli) imports the API.
func TestArchitectureIsTheImportGraph(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../ARCHITECTURE.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)```imports\n(.*?)```").FindSubmatch(doc)
	require.NotNil(t, block, "ARCHITECTURE.md has no ```imports block")
	written := graphOf(t, string(block[1]))

	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}", module+"...").Output()
	require.NoError(t, err)
	code := map[string][]string{}
	for pkg, imports := range graphOf(t, strings.ReplaceAll(string(out), module, "")) {
		if skipped(pkg) {
			continue
		}
		code[pkg] = slices.DeleteFunc(imports, func(p string) bool { return !slices.Contains(ownRoots, strings.SplitN(p, "/", 2)[0]) || skipped(p) })
	}
	require.Equal(t, code, written, "ARCHITECTURE.md's imports are not the code's: change the list (and the drawing) with the code")

	tests := []struct {
		name     string
		pkg, dep string
		allowed  bool
	}{
		{name: "the use cases stand above the workers", pkg: "internal/app", dep: "jobs"},
		{name: "the workers stand on the use cases", pkg: "jobs", dep: "internal/app", allowed: true},
		{name: "the API reaches the database only through the use cases", pkg: "internal/api", dep: "internal/store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.allowed, slices.Contains(code[tt.pkg], tt.dep))
		})
	}
	require.Empty(t, code["internal/migration"], "the domain depends on nothing of ours")
	for pkg, imports := range code {
		if slices.Contains(imports, "internal/api") {
			require.Equal(t, "internal/cli", pkg, "only the binary's wiring imports the API")
		}
	}
}

// ownRoots are the first elements of this module's package paths.
var ownRoots = []string{"cmd", "internal", "jobs"}

// skipped says whether a package is left out of the graph: test helpers,
// the example data and the SQL files' package.
func skipped(pkg string) bool {
	return slices.Contains([]string{"internal/browsertest", "internal/dbtest", "internal/faults", "internal/api/apitest", "jobs/jobstest", "examples", "sql"}, pkg)
}

// graphOf reads lines "pkg: dep dep…" into a map.
func graphOf(t *testing.T, text string) map[string][]string {
	t.Helper()
	g := map[string][]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		pkg, deps, ok := strings.Cut(line, ":")
		require.True(t, ok, "not a line of the graph: %q", line)
		fields := strings.Fields(deps)
		if fields == nil {
			fields = []string{}
		}
		g[pkg] = fields
	}
	return g
}

// TestDocuments: README is a front door (at most 250 lines), and every
// relative link of README, ARCHITECTURE.md and docs/ leads to a file that
// exists.
func TestDocuments(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	docs = append(docs, "../../README.md", "../../ARCHITECTURE.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, doc := range docs {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(doc)
			require.NoError(t, err)
			if filepath.Base(doc) == "README.md" {
				require.LessOrEqual(t, strings.Count(string(text), "\n"), 250, "README is a front door: at most 250 lines")
			}
			for _, m := range link.FindAllStringSubmatch(string(text), -1) {
				target, _, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				_, err := os.Stat(filepath.Join(filepath.Dir(doc), target))
				require.NoError(t, err, "%s links to %s, which does not exist", doc, m[1])
			}
		})
	}
}
