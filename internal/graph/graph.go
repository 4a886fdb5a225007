// Package graph is cutover's Microsoft Graph adapter: it implements
// migration.Directory with msgraph-sdk-go, and it is the only package that
// imports the SDK.
//
// It authenticates as an application (client credentials, with a secret or a
// certificate, through azidentity), looks users up many at once with JSON
// batching, lists a group's transitive user members page by page, and reads a
// user's Teams account type. Throttling (429) and unavailability (503, 504)
// are retried after their Retry-After, by Kiota's retry handler for whole
// requests and here for the items of a batch. What Graph answers with an
// error becomes a *migration.DirectoryError.
//
// The SDK's defaults are not all kept: see New for the middleware order and
// AsDirectoryError for reading an OData error without calling its Error
// method, which panics when the error has no message.
package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	coreauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/cutover/cutover/internal/migration"
)

// Defaults of Config.
const (
	DefaultGraphURL      = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	DefaultScope         = "https://graph.microsoft.com/.default"
	DefaultPageSize      = 999 // the most transitiveMembers gives per page
	DefaultMaxRetries    = 10
	DefaultConcurrency   = 4
)

// BatchSize is how many requests a JSON batch holds: Graph's limit.
const BatchSize = 20

// Config configures a Directory. ClientSecret and CertificatePassword are
// secrets: Config's String, GoString and LogValue leave them out, and no
// error of this package holds them.
type Config struct {
	TenantID string // the directory (tenant) ID, or a verified domain
	ClientID string // the application (client) ID

	// ClientSecret authenticates the application with a secret; or
	// CertificateFile, a PEM or PKCS#12 file holding the certificate and its
	// RSA private key (CertificatePassword if the file is encrypted), as
	// azidentity.ParseCertificates reads them. One is needed, unless
	// Credential is set.
	ClientSecret        string
	CertificateFile     string
	CertificatePassword string
	// Credential, if set, is used instead of the three above.
	Credential azcore.TokenCredential

	// GraphURL is Graph's base URL: DefaultGraphURL unless set.
	GraphURL string
	// AuthorityHost is the Entra ID authority: DefaultAuthorityHost unless
	// set. It must be https.
	AuthorityHost string
	// Scope is the client-credentials scope: DefaultScope unless set.
	Scope string
	// HTTPClient, if set, is the client whose transport (proxy, trusted
	// certificates) carries the token and Graph requests. Its Timeout is
	// not applied to Graph requests, which may wait out Retry-After: bound
	// them with the context.
	HTTPClient *http.Client

	// PageSize is the $top of a group's member listing: DefaultPageSize
	// unless set.
	PageSize int
	// MaxRetries is how many times a throttled request, or batch item, is
	// retried before giving up: DefaultMaxRetries unless set (Kiota allows
	// at most 10 for whole requests).
	MaxRetries int
	// Concurrency is how many batches are in flight at once:
	// DefaultConcurrency unless set.
	Concurrency int
	// Logger, if set, gets debug records of retried batch items.
	Logger *slog.Logger
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	return fmt.Sprintf("graph.Config{TenantID: %q, ClientID: %q, auth: %s, GraphURL: %q, AuthorityHost: %q}",
		c.TenantID, c.ClientID, c.authKind(), c.GraphURL, c.AuthorityHost)
}

// GoString is String, so that %#v does not print the secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tenant_id", c.TenantID), slog.String("client_id", c.ClientID),
		slog.String("auth", c.authKind()), slog.String("graph_url", c.GraphURL),
		slog.String("authority_host", c.AuthorityHost))
}

func (c Config) authKind() string {
	switch {
	case c.Credential != nil:
		return "credential"
	case c.ClientSecret != "":
		return "client secret"
	case c.CertificateFile != "":
		return "certificate " + c.CertificateFile
	}
	return "none"
}

// Directory is a migration.Directory on Microsoft Graph. It is safe for
// concurrent use.
type Directory struct {
	client      *msgraphsdk.GraphServiceClient
	adapter     abs.RequestAdapter
	pageSize    int32
	maxRetries  int
	concurrency int
	log         *slog.Logger
}

var _ migration.Directory = (*Directory)(nil)

