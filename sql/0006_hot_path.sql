-- A slot is taken under the lock of the one settings row, so every taker in
-- the deployment waits for the one before it to commit. Waiting for the
-- commit's WAL flush there made the flush time the ceiling on moves started
-- per second. The lease's transaction now commits without waiting for the
-- flush: a lease is a short-lived claim, and the move's next change (to
-- pre-flight, committed synchronously) flushes the WAL with the lease in it,
-- so nothing durable ever depends on a lease that a crash could lose.
--
-- It also says, when it refuses a slot, whether the wave's own limit refused
-- it (wave_full) rather than the deployment's cap, so that a move woken for
-- a slot another wave freed can pass the wake on.
DROP FUNCTION cutover_lease_acquire(bigint, bigint, double precision, boolean);
CREATE FUNCTION cutover_lease_acquire(p_wave bigint, p_move bigint, p_ttl double precision, p_any_state boolean,
                                      OUT ok boolean, OUT wave_state text, OUT at timestamptz, OUT wave_full boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cap int;
    lim int;
    wave_n int;
    all_n int;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT max_in_flight INTO cap FROM deployment_settings FOR UPDATE;
    DELETE FROM move_leases WHERE expires_at < now() AND move_id <> p_move;
    SELECT w.state, w.concurrency_limit INTO wave_state, lim FROM waves w WHERE w.id = p_wave;
    at := now();
    ok := false;
    wave_full := false;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE wave_id = p_wave), count(*) INTO wave_n, all_n
    FROM move_leases WHERE expires_at >= now() AND move_id <> p_move;
    wave_full := wave_n >= lim;
    IF (wave_state <> 'running' AND NOT p_any_state) OR wave_full OR all_n >= cap THEN
        RETURN;
    END IF;
    INSERT INTO move_leases (move_id, wave_id, expires_at) VALUES (p_move, p_wave, now() + make_interval(secs => p_ttl))
    ON CONFLICT (move_id) DO UPDATE SET expires_at = excluded.expires_at;
    ok := true;
END
$$;

-- A move's changes sent together in one round trip (an implicit
-- transaction) stop at the first that finds the move changed under it:
-- raising aborts the whole transaction, so none of them is half applied.
CREATE FUNCTION cutover_expect_changed(n bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'the move was changed concurrently' USING ERRCODE = 'CT001';
    END IF;
    RETURN n;
END
$$;
