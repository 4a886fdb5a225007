package sim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

// graphClient talks to a simulated Graph with plain net/http.
type graphClient struct {
	t     *testing.T
	g     *sim.Graph
	http  *http.Client
	token string
}

func startGraph(t *testing.T, shell *sim.Shell, cfg sim.GraphConfig) *graphClient {
	t.Helper()
	g, err := sim.StartGraph(shell, cfg)
	require.NoError(t, err)
	t.Cleanup(g.Close)
	c := &graphClient{t: t, g: g, http: g.Client()}
	c.token = c.getToken(url.Values{"client_secret": {"secret"}})
	return c
}

// getToken runs the client-credentials flow as MSAL does: discovery, then
// the token endpoint it names.
func (c *graphClient) getToken(cred url.Values) string {
	c.t.Helper()
	var disc struct {
		TokenEndpoint string `json:"token_endpoint"`
		Issuer        string `json:"issuer"`
	}
	c.do("GET", c.g.URL()+"/"+c.g.TenantID()+"/v2.0/.well-known/openid-configuration", nil, nil, http.StatusOK, &disc)
	require.Equal(c.t, c.g.URL()+"/"+c.g.TenantID()+"/v2.0", disc.Issuer)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "scope": {"https://graph.microsoft.com/.default"}}
	for k, v := range cred {
		form[k] = v
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	c.do("POST", disc.TokenEndpoint, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, http.StatusOK, &tok)
	require.Equal(c.t, "Bearer", tok.TokenType)
	require.Positive(c.t, tok.ExpiresIn)
	require.NotEmpty(c.t, tok.AccessToken)
	return tok.AccessToken
}

