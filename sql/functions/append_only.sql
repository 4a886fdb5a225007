-- move_events_append_only refuses any change to a table that is
-- append-only: a move's timeline (move_events), a wave's (wave_events), the
-- audit log (audit_log) and the timeline entries a wave's moves share
-- (move_batches). Their triggers call it before UPDATE and DELETE of a row,
-- and before TRUNCATE.
CREATE OR REPLACE FUNCTION move_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'move_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
