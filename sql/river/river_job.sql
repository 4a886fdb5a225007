-- The columns of River's job table that cutover's queries read (River's own
-- migrations create the table: rivermigrate, in internal/store/migrate.go).
-- For the query generator only; never applied.
CREATE TABLE river_job (
    id bigint PRIMARY KEY,
    state text NOT NULL,
    attempt smallint NOT NULL,
    max_attempts smallint NOT NULL,
    kind text NOT NULL,
    queue text NOT NULL,
    args jsonb NOT NULL
);
