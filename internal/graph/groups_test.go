package graph_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/graph"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

// TestFindGroups finds groups by the start of their name through the SDK,
// as a lead does: any case, quotes and other reserved characters intact,
// the first 20 by name, in one advanced query.
func TestFindGroups(t *testing.T) {
	t.Parallel()
	groups := map[string]sim.GraphGroup{
		"0f1e2d3c-0000-4000-8000-000000000001": {DisplayName: "pilot: Sales"},
		"0f1e2d3c-0000-4000-8000-000000000002": {DisplayName: "Pilot: Finance", Description: "The money people"},
		"0f1e2d3c-0000-4000-8000-000000000003": {DisplayName: "O'Brien's team", Description: "Fatima's"},
		"0f1e2d3c-0000-4000-8000-000000000004": {DisplayName: "R&D + QA #1 100%"},
	}
	for i := 25; i >= 1; i-- { // made in the wrong order, and listed by object ID in yet another
		groups[fmt.Sprintf("0f1e2d3c-0000-4000-8000-%012d", 100-i)] = sim.GraphGroup{DisplayName: fmt.Sprintf("Wave %02d", i)}
	}
	g, d := start(t, cleanShell(), sim.GraphConfig{Groups: groups}, graph.Config{})
	waves := make([]string, 20)
	for i := range waves {
		waves[i] = fmt.Sprintf("Wave %02d", i+1)
	}
	tests := []struct {
		name   string
		want   []string // display names, in order
		filter string   // the $filter as Graph reads it
	}{
		{"pilot", []string{"Pilot: Finance", "pilot: Sales"}, "startswith(displayName,'pilot')"},
		{"O'Brien", []string{"O'Brien's team"}, "startswith(displayName,'O''Brien')"},
		{"o''", nil, "startswith(displayName,'o''''')"},
		{"R&D + QA #1 100%", []string{"R&D + QA #1 100%"}, "startswith(displayName,'R&D + QA #1 100%')"},
		{"wave", waves, "startswith(displayName,'wave')"},
		{"nobody", nil, "startswith(displayName,'nobody')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.FindGroups(ctxT(t), tt.name)
			require.NoError(t, err)
			require.NotNil(t, got, "an empty list, not nil")
			var names []string
			for _, grp := range got {
				names = append(names, grp.DisplayName)
				require.Equal(t, groups[grp.ID].Description, grp.Description)
			}
			require.Equal(t, tt.want, names)

			// The request as it arrived: the sim refuses $filter with
			// $orderby unless ConsistencyLevel: eventual and $count=true
			// came too, so its answer shows the header was sent.
			var sent url.Values
			for _, r := range g.Requests() {
				u, err := url.ParseRequestURI(r.Target)
				require.NoError(t, err)
				if r.Kind == "groups" && u.Query().Get("$filter") == tt.filter {
					sent = u.Query()
				}
			}
			require.NotNil(t, sent, "no request with $filter=%s", tt.filter)
			require.Equal(t, url.Values{"$filter": {tt.filter}, "$orderby": {"displayName"}, "$count": {"true"},
				"$top": {"20"}, "$select": {"id,displayName,description"}}, sent)
		})
	}

	t.Run("a description is read", func(t *testing.T) {
		t.Parallel()
		got, err := d.FindGroups(ctxT(t), "Pilot: F")
		require.NoError(t, err)
		require.Equal(t, []migration.DirectoryGroup{{ID: "0f1e2d3c-0000-4000-8000-000000000002", DisplayName: "Pilot: Finance", Description: "The money people"}}, got)
	})
	t.Run("no name, no request", func(t *testing.T) {
		t.Parallel()
		_, err := d.FindGroups(ctxT(t), "  ")
		require.Error(t, err)
	})
}

// TestFindGroupsErrors: what Graph refuses is a *migration.DirectoryError,
// and throttling is waited out.
func TestFindGroupsErrors(t *testing.T) {
	t.Parallel()
	groups := map[string]sim.GraphGroup{"0f1e2d3c-0000-4000-8000-000000000001": {DisplayName: "Pilot"}}

	_, d := start(t, cleanShell(), sim.GraphConfig{Groups: groups,
		Faults: []sim.GraphFault{{Path: "/groups", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}}}, graph.Config{})
	_, err := d.FindGroups(ctxT(t), "Pilot")
	var de *migration.DirectoryError
	require.ErrorAs(t, err, &de)
	require.Equal(t, 403, de.Status)
	require.Equal(t, "Authorization_RequestDenied", de.Code)
	require.Equal(t, migration.CodeGraphAccessDenied, migration.Classify(err).Code)

	g, d := start(t, cleanShell(), sim.GraphConfig{Groups: groups, Throttle: 0.7, Seed: 4}, graph.Config{})
	got, err := d.FindGroups(ctxT(t), "pil")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Positive(t, g.Stats().Throttled, "throttled, then retried after Retry-After")
}
