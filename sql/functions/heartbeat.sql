-- cutover_heartbeat records that process p_id lives, renews for p_ttl
-- seconds the slots it holds for the moves it is working now (p_moves: a
-- slot it failed to free for a move it no longer works expires), and
-- buries the processes whose last heartbeat is older than p_dead_after
-- seconds (lost): their slots are freed, their running
-- River jobs made available again without counting the attempt (as River's
-- own snooze does: the attempt goes back by one), and each move in flight
-- among them says so in its timeline, and each wave with moves among them
-- in its own (kind worker_lost), in the same transaction; the time since
-- the dead process's last heartbeat is added to the move's stranded time.
-- It returns one row per process buried, with the moves it stranded.
CREATE OR REPLACE FUNCTION cutover_heartbeat(p_id text, p_host text, p_ttl double precision, p_dead_after double precision, p_moves bigint[])
RETURNS TABLE (process text, last_heartbeat timestamptz, jobs int, move_ids bigint[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    dead record;
    until timestamptz := now() + make_interval(secs => p_ttl);
BEGIN
    INSERT INTO worker_processes (id, host) VALUES (p_id, p_host)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), ended_at = NULL, end_reason = NULL, lost = false;
    -- Rows are locked in the order every taker locks them (a wave's slot,
    -- then the cap's; each by its key), so that a heartbeat and a move
    -- taking or freeing its slots never wait for each other in a circle.
    UPDATE wave_slots s SET expires_at = until FROM (
        SELECT wave_id, n FROM wave_slots WHERE holder = p_id AND move_id = ANY(p_moves) ORDER BY wave_id, n FOR UPDATE
    ) mine WHERE s.wave_id = mine.wave_id AND s.n = mine.n;
    UPDATE cap_slots s SET expires_at = until FROM (
        SELECT n FROM cap_slots WHERE holder = p_id AND move_id = ANY(p_moves) ORDER BY n FOR UPDATE
    ) mine WHERE s.n = mine.n;
    FOR dead IN
        SELECT w.id, w.heartbeat_at FROM worker_processes w
        WHERE w.ended_at IS NULL AND w.heartbeat_at < now() - make_interval(secs => p_dead_after)
        FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE worker_processes SET ended_at = now(), lost = true,
            end_reason = 'no heartbeat since ' || to_char(dead.heartbeat_at AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' UTC; found dead by ' || p_id
        WHERE id = dead.id;
        UPDATE wave_slots SET move_id = NULL, expires_at = NULL, holder = NULL WHERE holder = dead.id;
        UPDATE cap_slots SET move_id = NULL, wave_id = NULL, expires_at = NULL, holder = NULL WHERE holder = dead.id;
        process := dead.id;
        last_heartbeat := dead.heartbeat_at;
        WITH rescued AS (
            UPDATE river_job SET state = 'available', scheduled_at = now(), attempt = greatest(attempt - 1, 0)
            WHERE state = 'running' AND attempted_by[array_upper(attempted_by, 1)] = dead.id
            RETURNING kind, args
        ), stranded AS (
            UPDATE moves m SET stranded = m.stranded + (now() - dead.heartbeat_at), updated_at = now()
            FROM rescued r
            WHERE r.kind = 'move' AND m.id = (r.args->>'move_id')::bigint AND m.run = (r.args->>'run')::int
              AND m.state IN ('preflight', 'moving', 'verifying')
            RETURNING m.id, m.state, m.attempts, m.wave_id
        ), ev AS (
            INSERT INTO move_events (move_id, state, attempt, message, actor)
            SELECT s.id, s.state, s.attempts,
                   'worker ' || dead.id || ' stopped (no heartbeat since ' || to_char(dead.heartbeat_at AT TIME ZONE 'UTC', 'HH24:MI:SS') ||
                   ' UTC) with this move in flight: handed to a live worker after ' ||
                   round(extract(epoch FROM now() - dead.heartbeat_at))::text || 's; the attempt is not counted, and the next reads the homing first',
                   'worker ' || p_id
            FROM stranded s
        ), told AS (
            INSERT INTO wave_events (wave_id, kind, message, actor)
            SELECT s.wave_id, 'worker_lost',
                   'worker ' || dead.id || ' stopped (no heartbeat for ' ||
                   round(extract(epoch FROM now() - dead.heartbeat_at))::text || 's) with ' || count(*)::text ||
                   ' move(s) of this wave in flight: handed to live workers, no attempt counted',
                   'worker ' || p_id
            FROM stranded s GROUP BY s.wave_id
        )
        SELECT (SELECT count(*) FROM rescued)::int, coalesce((SELECT array_agg(id ORDER BY id) FROM stranded), '{}')
        INTO jobs, move_ids;
        RETURN NEXT;
    END LOOP;
END
$$;
