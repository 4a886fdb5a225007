// Package bench is what "cutover bench" measures: how fast cutover
// enqueues a big group (enqueue), how many moves a second it records
// (throughput), how close a wave comes to its ideal time (wave), how many
// move calls a wave with the demo's failures keeps in flight (mix), how close
// a wave worked by several worker processes sharing one cap comes to its
// ideal time (scale), how many helpdesk lookups it answers (lookup), how
// much memory a server holds for a big wave (memory), and what live pages
// cost the database (live).
//
// Each figure is a ratio against a baseline measured in the same run, on the
// same machine and Postgres server: raw River, a bare net/http handler, an
// ideal N·L/C, a smaller wave, the pages' polling. Where a goal can be
// missed, a floor measured in the same run says how far off the limit is: a
// minimal program that does the same writes on cutover's schema with
// cutover's promises and nothing else (floor.go).
//
// Every benchmark runs in a fresh, migrated database of its own
// (cutover_bench_PID_N), dropped when it ends. Its SQL is in sql/*.sql, one
// statement a file, read by name (sql.go) and prepared against a migrated
// database by the package's test.
//
// What each row measures, its goal and the latest figures are described in
// docs/benchmarks.md.
package bench
