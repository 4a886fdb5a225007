package sim_test

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/sim"
)

// groupsPage is an answer of GET /groups.
type groupsPage struct {
	Context string           `json:"@odata.context"`
	Count   *int             `json:"@odata.count"`
	Next    string           `json:"@odata.nextLink"`
	Value   []map[string]any `json:"value"`
}

func (p groupsPage) names() []string {
	out := []string{}
	for _, g := range p.Value {
		out = append(out, g["displayName"].(string))
	}
	return out
}

// TestGraphGroupsByName lists groups as the Graph client finds them by
// name, and as Graph refuses what it does not serve.
func TestGraphGroupsByName(t *testing.T) {
	t.Parallel()
	c := startGraph(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}), sim.GraphConfig{Groups: map[string]sim.GraphGroup{
		"g1": {DisplayName: "pilot: Sales"},
		"g2": {DisplayName: "O'Brien's team", Description: "Fatima's"},
		"g3": {DisplayName: "Pilot: Finance", Description: "The money people"},
		"g4": {DisplayName: "Platform"},
		"g5": {DisplayName: "Übergang"},
	}})
	advanced := http.Header{"ConsistencyLevel": {"eventual"}}
	tests := []struct {
		name    string
		query   url.Values
		header  http.Header
		status  int
		names   []string // in order
		count   int      // @odata.count; -1 for none
		next    bool
		code    string // the OData error code
		message string // part of the error's message
	}{
		{name: "any case, by name, in an advanced query",
			query:  url.Values{"$filter": {"startswith(displayName,'PILOT')"}, "$orderby": {"displayName"}, "$count": {"true"}},
			header: advanced, status: 200, names: []string{"Pilot: Finance", "pilot: Sales"}, count: 2},
		{name: "the SDK's spelling, spaces, descending",
			query:  url.Values{"$filter": {"startsWith( DisplayName , 'p' )"}, "$orderby": {"displayName desc"}, "$count": {"true"}},
			header: advanced, status: 200, names: []string{"Platform", "pilot: Sales", "Pilot: Finance"}, count: 3},
		{name: "a quote doubled", query: url.Values{"$filter": {"startswith(displayName,'o''brien')"}},
			status: 200, names: []string{"O'Brien's team"}, count: -1},
		{name: "letters beyond ASCII, any case", query: url.Values{"$filter": {"startswith(displayName,'üb')"}},
			status: 200, names: []string{"Übergang"}, count: -1},
		{name: "no match", query: url.Values{"$filter": {"startswith(displayName,'zz')"}, "$orderby": {"displayName"}, "$count": {"true"}},
			header: advanced, status: 200, names: []string{}, count: 0},
		{name: "no filter: every group, by object ID", query: url.Values{},
			status: 200, names: []string{"pilot: Sales", "O'Brien's team", "Pilot: Finance", "Platform", "Übergang"}, count: -1},
		{name: "$count without the header is ignored", query: url.Values{"$filter": {"startswith(displayName,'plat')"}, "$count": {"true"}},
			status: 200, names: []string{"Platform"}, count: -1},
		{name: "a page of $top, and the next one linked",
			query:  url.Values{"$filter": {"startswith(displayName,'p')"}, "$orderby": {"displayName"}, "$count": {"true"}, "$top": {"2"}},
			header: advanced, status: 200, names: []string{"Pilot: Finance", "pilot: Sales"}, count: 3, next: true},
		{name: "$filter and $orderby without the advanced query parameters",
			query:  url.Values{"$filter": {"startswith(displayName,'p')"}, "$orderby": {"displayName"}},
			status: 400, code: "Request_UnsupportedQuery"},
		{name: "without $count", query: url.Values{"$filter": {"startswith(displayName,'p')"}, "$orderby": {"displayName"}},
			header: advanced, status: 400, code: "Request_UnsupportedQuery"},
		{name: "another property", query: url.Values{"$filter": {"startswith(mail,'p')"}},
			status: 400, code: "Request_UnsupportedQuery", message: "property 'mail' of resource 'Group'"},
		{name: "another operator", query: url.Values{"$filter": {"displayName eq 'Platform'"}},
			status: 400, code: "Request_UnsupportedQuery"},
		{name: "a string left open", query: url.Values{"$filter": {"startswith(displayName,'p)"}},
			status: 400, code: "Request_UnsupportedQuery"},
		{name: "an unknown property selected", query: url.Values{"$select": {"id,colour"}},
			status: 400, code: "Request_BadRequest", message: "'colour'"},
		{name: "$top out of range", query: url.Values{"$top": {"1000"}}, status: 400, code: "Request_BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := c.g.GraphURL() + "/groups?" + tt.query.Encode()
			if tt.status != 200 {
				var e odataError
				c.do("GET", u, nil, tt.header, tt.status, &e)
				require.Equal(t, tt.code, e.Error.Code)
				require.NotNil(t, e.Error.Message)
				require.Contains(t, *e.Error.Message, tt.message)
				return
			}
			var p groupsPage
			c.do("GET", u, nil, tt.header, http.StatusOK, &p)
			require.Equal(t, tt.names, p.names())
			require.Equal(t, c.g.GraphURL()+"/$metadata#groups", p.Context)
			if tt.count < 0 {
				require.Nil(t, p.Count)
			} else {
				require.NotNil(t, p.Count)
				require.Equal(t, tt.count, *p.Count)
			}
			require.Equal(t, tt.next, p.Next != "", p.Next)
			if tt.next {
				var rest groupsPage
				c.do("GET", p.Next, nil, tt.header, http.StatusOK, &rest)
				require.Equal(t, []string{"Platform"}, rest.names(), "the next page follows in the same order")
			}
		})
	}

	t.Run("$select", func(t *testing.T) {
		t.Parallel()
		var p groupsPage
		q := url.Values{"$filter": {"startswith(displayName,'pilot')"}, "$select": {"id,displayName,description"}}
		c.do("GET", c.g.GraphURL()+"/groups?"+q.Encode(), nil, nil, http.StatusOK, &p)
		require.Equal(t, c.g.GraphURL()+"/$metadata#groups(id,displayName,description)", p.Context)
		byID := map[string]map[string]any{}
		for _, g := range p.Value {
			require.Equal(t, []string{"description", "displayName", "id"}, slices.Sorted(maps.Keys(g)))
			byID[g["id"].(string)] = g
		}
		require.Equal(t, "The money people", byID["g3"]["description"])
		require.Nil(t, byID["g1"]["description"], "no description: null, as Graph's")
	})
}

