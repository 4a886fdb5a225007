package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/metrics"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// Roles a process can take.
const (
	RoleAll     = "all"     // API and workers
	RoleAPI     = "api"     // API only: inserts jobs, works none
	RoleWorkers = "workers" // workers only: no API
)

// serviceConfig is what a running service needs.
type serviceConfig struct {
	Role   string
	Listen string
	// PublicURL is where leads reach the pages (the API's own address if
	// empty): notifications link to a wave's page with it.
	PublicURL string
	// Simulated says which of the shell and Graph are the simulated
	// tenant's; it is recorded for the pages, the API and the command line
	// to say so.
	Simulated store.Simulated
	// FallbackListen lets the API take any free port if Listen is in use.
	FallbackListen bool
	Jobs           jobs.Config
	// MaxSyncAge is how old the tenant's last directory sync may be.
	MaxSyncAge time.Duration
	// SignIn is sign-in to the pages with Entra ID (none when its issuer
	// is empty).
	SignIn signinFlags
}

// service is a running cutover: API and/or workers.
type service struct {
	log    *slog.Logger
	client *river.Client[pgx.Tx]
	server *http.Server
	// notifier tells the pages following waves (in this process or
	// another) of the changes this process makes.
	notifier *live.Notifier
	// stopHub stops the API's listening for those changes.
	stopHub context.CancelFunc
	// URL is the API's base URL ("" without an API).
	URL string
	// signin is sign-in to the pages, as opened.
	signin signin
}

func startService(ctx context.Context, pool *pgxpool.Pool, shell migration.Shell, cfg serviceConfig, log *slog.Logger) (*service, error) {
	switch cfg.Role {
	case RoleAll, RoleAPI, RoleWorkers:
	default:
		return nil, fmt.Errorf("role %q: want all, api or workers", cfg.Role)
	}
	jc := cfg.Jobs
	m := metrics.New(pool, log)
	hasShell := shell != nil // an API alone runs none
	if hasShell {
		shell = m.Shell(shell)
	}
	jc.Directory = m.Directory(jc.Directory)
	jc.MoveEnded, jc.Interrupted, jc.SlotHeld = m.MoveEnded, m.Interrupted, m.SlotHeld
	if cfg.Role == RoleAPI {
		jc.MoveWorkers, jc.Control = 0, false
	} else {
		if jc.MoveWorkers < 1 {
			return nil, fmt.Errorf("workers %d: want at least 1", jc.MoveWorkers)
		}
		jc.Control = true
	}
	notifier := live.NewNotifier(pool, log)
	jc.Notifier = notifier
	client, ready, err := jobs.NewClientWithReadiness(pool, shell, jc, log)
	if err != nil {
		notifier.Close()
		return nil, err
	}
	// A process with a shell says whether it is simulated; an API alone
	// (no shell) leaves what its workers said.
	if hasShell {
		if err := store.New(pool).SettingsSetSimulated(ctx, cfg.Simulated); err != nil {
			notifier.Close()
			return nil, err
		}
	}
	if cfg.Simulated.Any() {
		log.Warn("running against a simulated tenant: nothing reaches Microsoft", "shell_simulated", cfg.Simulated.Shell, "graph_simulated", cfg.Simulated.Graph)
	}
	s := &service{log: log, client: client, notifier: notifier}
	if cfg.Role != RoleAPI {
		// Stopping is stop's business, not the caller context's.
		if err := client.Start(context.WithoutCancel(ctx)); err != nil {
			notifier.Close()
			return nil, fmt.Errorf("start workers: %w", err)
		}
		log.Info("workers started", "moves_at_once", jc.MoveWorkers)
		// The host's readiness now, then every few minutes: a host that
		// fails takes no moves, and says why.
		if err := ready.Start(ctx, client); err != nil {
			log.Warn("checking the worker host failed", "error", err)
		}
	}
	if cfg.Role != RoleWorkers {
		ln, err := net.Listen("tcp", cfg.Listen)
		if errors.Is(err, syscall.EADDRINUSE) && cfg.FallbackListen {
			host, _, _ := net.SplitHostPort(cfg.Listen)
			ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
		}
		if err != nil {
			s.stop(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
		}
		s.URL = "http://" + ln.Addr().String()
		public := cmp.Or(cfg.PublicURL, s.URL)
		if s.signin, err = cfg.SignIn.open(public); err != nil {
			_ = ln.Close()
			s.stop(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("sign-in: %w", err)
		}
		srv := api.NewServer(pool, app.New(pool, jobs.NewQueue(client)).WithNotifier(notifier), log, &api.Options{
			Directory:       jc.Directory,
			Metrics:         m.Handler(),
			Checks:          api.CheckSettings{MaxSyncAge: cfg.MaxSyncAge, LicenceSettle: jc.LicenceSettle},
			SignIn:          s.signin.OIDC,
			SessionLifetime: cfg.SignIn.Lifetime,
			PublicURL:       cfg.PublicURL,
		})
		// The pages follow waves through server-sent events fed by the
		// changes every process notifies (live.Hub), rather than polling.
		hub := live.NewHub(pool, log)
		var hubCtx context.Context
		hubCtx, s.stopHub = context.WithCancel(context.WithoutCancel(ctx))
		go hub.Run(hubCtx)
		srv.ServeLive(hub)
		// No WriteTimeout: it would cut the streams (they set a deadline
		// per write instead).
		s.server = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		s.server.RegisterOnShutdown(srv.CloseLive) // Shutdown waits for handlers, and a stream ends only when told
		go func() {
			if err := s.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("API server stopped", "error", err)
			}
		}()
		log.Info("API listening", "url", s.URL+"/api/v1", "pages", s.URL+"/ui/")
		if s.signin.OIDC != nil {
			log.Info("pages sign in with Entra ID", "issuer", s.signin.OIDC.Issuer(), "redirect_uri", s.signin.OIDC.RedirectURL())
		}
		if err := store.New(pool).SettingsSetPublicURL(ctx, public); err != nil {
			log.Warn("recording the pages' address for notifications failed", "public_url", public, "error", err)
		}
		if tokens, err := store.New(pool).TokenList(ctx); err == nil && !slices.ContainsFunc(tokens, func(t store.Token) bool { return t.RevokedAt == nil }) {
			log.Warn("no API token is in use yet: every request will be refused until an admin makes one (cutover token create --role admin --name NAME)")
		}
	}
	return s, nil
}

// stop stops the API, then the workers: moves in flight get a while to
// finish; those that do not are handed back to the queue (their next worker
// reads the homing first). The changes they made are notified last.
func (s *service) stop(ctx context.Context) {
	if s.server != nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = s.server.Shutdown(ctx)
		cancel()
	}
	if s.stopHub != nil {
		s.stopHub()
	}
	soft, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.client.Stop(soft); err != nil {
		hard, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = s.client.StopAndCancel(hard)
	}
	s.notifier.Close()
	s.signin.close()
}
