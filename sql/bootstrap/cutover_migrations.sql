-- The record of cutover's schema migrations applied, created before the
-- first of them (store.Migrate).
CREATE TABLE IF NOT EXISTS cutover_migrations (
    version int PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- The digest of the SQL functions (sql/functions) last applied: a process
-- whose functions are those already in place applies no DDL, so that it
-- takes no lock that workers already running would wait on (store.Migrate).
CREATE TABLE IF NOT EXISTS cutover_functions_applied (
    digest text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
