// Package store is cutover's Postgres adapter: the schema migrations and every
// query on groups, waves, moves, their timeline, rollback records and leases.
// The queries are SQL in sql/queries, generated into typed Go (dbsqlc) by
// sqlc; the store turns their rows into the domain's types.
//
// Queries run on a DBTX, a pool or a transaction alike, so that a caller can
// compose them with River's own writes (InsertTx, JobCompleteTx) in one
// transaction.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// DBTX is what queries run on: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Queries runs cutover's queries on a DBTX: those generated from
// sql/queries (gen), composed into what the rest of cutover asks for.
type Queries struct {
	db  DBTX
	gen *dbsqlc.Queries
}

// New returns Queries running on db.
func New(db DBTX) *Queries { return &Queries{db: db, gen: dbsqlc.New(db)} }

// Open connects a pool to the database at url and checks that it answers.
//
// The pool keeps pgx's size, max(4, CPUs), unless url sets pool_max_conns:
// the workers, the API and River share a few connections and wait for one
// rather than crowd the server. On 2 cores shared with Postgres, a wave of
// 2,000 200 ms moves at a cap of 50 took 1.085× N·L/C on 4 connections and
// 1.13 to 1.36× on 12 to 60, where the backends' contention kept slots held
// around the move calls (cutover bench, 2026-12-02).
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid Postgres URL: %w", redactErr(err))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach Postgres at %s: %w", Redact(url), err)
	}
	return pool, nil
}

// inTx runs fn in a transaction on q's DBTX (a savepoint if it is a
// transaction already).
func (q *Queries) inTx(ctx context.Context, fn func(tx *Queries) error) error {
	return pgx.BeginFunc(ctx, q.db, func(tx pgx.Tx) error { return fn(New(tx)) })
}

// BulkRows is the size of a write (members imported, moves planned) after
// which cutover refreshes the planner's statistics of the tables written
// at once, rather than leaving it to autovacuum.
const BulkRows = 1000

// AnalyzeAfterBulk refreshes the planner's statistics of tables after a
// write of n rows, when n is at least BulkRows. Without it, the plans of the
// queries that follow a first big import or plan (a user's lookup, the
// wave's views) are made on empty statistics until autovacuum looks, up to a
// minute later: a lookup then hashed every move of the deployment. The
// statistics are an optimisation, so a failure is not an error.
func (q *Queries) AnalyzeAfterBulk(ctx context.Context, n int, tables ...string) {
	if n < BulkRows {
		return
	}
	_ = q.gen.AnalyzeTables(ctx, tables)
}

// ErrStale means a move or wave was not in a state the change expected:
// another worker or a lead changed it first.
var ErrStale = errors.New("changed concurrently")

// ErrEndUnread is MoveEnd's error when the end committed but what follows
// it in the round trip (the wave's activity) was not read: the move has
// ended, and its wave is for the sweep to look at.
var ErrEndUnread = errors.New("the move's end is committed; its wave's activity was not read")

// translate turns Postgres errors a person can cause into domain errors; any
// other error is returned as it is.
func translate(err error) error {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return missing("not found")
	case violates(err, "pilot_groups_name_key"):
		return migration.Invalid("group_exists", "name", "a pilot group with this name exists already")
	case violates(err, "moves_one_active_per_upn"):
		return migration.Errorf(migration.EConflict, "user_busy", "a user in this request is being moved in another wave; look the users up to see where they stand, and try again once that move has ended")
	}
	return err
}

// violates reports whether err is Postgres refusing a row for the
// constraint (or unique index) of this name: the one way the store
// recognises a constraint violation.
func violates(err error, constraint string) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.ConstraintName == constraint
}

// Unavailable reports whether err, from a query, says the database could not be reached
// or could not serve the request now, rather than anything about the
// request: no connection, a connection cut, a server shutting down or
// starting, out of resources, a serialisation failure or deadlock. Work that
// meets it is not at fault and tries again later.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources
			"57": // operator intervention: shutdown, crash, cannot connect now
			return true
		}
		return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialisation failure, deadlock
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// notFound turns "no rows" into a domain error saying what was not found;
// any other error is returned as it is. (optional, in move.go, is for a row
// whose absence is an answer.)
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return missing(format, args...)
	}
	return err
}

// missing is the store's one way of saying that what a request names does
// not exist (the API answers 404).
func missing(format string, args ...any) error {
	return migration.Errorf(migration.ENotFound, "not_found", format, args...)
}
