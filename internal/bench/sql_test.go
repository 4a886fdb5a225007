package bench

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
)

// TestStatements prepares every statement of sql/ against a migrated
// database: Postgres parses it and resolves every table, column, function
// and type it names against the schema, without running it. A column a
// migration renames fails here, not in a benchmark's run.
func TestStatements(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	ctx := context.Background()

	type check func(context.Context, pgx.Tx, string) error
	prepare := func(ctx context.Context, tx pgx.Tx, sql string) error {
		_, err := tx.Conn().Prepare(ctx, "", sql)
		return err
	}
	exec := func(ctx context.Context, tx pgx.Tx, sql string) error {
		_, err := tx.Exec(ctx, sql)
		return err
	}
	// The statements a Prepare does not resolve are run instead, in a
	// transaction rolled back.
	special := map[string]check{
		// The wave floor's table of its own: created.
		"wave_floor_table": exec,
	}
	type statementTest struct {
		name  string
		sql   string
		setup []string // run first: the tables a floor makes of its own
		check check
	}
	var tests []statementTest
	for _, name := range slices.Sorted(maps.Keys(statements)) {
		tt := statementTest{name: name, sql: statements[name], check: prepare}
		if c, ok := special[name]; ok {
			tt.check = c
		}
		if strings.HasPrefix(name, "wave_floor_") && name != "wave_floor_table" {
			tt.setup = []string{sqlWaveFloorTable}
		}
		tests = append(tests, tt)
	}
	require.NotEmpty(t, tests)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx) //nolint:errcheck
			for _, s := range tt.setup {
				_, err := tx.Exec(ctx, s)
				require.NoError(t, err)
			}
			require.NoError(t, tt.check(ctx, tx, tt.sql), "sql/%s.sql:\n%s", tt.name, tt.sql)
		})
	}
}

// TestStatementsUsed: every file of sql/ is a statement the code runs.
func TestStatementsUsed(t *testing.T) {
	t.Parallel()
	for name := range statements {
		require.True(t, used[name], "sql/%s.sql is used by no benchmark", name)
	}
}