func init() {
	// A failed $batch as a whole (and a batch item read with
	// GetBatchResponseById) is read with the error mappings registered under
	// this key; with none, the SDK answers a bare ApiError that drops Graph's
	// code and message. The registry is a process-wide map without a lock:
	// written here, before any request, and only read afterwards.
	_ = core.RegisterError(core.BatchRequestErrorRegistryKey, abs.ErrorMappings{
		"4XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
		"5XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
}

// New returns a Directory. It checks the configuration and reads the
// certificate, but does not reach Graph: the first call does.
//
// The HTTP pipeline is Kiota's default middleware in a fixed order, the
// compression handler outside the retry handler (the SDK's default order is
// random, and a retry inside compression resends a compressed request's
// body uncompressed under "Content-Encoding: gzip"), and the retry handler
// set to retry 429, 503 and 504 up to MaxRetries times after Retry-After.
func New(cfg Config) (*Directory, error) {
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthorityHost
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	graphURL, err := url.Parse(strings.TrimSuffix(cfg.GraphURL, "/"))
	if err != nil || graphURL.Scheme != "https" || graphURL.Host == "" {
		return nil, fmt.Errorf("graph: the Graph URL %q is not an https URL", cfg.GraphURL)
	}
	cred := cfg.Credential
	if cred == nil {
		if cred, err = credential(cfg); err != nil {
			return nil, err
		}
	}
	auth, err := coreauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{cfg.Scope}, []string{graphURL.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}

	var parent http.RoundTripper = http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		parent = cfg.HTTPClient.Transport
	}
	options := msgraphsdk.GetDefaultClientOptions()
	retry := khttp.RetryHandlerOptions{
		MaxRetries: cfg.MaxRetries,
		// Without ShouldRetry the handler calls a nil function.
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return true },
	}
	middleware := []khttp.Middleware{
		core.NewGraphTelemetryHandler(&options),
		khttp.NewUrlReplaceHandler(true, core.ReplacementPairs),
		khttp.NewCompressionHandler(),
		khttp.NewRetryHandlerWithOptions(retry),
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, middleware...),
		// The redirect handler follows redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	adapter.SetBaseUrl(graphURL.String())
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{
		client:      serviceClient(adapter),
		adapter:     adapter,
		pageSize:    int32(min(cfg.PageSize, 999)),
		maxRetries:  cfg.MaxRetries,
		concurrency: cfg.Concurrency,
		log:         log,
	}, nil
}

// firstClient makes the process's first SDK client, once.
var firstClient sync.Once

// serviceClient returns a Graph client on the adapter.
//
// msgraphsdk.NewGraphServiceClient registers the SDK's serialisers in
// process-wide registries, wraps them for the backing store, and writes the
// process-wide store.BackingStoreFactoryInstance, which every model
// constructor reads: making a second client while a first one parses an
// answer is a data race. So only the first client is made that way; the
// others are the same request builder on their adapter (whose factories are
// those process-wide registries, already set up).
func serviceClient(adapter *msgraphsdk.GraphRequestAdapter) *msgraphsdk.GraphServiceClient {
	var c *msgraphsdk.GraphServiceClient
	firstClient.Do(func() { c = msgraphsdk.NewGraphServiceClient(adapter) })
	if c != nil {
		return c
	}
	return &msgraphsdk.GraphServiceClient{GraphBaseServiceClient: msgraphsdk.GraphBaseServiceClient{
		BaseRequestBuilder: *abs.NewBaseRequestBuilder(adapter, "{+baseurl}", map[string]string{"baseurl": adapter.GetBaseUrl()}),
	}}
}

// credential makes the client-credentials credential of the configuration.
func credential(cfg Config) (azcore.TokenCredential, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" {
		return nil, errors.New("graph: a tenant ID and a client ID are needed")
	}
	opts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost}}
	if cfg.HTTPClient != nil {
		opts.Transport = cfg.HTTPClient
	}
	switch {
	case cfg.ClientSecret != "":
		cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			return nil, fmt.Errorf("graph: client secret credential: %w", err)
		}
		return cred, nil
	case cfg.CertificateFile != "":
		data, err := os.ReadFile(cfg.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("graph: certificate: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(data, []byte(cfg.CertificatePassword))
		if err != nil {
			return nil, fmt.Errorf("graph: certificate %s: %w", cfg.CertificateFile, err)
		}
		cred, err := azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			return nil, fmt.Errorf("graph: certificate %s: %w", cfg.CertificateFile, err)
		}
		return cred, nil
	}
	return nil, errors.New("graph: a client secret or a certificate file is needed")
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
