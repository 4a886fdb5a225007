package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

// graphFlags choose and configure the connection to Microsoft Graph.
type graphFlags struct {
	Graph            string
	TenantID         string
	ClientID         string
	ClientSecret     string
	Certificate      string
	Authority        string
	CAFile           string
	MaxSyncAge       time.Duration
	LicenceSettle    time.Duration
	ProvisioningWait time.Duration
}

// register adds the flags; def is the default of --graph, settle that of
// --licence-settle.
func (g *graphFlags) register(f *flags, def string, settle time.Duration) {
	f.str(&g.Graph, "graph", "CUTOVER_GRAPH", def, `Microsoft Graph: "off", "sim" (the simulated tenant's, with --shell sim) or Graph's URL (https://graph.microsoft.com/v1.0)`)
	f.str(&g.TenantID, "graph-tenant", "CUTOVER_GRAPH_TENANT_ID", "", "Entra ID tenant ID of the app registration")
	f.str(&g.ClientID, "graph-client-id", "CUTOVER_GRAPH_CLIENT_ID", "", "application (client) ID of the app registration")
	f.secret(&g.ClientSecret, "graph-client-secret", "CUTOVER_GRAPH_CLIENT_SECRET", "client secret of the app registration")
	f.str(&g.Certificate, "graph-certificate", "CUTOVER_GRAPH_CERTIFICATE", "", "PEM or PKCS#12 file with the app's certificate and key (instead of a secret)")
	f.str(&g.Authority, "graph-authority", "CUTOVER_GRAPH_AUTHORITY", "https://login.microsoftonline.com/", "Entra ID sign-in host")
	f.str(&g.CAFile, "graph-ca-file", "CUTOVER_GRAPH_CA_FILE", "", "PEM certificates to trust for Graph and sign-in besides the system's (e.g. the simulated Graph's)")
	f.dur(&g.MaxSyncAge, "max-sync-age", "CUTOVER_MAX_SYNC_AGE", migration.DefaultMaxSyncAge, "tenant readiness warns when the last directory sync is older")
	f.dur(&g.LicenceSettle, "licence-settle", "CUTOVER_LICENCE_SETTLE", settle, "how long a fresh licence takes to provision; moves before that retry later")
	f.dur(&g.ProvisioningWait, "provisioning-wait", "CUTOVER_PROVISIONING_WAIT", 30*time.Minute, "how long after a move Teams may still show the user on premises")
}

// adapters are what a command works with: the database, the on-premises
// shell and Microsoft Graph (nil when off).
type adapters struct {
	pool  *pgxpool.Pool
	shell migration.Shell
	dir   migration.Directory
	close func()
}

// check refuses a Graph that cutover cannot serve, before anything opens.
func (g *graphFlags) check() error {
	if cloud, national := migration.NationalCloud(g.Graph); national {
		return fmt.Errorf("--graph %s is Microsoft Graph for %s: cutover moves users of Microsoft 365's commercial cloud only (its move target and service plans are that cloud's)", g.Graph, cloud)
	}
	return nil
}

// openAdapters opens the database (migrated), the shell and Graph.
func (p Program) openAdapters(ctx context.Context, dbURL string, sh shellFlags, gf graphFlags, log *slog.Logger) (*adapters, error) {
	if err := gf.check(); err != nil {
		return nil, err
	}
	pool, err := openDatabase(ctx, dbURL, log)
	if err != nil {
		return nil, err
	}
	shell, err := sh.open()
	if err != nil {
		pool.Close()
		return nil, err
	}
	dir, closeGraph, err := gf.open(ctx, p, shell)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &adapters{pool: pool, shell: shell, dir: dir, close: func() {
		closeGraph()
		if c, ok := shell.(io.Closer); ok {
			_ = c.Close() // the PowerShell driver's script
		}
		pool.Close()
	}}, nil
}

// open connects to Graph as configured: nil for "off". With "sim" it starts
// the simulated tenant's Graph on the simulated shell. close ends what open
// started.
func (g *graphFlags) open(ctx context.Context, p Program, shell migration.Shell) (dir migration.Directory, close func(), err error) {
	close = func() {}
	if g.Graph == "off" || g.Graph == "" {
		return nil, close, nil
	}
	if p.OpenDirectory == nil {
		return nil, close, errors.New("this build of cutover has no Microsoft Graph client; use --graph off")
	}
	var s GraphSettings
	switch {
	case g.Graph == "sim":
		simShell, ok := shell.(*sim.Shell)
		if !ok {
			return nil, close, errors.New(`--graph sim needs the simulated shell in this process (--shell sim); with "cutover simulate", use the --graph flags it prints`)
		}
		// Teams shows a moved user online a moment after the shell does.
		fake, err := sim.StartGraph(simShell, sim.GraphConfig{ProvisioningDelay: 2 * time.Second})
		if err != nil {
			return nil, close, fmt.Errorf("simulated Graph: %w", err)
		}
		close = fake.Close
		s = GraphSettings{BaseURL: fake.GraphURL(), AuthorityHost: fake.URL() + "/", TenantID: fake.TenantID(),
			ClientID: simClientID, ClientSecret: simClientSecret, HTTPClient: fake.Client()}
	case strings.HasPrefix(g.Graph, "https://"):
		if err := g.check(); err != nil {
			return nil, close, err
		}
		if g.TenantID == "" || g.ClientID == "" || (g.ClientSecret == "" && g.Certificate == "") {
			return nil, close, errors.New("Microsoft Graph needs --graph-tenant, --graph-client-id and a --graph-client-secret or --graph-certificate")
		}
		s = GraphSettings{BaseURL: strings.TrimSuffix(g.Graph, "/"), AuthorityHost: g.Authority, TenantID: g.TenantID,
			ClientID: g.ClientID, ClientSecret: g.ClientSecret, Certificate: g.Certificate}
		if g.CAFile != "" {
			if s.HTTPClient, err = clientTrusting(g.CAFile); err != nil {
				return nil, close, err
			}
		}
	default:
		return nil, close, fmt.Errorf(`--graph %q: want off, sim or an https:// URL`, g.Graph)
	}
	dir, err = p.OpenDirectory(ctx, s)
	if err != nil {
		close()
		return nil, func() {}, fmt.Errorf("Microsoft Graph: %w", err)
	}
	return dir, close, nil
}

// clientTrusting returns an HTTP client that trusts the certificates in a
// PEM file besides the system's.
func clientTrusting(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--graph-ca-file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--graph-ca-file %s holds no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}
