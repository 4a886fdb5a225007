package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/store"
)

// lastMigrationWithFunctions is the last numbered migration that created
// SQL functions. From the next one on, a function is created and changed in
// sql/functions/ only, where its one current definition lives.
const lastMigrationWithFunctions = 19

// createFunction finds the functions a SQL text creates (CREATE FUNCTION or
// CREATE OR REPLACE FUNCTION), by name.
var createFunction = regexp.MustCompile(`(?i)\bCREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?\s*\(`)

var lineComment = regexp.MustCompile(`--[^\n]*`)

var quiet = slog.New(slog.DiscardHandler)

// functionsCreated returns the names of the functions sqlText creates, in
// order, a name as often as it is created (comments do not count).
func functionsCreated(sqlText string) []string {
	var names []string
	for _, m := range createFunction.FindAllStringSubmatch(lineComment.ReplaceAllString(sqlText, ""), -1) {
		names = append(names, m[1])
	}
	return names
}

// functionsInLateMigrations says which migrations after
// lastMigrationWithFunctions create a function, and which.
func functionsInLateMigrations(migrations []store.SchemaChange) []string {
	var bad []string
	for _, m := range migrations {
		if m.Version <= lastMigrationWithFunctions {
			continue
		}
		for _, name := range functionsCreated(m.SQL) {
			bad = append(bad, fmt.Sprintf("%04d_%s creates %s", m.Version, m.Name, name))
		}
	}
	return bad
}