// do sends a request and decodes the answer, which must have the status.
func (c *graphClient) do(method, u string, body io.Reader, h http.Header, status int, into any) http.Header {
	c.t.Helper()
	req, err := http.NewRequest(method, u, body)
	require.NoError(c.t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	if c.token != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.Equal(c.t, status, resp.StatusCode, "%s %s: %s", method, u, raw)
	if into != nil {
		require.NoError(c.t, json.Unmarshal(raw, into), string(raw))
	}
	return resp.Header
}

type odataError struct {
	Error struct {
		Code       string          `json:"code"`
		Message    *string         `json:"message"`
		InnerError json.RawMessage `json:"innerError"`
	} `json:"error"`
}

func TestGraphAuth(t *testing.T) {
	t.Parallel()
	g, err := sim.StartGraph(sim.NewShell(sim.ShellConfig{}), sim.GraphConfig{ClientID: "app", ClientSecret: "right"})
	require.NoError(t, err)
	t.Cleanup(g.Close)
	c := &graphClient{t: t, g: g, http: g.Client()}

	// No token, a wrong token: 401 with an OData error.
	for _, auth := range []string{"", "Bearer forged"} {
		var e odataError
		c.do("GET", g.GraphURL()+"/organization", nil, http.Header{"Authorization": {auth}}, http.StatusUnauthorized, &e)
		require.Equal(t, "InvalidAuthenticationToken", e.Error.Code)
		require.NotNil(t, e.Error.Message)
	}
	// A wrong secret is refused; the right one, or a client assertion, is not.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "scope": {"x/.default"}, "client_secret": {"wrong"}}
	c.do("POST", g.URL()+"/"+g.TenantID()+"/oauth2/v2.0/token", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, http.StatusUnauthorized, nil)
	c.token = c.getToken(url.Values{"client_secret": {"right"}})
	c.do("GET", g.GraphURL()+"/organization", nil, nil, http.StatusOK, nil)
	claims := `{"iss":"app","sub":"app","aud":"x"}`
	jwt := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	require.Equal(t, c.token, c.getToken(url.Values{"client_assertion": {jwt}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}))
	// An unknown tenant is refused at discovery.
	c.do("GET", g.URL()+"/nobody.example/v2.0/.well-known/openid-configuration", nil, nil, http.StatusBadRequest, nil)

	st := g.Stats()
	require.Equal(t, 2, st.Unauthorized)
	require.Equal(t, 3, st.Requests["token"], "%v", st.Requests)

	// The plain HTTP client does not trust the certificate.
	_, err = http.Get(g.URL() + "/" + g.TenantID() + "/v2.0/.well-known/openid-configuration")
	require.Error(t, err)
}

func TestGraphTenantEndpoints(t *testing.T) {
	t.Parallel()
	c := startGraph(t, sim.NewShell(sim.ShellConfig{}), sim.GraphConfig{LastSyncAge: 3 * time.Hour})
	var org struct {
		Context string `json:"@odata.context"`
		Value   []struct {
			Type     string    `json:"@odata.type"`
			ID       string    `json:"id"`
			Sync     *bool     `json:"onPremisesSyncEnabled"`
			LastSync time.Time `json:"onPremisesLastSyncDateTime"`
		} `json:"value"`
	}
	c.do("GET", c.g.GraphURL()+"/organization", nil, nil, http.StatusOK, &org)
	require.Equal(t, c.g.GraphURL()+"/$metadata#organization", org.Context)
	require.Len(t, org.Value, 1)
	require.Equal(t, "#microsoft.graph.organization", org.Value[0].Type)
	require.Equal(t, c.g.TenantID(), org.Value[0].ID)
	require.True(t, *org.Value[0].Sync)
	require.WithinDuration(t, time.Now().Add(-3*time.Hour), org.Value[0].LastSync, 5*time.Second)

	var doms struct {
		Value []struct {
			ID       string   `json:"id"`
			Verified bool     `json:"isVerified"`
			Services []string `json:"supportedServices"`
		} `json:"value"`
	}
	c.do("GET", c.g.GraphURL()+"/domains", nil, nil, http.StatusOK, &doms)
	require.Len(t, doms.Value, 2)
	require.Equal(t, "contoso.com", doms.Value[0].ID)
	require.Contains(t, doms.Value[1].Services, "OfficeCommunicationsOnline")

	var skus struct {
		Value []struct {
			SkuPartNumber string `json:"skuPartNumber"`
			PrepaidUnits  struct {
				Enabled int `json:"enabled"`
			} `json:"prepaidUnits"`
			ServicePlans []struct {
				Name string `json:"servicePlanName"`
			} `json:"servicePlans"`
		} `json:"value"`
	}
	c.do("GET", c.g.GraphURL()+"/subscribedSkus", nil, nil, http.StatusOK, &skus)
	require.Equal(t, "ENTERPRISEPACK", skus.Value[0].SkuPartNumber)
	require.Equal(t, 250, skus.Value[0].PrepaidUnits.Enabled)
	require.Equal(t, "TEAMS1", skus.Value[0].ServicePlans[0].Name)

	var e odataError
	c.do("GET", c.g.GraphURL()+"/nothing/here", nil, nil, http.StatusBadRequest, &e)
	require.Equal(t, "BadRequest", e.Error.Code)
}

func TestGraphUsers(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	shell.SetBehaviour("gone@contoso.com", sim.Behaviour{Kind: sim.KindNotFound})
	c := startGraph(t, shell, sim.GraphConfig{})

	var u map[string]any
	c.do("GET", c.g.GraphURL()+"/users/o%27brien%40contoso.com?$select=id,userPrincipalName,accountEnabled,assignedPlans", nil, nil, http.StatusOK, &u)
	want, _ := shell.DirectoryUser("o'brien@contoso.com")
	require.Equal(t, want.ID, u["id"])
	require.Equal(t, "o'brien@contoso.com", u["userPrincipalName"])
	require.Equal(t, true, u["accountEnabled"])
	require.Equal(t, "#microsoft.graph.user", u["@odata.type"])
	require.Contains(t, u["@odata.context"], "$metadata#users(id,userPrincipalName,accountEnabled,assignedPlans)/$entity")
	require.NotContains(t, u, "displayName", "only what $select asks")

	// By object ID, now that the simulator knows it; without $select, the
	// default properties only.
	u = nil
	c.do("GET", c.g.GraphURL()+"/users/"+want.ID, nil, nil, http.StatusOK, &u)
	require.Contains(t, u, "displayName")
	require.NotContains(t, u, "accountEnabled")

	u = nil
	c.do("GET", c.g.GraphURL()+"/users/guest_fabrikam.com%23EXT%23%40contoso.onmicrosoft.com?%24select=userPrincipalName", nil, nil, http.StatusOK, &u)
	require.Equal(t, "guest_fabrikam.com#ext#@contoso.onmicrosoft.com", u["userPrincipalName"])

	var e odataError
	c.do("GET", c.g.GraphURL()+"/users/gone%40contoso.com", nil, nil, http.StatusNotFound, &e)
	require.Equal(t, "Request_ResourceNotFound", e.Error.Code)
	require.Contains(t, string(e.Error.InnerError), `"client-request-id"`)
	c.do("GET", c.g.GraphURL()+"/users/a%40contoso.com?$select=nope", nil, nil, http.StatusBadRequest, &e)

	var targets []string
	for _, r := range c.g.Requests() {
		targets = append(targets, r.Target)
	}
	require.Contains(t, targets, "/v1.0/users/o%27brien%40contoso.com?$select=id,userPrincipalName,accountEnabled,assignedPlans", "the target as sent")
	require.Contains(t, targets, "/v1.0/users/guest_fabrikam.com%23EXT%23%40contoso.onmicrosoft.com?%24select=userPrincipalName")
}

func TestGraphTransitiveMembersPaging(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	members := func(p string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d@contoso.com", p, i)
		}
		return out
	}
	c := startGraph(t, shell, sim.GraphConfig{PageSize: 4, Groups: map[string]sim.GraphGroup{
		"top":    {Members: members("t", 5), Groups: []string{"nested"}, Devices: []string{"PC-1"}, Contacts: []string{"x@example.com"}},
		"nested": {Members: append(members("n", 3), "t0@contoso.com"), Groups: []string{"top"}, Devices: []string{"PC-2"}},
	}})
	list := func(first string) (types map[string]int, pages int) {
		types = map[string]int{}
		for next := first; next != ""; pages++ {
			var page struct {
				Value []map[string]any `json:"value"`
				Next  string           `json:"@odata.nextLink"`
			}
			c.do("GET", next, nil, nil, http.StatusOK, &page)
			for _, o := range page.Value {
				types[o["@odata.type"].(string)]++
			}
			if page.Next != "" {
				u, err := url.Parse(page.Next)
				require.NoError(t, err)
				require.True(t, u.IsAbs(), "nextLink %s is absolute", page.Next)
				require.Equal(t, strings.TrimPrefix(c.g.URL(), "https://"), u.Host)
			}
			next = page.Next
		}
		return types, pages
	}
	types, pages := list(c.g.GraphURL() + "/groups/top/transitiveMembers")
	require.Equal(t, map[string]int{"#microsoft.graph.user": 8, "#microsoft.graph.device": 2,
		"#microsoft.graph.orgContact": 1, "#microsoft.graph.group": 1}, types)
	require.Equal(t, 3, pages) // 12 objects, 4 a page

	types, pages = list(c.g.GraphURL() + "/groups/top/transitiveMembers/microsoft.graph.user?$select=id,accountEnabled&$top=3")
	require.Equal(t, map[string]int{"#microsoft.graph.user": 8}, types)
	require.Equal(t, 3, pages)
	types, _ = list(c.g.GraphURL() + "/groups/top/transitiveMembers/graph.user") // the SDK's short cast
	require.Equal(t, map[string]int{"#microsoft.graph.user": 8}, types)

	var e odataError
	c.do("GET", c.g.GraphURL()+"/groups/missing/transitiveMembers", nil, nil, http.StatusNotFound, &e)
	require.Equal(t, "Request_ResourceNotFound", e.Error.Code)
}

