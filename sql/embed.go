// Package sql holds cutover's schema migrations, numbered and applied in order.
// The files are embedded in the binary so that `cutover migrate`, `serve` and
// `demo` can apply them without anything on disk.
package sql

import "embed"

// Migrations are the numbered schema files, NNNN_name.sql, applied in order.
//
//go:embed *.sql
var Migrations embed.FS
