-- The record of the schema migrations applied (store.Migrate).

-- name: MigrationLock :exec
SELECT pg_advisory_lock(@key::bigint);

-- name: MigrationUnlock :exec
SELECT pg_advisory_unlock(@key::bigint);

-- name: MigrationsApplied :many
SELECT version FROM cutover_migrations ORDER BY version;

-- name: MigrationApplied :exec
INSERT INTO cutover_migrations (version, name) VALUES (@version, @name);

-- name: MigrationsTableExists :one
SELECT (to_regclass('cutover_migrations') IS NOT NULL)::boolean AS exists;

-- name: AnalyzeTables :exec
SELECT cutover_analyze(@tables::text[]);

-- name: FunctionsDigest :one
SELECT coalesce((SELECT digest FROM cutover_functions_applied ORDER BY applied_at DESC LIMIT 1), '')::text AS digest;

-- name: FunctionsApplied :exec
INSERT INTO cutover_functions_applied (digest) VALUES (@digest)
ON CONFLICT (digest) DO UPDATE SET applied_at = now();
