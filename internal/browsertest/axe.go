package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Violation is one axe-core rule that a page breaks, with every element
// that breaks it.
type Violation struct {
	// ID names the rule, e.g. "color-contrast" or "label".
	ID string `json:"id"`
	// Impact is how much the violation hinders people: "minor",
	// "moderate", "serious" or "critical".
	Impact string `json:"impact"`
	// Help says in a line what the rule asks for.
	Help string `json:"help"`
	// HelpURL explains the rule and how to fix it.
	HelpURL string `json:"helpUrl"`
	// Nodes are the elements that break the rule.
	Nodes []Node `json:"nodes"`
}

// Node is one element that breaks a rule.
type Node struct {
	// Target is the element's CSS selector, one per frame from the top
	// document down; within a frame, a path through shadow roots is joined
	// with " >>> ".
	Target []string `json:"target"`
	// HTML is the element's opening markup, to recognise it by.
	HTML string `json:"html"`
	// FailureSummary says what is wrong with the element and the ways to
	// fix it.
	FailureSummary string `json:"failureSummary"`
}

// Blocking says whether the violation should fail a test: the serious and
// critical ones keep people from using the page at all (a control without a
// name, text too faint to read), where the others make it harder.
func (v Violation) Blocking() bool {
	return v.Impact == "serious" || v.Impact == "critical"
}

// String puts the violation as a reviewer needs it to fix the page: the rule,
// its impact and where it is explained, then each element with what to
// change.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s  %s", strings.Join(n.Target, " | "), n.HTML)
		for _, line := range strings.Split(n.FailureSummary, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(&b, "\n      %s", line)
			}
		}
	}
	return b.String()
}

// axeRun runs the WCAG 2.0/2.1 A and AA rules and axe's best practices on the
// whole document, and keeps of the result only what a test reports: the
// full result holds every node of every rule that passed too.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
  .then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({
      target: n.target.map(t => [].concat(t).join(" >>> ")),
      html: n.html,
      failureSummary: n.failureSummary || "",
    })),
  })))`

// Axe checks the page the browser shows now with axe-core and returns the
// rules it breaks. It injects axe-core into the page on first use (again
// after a navigation), through the DevTools protocol, so the page's content
// security policy does not keep it out and the product never has to serve
// it.
func Axe(ctx context.Context) ([]Violation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, err
	}
	var loaded bool
	violations := []Violation{}
	err = chromedp.Run(ctx,
		chromedp.Evaluate(`typeof window.axe === "object" && typeof window.axe.run === "function"`, &loaded),
		chromedp.ActionFunc(func(ctx context.Context) error {
			if loaded {
				return nil
			}
			// The script's last value is of no use, and may not be
			// returnable by value.
			return chromedp.Evaluate(src+"\n;void 0", nil).Do(ctx)
		}),
		chromedp.Evaluate(axeRun, &violations, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("running axe-core in the page: %w", err)
	}
	return violations, nil
}

// AssertAccessible fails the test with every serious or critical
// accessibility violation of the page the browser shows now, and logs the
// moderate and minor ones, which are worth fixing but not worth blocking a
// change on. page names the page in the messages (its path, say), since one
// test often checks several.
func AssertAccessible(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	violations, err := Axe(ctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
		return
	}
	var blocking []string
	for _, v := range violations {
		if v.Blocking() {
			blocking = append(blocking, "  "+v.String())
		} else {
			t.Logf("%s: accessibility, not failing the test: %s", page, v)
		}
	}
	if len(blocking) > 0 {
		t.Errorf("%s: %d serious or critical accessibility violations (axe-core):\n%s",
			page, len(blocking), strings.Join(blocking, "\n"))
	}
}

// axeSource is axe.min.js, installed if need be and read once per process:
// every check of every test injects the same script.
var axeSource = sync.OnceValues(func() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", fmt.Errorf("finding axe-core: %w", err)
	}
	dir := filepath.Join(root, "tools", "axe")
	script := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(script); errors.Is(err, os.ErrNotExist) {
		if err := npmCI(dir, script); err != nil {
			return "", err
		}
	}
	if err := checkVersion(dir); err != nil {
		return "", err
	}
	data, err := os.ReadFile(script)
	if err != nil {
		return "", fmt.Errorf("reading axe-core: %w", err)
	}
	return string(data), nil
})

// npmCI installs tools/axe's locked packages, for a developer who has not.
// go test runs the tests of several packages at once, in several processes,
// and two npm ci runs in one directory trip over each other: so each
// installs into a directory of its own and moves the result into place,
// and one that finds it already there has lost the race harmlessly. CI runs
// npm ci beforehand and never comes here.
func npmCI(dir, script string) error {
	fail := func(err error) error {
		return fmt.Errorf("axe-core is not installed and installing it failed (run `npm ci --prefix tools/axe` with Node.js 20 and npm): %w", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(dir, ".npm-ci-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"package.json", "package-lock.json"} {
		if err := copyFile(filepath.Join(dir, name), filepath.Join(tmp, name)); err != nil {
			return fail(err)
		}
	}
	if out, err := exec.Command(npm, "ci", "--prefix", tmp, "--no-audit", "--no-fund").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("npm ci: %w\n%s", err, out))
	}
	if err := os.Rename(filepath.Join(tmp, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		if _, statErr := os.Stat(script); statErr != nil {
			return fail(err)
		}
	}
	return nil
}

// copyFile copies a small file.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkVersion makes sure the installed axe-core is the one the lock file
// pins: after a version bump, a stale node_modules would otherwise check the
// pages against the old rules without a word.
func checkVersion(dir string) error {
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	var installed struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(dir, "package-lock.json"), &lock); err != nil {
		return err
	}
	if err := readJSON(filepath.Join(dir, "node_modules", "axe-core", "package.json"), &installed); err != nil {
		return err
	}
	if want := lock.Packages["node_modules/axe-core"].Version; installed.Version != want {
		return fmt.Errorf("tools/axe/node_modules holds axe-core %s but package-lock.json pins %q: run `npm ci --prefix tools/axe`", installed.Version, want)
	}
	return nil
}

// readJSON decodes a JSON file.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
