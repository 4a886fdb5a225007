-- Slots: the deployment's cap (cap_slots) and each wave's limit
-- (wave_slots) on moves in flight are rows a move takes (lease.sql).
-- A wave gets its slots when it is planned; the cap gets more when it is
-- raised.
CREATE OR REPLACE FUNCTION wave_slots_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wave_slots (wave_id, n) SELECT NEW.id, generate_series(1, NEW.concurrency);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION cap_slots_grow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cap_slots (n) SELECT generate_series(1, NEW.max_in_flight) ON CONFLICT (n) DO NOTHING;
    RETURN NULL;
END
$$;