// functionDefs returns the definition of every function of the database's
// schema but River's, as md5(pg_get_functiondef), by name and arguments.
func functionDefs(t *testing.T, db *pgxpool.Pool) map[string]string {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', md5(pg_get_functiondef(p.oid))
		FROM pg_proc p
		WHERE p.pronamespace = current_schema()::regnamespace AND p.proname NOT LIKE 'river\_%'`)
	require.NoError(t, err)
	defs := map[string]string{}
	for rows.Next() {
		var fn, sum string
		require.NoError(t, rows.Scan(&fn, &sum))
		defs[fn] = sum
	}
	require.NoError(t, rows.Err())
	return defs
}

// freshMigrated creates an empty database of the test's own and migrates it
// with store.Migrate (not copied from dbtest's template, so that it is this
// Migrate that ran).
func freshMigrated(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	name := dbtest.Name(t, "cutover_fn")
	admin, err := pgx.Connect(ctx, dbtest.ServerURL())
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	admin.Close(ctx)
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, dbtest.WithDatabase(dbtest.ServerURL(), name))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = store.Migrate(ctx, pool, quiet)
	require.NoError(t, err)
	return pool
}

// TestSQLFunctions: each SQL function has its one current definition in
// sql/functions/, which Migrate applies on every run, and no migration after
// lastMigrationWithFunctions defines one.
func TestSQLFunctions(t *testing.T) {
	t.Parallel()
	migrations, err := store.Migrations()
	require.NoError(t, err)
	files, err := store.Functions()
	require.NoError(t, err)
	require.NotEmpty(t, files)
	// definedIn: the files that define each function, a file as often as it
	// defines it (overloads).
	definedIn := map[string][]string{}
	for _, f := range files {
		for _, name := range functionsCreated(f.SQL) {
			definedIn[name] = append(definedIn[name], f.Name)
		}
	}

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"each function a migration created that still exists is in exactly one file", func(t *testing.T) {
			var created []string
			for _, m := range migrations {
				created = append(created, functionsCreated(m.SQL)...)
			}
			require.Contains(t, created, "cutover_lease_acquire", "the pattern finds no function in the migrations")
			pool := dbtest.Pool(t)
			rows, _ := pool.Query(context.Background(),
				`SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`)
			exist, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err)
			checked := 0
			for _, name := range slices.Compact(slices.Sorted(slices.Values(created))) {
				if !slices.Contains(exist, name) {
					continue // dropped by a later migration
				}
				checked++
				in := slices.Compact(slices.Clone(definedIn[name]))
				assert.Len(t, in, 1, "%s: want its definition in exactly one file of sql/functions, found in %d: %v", name, len(in), in)
			}
			assert.NotZero(t, checked)
		}},
		{"each function of the database but River's is defined in sql/functions, once per overload", func(t *testing.T) {
			pool := dbtest.Pool(t)
			rows, _ := pool.Query(context.Background(), `
				SELECT proname, count(*)::int FROM pg_proc
				WHERE pronamespace = current_schema()::regnamespace AND proname NOT LIKE 'river\_%'
				GROUP BY proname`)
			type overloads struct {
				Name  string
				Count int
			}
			have, err := pgx.CollectRows(rows, pgx.RowToStructByPos[overloads])
			require.NoError(t, err)
			require.NotEmpty(t, have)
			for _, fn := range have {
				assert.Len(t, definedIn[fn.Name], fn.Count,
					"%s: %d function(s) of that name in the database, defined %d time(s) in sql/functions (a signature changed without a DROP FUNCTION?)",
					fn.Name, fn.Count, len(definedIn[fn.Name]))
			}
		}},
		{"no migration after lastMigrationWithFunctions creates a function", func(t *testing.T) {
			assert.Empty(t, functionsInLateMigrations(migrations),
				"a function changes in sql/functions/, not in a migration")
			// The rule finds what it is for.
			late := store.SchemaChange{Version: lastMigrationWithFunctions + 1, Name: "late",
				SQL: "-- CREATE FUNCTION in a comment does not count\ncreate or replace function cutover_late(n int) RETURNS int LANGUAGE sql AS $$ SELECT n $$;"}
			assert.Equal(t, []string{fmt.Sprintf("%04d_late creates cutover_late", lastMigrationWithFunctions+1)},
				functionsInLateMigrations([]store.SchemaChange{late}))
		}},
		{"the files define functions with CREATE OR REPLACE", func(t *testing.T) {
			plain := regexp.MustCompile(`(?i)\bCREATE\s+FUNCTION\b`)
			for _, f := range files {
				assert.NotRegexp(t, plain, lineComment.ReplaceAllString(f.SQL, ""), "sql/functions/%s", f.Name)
				assert.NotEmpty(t, functionsCreated(f.SQL), "sql/functions/%s defines no function", f.Name)
			}
		}},
		{"Migrate leaves the definitions of sql/functions, on every run", func(t *testing.T) {
			ctx := context.Background()
			pool := freshMigrated(t)
			migrated := functionDefs(t, pool)
			require.NotEmpty(t, migrated)
			for _, f := range files {
				_, err := pool.Exec(ctx, f.SQL)
				require.NoError(t, err, "sql/functions/%s", f.Name)
			}
			assert.Equal(t, migrated, functionDefs(t, pool), "re-applying sql/functions changed a definition Migrate left")

			// A function changed in the database by an older build (the
			// digest recorded is not this build's): the next Migrate, with no
			// migration pending, puts the file's definition back.
			_, err := pool.Exec(ctx, `CREATE OR REPLACE FUNCTION cutover_move_active(state text) RETURNS boolean
				LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT false $$`)
			require.NoError(t, err)
			_, err = pool.Exec(ctx, `UPDATE cutover_functions_applied SET digest = 'an older build'`)
			require.NoError(t, err)
			require.NotEqual(t, migrated, functionDefs(t, pool))
			applied, err := store.Migrate(ctx, pool, quiet)
			require.NoError(t, err)
			assert.Empty(t, applied)
			assert.Equal(t, migrated, functionDefs(t, pool), "Migrate did not re-apply sql/functions")

			// And once more: re-applying is idempotent.
			applied, err = store.Migrate(ctx, pool, quiet)
			require.NoError(t, err)
			assert.Empty(t, applied)
			assert.Equal(t, migrated, functionDefs(t, pool))
		}},
		{"a process of the same build starting beside running workers takes no lock on their tables", func(t *testing.T) {
			// Two processes of one build start together: the second's
			// Migrate must not re-create triggers on tables the first's
			// workers are writing (the deadlock CI met). A transaction that
			// holds the lock CREATE TRIGGER needs stands for those workers.
			ctx := context.Background()
			pool := freshMigrated(t)
			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx) //nolint:errcheck
			_, err = tx.Exec(ctx, `LOCK TABLE waves, moves IN SHARE ROW EXCLUSIVE MODE`)
			require.NoError(t, err)

			same, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, err = store.Migrate(same, pool, quiet)
			require.NoError(t, err, "Migrate of the same build waited on the workers' tables")

			// Another build's functions are applied, and do wait: the case
			// above could fail.
			_, err = pool.Exec(ctx, `UPDATE cutover_functions_applied SET digest = 'an older build'`)
			require.NoError(t, err)
			other, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err = store.Migrate(other, pool, quiet)
			require.Error(t, err, "Migrate of changed functions did not need the tables' lock")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t)
		})
	}
}
