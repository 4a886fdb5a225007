package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pwsh"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// shellFlags choose and configure the on-premises shell.
type shellFlags struct {
	Shell       string
	Seed        int
	Latency     time.Duration
	MoveLatency time.Duration
	// Target is the hosting provider's ProxyFqdn (Move-CsUser -Target).
	Target string
	// DNSServer is the DNS server the hybrid readiness asks ("" for none).
	DNSServer string
	// The PowerShell driver's.
	DomainController string
	Executable       string
	PoolFQDN         string
	OverrideURL      string
	User             string
	Password         string
	Sessions         int
	// Attended says a person keeps the host's session signed in, so that
	// workers may run Move-CsUser without a credential.
	Attended bool
}

// register adds the shell's flags; def is the shell when none is chosen
// ("" for none: serve makes the choice explicit).
func (s *shellFlags) register(f *flags, def string) {
	f.str(&s.Shell, "shell", "CUTOVER_SHELL", def, `on-premises shell: "pwsh" (the Skype for Business management shell through PowerShell), "sim" (a simulated tenant in this process) or "sim+http://host:port" (one served by "cutover simulate")`)
	f.str(&s.Target, "online-target", "CUTOVER_ONLINE_TARGET", migration.DefaultOnlineTarget, "ProxyFqdn of the hosting provider users move to (Get-CsHostingProvider; Move-CsUser -Target)")
	f.str(&s.DNSServer, "dns-server", "CUTOVER_DNS_SERVER", "", `DNS server (host:port) for the SIP domains' hybrid records; "system" for /etc/resolv.conf's; none leaves DNS unchecked`)
	f.str(&s.DomainController, "domain-controller", "CUTOVER_DOMAIN_CONTROLLER", "", "domain controller for Get-CsUser and Move-CsUser -DomainController (users of other domains of a multi-domain forest)")
	f.str(&s.Executable, "pwsh", "CUTOVER_PWSH", "", "PowerShell to run (default powershell.exe on Windows, pwsh elsewhere)")
	f.str(&s.PoolFQDN, "pwsh-pool", "CUTOVER_PWSH_POOL", "", "front-end pool FQDN for a remote session (default: import the SkypeForBusiness module locally)")
	f.str(&s.OverrideURL, "hosted-migration-override-url", "CUTOVER_HOSTED_MIGRATION_OVERRIDE_URL", "", "Move-CsUser -HostedMigrationOverrideUrl")
	f.str(&s.User, "pwsh-user", "CUTOVER_PWSH_USER", "", "account for Move-CsUser -Credential and the remote session (default: the process's own)")
	f.secret(&s.Password, "pwsh-password", "CUTOVER_PWSH_PASSWORD", "password of --pwsh-user")
	f.bool(&s.Attended, "attended-sign-in", "CUTOVER_ATTENDED_SIGN_IN", "run moves without --pwsh-user: Move-CsUser then signs in with this host's session, which a person keeps signed in (it prompts otherwise)")
	f.int(&s.Sessions, "pwsh-sessions", "CUTOVER_PWSH_SESSIONS", 8, "long-lived PowerShell sessions to keep (0: a process per call)")
	f.int(&s.Seed, "sim-seed", "CUTOVER_SIM_SEED", 1, "seed of the simulated tenant's failure mix")
	f.dur(&s.Latency, "sim-latency", "CUTOVER_SIM_LATENCY", 200*time.Millisecond, "mean latency of a simulated shell call")
	f.dur(&s.MoveLatency, "sim-move-latency", "CUTOVER_SIM_MOVE_LATENCY", 0, "mean latency of a simulated move call (default: --sim-latency)")
}

// errUnattendedSession is serve's refusal to run unattended moves that would
// prompt for credentials.
var errUnattendedSession = errors.New(`without --pwsh-user, Move-CsUser signs in with this host's session, and Microsoft documents that "If -Credential parameter is not specified, the admin will be prompted for credentials" (Move-CsUser.md): the workers run PowerShell -NonInteractive, so such a move can only fail once the session's sign-in lapses. ` +
	`For unattended waves give a dedicated account (--pwsh-user, CUTOVER_PWSH_PASSWORD); if a person will keep this host's session signed in while waves run, say so with --attended-sign-in`)

// checkSignIn refuses workers on the PowerShell shell that would run
// Move-CsUser without a credential, unless a person says they keep the
// session signed in.
func (s *shellFlags) checkSignIn() error {
	if s.Shell == "pwsh" && s.User == "" && !s.Attended {
		return errUnattendedSession
	}
	return nil
}

// simulated reports whether the shell is the simulated tenant's.
func (s *shellFlags) simulated() bool { return strings.HasPrefix(s.Shell, "sim") }

// errNoShell is serve's refusal to run workers on a shell not chosen.
var errNoShell = errors.New(`cutover serve runs moves only on a shell you choose: --shell pwsh (the Skype for Business management shell, on its host) or --shell sim (a simulated tenant, to try cutover out: nothing reaches Microsoft); or set CUTOVER_SHELL. "cutover demo" runs the simulated tenant by itself`)

