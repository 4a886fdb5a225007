-- Slots: the deployment's cap and each wave's limit on moves in flight,
-- taken without a lock every taker waits for.
--
-- Until now a move took a slot by locking the one settings row, counting the
-- leases held and inserting its own: every taker in the deployment waited
-- for the one before it to commit, and that lock was the ceiling on moves
-- started per second. Now the cap is max_in_flight rows of cap_slots and a
-- wave's limit is concurrency_limit rows of wave_slots; a move takes a free
-- row of each with FOR UPDATE SKIP LOCKED, so takers pass each other by, and
-- the cap still holds exactly: a row is held by one move at a time.
--
-- A slot whose holder died frees itself when it expires. Rows above a lowered
-- cap or limit are not taken again; their holders keep them until they end,
-- and until they have all ended no row is taken: the moves in flight then
-- are more than the new cap or limit, which is never exceeded.
-- Slots carry no foreign keys: they are short-lived claims, and a key check
-- would lock the move or wave row on every take.

DROP FUNCTION cutover_lease_acquire(bigint, bigint, double precision, boolean);
DROP TABLE move_leases;

CREATE TABLE cap_slots (
    n          int PRIMARY KEY CHECK (n >= 1),
    move_id    bigint,
    wave_id    bigint,
    expires_at timestamptz,
    CHECK ((move_id IS NULL) = (expires_at IS NULL))
);
CREATE UNIQUE INDEX cap_slots_move_key ON cap_slots (move_id);
INSERT INTO cap_slots (n) SELECT generate_series(1, max_in_flight) FROM deployment_settings;

CREATE TABLE wave_slots (
    wave_id    bigint NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    n          int    NOT NULL CHECK (n >= 1),
    move_id    bigint,
    expires_at timestamptz,
    PRIMARY KEY (wave_id, n),
    CHECK ((move_id IS NULL) = (expires_at IS NULL))
);
CREATE UNIQUE INDEX wave_slots_move_key ON wave_slots (move_id);
INSERT INTO wave_slots (wave_id, n) SELECT id, generate_series(1, concurrency) FROM waves;

-- A wave gets its slots when it is planned; the cap gets more when it is
-- raised.
CREATE FUNCTION wave_slots_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wave_slots (wave_id, n) SELECT NEW.id, generate_series(1, NEW.concurrency);
    RETURN NULL;
END
$$;
CREATE TRIGGER wave_slots_create AFTER INSERT ON waves FOR EACH ROW EXECUTE FUNCTION wave_slots_create();

CREATE FUNCTION cap_slots_grow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cap_slots (n) SELECT generate_series(1, NEW.max_in_flight) ON CONFLICT (n) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER cap_slots_grow AFTER UPDATE OF max_in_flight ON deployment_settings FOR EACH ROW EXECUTE FUNCTION cap_slots_grow();

-- cutover_lease_acquire takes (or renews) a slot of the wave and one of the
-- cap for a move, if the wave runs (or p_any_state: a move cut off in flight
-- finishes whatever its wave's state). wave_full says the wave's limit
-- refused it rather than the cap, so that a move woken for a slot another
-- wave freed can pass the wake on.
--
-- Its transaction commits without waiting for the WAL flush: a slot is a
-- short-lived claim, and the move's next durable change flushes the WAL with
-- the slot in it, so nothing durable depends on a slot a crash could lose.
-- (Called in a transaction of its own, or with the move's start: see
-- LeaseStart.)
CREATE FUNCTION cutover_lease_acquire(p_wave bigint, p_move bigint, p_ttl double precision, p_any_state boolean,
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
    UPDATE wave_slots SET move_id = p_move, expires_at = until WHERE wave_id = p_wave AND n = ws;
    UPDATE cap_slots SET move_id = p_move, wave_id = p_wave, expires_at = until WHERE n = cs;
    ok := true;
END
$$;

-- cutover_lease_release frees a move's slots.
CREATE FUNCTION cutover_lease_release(p_move bigint) RETURNS void
LANGUAGE sql VOLATILE AS $$
    UPDATE wave_slots SET move_id = NULL, expires_at = NULL WHERE move_id = p_move;
    UPDATE cap_slots SET move_id = NULL, wave_id = NULL, expires_at = NULL WHERE move_id = p_move;
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
