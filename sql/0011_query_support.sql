-- What the queries of sql/queries share (issue 14): the sets of move states
-- they name, as functions held equal to internal/migration's by a test
-- (store TestStateSetsMatchDomain), and a move as the domain reads it.

-- A move that still holds its user (migration.MoveState.Active); the
-- moves_one_active_per_upn index names the same states. Plain SQL and
-- immutable, so that the planner inlines it into the list it returns.
CREATE FUNCTION cutover_move_active(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('pending', 'queued', 'preflight', 'moving', 'verifying', 'retrying', 'rolling_back')
$$;

-- A move that has ended, as a wave's failure threshold counts it
-- (migration.MoveState.Ended).
CREATE FUNCTION cutover_move_ended(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('moved', 'skipped', 'failed', 'rolling_back', 'rolled_back', 'rollback_failed')
$$;

-- A move a River move job runs (migration.MoveState.Queued): from queued
-- until it is moved, skipped or failed.
CREATE FUNCTION cutover_move_has_job(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('queued', 'preflight', 'moving', 'verifying', 'retrying')
$$;

-- A move as the domain reads it (migration.Move): with its wave, group and
-- member, and the time stranded on dead workers in nanoseconds.
CREATE VIEW move_details AS
SELECT m.id, m.wave_id, w.name AS wave_name, w.start_at AS wave_start_at, g.id AS group_id, g.name AS group_name,
       m.upn, m.sip, gm.display_name, m.state, m.run, m.attempts, w.max_attempts,
       coalesce(m.error_code, '') AS error_code, coalesce(m.error_message, '') AS error_message,
       m.next_attempt_at, m.move_issued_at, m.started_at, m.finished_at, m.updated_at, m.member_id,
       (extract(epoch FROM m.stranded) * 1e9)::bigint AS stranded_ns, gm.position
FROM moves m
JOIN waves w ON w.id = m.wave_id
JOIN pilot_groups g ON g.id = w.group_id
JOIN group_members gm ON gm.id = m.member_id;

-- Refreshes the planner's statistics of tables after a bulk write
-- (store.AnalyzeAfterBulk).
CREATE FUNCTION cutover_analyze(tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('ANALYZE %I', t);
    END LOOP;
END
$$;

-- A pilot group with its member counts (migration.Group).
CREATE VIEW group_details AS
SELECT g.id, g.name, g.source, g.created_by, g.created_at,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id)::int AS members,
       (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id
          AND NOT EXISTS (SELECT 1 FROM moves m WHERE m.member_id = gm.id))::int AS unplanned
FROM pilot_groups g;