func batchBody(t *testing.T, n int) []byte {
	t.Helper()
	var reqs []map[string]any
	for i := range n {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET",
			"url": fmt.Sprintf("/users/b%d%%40contoso.com?$select=id,userPrincipalName", i)})
	}
	raw, err := json.Marshal(map[string]any{"requests": reqs})
	require.NoError(t, err)
	return raw
}

type batchAnswer struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    map[string]any    `json:"body"`
	} `json:"responses"`
}

func TestGraphBatch(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	shell.SetBehaviour("b1@contoso.com", sim.Behaviour{Kind: sim.KindNotFound})
	c := startGraph(t, shell, sim.GraphConfig{})
	jsonH := http.Header{"Content-Type": {"application/json"}}
	gzH := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}

	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(batchBody(t, 3))
	require.NoError(t, zw.Close())

	for name, send := range map[string]func() batchAnswer{
		"plain": func() (a batchAnswer) {
			c.do("POST", c.g.GraphURL()+"/$batch", bytes.NewReader(batchBody(t, 3)), jsonH, http.StatusOK, &a)
			return a
		},
		"gzip": func() (a batchAnswer) {
			c.do("POST", c.g.GraphURL()+"/$batch", bytes.NewReader(zipped.Bytes()), gzH, http.StatusOK, &a)
			return a
		},
	} {
		a := send()
		require.Len(t, a.Responses, 3, name)
		status := map[string]int{}
		for _, r := range a.Responses {
			status[r.ID] = r.Status
			if r.Status == http.StatusOK {
				require.Equal(t, "#microsoft.graph.user", r.Body["@odata.type"])
				require.Contains(t, r.Headers["Content-Type"], "application/json")
			}
		}
		require.Equal(t, map[string]int{"1": 200, "2": 404, "3": 200}, status, name)
	}
	// Too many items, not gzip after all, no items: refused.
	c.do("POST", c.g.GraphURL()+"/$batch", bytes.NewReader(batchBody(t, 21)), jsonH, http.StatusBadRequest, nil)
	c.do("POST", c.g.GraphURL()+"/$batch", bytes.NewReader(batchBody(t, 2)), gzH, http.StatusBadRequest, nil)
	c.do("POST", c.g.GraphURL()+"/$batch", strings.NewReader(`{"requests":[]}`), jsonH, http.StatusBadRequest, nil)

	st := c.g.Stats()
	require.Equal(t, 5, st.Requests["batch"])
	require.Equal(t, 6, st.BatchItems)
	var gz int
	for _, r := range c.g.Requests() {
		if r.Kind == "batch" && r.Gzip {
			gz++
		}
	}
	require.Equal(t, 2, gz)
}