func (s *shellFlags) open() (migration.Shell, error) {
	switch {
	case s.Shell == "":
		return nil, nil // an API alone needs no shell

	case s.Shell == "pwsh":
		cfg := pwsh.Config{Executable: s.Executable, PoolFQDN: s.PoolFQDN, HostedMigrationOverrideURL: s.OverrideURL, Sessions: s.Sessions,
			DomainController: s.DomainController}
		if s.User != "" {
			user, password := s.User, s.Password
			cfg.Credential = func(context.Context) (string, string, error) { return user, password, nil }
		}
		return pwsh.New(cfg)
	case s.Shell == "sim":
		return sim.NewShell(s.simConfig()), nil
	case strings.HasPrefix(s.Shell, "sim+http://"), strings.HasPrefix(s.Shell, "sim+https://"):
		return sim.NewRemoteShell(strings.TrimPrefix(s.Shell, "sim+"), &http.Client{Timeout: 5 * time.Minute}), nil
	}
	return nil, fmt.Errorf("shell %q: want pwsh, sim or sim+http://host:port", s.Shell)
}

func (s *shellFlags) simConfig() sim.ShellConfig {
	return sim.ShellConfig{Seed: int64(s.Seed), Latency: s.Latency, MoveLatency: s.MoveLatency, Target: s.Target}
}

// workerFlags configure the workers of serve and demo.
type workerFlags struct {
	Workers      int
	ShellTimeout time.Duration
	GraphTimeout time.Duration
	RetryBase    time.Duration
	RetryMax     time.Duration
}

func (w *workerFlags) register(f *flags, retryBase time.Duration) {
	f.int(&w.Workers, "workers", "CUTOVER_WORKERS", 25, "moves this process works at once")
	f.dur(&w.ShellTimeout, "shell-timeout", "CUTOVER_SHELL_TIMEOUT", 2*time.Minute, "time-out of one shell call")
	f.dur(&w.GraphTimeout, "graph-timeout", "CUTOVER_GRAPH_TIMEOUT", 30*time.Second, "time-out of one Microsoft Graph call of a move")
	f.dur(&w.RetryBase, "retry-base", "CUTOVER_RETRY_BASE", retryBase, "wait before the first retry of a transient failure; doubles per attempt")
	f.dur(&w.RetryMax, "retry-max", "CUTOVER_RETRY_MAX", 30*time.Minute, "longest wait between attempts")
}

func (p Program) runServe(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("serve", "serve [flags]", getenv, stderr)
	var c common
	var sh shellFlags
	var wf workerFlags
	var gf graphFlags
	var sf signinFlags
	var role, listen, publicURL string
	c.register(f)
	sf.register(f, "")
	sh.register(f, "")
	gf.register(f, "off", migration.DefaultLicenceSettle)
	wf.register(f, 30*time.Second)
	f.str(&role, "role", "CUTOVER_ROLE", RoleAll, "what this process runs: all (API and workers), api, or workers")
	f.str(&listen, "listen", "CUTOVER_LISTEN", "127.0.0.1:8080", "address the API listens on")
	f.str(&publicURL, "public-url", "CUTOVER_PUBLIC_URL", "", "address leads reach the pages at, e.g. https://cutover.contoso.com (default: the API's own); notifications link to a wave's page with it")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	if sh.Shell == "" && role != RoleAPI {
		return errNoShell
	}
	if err := sf.check(); err != nil {
		return err
	}
	if role != RoleAPI {
		if err := sh.checkSignIn(); err != nil {
			return err
		}
	}
	if publicURL != "" {
		if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--public-url %q is not an http or https URL like https://cutover.contoso.com", publicURL)
		}
	}
	log.Info("starting", "role", role, "database", store.Redact(c.DatabaseURL), "shell", sh.Shell, "workers", wf.Workers)
	a, err := p.openAdapters(ctx, c.DatabaseURL, sh, gf, log)
	if err != nil {
		return err
	}
	defer a.close()
	pool, shell, dir := a.pool, a.shell, a.dir
	if dir == nil {
		log.Warn("Microsoft Graph is off: moves run without pre-flight checks in Entra ID and without the check in Teams after the move (set --graph)")
	}
	jc, err := jobsConfig(wf, gf, sh, dir)
	if err != nil {
		return err
	}
	svc, err := startService(ctx, pool, shell, serviceConfig{
		Role: role, Listen: listen, PublicURL: publicURL, MaxSyncAge: gf.MaxSyncAge,
		Simulated: store.Simulated{Shell: sh.simulated(), Graph: gf.Graph == "sim"},
		Jobs:      jc, SignIn: sf,
	}, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("stopping: moves in flight get 10 seconds to finish")
	svc.stop(context.WithoutCancel(ctx))
	log.Info("stopped")
	return nil
}

func runMigrate(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("migrate", "migrate [flags]", getenv, stderr)
	var c common
	c.register(f)
	if err := f.parse(args, 0); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	pool, err := openDatabase(ctx, c.DatabaseURL, log)
	if err != nil {
		return err
	}
	pool.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

func jobsConfig(wf workerFlags, gf graphFlags, sh shellFlags, dir migration.Directory) (jobs.Config, error) {
	c := jobs.Config{MoveWorkers: wf.Workers, ShellTimeout: wf.ShellTimeout, GraphTimeout: wf.GraphTimeout, RetryBase: wf.RetryBase, RetryMax: wf.RetryMax,
		Directory: dir, LicenceSettle: gf.LicenceSettle, ProvisioningWait: gf.ProvisioningWait, Target: sh.Target, OverrideURL: sh.OverrideURL}
	if sh.DNSServer != "" {
		server := sh.DNSServer
		if server == "system" {
			server = ""
		}
		r, err := dns.New(server)
		if err != nil {
			return c, err
		}
		c.DNS = r
	}
	return c, nil
}
