package sim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// GraphGroup is a group of the simulated directory: its direct members.
type GraphGroup struct {
	DisplayName string
	Description string   // empty: the group has none (Graph's null)
	Members     []string // UPNs of member users (users the shell cannot find are not in the directory)
	Groups      []string // IDs of nested groups
	Devices     []string // display names of member devices
	Contacts    []string // mail addresses of member organisational contacts
}

// GraphFault makes the simulated Graph answer some requests with an error.
type GraphFault struct {
	Method string // e.g. GET; empty for any
	// Path is a prefix of the request's decoded path below /v1.0,
	// compared case-insensitively, e.g. "/users/bob@contoso.com".
	Path    string
	Status  int    // e.g. 500
	Code    string // the OData error code; empty for none
	Message string // empty: the body has no message at all
	// EmptyError answers {"error": {}}; NoBody answers an empty body.
	EmptyError, NoBody bool
	// Times is how many requests the fault answers; 0 for all.
	Times int
}

// GraphConfig configures a simulated Microsoft Graph.
type GraphConfig struct {
	// TenantID is the directory (tenant) ID; a fixed GUID by default.
	TenantID string
	// OrganizationName is the organisation's display name; "Contoso" by default.
	OrganizationName string
	// ClientID and ClientSecret, when set, are what a token request must
	// carry. Unset, any client ID and secret (or client assertion) will do.
	ClientID, ClientSecret string

	// SyncDisabled turns directory synchronisation off; LastSyncAge is how
	// long ago the last synchronisation ran (30 minutes by default).
	SyncDisabled bool
	LastSyncAge  time.Duration
	// Domains are the tenant's domains; by default contoso.com and
	// fabrikam.com, verified, with Email and OfficeCommunicationsOnline.
	Domains []migration.Domain
	// SKUs are the subscribed SKUs; by default one ENTERPRISEPACK with 250
	// units (200 consumed) holding TEAMS1, MCOSTANDARD and two more plans.
	SKUs []migration.SKU
	// Groups are the directory's groups by ID; DefaultGraphGroups unless
	// set (an empty map for none).
	Groups map[string]GraphGroup
	// PageSize is how many objects a collection page holds unless $top
	// says otherwise; 100 by default.
	PageSize int
	// ProvisioningDelay is how long a user's Teams account type stays
	// sfbOnPremUser after the simulator first sees them homed online.
	ProvisioningDelay time.Duration
	// AccountRoles, by UPN, are the directory roles of accounts (their
	// transitiveMemberOf); DefaultAccountRoles unless set. Others hold none.
	AccountRoles map[string][]migration.DirectoryRole
	// AccountTypes, by UPN, is the accountType Teams shows for these users
	// once provisioned, in place of user: one of the values Graph documents
	// (unknown, ineligibleUser, ...).
	AccountTypes map[string]string

	// Throttle is the share (0 to 1) of /v1.0 requests answered 429;
	// ThrottleBatchItems the share of $batch items answered 429.
	Throttle, ThrottleBatchItems float64
	// RetryAfter is the Retry-After of a 429, in whole seconds (rounded up);
	// 1s by default.
	RetryAfter time.Duration
	// Seed decides which requests are throttled and which errors lose their
	// message: the same requests in the same order meet the same answers.
	// Defaults to 1.
	Seed int64
	// MessagelessErrors is the share (0 to 1) of error answers whose body
	// has no message, like some Graph errors in the wild.
	MessagelessErrors float64
	// Faults are errors to answer with.
	Faults []GraphFault
}

// DefaultAccountRoles make the simulated host's migration account a Teams
// Administrator.
func DefaultAccountRoles() map[string][]migration.DirectoryRole {
	return map[string][]migration.DirectoryRole{MigrationAccount: {migration.MoveRoles[1]}}
}

// Defaults of the simulated tenant.
const (
	DefaultGraphTenantID = "5f6a7b8c-1d2e-4f30-8a9b-0c1d2e3f4a5b"
	skuEnterprisePack    = "6fd2c87f-b296-42f0-b197-1e91e994b900"
)

