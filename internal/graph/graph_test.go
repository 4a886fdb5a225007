package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/graph"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

const (
	testClientID = "11111111-2222-3333-4444-555555555555"
	testSecret   = "s3cret~Value.That-Must_Not_Leak"
)

// start serves a simulated Graph for the shell and returns a Directory on
// it, authenticating with a client secret unless cfg says otherwise.
func start(t *testing.T, shell *sim.Shell, gcfg sim.GraphConfig, cfg graph.Config) (*sim.Graph, *graph.Directory) {
	t.Helper()
	gcfg.ClientID, gcfg.ClientSecret = testClientID, testSecret
	g, err := sim.StartGraph(shell, gcfg)
	require.NoError(t, err)
	t.Cleanup(g.Close)
	cfg.TenantID, cfg.ClientID = g.TenantID(), testClientID
	if cfg.ClientSecret == "" && cfg.CertificateFile == "" {
		cfg.ClientSecret = testSecret
	}
	cfg.GraphURL, cfg.AuthorityHost, cfg.HTTPClient = g.GraphURL(), g.URL()+"/", g.Client()
	d, err := graph.New(cfg)
	require.NoError(t, err)
	return g, d
}

func cleanShell() *sim.Shell { return sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// want is the directory's view of a user as the Graph client reads it back:
// times to the second, in UTC.
func want(t *testing.T, shell *sim.Shell, upn string) (migration.DirectoryUser, bool) {
	t.Helper()
	u, ok := shell.DirectoryUser(upn)
	for i := range u.Plans {
		u.Plans[i].AssignedAt = u.Plans[i].AssignedAt.UTC().Truncate(time.Second)
	}
	return u, ok
}

func TestTenant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      sim.GraphConfig
		sync     bool
		syncAge  time.Duration // 0: no last sync
		domains  []migration.Domain
		skus     []migration.SKU
		withCert bool
	}{
		{name: "passing", cfg: sim.GraphConfig{}, sync: true, syncAge: 30 * time.Minute,
			domains: sim.DefaultGraphDomains, skus: sim.DefaultGraphSKUs},
		{name: "sync off", cfg: sim.GraphConfig{SyncDisabled: true}, domains: sim.DefaultGraphDomains, skus: sim.DefaultGraphSKUs},
		{name: "sync old", cfg: sim.GraphConfig{LastSyncAge: 72 * time.Hour}, sync: true, syncAge: 72 * time.Hour,
			domains: sim.DefaultGraphDomains, skus: sim.DefaultGraphSKUs},
		{name: "certificate, own domains and SKUs", withCert: true, sync: true, syncAge: 30 * time.Minute,
			cfg: sim.GraphConfig{
				Domains: []migration.Domain{
					{Name: "contoso.com", Verified: true, Services: []string{"Email", migration.ServiceSfBOnline}},
					{Name: "new.contoso.com", Verified: false, Services: []string{}},
				},
				SKUs: []migration.SKU{{ID: "4b585984-651b-448a-9e53-3b10f069cf7f", PartNumber: "DESKLESSPACK", Enabled: 10, Consumed: 10,
					Plans: []migration.SKUPlan{{ID: migration.PlanTeams1, Name: migration.PlanNameTeams1, Status: "PendingProvisioning"}}}},
			},
			domains: []migration.Domain{
				{Name: "contoso.com", Verified: true, Services: []string{"Email", migration.ServiceSfBOnline}},
				{Name: "new.contoso.com", Verified: false},
			},
			skus: []migration.SKU{{ID: "4b585984-651b-448a-9e53-3b10f069cf7f", PartNumber: "DESKLESSPACK", Enabled: 10, Consumed: 10,
				Plans: []migration.SKUPlan{{ID: migration.PlanTeams1, Name: migration.PlanNameTeams1, Status: "PendingProvisioning"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg graph.Config
			if tt.withCert {
				cfg.CertificateFile = certificateFile(t)
			}
			g, d := start(t, cleanShell(), tt.cfg, cfg)
			ten, err := d.Tenant(ctxT(t))
			require.NoError(t, err)
			require.Equal(t, g.TenantID(), ten.ID)
			require.Equal(t, "Contoso", ten.DisplayName)
			require.Equal(t, tt.sync, ten.SyncEnabled)
			if tt.syncAge == 0 {
				require.Nil(t, ten.LastSync)
			} else {
				require.NotNil(t, ten.LastSync)
				require.WithinDuration(t, time.Now().Add(-tt.syncAge), *ten.LastSync, 5*time.Second)
			}
			// Services come back empty, not nil, for a domain with none.
			for i := range ten.Domains {
				if len(ten.Domains[i].Services) == 0 {
					ten.Domains[i].Services = nil
				}
			}
			require.Equal(t, tt.domains, ten.Domains)
			require.Equal(t, tt.skus, ten.SKUs)
			st := g.Stats()
			require.Equal(t, 1, st.Requests["token"])
			require.Equal(t, 0, st.Requests["instance-discovery"], "instance discovery is disabled")
			require.Equal(t, 1, st.Requests["organization"])
		})
	}
}

// certificateFile writes a PEM file with a self-signed RSA certificate and
// its key, as an app registration would hold.
func certificateFile(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cutover test app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func TestUsersThousand(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Seed: 3}) // the default mix: some not found, disabled, unlicensed...
	g, d := start(t, shell, sim.GraphConfig{}, graph.Config{})
	upns := make([]string, 1000)
	for i := range upns {
		upns[i] = fmt.Sprintf("user%04d@contoso.com", i)
	}
	began := time.Now()
	got, err := d.Users(ctxT(t), upns)
	require.NoError(t, err)
	took := time.Since(began)

	missing := 0
	for _, upn := range upns {
		w, ok := want(t, shell, upn)
		if !ok {
			missing++
			require.NotContains(t, got, upn)
			continue
		}
		require.Equal(t, w, got[upn], upn)
	}
	require.Positive(t, missing, "the mix has users Graph does not know")
	require.Len(t, got, len(upns)-missing)

	st := g.Stats()
	t.Logf("1,000 users: %d HTTP requests (%v) in %v", st.Total, st.Requests, took)
	require.LessOrEqual(t, st.Total, 55, "requests, the token's included")
	require.Equal(t, 50, st.Requests["batch"])
	require.Equal(t, 1000, st.BatchItems)
	require.Equal(t, 1, st.Requests["token"])
	for _, r := range g.Requests() {
		if r.Kind == "batch" {
			require.True(t, r.Gzip, "the SDK compresses the batch")
			require.Len(t, r.Items, graph.BatchSize)
			for _, it := range r.Items {
				require.Contains(t, it.URL, "select=id,userPrincipalName,displayName,accountEnabled", "only the fields needed")
			}
		}
	}
}

func TestUsersMissingAndDuplicates(t *testing.T) {
	t.Parallel()
	shell := cleanShell()
	shell.SetBehaviour("gone@contoso.com", sim.Behaviour{Kind: sim.KindNotFound})
	shell.SetBehaviour("off@contoso.com", sim.Behaviour{Kind: sim.KindDisabled})
	_, d := start(t, shell, sim.GraphConfig{}, graph.Config{})
	got, err := d.Users(ctxT(t), []string{"a@contoso.com", "gone@contoso.com", "a@contoso.com", " ", "off@contoso.com"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.NotContains(t, got, "gone@contoso.com")
	require.True(t, got["a@contoso.com"].Enabled)
	require.False(t, got["off@contoso.com"].Enabled, "a disabled account is still found")

	none, err := d.Users(ctxT(t), nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestUsersEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		upn     string
		escaped string // how the UPN must appear in the request URL
	}{
		{"o'brien@contoso.com", "/users/o%27brien%40contoso.com?"},
		{"jane+test@contoso.com", "/users/jane%2Btest%40contoso.com?"},
		{"guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", "/users/guest_fabrikam.com%23EXT%23%40contoso.onmicrosoft.com?"},
		{"x!y^z~w@contoso.com", "/users/x%21y%5Ez~w%40contoso.com?"},
	}
	shell := cleanShell()
	g, d := start(t, shell, sim.GraphConfig{}, graph.Config{})
	upns := make([]string, len(tests))
	for i, tt := range tests {
		upns[i] = tt.upn
	}
	got, err := d.Users(ctxT(t), upns)
	require.NoError(t, err)
	var urls []string
	for _, r := range g.Requests() {
		for _, it := range r.Items {
			urls = append(urls, it.URL)
		}
	}
	for _, tt := range tests {
		t.Run(tt.upn, func(t *testing.T) {
			u, ok := got[tt.upn]
			require.True(t, ok, "found")
			require.True(t, strings.EqualFold(tt.upn, u.UPN), u.UPN)
			require.True(t, slices.ContainsFunc(urls, func(s string) bool { return strings.HasPrefix(s, tt.escaped) }),
				"%s in %q", tt.escaped, urls)
		})
	}
}

func TestGroupUsers(t *testing.T) {
	t.Parallel()
	shell := cleanShell()
	member := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%02d@contoso.com", prefix, i)
		}
		return out
	}
	root := member("root", 30)
	a := append(member("a", 20), root[:5]...) // five in both
	b := member("b", 15)
	shell.SetBehaviour(root[3], sim.Behaviour{Kind: sim.KindDisabled})
	shell.SetBehaviour(b[7], sim.Behaviour{Kind: sim.KindDisabled})
	shell.SetBehaviour(b[8], sim.Behaviour{Kind: sim.KindNotFound}) // not in the directory
	cfg := sim.GraphConfig{Groups: map[string]sim.GraphGroup{
		"g-root": {DisplayName: "Pilot", Members: root, Groups: []string{"g-a"}, Devices: []string{"KIOSK-01"}, Contacts: []string{"vendor@example.com"}},
		"g-a":    {DisplayName: "Pilot A", Members: a, Groups: []string{"g-b", "g-root"}, Devices: []string{"KIOSK-02", "ROOM-3"}},
		"g-b":    {DisplayName: "Pilot B", Members: b, Contacts: []string{"partner@example.org"}},
	}}
	g, d := start(t, shell, cfg, graph.Config{PageSize: 16})
	got, err := d.GroupUsers(ctxT(t), "g-root")
	require.NoError(t, err)

	var wantUPNs []string
	for _, upn := range slices.Concat(root, a, b) {
		if _, ok := shell.DirectoryUser(upn); ok && !slices.Contains(wantUPNs, upn) {
			wantUPNs = append(wantUPNs, upn)
		}
	}
	var gotUPNs []string
	disabled := 0
	for _, u := range got {
		gotUPNs = append(gotUPNs, u.UPN)
		w, _ := want(t, shell, u.UPN)
		require.Equal(t, w, u)
		if !u.Enabled {
			disabled++
		}
	}
	require.ElementsMatch(t, wantUPNs, gotUPNs, "users only, each once, nested groups followed")
	require.Len(t, got, 64)
	require.Equal(t, 2, disabled, "disabled accounts are included")

	var pages []sim.GraphRequest
	for _, r := range g.Requests() {
		if r.Kind == "transitiveMembers" {
			pages = append(pages, r)
		}
	}
	require.Len(t, pages, 4, "64 users, 16 a page")
	require.Contains(t, pages[0].Target, "/transitiveMembers/graph.user?")
	for _, p := range pages[1:] {
		require.Contains(t, p.Target, "skiptoken=", "the next pages follow the next link")
		require.Contains(t, p.Target, "select=", "which keeps $select")
	}
}

func TestGroupNotFound(t *testing.T) {
	t.Parallel()
	_, d := start(t, cleanShell(), sim.GraphConfig{Groups: map[string]sim.GraphGroup{"g1": {}}}, graph.Config{})
	_, err := d.GroupUsers(ctxT(t), "0f7a5b1e-0000-4000-8000-000000000404")
	var de *migration.DirectoryError
	require.ErrorAs(t, err, &de)
	require.Equal(t, 404, de.Status)
	require.Equal(t, "Request_ResourceNotFound", de.Code)
	require.Contains(t, de.Message, "does not exist")

	empty, err := d.GroupUsers(ctxT(t), "g1")
	require.NoError(t, err)
	require.Empty(t, empty)
}

func TestTeamsAccountType(t *testing.T) {
	t.Parallel()
	const delay = 400 * time.Millisecond
	shell := cleanShell()
	shell.SetBehaviour("early@contoso.com", sim.Behaviour{Kind: sim.KindAlreadyOnline})
	_, d := start(t, shell, sim.GraphConfig{ProvisioningDelay: delay}, graph.Config{})
	ctx := ctxT(t)
	users, err := d.Users(ctx, []string{"mover@contoso.com", "early@contoso.com"})
	require.NoError(t, err)
	id := users["mover@contoso.com"].ID
	require.NotEmpty(t, id)

	at, err := d.TeamsAccountType(ctx, id)
	require.NoError(t, err)
	require.Equal(t, migration.AccountTypeOnPrem, at)

	require.NoError(t, shell.MoveOnline(ctx, "mover@contoso.com", migration.MoveOnlineOptions{}))
	at, err = d.TeamsAccountType(ctx, id)
	require.NoError(t, err)
	require.Equal(t, migration.AccountTypeOnPrem, at, "still provisioning")
	time.Sleep(delay + 50*time.Millisecond)
	at, err = d.TeamsAccountType(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "user", at)

	at, err = d.TeamsAccountType(ctx, users["early@contoso.com"].ID)
	require.NoError(t, err)
	require.Equal(t, "user", at, "online from the start")

	_, err = d.TeamsAccountType(ctx, "9c0ffee0-0000-4000-8000-000000000000")
	var de *migration.DirectoryError
	require.ErrorAs(t, err, &de)
	require.Equal(t, 404, de.Status)
}

// TestThrottleStorm throttles 30% of the requests and 30% of the batch
// items: every user is still found, and no retry came before its
// Retry-After.
func TestThrottleStorm(t *testing.T) {
	t.Parallel()
	shell := cleanShell()
	g, d := start(t, shell, sim.GraphConfig{Throttle: 0.3, ThrottleBatchItems: 0.3, RetryAfter: time.Second, Seed: 11}, graph.Config{})
	upns := make([]string, 200)
	for i := range upns {
		upns[i] = fmt.Sprintf("storm%03d@contoso.com", i)
	}
	began := time.Now()
	got, err := d.Users(ctxT(t), upns)
	require.NoError(t, err)
	took := time.Since(began)
	require.Len(t, got, len(upns))
	for _, upn := range upns {
		w, _ := want(t, shell, upn)
		require.Equal(t, w, got[upn])
	}

	st := g.Stats()
	t.Logf("storm: %d requests, %d throttled; %d batch items, %d throttled; %v", st.Total, st.Throttled, st.BatchItems, st.ThrottledItems, took)
	require.Positive(t, st.Throttled)
	require.Positive(t, st.ThrottledItems)

	// A request throttled at t with Retry-After r: the next one like it
	// (the same request, or the same batch item) arrives at t+r or later.
	type seen struct {
		at time.Time
		ra time.Duration
	}
	last := map[string]seen{}
	check := func(key string, at time.Time, throttled bool, ra time.Duration) {
		if prev, ok := last[key]; ok && prev.ra > 0 {
			require.False(t, at.Before(prev.at.Add(prev.ra)), "%s came back %v after a 429 asking for %v", key, at.Sub(prev.at), prev.ra)
		}
		if throttled {
			last[key] = seen{at, ra}
		} else {
			last[key] = seen{at, 0}
		}
	}
	for _, r := range g.Requests() {
		check(r.Key, r.At, r.Throttled, r.RetryAfter)
		for _, it := range r.Items {
			check("item "+it.Method+" "+it.URL, r.At, it.Throttled, it.RetryAfter)
		}
	}
}

// TestErrorsWithoutMessage makes Graph answer errors with no message, or no
// error object at all: the SDK's ODataError.Error() would panic on them.
// (And one with a message, for a whole batch, which the SDK reads as an
// ODataError only with the error mappings this package registers.)
func TestErrorsWithoutMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault sim.GraphFault
		call  func(ctx context.Context, d *graph.Directory) error
		code  string
	}{
		{"group 500, code only", sim.GraphFault{Path: "/groups/g1", Status: 500, Code: "UnknownError"},
			func(ctx context.Context, d *graph.Directory) error { _, err := d.GroupUsers(ctx, "g1"); return err }, "UnknownError"},
		{"teams 500, empty error", sim.GraphFault{Path: "/admin/teams", Status: 500, EmptyError: true},
			func(ctx context.Context, d *graph.Directory) error {
				_, err := d.TeamsAccountType(ctx, "4d2c1f0a-0000-4000-8000-000000000001")
				return err
			}, ""},
		{"organization 500, no body", sim.GraphFault{Path: "/organization", Status: 500, NoBody: true},
			func(ctx context.Context, d *graph.Directory) error { _, err := d.Tenant(ctx); return err }, ""},
		{"batch item 500, code only", sim.GraphFault{Path: "/users/bad@contoso.com", Status: 500, Code: "UnknownError"},
			func(ctx context.Context, d *graph.Directory) error {
				_, err := d.Users(ctx, []string{"ok@contoso.com", "bad@contoso.com"})
				return err
			}, "UnknownError"},
		{"batch item 403, no message", sim.GraphFault{Path: "/users/", Status: 403, Code: "Authorization_RequestDenied"},
			func(ctx context.Context, d *graph.Directory) error {
				_, err := d.Users(ctx, []string{"x@contoso.com"})
				return err
			},
			"Authorization_RequestDenied"},
		{"whole batch 500, with a message", sim.GraphFault{Path: "/$batch", Status: 500, Code: "UnknownError", Message: "boom"},
			func(ctx context.Context, d *graph.Directory) error {
				_, err := d.Users(ctx, []string{"x@contoso.com"})
				return err
			},
			"UnknownError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, d := start(t, cleanShell(), sim.GraphConfig{Faults: []sim.GraphFault{tt.fault}, Groups: map[string]sim.GraphGroup{"g1": {}}}, graph.Config{})
			var err error
			require.NotPanics(t, func() { err = tt.call(ctxT(t), d) })
			var de *migration.DirectoryError
			require.ErrorAs(t, err, &de, "%T", err)
			require.Equal(t, tt.fault.Status, de.Status)
			require.Equal(t, tt.code, de.Code)
			if !tt.fault.NoBody {
				require.Equal(t, tt.fault.Message, de.Message)
			}
			require.NotEmpty(t, de.Error())
		})
	}

	t.Run("every error messageless: a 404 group", func(t *testing.T) {
		t.Parallel()
		_, d := start(t, cleanShell(), sim.GraphConfig{MessagelessErrors: 1}, graph.Config{})
		var err error
		require.NotPanics(t, func() { _, err = d.GroupUsers(ctxT(t), "nope") })
		var de *migration.DirectoryError
		require.ErrorAs(t, err, &de)
		require.Equal(t, &migration.DirectoryError{Status: 404, Code: "Request_ResourceNotFound"}, de)
		require.Equal(t, "Microsoft Graph (404) Request_ResourceNotFound: no message", de.Error())
	})
}

