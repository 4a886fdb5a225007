-- The record of cutover's schema migrations applied, created before the
-- first of them (store.Migrate).
CREATE TABLE IF NOT EXISTS cutover_migrations (
    version int PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