// DefaultGraphSKUs are the subscribed SKUs of a simulated tenant unless
// configured otherwise.
var DefaultGraphSKUs = []migration.SKU{{
	ID: skuEnterprisePack, PartNumber: "ENTERPRISEPACK", Enabled: 250, Consumed: 200,
	Plans: []migration.SKUPlan{
		{ID: migration.PlanTeams1, Name: migration.PlanNameTeams1, Status: "Success"},
		{ID: migration.PlanMCOStandard, Name: migration.PlanNameMCOStd, Status: "Success"},
		{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE", Status: "Success"},
		{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE", Status: "Success"},
	},
}}

// DefaultGraphDomains are the domains of a simulated tenant unless
// configured otherwise.
var DefaultGraphDomains = []migration.Domain{
	{Name: "contoso.com", Verified: true, Services: []string{"Email", migration.ServiceSfBOnline}},
	{Name: "fabrikam.com", Verified: true, Services: []string{"Email", migration.ServiceSfBOnline}},
}

// GraphRequest is a request the simulated Graph received, as it arrived.
type GraphRequest struct {
	Seq    int
	At     time.Time // arrival
	Method string
	// Target is the request target exactly as sent, still escaped, e.g.
	// /v1.0/users/o%27brien%40contoso.com?%24select=id.
	Target string
	Kind   string // see GraphStats.Requests
	// Key identifies the request for throttling: a retry has the same key.
	Key        string
	Status     int
	Throttled  bool
	RetryAfter time.Duration // the Retry-After of a 429
	Gzip       bool          // the body came gzip-compressed
	Items      []GraphBatchItem
}

// GraphBatchItem is a request of a $batch, as it arrived.
type GraphBatchItem struct {
	ID, Method string
	URL        string // relative, still escaped, e.g. /users/alice%40contoso.com?$select=id
	Status     int
	Throttled  bool
	RetryAfter time.Duration
}

// GraphStats counts what the simulated Graph received.
type GraphStats struct {
	// Requests counts HTTP requests by kind: token, openid-configuration,
	// instance-discovery, organization, domains, subscribedSkus, users,
	// groups, transitiveMembers, userConfigurations, batch, other.
	Requests       map[string]int `json:"requests"`
	Total          int            `json:"total"`
	BatchItems     int            `json:"batch_items"`
	Throttled      int            `json:"throttled"`       // HTTP requests answered 429
	ThrottledItems int            `json:"throttled_items"` // batch items answered 429
	Unauthorized   int            `json:"unauthorized"`
}

// Graph is a simulated Microsoft Graph: the Entra ID and Teams view of the
// simulated tenant, consistent with its shell, with the token endpoints of
// the client-credentials flow. It is served over HTTPS with a certificate
// made at start that Client trusts. It is safe for concurrent use.
type Graph struct {
	shell *Shell
	cfg   GraphConfig
	token string
	// Freezer stops Graph and its sign-in answering until it thaws.
	Freezer

	cert    tls.Certificate
	pool    *x509.CertPool
	certPEM []byte
	api     *http.ServeMux
	srv     *http.Server
	base    string // https://host:port, once started

	signInDown  atomic.Bool // the sign-in endpoints drop every connection
	mu          sync.Mutex
	ids         map[string]string    // object ID → UPN
	onlineSince map[string]time.Time // UPN → when first seen homed online
	arrivals    map[string]int       // throttling key → arrivals so far
	faultsUsed  []int
	errorsMade  int
	seq         int
	log         []GraphRequest
	stats       GraphStats
}

// NewGraph returns a simulated Graph for the shell's users; Start serves it.
func NewGraph(shell *Shell, cfg GraphConfig) (*Graph, error) {
	if shell == nil {
		return nil, errors.New("sim: NewGraph needs a shell")
	}
	if cfg.TenantID == "" {
		cfg.TenantID = DefaultGraphTenantID
	}
	if cfg.OrganizationName == "" {
		cfg.OrganizationName = "Contoso"
	}
	if cfg.LastSyncAge == 0 {
		cfg.LastSyncAge = 30 * time.Minute
	}
	if cfg.Domains == nil {
		cfg.Domains = DefaultGraphDomains
	}
	if cfg.SKUs == nil {
		cfg.SKUs = DefaultGraphSKUs
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	cfg.Groups = maps.Clone(cfg.Groups)
	cfg.Faults = slices.Clone(cfg.Faults)
	if cfg.AccountRoles == nil {
		cfg.AccountRoles = DefaultAccountRoles()
	}
	cfg.AccountRoles = maps.Clone(cfg.AccountRoles)
	cert, pool, certPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	g := &Graph{
		shell: shell, cfg: cfg, token: "sim." + hex.EncodeToString(tok),
		cert: cert, pool: pool, certPEM: certPEM,
		ids: map[string]string{}, onlineSince: map[string]time.Time{}, arrivals: map[string]int{},
		faultsUsed: make([]int, len(cfg.Faults)),
		stats:      GraphStats{Requests: map[string]int{}},
	}
	// The members of the configured groups are known by ID from the start.
	for _, grp := range cfg.Groups {
		for _, upn := range grp.Members {
			if u, ok := shell.DirectoryUser(upn); ok {
				g.ids[strings.ToLower(u.ID)] = u.UPN
			}
		}
	}
	// The default groups' members are not looked up here: the shell would
	// take them as seen now, and a licence still provisioning would date
	// from the start rather than from when a pilot first asks of them.
	if g.cfg.Groups == nil {
		g.cfg.Groups = DefaultGraphGroups()
	}
	g.api = http.NewServeMux()
	g.api.HandleFunc("GET /v1.0/organization", g.organization)
	g.api.HandleFunc("GET /v1.0/domains", g.domains)
	g.api.HandleFunc("GET /v1.0/subscribedSkus", g.subscribedSkus)
	g.api.HandleFunc("GET /v1.0/users/{id}", g.user)
	g.api.HandleFunc("GET /v1.0/users/{id}/transitiveMemberOf", g.transitiveMemberOf)
	g.api.HandleFunc("GET /v1.0/groups", g.groups)
	g.api.HandleFunc("GET /v1.0/groups/{id}/transitiveMembers", g.transitiveMembers)
	g.api.HandleFunc("GET /v1.0/groups/{id}/transitiveMembers/{cast}", g.transitiveMembers)
	g.api.HandleFunc("GET /v1.0/admin/teams/userConfigurations/{id}", g.userConfiguration)
	g.api.HandleFunc("GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments", g.numberAssignments)
	g.api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		g.writeError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segs[len(segs)-1]))
	})
	return g, nil
}

