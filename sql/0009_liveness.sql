-- Worker processes that beat: a slot is held by a process, and lives only
-- as long as that process's heartbeat renews it. A process that stops
-- beating (killed, its host lost, its connection cut) is dead once its last
-- heartbeat is older than the dead-after the live processes use: its slots
-- are free at once and its running jobs go back to the queue, without
-- counting an attempt, for a live process to take.
CREATE TABLE worker_processes (
    id           text        PRIMARY KEY, -- River's client ID: host name and process ID
    host         text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,           -- stopped, or found dead
    end_reason   text
);

ALTER TABLE cap_slots ADD COLUMN holder text;
ALTER TABLE wave_slots ADD COLUMN holder text;

-- How long a move spent stranded on a dead process: a wait for Teams to
-- show the move does not count it.
ALTER TABLE moves ADD COLUMN stranded interval NOT NULL DEFAULT '0';

-- cutover_lease_acquire is as before (sql/0006), with the holder recorded,
-- so that the holder's heartbeat renews the slot and its death frees it.
DROP FUNCTION cutover_lease_acquire(bigint, bigint, double precision, boolean);
CREATE FUNCTION cutover_lease_acquire(p_wave bigint, p_move bigint, p_ttl double precision, p_any_state boolean, p_holder text,
                                      OUT ok boolean, OUT wave_state text, OUT at timestamptz, OUT wave_full boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    lim int;
    cap int;
    ws int;
    cs int;
    until timestamptz;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    at := now();
    until := now() + make_interval(secs => p_ttl);
    ok := false;
    wave_full := false;
    SELECT w.state, w.concurrency_limit INTO wave_state, lim FROM waves w WHERE w.id = p_wave;
    IF NOT FOUND OR (wave_state <> 'running' AND NOT p_any_state) THEN
        RETURN;
    END IF;
    SELECT n INTO ws FROM wave_slots WHERE move_id = p_move AND wave_id = p_wave FOR UPDATE;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM wave_slots WHERE wave_id = p_wave AND n > lim AND expires_at >= now()) THEN
            wave_full := true;
            RETURN;
        END IF;
        SELECT n INTO ws FROM wave_slots
        WHERE wave_id = p_wave AND n <= lim AND (move_id IS NULL OR expires_at < now())
        ORDER BY n LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            wave_full := true;
            RETURN;
        END IF;
    END IF;
    SELECT n INTO cs FROM cap_slots WHERE move_id = p_move FOR UPDATE;
    IF NOT FOUND THEN
        SELECT max_in_flight INTO cap FROM deployment_settings;
        IF EXISTS (SELECT 1 FROM cap_slots WHERE n > cap AND expires_at >= now()) THEN
            RETURN;
        END IF;
        SELECT n INTO cs FROM cap_slots
        WHERE n <= cap AND (move_id IS NULL OR expires_at < now())
        ORDER BY n LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    UPDATE wave_slots SET move_id = p_move, expires_at = until, holder = p_holder WHERE wave_id = p_wave AND n = ws;
    UPDATE cap_slots SET move_id = p_move, wave_id = p_wave, expires_at = until, holder = p_holder WHERE n = cs;
    ok := true;
END
$$;

-- cutover_lease_release frees the slots p_holder holds for a move: a
-- process that lost a move's slot (found dead, yet still running) does not
-- free the slot another process took for it since.
DROP FUNCTION cutover_lease_release(bigint);
CREATE FUNCTION cutover_lease_release(p_move bigint, p_holder text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    UPDATE wave_slots SET move_id = NULL, expires_at = NULL, holder = NULL WHERE move_id = p_move AND holder IS NOT DISTINCT FROM p_holder;
    UPDATE cap_slots SET move_id = NULL, wave_id = NULL, expires_at = NULL, holder = NULL WHERE move_id = p_move AND holder IS NOT DISTINCT FROM p_holder;
$$;

-- cutover_heartbeat records that process p_id lives, renews for p_ttl
-- seconds the slots it holds for the moves it is working now (p_moves: a
-- slot it failed to free for a move it no longer works expires), and
-- buries the processes whose last heartbeat is older than p_dead_after
-- seconds: their slots are freed, their running
-- River jobs made available again without counting the attempt (as River's
-- own snooze does: the attempt goes back by one), and each move in flight
-- among them says so in its timeline; the time since the dead process's
-- last heartbeat is added to the move's stranded time. It returns one row
-- per process buried, with the moves it stranded.
CREATE FUNCTION cutover_heartbeat(p_id text, p_host text, p_ttl double precision, p_dead_after double precision, p_moves bigint[])
RETURNS TABLE (process text, last_heartbeat timestamptz, jobs int, move_ids bigint[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    dead record;
    until timestamptz := now() + make_interval(secs => p_ttl);
BEGIN
    INSERT INTO worker_processes (id, host) VALUES (p_id, p_host)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), ended_at = NULL, end_reason = NULL;
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
        UPDATE worker_processes SET ended_at = now(),
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
            RETURNING m.id, m.state, m.attempts
        ), ev AS (
            INSERT INTO move_events (move_id, state, attempt, message, actor)
            SELECT s.id, s.state, s.attempts,
                   'worker ' || dead.id || ' stopped (no heartbeat since ' || to_char(dead.heartbeat_at AT TIME ZONE 'UTC', 'HH24:MI:SS') ||
                   ' UTC) with this move in flight: handed to a live worker after ' ||
                   round(extract(epoch FROM now() - dead.heartbeat_at))::text || 's; the attempt is not counted, and the next reads the homing first',
                   'worker ' || p_id
            FROM stranded s
        )
        SELECT (SELECT count(*) FROM rescued)::int, coalesce((SELECT array_agg(id ORDER BY id) FROM stranded), '{}')
        INTO jobs, move_ids;
        RETURN NEXT;
    END LOOP;
END
$$;
