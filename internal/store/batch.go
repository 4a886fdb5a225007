package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// queue adds to b the statement that the generated query called in call
// runs, with its arguments in the generated order, so that queries of
// different kinds go to the database in one round trip (pgx.Batch), which
// the generated code does not do.
func queue(b *pgx.Batch, call func(*dbsqlc.Queries)) *pgx.QueuedQuery {
	sql, args := recorded(call)
	return b.Queue(sql, args...)
}

// recorded returns the statement that the generated query called in call
// runs, and its arguments.
func recorded(call func(*dbsqlc.Queries)) (string, []any) {
	var r recorder
	call(dbsqlc.New(&r))
	return r.sql, r.args
}

// errRecorded stops a generated query once its statement is recorded.
var errRecorded = errors.New("statement recorded for a batch")

// recorder is a dbsqlc.DBTX that records the statement it is given and
// runs nothing.
type recorder struct {
	sql  string
	args []any
}

func (r *recorder) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.sql, r.args = sql, args
	return pgconn.CommandTag{}, errRecorded
}

func (r *recorder) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.sql, r.args = sql, args
	return nil, errRecorded
}

func (r *recorder) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	r.sql, r.args = sql, args
	return recordedRow{}
}

type recordedRow struct{}

func (recordedRow) Scan(...any) error { return errRecorded }

// rowOnly is a dbsqlc.DBTX whose QueryRow answers a row read already (a
// batch's), so that the generated query scans it as it scans its own.
type rowOnly struct{ row pgx.Row }

func (r rowOnly) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errRecorded
}

func (r rowOnly) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, errRecorded }

func (r rowOnly) QueryRow(context.Context, string, ...any) pgx.Row { return r.row }