// StartGraph returns a simulated Graph serving on a free port of 127.0.0.1.
func StartGraph(shell *Shell, cfg GraphConfig) (*Graph, error) {
	g, err := NewGraph(shell, cfg)
	if err != nil {
		return nil, err
	}
	if err := g.Start(); err != nil {
		return nil, err
	}
	return g, nil
}

// Start serves the simulated Graph on a free port of 127.0.0.1.
func (g *Graph) Start() error { return g.StartOn("127.0.0.1:0") }

// StartOn serves the simulated Graph on addr (host:port), in the background.
func (g *Graph) StartOn(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	g.serve(ln)
	return nil
}

func (g *Graph) serve(ln net.Listener) {
	host := ln.Addr().String()
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	g.base = "https://" + host
	g.srv = &http.Server{
		Handler:           g,
		TLSConfig:         g.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshakes from clients that do not trust us
	}
	go func() { _ = g.srv.ServeTLS(ln, "", "") }()
}

// Close stops serving at once.
func (g *Graph) Close() {
	if g.srv != nil {
		_ = g.srv.Close()
	}
}

// Shutdown stops serving once the requests in flight are answered.
func (g *Graph) Shutdown(ctx context.Context) error {
	if g.srv == nil {
		return nil
	}
	return g.srv.Shutdown(ctx)
}

// URL is where the simulated Graph serves, https://127.0.0.1:port: the
// authority host of its token endpoints, and with /v1.0 its Graph base URL.
func (g *Graph) URL() string { return g.base }

// GraphURL is the Graph base URL, URL()/v1.0.
func (g *Graph) GraphURL() string { return g.base + "/v1.0" }

// TenantID is the simulated tenant's ID.
func (g *Graph) TenantID() string { return g.cfg.TenantID }

// CertPool trusts the simulated Graph's certificate.
func (g *Graph) CertPool() *x509.CertPool { return g.pool }

// CertificatePEM is the simulated Graph's certificate, PEM-encoded, for other
// processes to trust.
func (g *Graph) CertificatePEM() []byte { return slices.Clone(g.certPEM) }

// TLSConfig is the server side TLS configuration, to serve Handler elsewhere.
func (g *Graph) TLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{g.cert}, MinVersion: tls.VersionTLS12}
}

// Client returns a new HTTP client that trusts the simulated Graph.
func (g *Graph) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: g.pool, MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

