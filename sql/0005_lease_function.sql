-- Taking a slot in one round trip: the lock on the settings row, the count
-- of leases held and the insert, in a function. Each statement of a VOLATILE
-- function takes a fresh snapshot, so the count sees every lease committed
-- before the lock was granted, as the two statements it replaces did.
CREATE FUNCTION cutover_lease_acquire(p_wave bigint, p_move bigint, p_ttl double precision, p_any_state boolean,
                                      OUT ok boolean, OUT wave_state text, OUT at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cap int;
    lim int;
    wave_n int;
    all_n int;
BEGIN
    SELECT max_in_flight INTO cap FROM deployment_settings FOR UPDATE;
    DELETE FROM move_leases WHERE expires_at < now() AND move_id <> p_move;
    SELECT w.state, w.concurrency_limit INTO wave_state, lim FROM waves w WHERE w.id = p_wave;
    at := now();
    ok := false;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE wave_id = p_wave), count(*) INTO wave_n, all_n
    FROM move_leases WHERE expires_at >= now() AND move_id <> p_move;
    IF (wave_state <> 'running' AND NOT p_any_state) OR wave_n >= lim OR all_n >= cap THEN
        RETURN;
    END IF;
    INSERT INTO move_leases (move_id, wave_id, expires_at) VALUES (p_move, p_wave, now() + make_interval(secs => p_ttl))
    ON CONFLICT (move_id) DO UPDATE SET expires_at = excluded.expires_at;
    ok := true;
END
$$;
