// Package dbtest gives each test a database of its own on a real Postgres,
// migrated and empty. Databases are copied from a template built once per
// schema version (under an advisory lock, so that test binaries running in
// parallel build it once) and dropped when the test ends.
//
// The server is CUTOVER_TEST_DATABASE_URL, else DATABASE_URL, else the local
// default; the URL's database is only used to create and drop others.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/sql"
)

// DefaultURL is the server tests use when no URL is set.
const DefaultURL = "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the URL of the Postgres server tests run on.
func ServerURL() string {
	for _, k := range []string{"CUTOVER_TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultURL
}

// WithDatabase returns url naming database name instead.
func WithDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(fmt.Sprintf("dbtest: bad server URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// URL creates a fresh, migrated database for the test and returns its URL.
// It is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = buildTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("dbtest: template database: %v", templateErr)
	}
	name := "cutover_test_" + randomSuffix()
	admin := connect(t, ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	admin.Close(ctx)
	t.Cleanup(func() { drop(t, name) })
	return WithDatabase(ServerURL(), name)
}

// Name returns the name of a database that does not exist yet, for a test
// whose command creates it itself (migrate, demo); whatever has that name
// when the test ends is dropped.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	name := prefix + "_" + randomSuffix()
	t.Cleanup(func() { drop(t, name) })
	return name
}

// drop drops a test's database, saying in the test log if it cannot.
func drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Logf("dbtest: drop %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Logf("dbtest: drop %s: %v", name, err)
	}
}

// Pool returns a pool on a fresh database of the test's own, closed when the
// test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func connect(t testing.TB, ctx context.Context) *pgx.Conn {
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("dbtest: cannot reach Postgres at %s (start it, or set CUTOVER_TEST_DATABASE_URL): %v", store.Redact(ServerURL()), err)
	}
	return conn
}

// buildTemplate makes sure the template for the current migrations and
// functions exists and returns its name.
// templateBuilt begins a template's comment, followed by when it was built.
const templateBuilt = "cutover test template, built "

func buildTemplate(ctx context.Context) (string, error) {
	migrations, err := store.Migrations()
	if err != nil {
		return "", err
	}
	functions, err := store.Functions()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range migrations {
		fmt.Fprintf(h, "%d %s\n%s\n", m.Version, m.Name, m.SQL)
	}
	// The record of what Migrate applied is created before the migrations.
	fmt.Fprintf(h, "bootstrap\n%s\n", sql.MigrationsTable)
	// A function changes in its file (sql/functions), not in a migration.
	for _, f := range functions {
		fmt.Fprintf(h, "function %s\n%s\n", f.Name, f.SQL)
	}
	// A new River brings new tables: its migrations are part of the name.
	rm, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", err
	}
	for _, m := range rm.AllVersions() {
		fmt.Fprintf(h, "river %d\n%s\n", m.Version, m.SQLUp)
	}
	name := "cutover_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", fmt.Errorf("cannot reach Postgres at %s (start it, or set CUTOVER_TEST_DATABASE_URL): %w", store.Redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(4242)") //nolint:errcheck

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Templates of older schemas are of no more use, once no test run of
	// another checkout on this server may still be copying them: each says
	// when it was built, and one older than a day goes.
	rows, _ := admin.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname LIKE 'cutover\_tpl\_%'`)
	old, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Name, Built string }])
	if err != nil {
		return "", err
	}
	for _, o := range old {
		built, err := time.Parse(time.RFC3339, strings.TrimPrefix(o.Built, templateBuilt))
		if err == nil && time.Since(built) < 24*time.Hour {
			continue
		}
		if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", o.Name)); err != nil {
			return "", err
		}
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s", building)); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, WithDatabase(ServerURL(), building))
	if err != nil {
		return "", err
	}
	_, err = store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS '%s%s'", name, templateBuilt, time.Now().UTC().Format(time.RFC3339))); err != nil {
		return "", err
	}
	return name, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