// TestGraphDefaultGroups: a simulated tenant configured with no groups has
// the demo's pilot users in named groups, found by name, whose members are
// the users of examples/pilot-users.csv.
func TestGraphDefaultGroups(t *testing.T) {
	t.Parallel()
	c := startGraph(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}), sim.GraphConfig{})
	var p groupsPage
	q := url.Values{"$filter": {"startswith(displayName,'sfb pilot')"}, "$orderby": {"displayName"}, "$count": {"true"}}
	c.do("GET", c.g.GraphURL()+"/groups?"+q.Encode(), nil, http.Header{"ConsistencyLevel": {"eventual"}}, http.StatusOK, &p)
	require.Equal(t, []string{"SfB pilot: Contoso", "SfB pilot: everyone", "SfB pilot: Fabrikam"}, p.names())
	for _, g := range p.Value {
		require.NotEmpty(t, g["description"], g["displayName"])
	}

	members := func(id string) []string {
		var page struct {
			Value []map[string]any `json:"value"`
		}
		c.do("GET", c.g.GraphURL()+"/groups/"+id+"/transitiveMembers/microsoft.graph.user?$select=userPrincipalName&$top=999", nil, nil, http.StatusOK, &page)
		var upns []string
		for _, u := range page.Value {
			upns = append(upns, u["userPrincipalName"].(string))
		}
		return upns
	}
	contoso, fabrikam, everyone := members(sim.DefaultGroupContoso), members(sim.DefaultGroupFabrikam), members(sim.DefaultGroupEveryone)
	require.Len(t, everyone, 200, "every user of the demo's file, through the nested groups")
	require.ElementsMatch(t, everyone, append(slices.Clone(contoso), fabrikam...))
	for _, upn := range fabrikam {
		require.True(t, strings.HasSuffix(upn, "@fabrikam.com"), upn)
	}
	require.Contains(t, contoso, "kenji.horvath@contoso.com", "the first user of examples/pilot-users.csv")

	// A configuration with groups of its own has those only.
	own := startGraph(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}), sim.GraphConfig{Groups: map[string]sim.GraphGroup{}})
	var none groupsPage
	own.do("GET", own.g.GraphURL()+"/groups", nil, nil, http.StatusOK, &none)
	require.Empty(t, none.Value)
}
