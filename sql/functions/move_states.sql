-- The sets of move states the queries of sql/queries name, as functions
-- held equal to internal/migration's by a test (store
-- TestStateSetsMatchDomain).

-- A move that still holds its user (migration.MoveState.Active); the
-- moves_one_active_per_upn index names the same states. Plain SQL and
-- immutable, so that the planner inlines it into the list it returns.
CREATE OR REPLACE FUNCTION cutover_move_active(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('pending', 'queued', 'preflight', 'moving', 'verifying', 'retrying', 'rolling_back')
$$;

-- A move that has ended, as a wave's failure threshold counts it
-- (migration.MoveState.Ended).
CREATE OR REPLACE FUNCTION cutover_move_ended(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('moved', 'skipped', 'failed', 'rolling_back', 'rolled_back', 'rollback_failed')
$$;

-- A move a River move job runs (migration.MoveState.Queued): from queued
-- until it is moved, skipped or failed.
CREATE OR REPLACE FUNCTION cutover_move_has_job(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('queued', 'preflight', 'moving', 'verifying', 'retrying')
$$;
