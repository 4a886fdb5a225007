-- Timeline entries shared by a wave's moves.
--
-- Planning a wave and starting it change every one of its moves at once, and
-- each wrote an event per move: two rows per user, with their indexes, as
-- many as the moves themselves. Now each such change writes one entry,
-- move_batches, and each move points at it (planned_by, queued_by). A move's
-- timeline, the move_timeline view, shows the entry as the move's own event,
-- with the same time, state, message and actor as before.
--
-- Only a wave's plan and its start are shared. Every other change (a retry,
-- a cancel, a move's own steps) still writes the move's own event.
CREATE TABLE move_batches (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id bigint      NOT NULL REFERENCES waves (id),
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    state   text        NOT NULL CHECK (state IN ('pending', 'queued')),
    message text        NOT NULL,
    actor   text        NOT NULL
);
CREATE TRIGGER move_batches_append_only BEFORE UPDATE OR DELETE ON move_batches
    FOR EACH ROW EXECUTE FUNCTION move_events_append_only();
CREATE TRIGGER move_batches_no_truncate BEFORE TRUNCATE ON move_batches
    FOR EACH STATEMENT EXECUTE FUNCTION move_events_append_only();

-- No foreign keys: an entry is never deleted (the triggers above), and a
-- key's check would read move_batches once per move planned or queued.
-- A move is queued by a shared entry once, at its wave's start; a later
-- queueing (a retry, a resume after a halt) writes the move's own event.
ALTER TABLE moves ADD COLUMN planned_by bigint, ADD COLUMN queued_by bigint;

-- A move's timeline: its own events and the shared entries it points at, in
-- the order they happened (a shared entry is always its move's first
-- pending or queued). seq orders the entries of one move: shared entries
-- have none of their own and sort by time with the others.
CREATE VIEW move_timeline AS
SELECT e.move_id, e.id AS seq, e.at, e.state, e.attempt, e.error_code, e.message, e.actor
FROM move_events e
UNION ALL
SELECT m.id, NULL, b.at, b.state, 0, NULL, b.message, b.actor
FROM moves m JOIN move_batches b ON b.id = m.planned_by
UNION ALL
SELECT m.id, NULL, b.at, b.state, 0, NULL, b.message, b.actor
FROM moves m JOIN move_batches b ON b.id = m.queued_by;