// Handler serves the simulated Graph (without TLS: see TLSConfig).
func (g *Graph) Handler() http.Handler { return g }

// maxGraphLog is how many requests Requests remembers.
const maxGraphLog = 200_000

// Requests returns the requests received so far (the latest 100,000 to
// 200,000 of them), in order of arrival.
func (g *Graph) Requests() []GraphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := slices.Clone(g.log)
	slices.SortFunc(out, func(a, b GraphRequest) int { return a.Seq - b.Seq })
	return out
}

// Stats returns the counters.
func (g *Graph) Stats() GraphStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.stats
	st.Requests = maps.Clone(g.stats.Requests)
	return st
}

// SetAccountRoles changes the directory roles of an account.
func (g *Graph) SetAccountRoles(upn string, roles []migration.DirectoryRole) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg.AccountRoles[upn] = slices.Clone(roles)
}

// SetSKUs changes the tenant's subscribed SKUs.
func (g *Graph) SetSKUs(skus []migration.SKU) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg.SKUs = slices.Clone(skus)
}

// SetSignInDown makes the sign-in to the simulated Entra ID unreachable
// (every connection to its endpoints dropped), or reachable again. Tokens
// already handed out keep working, as real ones do until they expire.
func (g *Graph) SetSignInDown(down bool) { g.signInDown.Store(down) }