// TestAsDirectoryError reads the SDK's errors nil-safely, including an
// ODataError whose Error() panics.
func TestAsDirectoryError(t *testing.T) {
	t.Parallel()
	noMain := odataerrors.NewODataError()
	noMain.SetStatusCode(500)
	require.Panics(t, func() { _ = noMain.Error() }, "the SDK's Error() panics without a main error")

	codeOnly := odataerrors.NewODataError()
	codeOnly.SetStatusCode(503)
	main := odataerrors.NewMainError()
	code := "serviceNotAvailable"
	main.SetCode(&code)
	codeOnly.SetErrorEscaped(main)
	require.Panics(t, func() { _ = codeOnly.Error() }, "and without a message")

	msg := "Resource not found"
	full := odataerrors.NewODataError()
	fullMain := odataerrors.NewMainError()
	fullMain.SetCode(&code)
	fullMain.SetMessage(&msg)
	full.SetErrorEscaped(fullMain)
	full.SetStatusCode(404)

	tests := []struct {
		name string
		err  error
		want *migration.DirectoryError
	}{
		{"no main error", noMain, &migration.DirectoryError{Status: 500}},
		{"code only", codeOnly, &migration.DirectoryError{Status: 503, Code: code}},
		{"wrapped, full", fmt.Errorf("call: %w", full), &migration.DirectoryError{Status: 404, Code: code, Message: msg}},
		{"zero value", &odataerrors.ODataError{}, &migration.DirectoryError{}},
		{"directory error", &migration.DirectoryError{Status: 429, RetryAfter: time.Second}, &migration.DirectoryError{Status: 429, RetryAfter: time.Second}},
		{"not Graph's", errors.New("dial tcp: connection refused"), nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *migration.DirectoryError
			var ok bool
			require.NotPanics(t, func() { got, ok = graph.AsDirectoryError(tt.err) })
			require.Equal(t, tt.want != nil, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestSecretsStayOut: a wrong secret fails without the secret in the
// error, and the configuration does not print it.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	const wrong = "Wrong~Secret.Value-42"
	_, d := start(t, cleanShell(), sim.GraphConfig{}, graph.Config{ClientSecret: wrong})
	_, err := d.Tenant(ctxT(t))
	require.Error(t, err)
	require.NotContains(t, err.Error(), wrong)
	require.NotContains(t, err.Error(), testSecret)
	var de *migration.DirectoryError
	require.ErrorAs(t, err, &de, "the sign-in refused the app's credentials: the deployment's failure")
	require.Equal(t, 401, de.Status)
	require.Equal(t, migration.CodeGraphAccessDenied, migration.Classify(err).Code)

	cfg := graph.Config{TenantID: "t", ClientID: "c", ClientSecret: wrong, CertificatePassword: wrong}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "graph", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), logged.String()} {
		require.NotContains(t, s, wrong)
	}

	_, err = graph.New(graph.Config{TenantID: "t", ClientID: "c"})
	require.ErrorContains(t, err, "client secret or a certificate")
	_, err = graph.New(graph.Config{TenantID: "t", ClientID: "c", ClientSecret: wrong, GraphURL: "http://graph.example"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), wrong)
}
