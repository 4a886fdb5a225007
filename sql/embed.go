// Package sql holds cutover's schema migrations, numbered and applied in
// order, and the queries (queries/) from which sqlc generates
// internal/store/dbsqlc. The migrations are embedded in the binary so that
// `cutover migrate`, `serve` and `demo` can apply them without anything on
// disk.
package sql

import "embed"

// Migrations are the numbered schema files, NNNN_name.sql, applied in order.
//
//go:embed *.sql
var Migrations embed.FS

// MigrationsTable creates the record of the migrations applied, before the
// first of them.
//
//go:embed bootstrap/cutover_migrations.sql
var MigrationsTable string