// requestKind names what a request is after, for the counters.
func requestKind(path string) string {
	switch {
	case strings.HasSuffix(path, "/oauth2/v2.0/token"):
		return "token"
	case strings.HasSuffix(path, "/.well-known/openid-configuration"):
		return "openid-configuration"
	case strings.HasSuffix(path, "/discovery/instance"):
		return "instance-discovery"
	case path == "/v1.0/$batch":
		return "batch"
	case path == "/v1.0/organization", path == "/v1.0/domains", path == "/v1.0/subscribedSkus":
		return strings.TrimPrefix(path, "/v1.0/")
	case strings.HasPrefix(path, "/v1.0/users/"):
		return "users"
	case path == "/v1.0/groups":
		return "groups"
	case strings.HasPrefix(path, "/v1.0/groups/") && strings.Contains(path, "/transitiveMembers"):
		return "transitiveMembers"
	case strings.HasPrefix(path, "/v1.0/admin/teams/userConfigurations/"):
		return "userConfigurations"
	case path == "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments":
		return "numberAssignments"
	}
	return "other"
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP serves the simulated Graph: the token endpoints, and under /v1.0
// the Graph API, behind a bearer token.
func (g *Graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.Freezer.wait(r.Context()) != nil {
		return // the caller gave up: dropped
	}
	if g.signInDown.Load() && !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		// Unreachable: the connection is dropped without an answer.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	rec := GraphRequest{At: time.Now(), Method: r.Method, Target: r.RequestURI, Kind: requestKind(r.URL.Path)}
	if rec.Target == "" {
		rec.Target = r.URL.RequestURI()
	}
	rec.Key = r.Method + " " + rec.Target
	g.mu.Lock()
	g.seq++
	rec.Seq = g.seq
	g.stats.Total++
	g.stats.Requests[rec.Kind]++
	g.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		rec.Status = sw.status
		g.mu.Lock()
		if len(g.log) >= maxGraphLog { // a long-running simulator keeps the latest half
			g.log = slices.Delete(g.log, 0, maxGraphLog/2)
		}
		g.log = append(g.log, rec)
		g.mu.Unlock()
	}()
	w.Header().Set("request-id", newGUID())
	if id := r.Header.Get("client-request-id"); id != "" {
		w.Header().Set("client-request-id", id)
	}
	if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		g.serveAuthority(sw, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		g.mu.Lock()
		g.stats.Unauthorized++
		g.mu.Unlock()
		msg := "Access token is empty."
		if r.Header.Get("Authorization") != "" {
			msg = "Access token validation failure. Invalid audience."
		}
		sw.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		g.writeError(sw, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return
	}
	var batch *batchRequest
	if rec.Kind == "batch" {
		if r.Method != http.MethodPost {
			g.writeError(sw, r, http.StatusMethodNotAllowed, "Request_BadRequest", "The $batch endpoint accepts POST only.")
			return
		}
		b, gz, err := readBatch(r)
		rec.Gzip = gz
		if err != nil {
			g.writeError(sw, r, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		batch = b
		urls := make([]string, len(b.Requests))
		for i, it := range b.Requests {
			urls[i] = it.Method + " " + it.URL
		}
		slices.Sort(urls)
		h := fnv.New64a()
		_, _ = io.WriteString(h, strings.Join(urls, "\n"))
		rec.Key = fmt.Sprintf("POST /v1.0/$batch %016x", h.Sum64())
	}
	if g.throttled(rec.Key, g.cfg.Throttle) {
		rec.Throttled, rec.RetryAfter = true, g.retryAfter()
		g.mu.Lock()
		g.stats.Throttled++
		g.mu.Unlock()
		g.writeThrottled(sw, r)
		return
	}
	if g.fault(sw, r, r.URL.Path) {
		return
	}
	if batch != nil {
		rec.Items = g.serveBatch(sw, r, batch)
		return
	}
	g.api.ServeHTTP(sw, r)
}

// throttled decides whether the request with this key, at its arrival, is
// throttled: a pure function of the seed, the key and how many times the key
// arrived before.
func (g *Graph) throttled(key string, rate float64) bool {
	g.mu.Lock()
	n := g.arrivals[key]
	g.arrivals[key]++
	g.mu.Unlock()
	return rate > 0 && g.draw("throttle", key, strconv.Itoa(n)) < rate
}

// draw returns a number in [0, 1) from the seed and the parts.
func (g *Graph) draw(parts ...string) float64 { return draw(g.cfg.Seed, parts...) }

// retryAfter is the Retry-After of a 429, whole seconds.
func (g *Graph) retryAfter() time.Duration {
	return time.Duration(math.Ceil(g.cfg.RetryAfter.Seconds())) * time.Second
}

func (g *Graph) writeThrottled(w http.ResponseWriter, r *http.Request) {
	ra := g.retryAfter()
	w.Header().Set("Retry-After", strconv.Itoa(int(ra.Seconds())))
	// The answer microsoftgraph/microsoft-graph-docs-contrib
	// concepts/throttling.md shows.
	g.writeError(w, r, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
}

// fault answers the request with the first matching configured fault.
func (g *Graph) fault(w http.ResponseWriter, r *http.Request, path string) bool {
	rel := strings.ToLower(strings.TrimPrefix(path, "/v1.0"))
	for i, f := range g.cfg.Faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) || !strings.HasPrefix(rel, strings.ToLower(f.Path)) {
			continue
		}
		g.mu.Lock()
		use := f.Times == 0 || g.faultsUsed[i] < f.Times
		if use {
			g.faultsUsed[i]++
		}
		g.mu.Unlock()
		if !use {
			continue
		}
		switch {
		case f.NoBody:
			w.WriteHeader(f.Status)
		case f.EmptyError:
			writeJSONStatus(w, f.Status, map[string]any{"error": map[string]any{}})
		default:
			body := map[string]any{"innerError": g.innerError(r)}
			if f.Code != "" {
				body["code"] = f.Code
			}
			if f.Message != "" {
				body["message"] = f.Message
			}
			writeJSONStatus(w, f.Status, map[string]any{"error": body})
		}
		return true
	}
	return false
}

func (g *Graph) innerError(r *http.Request) map[string]any {
	cid := r.Header.Get("client-request-id")
	if cid == "" {
		cid = newGUID()
	}
	// Graph writes the date without a zone.
	return map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": newGUID(), "client-request-id": cid}
}

// writeError answers with an OData error; some lose their message, as the
// configuration says.
func (g *Graph) writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	g.mu.Lock()
	n := g.errorsMade
	g.errorsMade++
	g.mu.Unlock()
	body := map[string]any{"code": code, "innerError": g.innerError(r)}
	if g.cfg.MessagelessErrors <= 0 || g.draw("messageless", strconv.Itoa(n)) >= g.cfg.MessagelessErrors {
		body["message"] = msg
	}
	writeJSONStatus(w, status, map[string]any{"error": body})
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// stableGUID is a GUID made from the seed and the parts.
func (g *Graph) stableGUID(parts ...string) string {
	a, b := g.draw(append(parts, "a")...), g.draw(append(parts, "b")...)
	x, y := uint64(a*(1<<53)), uint64(b*(1<<53))
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", x>>21, (x>>5)&0xffff, y&0xfff, (y>>12)&0xfff, (x^y)&0xffffffffffff)
}