// TestGraphBatchDependsOn: a batch item is answered 424 Failed Dependency
// only when an item it depends on failed (concepts/json-batching.md); items
// run after those they depend on, wherever they stand in the batch; a
// dependency that is not in the batch, or a cycle, is refused.
func TestGraphBatchDependsOn(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	shell.SetBehaviour("gone@contoso.com", sim.Behaviour{Kind: sim.KindNotFound})
	c := startGraph(t, shell, sim.GraphConfig{})
	jsonH := http.Header{"Content-Type": {"application/json"}}
	item := func(id, upn string, deps ...string) map[string]any {
		it := map[string]any{"id": id, "method": "GET", "url": "/users/" + url.PathEscape(upn) + "?$select=id"}
		if len(deps) > 0 {
			it["dependsOn"] = deps
		}
		return it
	}
	send := func(status int, items ...map[string]any) map[string]int {
		raw, err := json.Marshal(map[string]any{"requests": items})
		require.NoError(t, err)
		var a batchAnswer
		c.do("POST", c.g.GraphURL()+"/$batch", bytes.NewReader(raw), jsonH, status, &a)
		got := map[string]int{}
		for _, r := range a.Responses {
			got[r.ID] = r.Status
		}
		return got
	}
	tests := []struct {
		name  string
		items []map[string]any
		want  map[string]int
	}{
		{"no dependsOn: a failure stays its own", []map[string]any{item("1", "gone@contoso.com"), item("2", "ann@contoso.com")},
			map[string]int{"1": 404, "2": 200}},
		{"the dependent of a failure fails 424", []map[string]any{item("1", "gone@contoso.com"), item("2", "ann@contoso.com", "1")},
			map[string]int{"1": 404, "2": 424}},
		{"and its own dependent too", []map[string]any{item("1", "gone@contoso.com"), item("2", "ann@contoso.com", "1"), item("3", "bo@contoso.com", "2")},
			map[string]int{"1": 404, "2": 424, "3": 424}},
		{"the dependent of a success runs", []map[string]any{item("1", "ann@contoso.com"), item("2", "bo@contoso.com", "1")},
			map[string]int{"1": 200, "2": 200}},
		{"a dependency later in the batch runs first", []map[string]any{item("3", "bo@contoso.com", "4"), item("4", "gone@contoso.com")},
			map[string]int{"3": 424, "4": 404}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, send(http.StatusOK, tt.items...), tt.name)
	}
	send(http.StatusBadRequest, item("1", "ann@contoso.com", "9"))
	send(http.StatusBadRequest, item("1", "ann@contoso.com", "2"), item("2", "bo@contoso.com", "1"))
}

