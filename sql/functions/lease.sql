-- cutover_lease_acquire takes (or renews) a slot of the wave and one of the
-- cap for a move, if the wave runs (or p_any_state: a move cut off in flight
-- finishes whatever its wave's state). wave_full says the wave's limit
-- refused it rather than the cap, so that a move woken for a slot another
-- wave freed can pass the wake on. The holder (p_holder) is recorded, so
-- that the holder's heartbeat renews the slot and its death frees it
-- (heartbeat.sql).
--
-- Its transaction commits without waiting for the WAL flush: a slot is a
-- short-lived claim, and the move's next durable change flushes the WAL with
-- the slot in it, so nothing durable depends on a slot a crash could lose.
-- (Called in a transaction of its own, or with the move's start: see
-- LeaseStart.)
CREATE OR REPLACE FUNCTION cutover_lease_acquire(p_wave bigint, p_move bigint, p_ttl double precision, p_any_state boolean, p_holder text,
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
CREATE OR REPLACE FUNCTION cutover_lease_release(p_move bigint, p_holder text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    UPDATE wave_slots SET move_id = NULL, expires_at = NULL, holder = NULL WHERE move_id = p_move AND holder IS NOT DISTINCT FROM p_holder;
    UPDATE cap_slots SET move_id = NULL, wave_id = NULL, expires_at = NULL, holder = NULL WHERE move_id = p_move AND holder IS NOT DISTINCT FROM p_holder;
$$;
