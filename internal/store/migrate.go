package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/cutover/cutover/internal/store/dbsqlc"
	"github.com/cutover/cutover/sql"
)

// migrateLockKey is the advisory lock that serialises migrations, so that
// processes starting together do not race.
const migrateLockKey = 0x6375746f766572 // "cutover"

// SchemaChange is one of cutover's numbered schema files (sql/NNNN_name.sql).
type SchemaChange struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns cutover's schema files in order.
func Migrations() ([]SchemaChange, error) {
	entries, err := fs.ReadDir(sql.Migrations, ".")
	if err != nil {
		return nil, err
	}
	var out []SchemaChange
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(sql.Migrations, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, SchemaChange{Version: v, Name: name, SQL: string(body)})
	}
	slices.SortFunc(out, func(a, b SchemaChange) int { return a.Version - b.Version })
	return out, nil
}

// FunctionsFile is one file of cutover's SQL functions
// (sql/functions/name.sql): the current definitions of its functions.
type FunctionsFile struct {
	Name string
	SQL  string
}

// Functions returns the files of cutover's SQL functions in name order, the
// order Migrate applies them in.
func Functions() ([]FunctionsFile, error) {
	entries, err := fs.ReadDir(sql.Functions, "functions")
	if err != nil {
		return nil, err
	}
	var out []FunctionsFile
	for _, e := range entries {
		body, err := fs.ReadFile(sql.Functions, "functions/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, FunctionsFile{Name: e.Name(), SQL: string(body)})
	}
	slices.SortFunc(out, func(a, b FunctionsFile) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Migrate brings the database up to date: River's tables (through
// rivermigrate), then, in one transaction, cutover's migrations not yet
// applied and every file of its SQL functions (applied on every run, pending
// migrations or not), under an advisory lock. It returns the versions of
// cutover's migrations that it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]int, error) {
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	functions, err := Functions()
	if err != nil {
		return nil, err
	}
	riverMigrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: discardLogger()})
	if err != nil {
		return nil, err
	}
	// A session lock on one connection serialises processes that start
	// together. River's migrations run in transactions of their own (one of
	// them adds an enum value, which cannot be used in the transaction that
	// adds it); cutover's run in one transaction.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	lock := dbsqlc.New(conn)
	if err := lock.MigrationLock(ctx, migrateLockKey); err != nil {
		return nil, err
	}
	defer lock.MigrationUnlock(context.WithoutCancel(ctx), migrateLockKey) //nolint:errcheck
	res, err := riverMigrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		log.Info("applied River migrations", "count", len(res.Versions))
	}
	digest := FunctionsDigest(functions)
	// Two transactions that change triggers on several tables can deadlock
	// with workers already running an older build (an upgrade while they
	// run): Postgres then aborts one of them, and the migration tries again.
	var applied []int
	for try := 1; ; try++ {
		applied, err = migrateTx(ctx, conn, migrations, functions, digest, log)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "40P01" && try < 3 { // deadlock_detected
			log.Warn("migration deadlocked with a running transaction: trying again", "try", try)
			continue
		}
		return applied, err
	}
}

// migrateTx applies, in one transaction, the migrations not yet applied and,
// when a migration ran or the functions differ from those last applied, every
// file of the SQL functions. A process of the same build as those running
// (the usual start of a second worker) applies no DDL at all.
func migrateTx(ctx context.Context, conn *pgxpool.Conn, migrations []SchemaChange, functions []FunctionsFile, digest string, log *slog.Logger) ([]int, error) {
	var applied []int
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sql.MigrationsTable); err != nil {
			return err
		}
		q := dbsqlc.New(tx)
		done, err := q.MigrationsApplied(ctx)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if slices.Contains(done, m.Version) {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if err := q.MigrationApplied(ctx, dbsqlc.MigrationAppliedParams{Version: m.Version, Name: m.Name}); err != nil {
				return err
			}
			log.Info("applied migration", "version", m.Version, "name", m.Name)
			applied = append(applied, m.Version)
		}
		last, err := q.FunctionsDigest(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 && last == digest {
			return nil
		}
		// A function's current definition is in its file, not in the
		// migration that first created it: they are applied after any
		// migration, and whenever they changed.
		for _, f := range functions {
			if _, err := tx.Exec(ctx, f.SQL); err != nil {
				return fmt.Errorf("functions/%s: %w", f.Name, err)
			}
		}
		log.Debug("applied SQL functions", "files", len(functions))
		return q.FunctionsApplied(ctx, digest)
	})
	return applied, err
}

// FunctionsDigest is the SHA-256 of the function files' names and contents,
// in the order Migrate applies them.
func FunctionsDigest(functions []FunctionsFile) string {
	h := sha256.New()
	for _, f := range functions {
		fmt.Fprintf(h, "%s\x00%d\x00%s", f.Name, len(f.SQL), f.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// MigrationsPending lists cutover's schema files the database has not had
// (all of them if it has had none).
func MigrationsPending(ctx context.Context, db DBTX) ([]string, error) {
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	var done []int
	q := dbsqlc.New(db)
	exists, err := q.MigrationsTableExists(ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		if done, err = q.MigrationsApplied(ctx); err != nil {
			return nil, err
		}
	}
	var pending []string
	for _, m := range migrations {
		if !slices.Contains(done, m.Version) {
			pending = append(pending, fmt.Sprintf("%04d_%s", m.Version, m.Name))
		}
	}
	return pending, nil
}
