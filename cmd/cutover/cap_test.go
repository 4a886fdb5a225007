package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// TestGlobalCapAcrossProcesses: three worker processes, ten moves each at
// most, and a deployment cap of 10: no more than 10 move calls are ever in
// flight at the on-premises server, and at least 9 on average while work
// remains.
func TestGlobalCapAcrossProcesses(t *testing.T) {
	t.Parallel()
	const users, maxInFlight = 150, 10
	ctx := context.Background()
	// Move-CsUser is slow (two seconds here; tens of seconds on a real
	// server); reads are quick. At one second, the handoff between moves
	// took 10% of the time on a loaded CI machine (8.99 in flight on
	// average, 9.85 alone).
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, MoveLatency: 2 * time.Second})
	addr, dbURL, token := startFleet(t, shell, 3, "--workers", "10")
	put := func(path, body string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, "http://"+addr+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		var res *http.Response
		require.Eventually(t, func() bool { res, err = http.DefaultClient.Do(req); return err == nil }, 30*time.Second, 50*time.Millisecond)
		defer res.Body.Close()
		var settings struct {
			MaxInFlight int `json:"max_in_flight"`
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&settings))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, maxInFlight, settings.MaxInFlight)
	}
	put("/api/v1/settings", fmt.Sprintf(`{"max_in_flight": %d}`, maxInFlight))

	var csv bytes.Buffer
	csv.WriteString("upn\n")
	for i := range users {
		fmt.Fprintf(&csv, "cap%04d@contoso.com\n", i)
	}
	var group struct{ ID int64 }
	post(t, token, "http://"+addr+"/api/v1/groups?name=capped", "text/csv", csv.Bytes(), &group)
	// Two waves at once, each allowed more than the cap: only the
	// deployment's cap holds them.
	var planned struct{ Waves []struct{ ID int64 } }
	post(t, token, fmt.Sprintf("http://%s/api/v1/groups/%d/plan", addr, group.ID), "application/json",
		[]byte(`{"waves": [{"size": 75, "start_at": "now", "concurrency": 50}, {"size": 75, "start_at": "now", "concurrency": 50}]}`), &planned)
	require.Len(t, planned.Waves, 2)

	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	waitFor(t, pool, 2*time.Minute, 2, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	st := shell.Stats()
	require.Equal(t, users, st.MovesOnline)
	require.LessOrEqual(t, st.MaxInFlight, maxInFlight, "the cap held: %+v", st)
	require.GreaterOrEqual(t, st.MeanInFlight, 0.9*maxInFlight, "the cap was used: %+v", st)
	t.Logf("move calls in flight: at most %d, %.2f on average over %s", st.MaxInFlight, st.MeanInFlight, st.LastMoveAt.Sub(*st.FirstMoveAt).Round(time.Millisecond))
}
