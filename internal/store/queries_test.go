package store_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
)

// The sets of move states the queries name (sql/0011) are the domain's.
func TestStateSetsMatchDomain(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	sets := []struct {
		function string
		domain   func(migration.MoveState) bool
	}{
		{"cutover_move_active", migration.MoveState.Active},
		{"cutover_move_ended", migration.MoveState.Ended},
		{"cutover_move_has_job", migration.MoveState.HasJob},
	}
	for _, set := range sets {
		t.Run(set.function, func(t *testing.T) {
			t.Parallel()
			for _, s := range append(migration.MoveStates, "no_such_state") {
				var in bool
				require.NoError(t, pool.QueryRow(context.Background(), `SELECT `+set.function+`($1)`, s).Scan(&in))
				assert.Equal(t, set.domain(s), in, "%s(%q)", set.function, s)
			}
		})
	}
}

// stateLiteral finds the state names the queries write out: compared with
// a state (state = 'x', state <> 'x', state IN ('x', 'y')) or set as one
// (SET state = 'x', and the state of an event: SELECT id, 'x', ...).
var (
	stateCompared = regexp.MustCompile(`(?i)\b(?:to_)?state(?:::text)?\s*(?:=|<>)\s*'([a-z_]+)'`)
	stateListed   = regexp.MustCompile(`(?i)\b(?:to_)?state(?:::text)?\s+IN\s*\(([^)]*)\)`)
	eventState    = regexp.MustCompile(`(?i)INSERT INTO move_events \(move_id, state[^)]*\)\s*SELECT\s+[a-z_.]+,\s*'([a-z_]+)'`)
	quoted        = regexp.MustCompile(`'([a-z_]+)'`)
)

// Every state name written out in a query is a state of the domain's, so
// that a state renamed in Go and not in SQL fails here, not in a wave.
func TestQueryStateNames(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, s := range migration.MoveStates {
		known[string(s)] = true
	}
	for _, s := range migration.WaveStates {
		known[string(s)] = true
	}
	files, err := filepath.Glob("../../sql/queries/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	found := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		require.NoError(t, err)
		// River's job states (j.state) are River's own.
		text := strings.ReplaceAll(string(body), "j.state", "j.river_state")
		var names []string
		for _, m := range stateCompared.FindAllStringSubmatch(text, -1) {
			names = append(names, m[1])
		}
		for _, m := range eventState.FindAllStringSubmatch(text, -1) {
			names = append(names, m[1])
		}
		for _, m := range stateListed.FindAllStringSubmatch(text, -1) {
			for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
				names = append(names, q[1])
			}
		}
		for _, n := range names {
			found++
			if filepath.Base(file) == "webhooks.sql" { // a delivery's states (store.WebhookDeliveryAttempt)
				assert.Contains(t, []string{"pending", "delivered", "failed"}, n, "webhooks.sql names the delivery state %q", n)
				continue
			}
			if filepath.Base(file) == "completion.sql" && slices.Contains(migration.ItemStates, migration.ItemState(n)) {
				continue // a completion item's states (migration.ItemState), beside its move's
			}
			assert.True(t, known[n], "%s names the state %q, which is not a move's or a wave's", filepath.Base(file), n)
		}
	}
	assert.Greater(t, found, 20, "the patterns find the state names of the queries")
}
