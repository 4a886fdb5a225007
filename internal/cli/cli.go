// Package cli is the cutover command line: serve, migrate, status, demo and
// simulate. Main takes its arguments, environment and output streams as
// parameters, so that tests run it as a user would.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// Env reads an environment variable ("" if unset).
type Env func(key string) string

// Program is the command line with the adapters that live outside it.
type Program struct {
	// OpenDirectory connects to Microsoft Graph. The Graph client lives in
	// a package of its own (its SDK is large), which the binary wires in
	// here; without it, cutover runs without Graph.
	OpenDirectory func(ctx context.Context, s GraphSettings) (migration.Directory, error)
}

// GraphSettings are what a Graph client needs.
type GraphSettings struct {
	BaseURL       string // Graph's root, e.g. https://graph.microsoft.com/v1.0
	AuthorityHost string // e.g. https://login.microsoftonline.com/
	TenantID      string
	ClientID      string
	ClientSecret  string       // a secret, or
	Certificate   string       // a PEM or PKCS#12 file with the certificate and its key
	HTTPClient    *http.Client // nil for the default
}

// Main runs the command line without Microsoft Graph.
func Main(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) int {
	return Program{}.Main(ctx, args, getenv, stdout, stderr)
}

// Main runs the command line and returns the process exit code.
func (p Program) Main(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) int {
	commands := map[string]command{
		"serve":     p.runServe,
		"migrate":   runMigrate,
		"status":    runStatus,
		"demo":      p.runDemo,
		"simulate":  runSimulate,
		"preflight": p.runPreflight,
		"check":     p.runCheck,
		"group":     p.runGroup,
		"plan":      runPlan,
		"wave":      runWave,
		"report":    runReport,
		"settings":  runSettings,
		"webhook":   runWebhook,
		"token":     runToken,
		"bench":     runBench,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cutover: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], getenv, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "cutover %s: %v\n", args[0], err)
	return 1
}

const usage = `cutover moves Skype for Business users from on-premises servers to the cloud, in waves.

Usage: cutover <command> [flags]

Commands:
  serve     run the API and the workers (or one of them: --role api|workers)
  migrate   bring the database schema up to date
  status    show where one user's move stands (the helpdesk view)
  preflight check the tenant (preflight tenant), or a group or wave before it starts
            (preflight group ID, preflight wave ID), in Microsoft Graph
  check     check this host as a worker would (PowerShell, MicrosoftTeams module,
            server build, TLS 1.2, sign-in; the on-premises hybrid configuration
            and DNS), record it, and print the deployment's whole readiness
  group     import a pilot group from a CSV file (group import FILE --name NAME)
  plan      plan a group's members into waves (plan ID --shorthand "canary 10, then
            waves of 50 every 1h, starting now")
  wave      a lead's actions on a wave: show, pause, resume, cancel, rollback,
            retry-failed, reschedule, add, remove (cutover wave for the list)
  report    a wave's or a group's report as CSV, or its failures by error code
  settings  show or set the cap on moves in flight across every worker
  webhook   add, list or remove webhooks told of waves started, halted,
            completed and rolled back (Slack, Teams or JSON)
  token     create (shown once), list or revoke API tokens: helpdesk, lead, admin
  bench     measure cutover against raw River and Postgres (each figure beside
            its baseline from the same run, with the ratio)
  demo      move a sample pilot group of 200 users against the simulated tenant
  simulate  serve the simulated tenant for worker processes to share

Run "cutover <command> --help" for a command's flags. Every flag can also be
set in the environment variable named in its help.
`

type command func(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error

// errUsage is a mistake in the command line, already reported.
var errUsage = errors.New("usage")

// flags is a flag set whose defaults come from the environment.
type flags struct {
	*flag.FlagSet
	getenv Env
	errs   []error
	after  []func()
	args   []string // positional arguments, flags taken out
}

// Args returns the positional arguments.
func (f *flags) Args() []string { return f.args }

// NArg is how many positional arguments there are.
func (f *flags) NArg() int { return len(f.args) }

// Arg returns positional argument i, or "".
func (f *flags) Arg(i int) string {
	if i < 0 || i >= len(f.args) {
		return ""
	}
	return f.args[i]
}

func newFlags(name, synopsis string, getenv Env, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: cutover %s\n\nFlags (each also read from the environment variable shown):\n", synopsis)
		fs.PrintDefaults()
	}
	return &flags{FlagSet: fs, getenv: getenv}
}

func (f *flags) str(p *string, name, env, def, usage string) {
	if v := f.getenv(env); v != "" {
		def = v
	}
	f.StringVar(p, name, def, usage+" ($"+env+")")
}

// secret registers a flag for a secret: its environment value is read after
// parsing, so that --help never prints it.
func (f *flags) secret(p *string, name, env, usage string) {
	f.StringVar(p, name, "", usage+" ($"+env+"; never logged)")
	f.after = append(f.after, func() {
		if *p == "" {
			*p = f.getenv(env)
		}
	})
}

func (f *flags) int(p *int, name, env string, def int, usage string) {
	if v := f.getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q is not a whole number", env, v))
		} else {
			def = n
		}
	}
	f.IntVar(p, name, def, usage+" ($"+env+")")
}

func (f *flags) bool(p *bool, name, env string, usage string) {
	def := false
	if v := f.getenv(env); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q is not true or false", env, v))
		} else {
			def = b
		}
	}
	f.BoolVar(p, name, def, usage+" ($"+env+")")
}

func (f *flags) dur(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v := f.getenv(env); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q is not a duration like 30s or 2m", env, v))
		} else {
			def = d
		}
	}
	f.DurationVar(p, name, def, usage+" ($"+env+")")
}

// action splits a command's action (its first argument) off args and
// parses the flags and arguments after it.
func (f *flags) action(args []string) (string, error) {
	if len(args) == 0 {
		f.Usage()
		return "", errUsage
	}
	return args[0], f.parse(args[1:], -1)
}

// parse parses args; a number of positional arguments other than want is an
// error, unless want is -1.
func (f *flags) parse(args []string, want int) error {
	// Flags may come before, between or after the positional arguments.
	for rest := args; ; {
		if err := f.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		rest = f.FlagSet.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			f.args = append(f.args, rest...)
			break
		}
		f.args, rest = append(f.args, rest[0]), rest[1:]
	}
	if len(f.errs) > 0 {
		return errors.Join(f.errs...)
	}
	for _, fn := range f.after {
		fn()
	}
	if want >= 0 && f.NArg() != want {
		fmt.Fprintf(f.Output(), "cutover %s: want %d argument(s), got %d: %s\n", f.Name(), want, f.NArg(), strings.Join(f.Args(), " "))
		f.Usage()
		return errUsage
	}
	return nil
}

// common are the flags every command that reaches the database shares.
type common struct {
	DatabaseURL string
	LogLevel    string
	LogFormat   string
}

// DefaultDatabaseURL is the database used when DATABASE_URL is not set.
const DefaultDatabaseURL = "postgres://postgres:postgres@127.0.0.1:5432/cutover?sslmode=disable"

func (c *common) register(f *flags) {
	f.str(&c.DatabaseURL, "database-url", "DATABASE_URL", DefaultDatabaseURL, "Postgres URL")
	f.str(&c.LogLevel, "log-level", "CUTOVER_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	f.str(&c.LogFormat, "log-format", "CUTOVER_LOG_FORMAT", "text", "log format: text or json")
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.LogFormat)
}
