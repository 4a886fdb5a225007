// Package sql holds cutover's schema migrations, numbered and applied in
// order, its SQL functions (functions/), and the queries (queries/) from
// which sqlc generates internal/store/dbsqlc. The migrations and functions
// are embedded in the binary so that `cutover migrate`, `serve` and `demo`
// can apply them without anything on disk.
//
// A migration (NNNN_name.sql) is the schema's history: it ran once on every
// database that exists, and is never edited. A function is not history: each
// function, trigger functions included, has its one current definition in
// functions/ (CREATE OR REPLACE FUNCTION, one file per function or small
// concept), and store.Migrate applies every file there, in name order, after
// the migrations and in the same transaction, on every run. To change a
// function, edit its file. Migrations up to 0019 created functions, whose
// current definitions moved to functions/; no later migration creates one (a
// test in internal/store holds to that). Triggers and tables stay in
// migrations, and so does what CREATE OR REPLACE cannot do: a DROP FUNCTION
// for a function removed (delete its file too) or whose arguments or result
// change. Migrations run before the functions, so a migration sees the
// definitions of the run before it, and none of a function new in functions/.
package sql

import "embed"

// Migrations are the numbered schema files, NNNN_name.sql, applied in order.
//
//go:embed *.sql
var Migrations embed.FS

// Functions are the current definitions of cutover's SQL functions,
// functions/*.sql, each a CREATE OR REPLACE FUNCTION re-applied in name
// order on every migrate, after the migrations.
//
//go:embed functions/*.sql
var Functions embed.FS

// MigrationsTable creates the record of the migrations applied, before the
// first of them.
//
//go:embed bootstrap/cutover_migrations.sql
var MigrationsTable string
