// Package browsertest drives pages in headless Chromium for tests, as people
// use them, and checks them for accessibility with axe-core.
//
// It lives outside any _test.go file so that the tests of several packages
// can share one way of starting the browser, keeping screenshots and
// running the accessibility check. It imports testing and must therefore be
// imported by tests only, never by the product's own code.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of the Chromium to run. A developer without one
// gets a skipped test rather than a failure, but CI (CI=true) installs it,
// so there a missing browser fails the test instead of silently proving
// nothing.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CUTOVER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium found (install Debian's chromium package, or set CUTOVER_CHROMIUM); .ci/run installs it"
	if os.Getenv("CI") == "true" {
		t.Fatal("browser test cannot run: " + msg)
	}
	t.Skip("browser test skipped: " + msg)
	return ""
}

// config is what the options of Browser set.
type config struct {
	width, height int64
	phone         bool
	timeout       time.Duration
}

// Option changes how Browser starts the browser.
type Option func(*config)

// Phone makes the page a phone's (390x844 CSS pixels, mobile and touch
// emulated), so that tests see the layout a helpdesk agent on the move sees,
// not merely a narrow desktop window.
func Phone() Option {
	return func(c *config) { c.width, c.height, c.phone = 390, 844, true }
}

// Timeout bounds the whole browser session; the default of two minutes
// keeps a hung page from holding a test until go test's own deadline.
func Timeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// Browser starts a headless Chromium of the test's own, at laptop size
// (1280x900) unless an option says otherwise, and stops it when the test
// ends. The flags keep the browser from reaching out to the network on its
// own (updates, sync, first-run pages), so that tests neither wait on nor
// depend on anything but the page under test.
func Browser(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	c := config{width: 1280, height: 900, timeout: 2 * time.Minute}
	for _, o := range opts {
		o(&c)
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.WindowSize(int(c.width), int(c.height)),
	)
	// Not the test's context: that one ends before cleanups run, and a
	// cleanup may still want the page (a screenshot of a failure, say).
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, c.timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	start := chromedp.Tasks{}
	if c.phone {
		start = append(start, chromedp.EmulateViewport(c.width, c.height,
			chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	}
	if err := chromedp.Run(ctx, start); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// Screenshot keeps a full-page screenshot as a test artefact, in
// CUTOVER_TEST_ARTIFACTS or else .artifacts/browser at the top of the
// repository, so that a reviewer can see what a test saw without running
// it.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CUTOVER_TEST_ARTIFACTS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		dir = filepath.Join(root, ".artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", path)
}

// repoRoot returns the top of the repository: the nearest directory, from
// the working directory up, holding a go.mod. go test runs each package's
// tests in the package's directory, so this finds the root from a package
// at any depth, where a fixed "../.." would only work from one.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}
