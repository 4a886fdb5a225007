package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/store"
)

// openDatabase connects to the database at dbURL, creating the database if
// the server has none of that name, and brings its schema up to date.
func openDatabase(ctx context.Context, dbURL string, log *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := store.Open(ctx, dbURL)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "3D000" {
		if err := createDatabase(ctx, dbURL, log); err != nil {
			return nil, err
		}
		pool, err = store.Open(ctx, dbURL)
	}
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx, pool, log); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return pool, nil
}

// createDatabase creates the database dbURL names; one that another process
// created meanwhile will do.
func createDatabase(ctx context.Context, dbURL string, log *slog.Logger) error {
	name, err := databaseName(dbURL)
	if err != nil {
		return err
	}
	err = adminExec(ctx, dbURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P04" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	log.Info("created database", "name", name)
	return nil
}

// resetDatabase drops and creates the database at dbURL.
func resetDatabase(ctx context.Context, dbURL string) error {
	if err := dropDatabase(ctx, dbURL); err != nil {
		return err
	}
	name, _ := databaseName(dbURL)
	return adminExec(ctx, dbURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// dropDatabase drops the database at dbURL, if it exists, closing its
// connections.
func dropDatabase(ctx context.Context, dbURL string) error {
	name, err := databaseName(dbURL)
	if err != nil {
		return err
	}
	if err := adminExec(ctx, dbURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// adminExec runs a statement on the server's maintenance database (postgres).
func adminExec(ctx context.Context, dbURL, sql string) error {
	conn, err := pgx.Connect(ctx, withDatabase(dbURL, "postgres"))
	if err != nil {
		return fmt.Errorf("cannot reach Postgres at %s: %w", store.Redact(dbURL), err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func databaseName(dbURL string) (string, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return "", errors.New("DATABASE_URL is not a valid Postgres URL")
	}
	if cfg.Database == "" {
		return "", errors.New("DATABASE_URL names no database")
	}
	return cfg.Database, nil
}

// withDatabase returns dbURL naming another database on the same server.
func withDatabase(dbURL, name string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		// A key=value connection string.
		return strings.TrimSpace(dbURL) + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}