func TestGraphThrottleAndErrors(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	c := startGraph(t, shell, sim.GraphConfig{Throttle: 1, RetryAfter: 1500 * time.Millisecond})
	var e odataError
	h := c.do("GET", c.g.GraphURL()+"/organization", nil, nil, http.StatusTooManyRequests, &e)
	require.Equal(t, "2", h.Get("Retry-After"), "whole seconds, rounded up")
	require.Equal(t, "TooManyRequests", e.Error.Code)
	reqs := c.g.Requests()
	last := reqs[len(reqs)-1]
	require.True(t, last.Throttled)
	require.Equal(t, 2*time.Second, last.RetryAfter)

	// Batch items alone, half of them.
	c = startGraph(t, shell, sim.GraphConfig{ThrottleBatchItems: 0.5, Seed: 9})
	var a batchAnswer
	c.do("POST", c.g.GraphURL()+"/$batch", bytes.NewReader(batchBody(t, 20)), http.Header{"Content-Type": {"application/json"}}, http.StatusOK, &a)
	throttled := 0
	for _, r := range a.Responses {
		if r.Status == http.StatusTooManyRequests {
			throttled++
			require.Equal(t, "1", r.Headers["Retry-After"])
		}
	}
	require.Equal(t, c.g.Stats().ThrottledItems, throttled)
	require.Greater(t, throttled, 3)
	require.Less(t, throttled, 17)

	// Messageless errors, and an injected fault.
	c = startGraph(t, shell, sim.GraphConfig{MessagelessErrors: 1, Faults: []sim.GraphFault{
		{Path: "/domains", Status: 503, Code: "serviceNotAvailable", Times: 1},
	}})
	e = odataError{}
	c.do("GET", c.g.GraphURL()+"/users/x%40contoso.com?$select=bad", nil, nil, http.StatusBadRequest, &e)
	require.Nil(t, e.Error.Message)
	require.Equal(t, "Request_BadRequest", e.Error.Code)
	c.do("GET", c.g.GraphURL()+"/domains", nil, nil, http.StatusServiceUnavailable, &e)
	require.Equal(t, "serviceNotAvailable", e.Error.Code)
	c.do("GET", c.g.GraphURL()+"/domains", nil, nil, http.StatusOK, nil) // once only
}

func TestGraphTeamsAccountType(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	c := startGraph(t, shell, sim.GraphConfig{ProvisioningDelay: 200 * time.Millisecond})
	u, _ := shell.DirectoryUser("mover@contoso.com")
	var conf struct {
		ID          string `json:"id"`
		AccountType string `json:"accountType"`
	}
	// By object ID; an ID no user has is not found.
	c.do("GET", c.g.GraphURL()+"/admin/teams/userConfigurations/0badc0de-0000-4000-8000-000000000000", nil, nil, http.StatusNotFound, nil)
	c.do("GET", c.g.GraphURL()+"/admin/teams/userConfigurations/"+u.ID, nil, nil, http.StatusOK, &conf)
	require.Equal(t, u.ID, conf.ID)
	require.Equal(t, "sfbOnPremUser", conf.AccountType)
	require.NoError(t, shell.MoveOnline(t.Context(), "mover@contoso.com", migration.MoveOnlineOptions{}))
	c.do("GET", c.g.GraphURL()+"/admin/teams/userConfigurations/"+u.ID, nil, nil, http.StatusOK, &conf)
	require.Equal(t, "sfbOnPremUser", conf.AccountType, "provisioning")
	time.Sleep(250 * time.Millisecond)
	c.do("GET", c.g.GraphURL()+"/admin/teams/userConfigurations/"+u.ID, nil, nil, http.StatusOK, &conf)
	require.Equal(t, "user", conf.AccountType)
}
